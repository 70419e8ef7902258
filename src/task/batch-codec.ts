/**
 * Record batches on the wire: one RECORDS frame carries one batch, an 8-byte header then
 * the body in one of two encodings (native-notes.md §2, byte by byte):
 *   `u32 CRC-32 of bytes 4..end | u8 encoding | 3 x u8 zero | body`
 * Encoding 1 (flat, flat-batch-codec.ts) is written when every record is a string, a
 * number, a boolean, null, undefined or a flat tuple of those; encoding 0 is cbor-x for
 * anything else (registered classes, Date, Map, Set, bigint, typed arrays, objects,
 * nested values), so the batch is self-describing and every decoder reads every batch.
 *
 * cbor-x: `useRecords: true` (each batch carries its own record definitions, so a frame
 * decodes alone) was fastest both ways and 43 % smaller than JSON for Nexmark bids;
 * decoding copies everything out of ring memory (`copyBuffers`), because a view into the
 * ring is overwritten once the frame is released.
 *
 * The CRC makes a damaged frame an error instead of a wrong record (the fuzz test in
 * test/task/batch-codec.test.ts).
 */
import { Buffer } from 'node:buffer';
import type { Decoder, Encoder } from 'cbor-x';
import { newCborDecoder, newCborEncoder } from '../cbor-x.js';
import '../api/registered-types.js'; // records of registered classes keep their class (and others are refused)
import { crc32 } from '../state/lsm/crc32.js';
import { FlatScratch, classifyFlat, flatBodyBoundBytes, writeFlatBody } from './flat-batch-codec.js';
import { readFlatBody } from './flat-batch-reader.js';

/** Bytes before a batch's body: CRC-32, encoding, three zero bytes. */
export const batchHeaderBytes = 8;

/** The encoding byte of a batch (offset 4). */
export const batchEncoding = { CBOR: 0, FLAT: 1 } as const;

/**
 * Whether encoders write the flat encoding: yes, unless SLUICEGATE_BATCH_CODEC=cbor-x
 * (read once per thread; a switch for measuring the two side by side, bench/engine.bench.ts).
 * Decoders read both encodings either way.
 */
export function flatEncodingEnabled(): boolean {
  return process.env['SLUICEGATE_BATCH_CODEC'] !== 'cbor-x';
}

/**
 * Encodes record batches. `encode` returns a view into the encoder's reusable buffer,
 * valid until the next `encode` call (as cbor-x's `Encoder.encode`): write it to the ring
 * or copy it before encoding again. @throws UsageError (from cbor-x's extension) for a
 * record holding an instance of an unregistered class.
 */
export class BatchEncoder {
  /** Made at the first batch that is not flat (cbor-x loads at its first use, ../cbor-x.ts). */
  private cbor: Encoder | undefined;
  private readonly scratch = new FlatScratch();
  private out = Buffer.allocUnsafeSlow(1 << 16);
  private view = new DataView(this.out.buffer, this.out.byteOffset, this.out.byteLength);

  constructor(private readonly flat = flatEncodingEnabled()) {}

  encode(records: unknown[]): Uint8Array {
    const scratch = this.scratch;
    if (this.flat && classifyFlat(records, scratch)) {
      const text = scratch.strings.join('');
      this.reserve(batchHeaderBytes + flatBodyBoundBytes(scratch, text.length));
      const bodyBytes = writeFlatBody(this.out, this.view, batchHeaderBytes, records.length, scratch, text);
      scratch.reset(); // drop the references to the records' strings
      return this.seal(batchEncoding.FLAT, batchHeaderBytes + bodyBytes);
    }
    scratch.reset();
    const body = (this.cbor ??= newCborEncoder({ useRecords: true })).encode(records);
    this.reserve(batchHeaderBytes + body.length);
    this.out.set(body, batchHeaderBytes);
    return this.seal(batchEncoding.CBOR, batchHeaderBytes + body.length);
  }

  private reserve(bytes: number): void {
    if (bytes <= this.out.length) return;
    this.out = Buffer.allocUnsafeSlow(Math.max(bytes, 2 * this.out.length));
    this.view = new DataView(this.out.buffer, this.out.byteOffset, this.out.byteLength);
  }

  private seal(encoding: number, length: number): Uint8Array {
    const out = this.out;
    out[4] = encoding;
    out[5] = out[6] = out[7] = 0;
    const frame = out.subarray(0, length);
    this.view.setUint32(0, crc32(frame.subarray(4)), true);
    return frame;
  }
}

/**
 * Decodes record batches of either encoding; every value is copied out of `view` (which
 * may lie in ring memory). @throws RangeError naming what is wrong for a batch that is
 * truncated, fails its CRC, or whose counts do not add up.
 */
export class BatchDecoder {
  /** Made at the first cbor-x batch. */
  private cbor: Decoder | undefined;

  decode(view: Uint8Array): unknown[] {
    if (view.byteLength < batchHeaderBytes) throw new RangeError(`A record batch of ${view.byteLength} bytes is shorter than its ${batchHeaderBytes}-byte header`);
    const stored = (view[0]! | (view[1]! << 8) | (view[2]! << 16) | (view[3]! << 24)) >>> 0;
    const computed = crc32(view.subarray(4));
    if (stored !== computed) throw new RangeError(`A record batch of ${view.byteLength} bytes fails its CRC-32 (stored ${stored}, computed ${computed}): the frame is damaged`);
    const encoding = view[4]!;
    if ((view[5]! | view[6]! | view[7]!) !== 0 || (encoding !== batchEncoding.CBOR && encoding !== batchEncoding.FLAT)) {
      throw new RangeError(`A record batch has encoding byte ${encoding} (known: 0 cbor-x, 1 flat) or non-zero reserved bytes`);
    }
    const body = view.subarray(batchHeaderBytes);
    if (encoding === batchEncoding.FLAT) return readFlatBody(body);
    const records = (this.cbor ??= newCborDecoder({ useRecords: true, copyBuffers: true })).decode(body) as unknown;
    if (!Array.isArray(records)) throw new RangeError('A cbor-x record batch does not hold an array');
    return records;
  }
}

export function createBatchEncoder(): BatchEncoder {
  return new BatchEncoder();
}

export function createBatchDecoder(): BatchDecoder {
  return new BatchDecoder();
}

/**
 * The largest payload the record writer puts in one frame: a quarter of the ring, so a
 * producer never waits for an empty ring and the consumer drains while it writes.
 */
export function framePayloadLimitBytes(capacityBytes: number, maxPayloadBytes: number): number {
  return Math.min(maxPayloadBytes, capacityBytes >>> 2);
}

/**
 * TIMESTAMPED_RECORDS payload: `u32 n | u32 CRC-32 of the timestamps | n x f64 timestamp |
 * batch` (the batch as in a RECORDS frame, with its own header), the integers and floats
 * little-endian; a record without a timestamp has NaN. The timestamps are one flat array,
 * never an object per record (native-notes.md §8).
 */
export const timestampHeaderBytes = 8;

/** Encodes a batch with its timestamps (`timestamps.length === records.length`). */
export function encodeTimestampedBatch(encoder: BatchEncoder, records: unknown[], timestamps: readonly number[]): Uint8Array {
  const body = encoder.encode(records);
  const n = records.length;
  const bodyStart = timestampHeaderBytes + 8 * n;
  const out = new Uint8Array(bodyStart + body.length);
  const view = new DataView(out.buffer);
  view.setUint32(0, n, true);
  for (let i = 0; i < n; i++) view.setFloat64(timestampHeaderBytes + 8 * i, timestamps[i]!, true);
  view.setUint32(4, crc32(out.subarray(timestampHeaderBytes, bodyStart)), true);
  out.set(body, bodyStart);
  return out;
}

/**
 * Decodes a TIMESTAMPED_RECORDS payload (copying out of `view`): the records and their
 * timestamps. @throws RangeError for a payload whose header does not fit it, whose
 * timestamps fail their CRC-32, or whose batch is damaged (BatchDecoder.decode).
 */
export function decodeTimestampedBatch(decoder: BatchDecoder, view: Uint8Array): { records: unknown[]; timestamps: Float64Array } {
  const data = new DataView(view.buffer, view.byteOffset, view.byteLength);
  if (view.byteLength < timestampHeaderBytes) throw new RangeError(`A timestamped batch of ${view.byteLength} bytes is shorter than its header`);
  const n = data.getUint32(0, true);
  const bodyStart = timestampHeaderBytes + 8 * n;
  if (bodyStart > view.byteLength) throw new RangeError(`A timestamped batch claims ${n} timestamps but has ${view.byteLength} bytes`);
  const stored = data.getUint32(4, true);
  const computed = crc32(view.subarray(timestampHeaderBytes, bodyStart));
  if (stored !== computed) throw new RangeError(`A timestamped batch's ${n} timestamps fail their CRC-32 (stored ${stored}, computed ${computed}): the frame is damaged`);
  const timestamps = new Float64Array(n);
  for (let i = 0; i < n; i++) timestamps[i] = data.getFloat64(timestampHeaderBytes + 8 * i, true);
  const records = decoder.decode(view.subarray(bodyStart));
  if (records.length !== n) throw new RangeError(`A timestamped batch has ${n} timestamps for ${records.length} records`);
  return { records, timestamps };
}

/**
 * WATERMARK payload, 16 bytes: `f64 value | f64 kind`, platform byte order (both ends are
 * threads of one process). Kind 0: a watermark (value in ms, -Infinity..Infinity); 1: the
 * channel is idle; 2: it is active again (value unused, 0). Flink: `Watermark` and
 * `WatermarkStatus` stream elements.
 */
export const watermarkPayloadBytes = 16;
export const watermarkKind = { WATERMARK: 0, IDLE: 1, ACTIVE: 2 } as const;

export function encodeWatermark(value: number, kind: number): Uint8Array {
  return new Uint8Array(new Float64Array([value, kind]).buffer);
}

/** @throws RangeError for a payload of the wrong size or kind. */
export function decodeWatermark(view: Uint8Array): { value: number; kind: number } {
  if (view.byteLength !== watermarkPayloadBytes) throw new RangeError(`A WATERMARK frame has ${view.byteLength} bytes, expected ${watermarkPayloadBytes}`);
  const f = new Float64Array(view.slice().buffer);
  const kind = f[1]!;
  if (kind !== 0 && kind !== 1 && kind !== 2) throw new RangeError(`A WATERMARK frame has kind ${kind}`);
  return { value: f[0]!, kind };
}

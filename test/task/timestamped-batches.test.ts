// TIMESTAMPED_RECORDS on the wire. The codec against the values it was given (views at
// any offset), and the record writer end to end against the sequence of (record,
// timestamp) it was fed: batches of random sizes over a small ring, so that batches split
// and frames queue behind a full ring (and must own their bytes while cbor-x reuses its
// output buffer).
import t from 'tap';
import { Doorbell, FrameKind, Ring } from '../../src/channel/index.js';
import type { JobEdge } from '../../src/graph/index.js';
import { createBatchDecoder, createBatchEncoder, decodeTimestampedBatch, encodeTimestampedBatch, timestampHeaderBytes } from '../../src/task/batch-codec.js';
import { RecordWriter } from '../../src/task/record-writer.js';
import { seededRandom, testSeed } from '../helpers/random.js';

interface Rec {
  i: number;
  s: string;
}

/** NaN as null, so that t.same compares "no timestamp" too. */
function comparable(timestamps: ArrayLike<number>): Array<number | null> {
  return Array.from(timestamps, (ts) => (Number.isNaN(ts) ? null : ts));
}

function randomBatch(random: () => number, n: number, withNaN: boolean): { records: Rec[]; timestamps: number[] } {
  const records: Rec[] = [];
  const timestamps: number[] = [];
  for (let i = 0; i < n; i++) {
    records.push({ i, s: 'x'.repeat(Math.floor(random() * 40)) });
    timestamps[i] = withNaN && random() < 0.2 ? NaN : Math.floor(random() * 2 ** 45) - 2 ** 40;
  }
  return { records, timestamps };
}

t.test('timestamped batches round-trip, whatever the offset of the view', async (t) => {
  const seed = testSeed(7101);
  const random = seededRandom(seed);
  const encoder = createBatchEncoder();
  const decoder = createBatchDecoder();
  for (let round = 0; round < 200; round++) {
    const n = Math.floor(random() * (round % 3 === 0 ? 1200 : 40));
    const { records, timestamps } = randomBatch(random, n, round % 2 === 0);
    const view = encodeTimestampedBatch(encoder, records, timestamps);
    // As in a ring: the payload at some offset of a larger buffer (4: timestamps not 8-aligned).
    const offset = [0, 4, 8, 13][round % 4]!;
    const frame = new Uint8Array(offset + view.length + 5).subarray(offset, offset + view.length);
    frame.set(view);
    const decoded = decodeTimestampedBatch(decoder, frame);
    t.same(decoded.records, records, `records, round ${round} (seed ${seed})`);
    t.same(comparable(decoded.timestamps), comparable(timestamps), `timestamps, round ${round} (seed ${seed})`);
    if (t.passing() === false) break;
  }
});

t.test('a timestamped payload whose header does not fit it is a RangeError', async (t) => {
  const decoder = createBatchDecoder();
  t.throws(() => decodeTimestampedBatch(decoder, new Uint8Array(timestampHeaderBytes - 1)), { name: 'RangeError', message: /shorter than its header/ });
  const claims = new Uint8Array(timestampHeaderBytes + 8);
  new DataView(claims.buffer).setUint32(0, 2, true);
  t.throws(() => decodeTimestampedBatch(decoder, claims), { name: 'RangeError', message: /claims 2 timestamps/ });
});

interface Received {
  records: unknown[];
  timestamps: number[];
  decoder: ReturnType<typeof createBatchDecoder>;
}

/**
 * Reads every frame in the ring: records and timestamps (NaN for a RECORDS frame) appended;
 * WATERMARK frames (emitted only to cut batches here) are dropped.
 */
function drain(ring: Ring, out: Received): void {
  const { decoder } = out;
  for (;;) {
    const read = ring.tryReadWith((kind, view) => {
      if (kind === FrameKind.WATERMARK) return;
      if (kind === FrameKind.RECORDS) {
        const records = decoder.decode(view) as unknown[];
        out.records.push(...records);
        for (let i = 0; i < records.length; i++) out.timestamps.push(NaN);
      } else {
        if (kind !== FrameKind.TIMESTAMPED_RECORDS) throw new Error(`unexpected frame kind ${kind}`);
        const { records, timestamps } = decodeTimestampedBatch(decoder, view);
        out.records.push(...records);
        out.timestamps.push(...timestamps);
      }
    });
    if (read === undefined) return;
  }
}

t.test('the record writer delivers every record with its timestamp, through split batches and queued frames', async (t) => {
  const seed = testSeed(7102);
  const random = seededRandom(seed);
  const edge: JobEdge = { id: 0, from: 0, to: 1, partitioner: 'forward', keySelector: undefined, inputIndex: 0, tag: undefined };
  let queuedTurns = 0;
  for (let run = 0; run < 12; run++) {
    // 16 KiB ring: frames of at most 4 KiB, so a batch of up to 2000 records splits, and a
    // batch's frames outgrow the ring and queue.
    const sab = Ring.allocate(1 << 14);
    const batchSize = 1 + Math.floor(random() * (run % 2 === 0 ? 2000 : 600));
    const backlog = { queuedFrames: 0 };
    const timestamp = { value: NaN };
    const writer = new RecordWriter(edge, [{ channel: 0, ring: sab, doorbell: Doorbell.allocate(), toSubtask: 0 }], 1, 128, batchSize, 0, () => false, backlog, timestamp);
    const reader = new Ring(sab);
    const got: Received = { records: [], timestamps: [], decoder: createBatchDecoder() };
    const sent: Rec[] = [];
    const sentTimestamps: number[] = [];
    const mode = run % 3; // 0: no timestamps, 1: all, 2: some NaN
    const count = 1 + Math.floor(random() * 6000);
    for (let i = 0; i < count; i++) {
      const record = { i, s: 'y'.repeat(Math.floor(random() * 60)) };
      timestamp.value = mode === 0 || (mode === 2 && random() < 0.3) ? NaN : 1_700_000_000_000 + Math.floor(random() * 1e6);
      sent.push(record);
      sentTimestamps.push(timestamp.value);
      writer.collect(record);
      if (random() < 0.01) writer.emitWatermark(0); // a control frame flushes a partial batch
      // As the mailbox loop: queued frames are flushed (while the consumer drains) before going on.
      if (backlog.queuedFrames > 0) queuedTurns++;
      while (backlog.queuedFrames > 0) {
        const flushed = writer.flushReady();
        while (backlog.queuedFrames > 0) {
          drain(reader, got);
          await new Promise((resolve) => setImmediate(resolve));
        }
        await flushed;
      }
    }
    const flushed = writer.flushAll();
    drain(reader, got);
    await flushed;
    drain(reader, got);
    const label = `run ${run}: ${count} records, batch size ${batchSize}, timestamps ${['none', 'all', 'some'][mode]} (seed ${seed})`;
    t.same(got.records, sent, `records, ${label}`);
    t.same(comparable(got.timestamps), comparable(sentTimestamps), `timestamps, ${label}`);
    if (t.passing() === false) break;
  }
  t.ok(queuedTurns > 0, `frames queued behind a full ring in ${queuedTurns} turns`);
});

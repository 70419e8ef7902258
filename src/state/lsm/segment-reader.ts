/**
 * Reads one segment file: the footer, index and bloom filter are read and verified at
 * open and kept in memory; data blocks are read on demand with `readSync`, verified
 * (CRC32) on every read from disk and cached raw. A point read searches the raw payload
 * in place (`findInBlock`); a cursor decodes the block and the cache keeps the decoded
 * arrays from then on (`CachedBlock`). Any mismatch raises
 * `CorruptSegmentError` naming the file: damaged bytes are never returned as data.
 * Idea: LevelDB's `Table::Open` / `Table::InternalGet`.
 *
 * Lifetime: reference counted. The store holds one reference while the segment is live;
 * open cursors hold one each. The descriptor closes when the count reaches zero.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { decodeBlock, findInBlock, lowerBound, rawCachedBlock, type CachedBlock, type DecodedBlock } from './block.js';
import { bloomMayContain, hashBytes } from './bloom.js';
import { blockCacheSegmentScale, type BlockCache } from './block-cache.js';
import { compareBytes } from './bytes.js';
import { blockTrailerSizeBytes, segmentFooterSizeBytes } from './constants.js';
import { crc32 } from './crc32.js';
import type { Cursor } from './cursor.js';
import { CorruptSegmentError } from './errors.js';
import { decodeFooter, decodeIndex, type Footer, type SegmentIndex } from './segment-format.js';

export class SegmentReader {
  private refs = 1;
  private fd: number | undefined;
  private readonly bloom: Uint8Array;
  private readonly index: SegmentIndex;
  readonly footer: Footer;
  readonly fileSizeBytes: number;

  /**
   * Opens and verifies footer, index and bloom. `id` must be unique within the store
   * (block cache key). Throws `CorruptSegmentError`, or the fs error if unreadable.
   */
  constructor(
    readonly path: string,
    readonly id: number,
    private readonly cache: BlockCache,
  ) {
    assert.ok(Number.isSafeInteger(id) && id > 0 && id < 2 ** 21, `segment id ${id} out of range`);
    this.fd = fs.openSync(path, 'r');
    try {
      this.fileSizeBytes = fs.fstatSync(this.fd).size;
      this.footer = this.readFooter();
      this.index = this.readIndex();
      this.bloom = this.readVerified(this.footer.bloomOffset, this.footer.bloomSizeBytes, 'bloom block');
      if (this.bloom.length < 2) throw this.corrupt(this.footer.bloomOffset, 'bloom block is empty');
    } catch (e) {
      fs.closeSync(this.fd);
      this.fd = undefined;
      throw e;
    }
  }

  private corrupt(offset: number, reason: string): CorruptSegmentError {
    return new CorruptSegmentError(this.path, offset, reason);
  }

  private readFooter(): Footer {
    const at = this.fileSizeBytes - segmentFooterSizeBytes;
    if (at < 0) throw this.corrupt(0, `file is ${this.fileSizeBytes} bytes, shorter than a footer (truncated)`);
    const bytes = this.readRaw(at, segmentFooterSizeBytes);
    const footer = decodeFooter(bytes);
    if (typeof footer === 'string') throw this.corrupt(at, `footer at offset ${at}: ${footer}`);
    const end = (offset: number, size: number) => offset + size + blockTrailerSizeBytes;
    if (end(footer.indexOffset, footer.indexSizeBytes) > footer.bloomOffset || end(footer.bloomOffset, footer.bloomSizeBytes) !== at) {
      throw this.corrupt(at, `footer at offset ${at}: index/bloom offsets do not fit the file size ${this.fileSizeBytes}`);
    }
    return footer;
  }

  private readIndex(): SegmentIndex {
    const { indexOffset, indexSizeBytes, dataBlockCount } = this.footer;
    const payload = this.readVerified(indexOffset, indexSizeBytes, 'index block');
    let index: SegmentIndex;
    try {
      index = decodeIndex(payload);
    } catch (e) {
      throw this.corrupt(indexOffset, `index block at offset ${indexOffset} is malformed: ${(e as Error).message}`);
    }
    if (index.lastKeys.length !== dataBlockCount || dataBlockCount === 0) {
      throw this.corrupt(indexOffset, `index lists ${index.lastKeys.length} blocks, footer says ${dataBlockCount}`);
    }
    let expected = 0;
    for (let i = 0; i < dataBlockCount; i++) {
      if (index.offsets[i] !== expected) throw this.corrupt(indexOffset, `index entry ${i} has offset ${index.offsets[i]}, expected ${expected}`);
      expected += index.sizes[i]! + blockTrailerSizeBytes;
    }
    if (expected !== indexOffset) throw this.corrupt(indexOffset, 'data blocks do not end where the index starts');
    return index;
  }

  private readRaw(offset: number, size: number): Buffer {
    assert.ok(this.fd !== undefined, `read from closed segment ${this.path}`);
    // Not from Node's shared 8 KiB pool: a cached block would pin a whole pool slab while
    // the cache charges only the block's own bytes.
    const buf = Buffer.allocUnsafeSlow(size);
    const n = fs.readSync(this.fd, buf, 0, size, offset);
    if (n !== size) throw this.corrupt(offset, `read of ${size} bytes at offset ${offset} returned ${n} (truncated)`);
    return buf;
  }

  /** Reads payload + trailer, checks the CRC, returns the payload. */
  private readVerified(offset: number, size: number, what: string): Uint8Array {
    const buf = this.readRaw(offset, size + blockTrailerSizeBytes);
    // A plain Uint8Array view: decoding takes many subarrays, and Buffer's are slower.
    const payload = new Uint8Array(buf.buffer, buf.byteOffset, size);
    const stored = buf.readUInt32LE(size);
    const computed = crc32(payload);
    if (stored !== computed) throw CorruptSegmentError.crc(this.path, offset, what, stored, computed);
    return payload;
  }

  get name(): string {
    return this.path.slice(this.path.lastIndexOf('/') + 1);
  }
  get firstKey(): Uint8Array {
    return this.index.firstKey;
  }
  get lastKey(): Uint8Array {
    return this.index.lastKeys[this.index.lastKeys.length - 1]!;
  }
  get blockCount(): number {
    return this.index.lastKeys.length;
  }

  /** Where data block `i` lies: payload offset and size in bytes (its 4-byte CRC32 trailer follows). */
  blockExtent(i: number): { offset: number; sizeBytes: number } {
    assert.ok(Number.isInteger(i) && i >= 0 && i < this.blockCount, `block ${i} of ${this.blockCount}`);
    return { offset: this.index.offsets[i]!, sizeBytes: this.index.sizes[i]! };
  }

  private cacheKey(i: number): number {
    return this.id * blockCacheSegmentScale + i;
  }

  /** The CRC-checked payload of data block `i`, read from disk (not cached here). */
  private readPayload(i: number): Uint8Array {
    return this.readVerified(this.index.offsets[i]!, this.index.sizes[i]!, 'block');
  }

  private decode(i: number, payload: Uint8Array): DecodedBlock {
    try {
      return decodeBlock(payload);
    } catch (e) {
      throw this.malformed(i, e);
    }
  }

  private malformed(i: number, e: unknown): CorruptSegmentError {
    const offset = this.index.offsets[i]!;
    return this.corrupt(offset, `block at offset ${offset} is malformed: ${(e as Error).message}`);
  }

  /**
   * Block `i` decoded, from the cache or disk. A raw cached block is decoded and, with
   * `fillCache`, replaced in the cache by its decoded form. `fillCache = false` for
   * compaction and verification reads.
   */
  readBlock(i: number, fillCache = true): DecodedBlock {
    const cacheKey = this.cacheKey(i);
    const cached = this.cache.get(cacheKey);
    if (cached?.decoded !== undefined) return cached.decoded;
    const payload = cached?.payload ?? this.readPayload(i);
    const decoded = this.decode(i, payload);
    if (fillCache) this.cache.set(cacheKey, { payload, decoded, sizeBytes: decoded.sizeBytes });
    return decoded;
  }

  /** Index of the first block whose last key >= `key` (blockCount if none). */
  findBlock(key: Uint8Array): number {
    return lowerBound(this.index.lastKeys, key);
  }

  /**
   * `undefined`: not in this segment; `null`: tombstone; else the value (a view into the
   * block's payload: do not mutate). `hash` is `hashBytes(key)`. On a cache miss the
   * block is read and cached raw and searched in place, without decoding; a cached
   * block is searched in its decoded form if a cursor decoded it, else in place.
   * Throws `CorruptSegmentError` on a damaged block.
   */
  get(key: Uint8Array, hash = hashBytes(key)): Uint8Array | null | undefined {
    if (compareBytes(key, this.firstKey) < 0 || compareBytes(key, this.lastKey) > 0) return undefined;
    if (!bloomMayContain(this.bloom, hash)) return undefined;
    const b = this.findBlock(key);
    if (b >= this.blockCount) return undefined;
    const cacheKey = this.cacheKey(b);
    let cached: CachedBlock | undefined = this.cache.get(cacheKey);
    const decoded = cached?.decoded;
    if (decoded !== undefined) {
      const i = lowerBound(decoded.keys, key);
      if (i >= decoded.keys.length || compareBytes(decoded.keys[i]!, key) !== 0) return undefined;
      return decoded.values[i]!;
    }
    if (cached === undefined) {
      cached = rawCachedBlock(this.readPayload(b));
      this.cache.set(cacheKey, cached);
    }
    try {
      return findInBlock(cached.payload, key);
    } catch (e) {
      throw this.malformed(b, e);
    }
  }

  /** A cursor at the first key >= `start`; it holds a reference until closed. */
  cursor(start: Uint8Array | undefined, fillCache = true): Cursor {
    this.ref();
    return new SegmentCursor(this, start, fillCache);
  }

  ref(): void {
    assert.ok(this.refs > 0, `segment ${this.path} used after release`);
    this.refs++;
  }

  /** Drops one reference; the last one closes the descriptor. */
  unref(): void {
    assert.ok(this.refs > 0, `segment ${this.path} released twice`);
    this.refs--;
    if (this.refs === 0 && this.fd !== undefined) {
      fs.closeSync(this.fd);
      this.fd = undefined;
      this.cache.evictSegment(this.id);
    }
  }
}

class SegmentCursor implements Cursor {
  private blockIndex: number;
  private block: DecodedBlock | undefined;
  private pos = 0;
  private closed = false;

  constructor(
    private readonly segment: SegmentReader,
    start: Uint8Array | undefined,
    private readonly fillCache: boolean,
  ) {
    this.blockIndex = start === undefined ? 0 : segment.findBlock(start);
    this.load();
    if (start !== undefined && this.block !== undefined) {
      this.pos = lowerBound(this.block.keys, start);
      this.skipExhausted();
    }
  }

  private load(): void {
    this.block = this.blockIndex < this.segment.blockCount ? this.segment.readBlock(this.blockIndex, this.fillCache) : undefined;
    this.pos = 0;
    if (this.block === undefined) this.close();
  }

  private skipExhausted(): void {
    while (this.block !== undefined && this.pos >= this.block.keys.length) {
      this.blockIndex++;
      this.load();
    }
  }

  valid(): boolean {
    return this.block !== undefined;
  }
  key(): Uint8Array {
    assert.ok(this.block !== undefined);
    return this.block.keys[this.pos]!;
  }
  value(): Uint8Array | null {
    assert.ok(this.block !== undefined);
    return this.block.values[this.pos]!;
  }
  next(): void {
    assert.ok(this.block !== undefined);
    this.pos++;
    this.skipExhausted();
  }
  close(): void {
    this.block = undefined;
    if (this.closed) return;
    this.closed = true;
    this.segment.unref();
  }
}

/**
 * Writes one segment file from entries in strictly ascending key order, streaming data
 * blocks to `<path>.tmp`; `finish()` appends index, bloom and footer, fsyncs, and renames
 * to `<path>`, so a segment name only ever refers to a complete file.
 * Idea: LevelDB's `TableBuilder`.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { BlockBuilder } from './block.js';
import { buildBloom, hashBytes } from './bloom.js';
import { compareBytes, keyGroupOf } from './bytes.js';
import { blockTrailerSizeBytes, segmentFormatVersion, segmentTempSuffix } from './constants.js';
import { crc32 } from './crc32.js';
import { encodeFooter, encodeIndex, type SegmentIndex } from './segment-format.js';

export interface SegmentWriterOptions {
  blockSizeBytes: number;
  bloomBitsPerKey: number;
  /** fsync the file before the rename (durability for checkpoints). */
  fsync: boolean;
}

/** What a finished segment holds; the reader re-derives it from the file. */
export interface WrittenSegment {
  path: string;
  fileSizeBytes: number;
  entryCount: number;
}

export class SegmentWriter {
  private readonly tempPath: string;
  private fd: number | undefined;
  private readonly block = new BlockBuilder();
  private readonly index: SegmentIndex = { firstKey: new Uint8Array(0), lastKeys: [], offsets: [], sizes: [] };
  private hashes = new Uint32Array(1024);
  private lastKey: Uint8Array | undefined;
  private offset = 0;
  entryCount = 0;
  tombstoneCount = 0;
  /** Key and value bytes accepted so far (the work measure of flush/compaction steps). */
  inputBytes = 0;

  constructor(
    readonly path: string,
    private readonly options: SegmentWriterOptions,
  ) {
    this.tempPath = path + segmentTempSuffix;
    this.fd = fs.openSync(this.tempPath, 'w');
  }

  /** REQUIRES: `key` > the previous key. `null` writes a tombstone. */
  add(key: Uint8Array, value: Uint8Array | null): void {
    assert.ok(this.fd !== undefined, 'add() after finish()/abort()');
    assert.ok(this.lastKey === undefined || compareBytes(this.lastKey, key) < 0, 'segment keys out of order');
    if (this.entryCount === 0) this.index.firstKey = key;
    if (this.entryCount === this.hashes.length) {
      const grown = new Uint32Array(this.hashes.length * 2);
      grown.set(this.hashes);
      this.hashes = grown;
    }
    this.hashes[this.entryCount] = hashBytes(key);
    this.block.add(key, value);
    this.lastKey = key;
    this.entryCount++;
    if (value === null) this.tombstoneCount++;
    this.inputBytes += key.length + (value === null ? 0 : value.length);
    if (this.block.sizeBytes >= this.options.blockSizeBytes) this.flushBlock();
  }

  private writeBlock(payload: Uint8Array): { offset: number; size: number } {
    const fd = this.fd;
    assert.ok(fd !== undefined);
    const trailer = Buffer.allocUnsafe(blockTrailerSizeBytes);
    trailer.writeUInt32LE(crc32(payload), 0);
    const at = this.offset;
    fs.writeSync(fd, payload, 0, payload.length, at);
    fs.writeSync(fd, trailer, 0, trailer.length, at + payload.length);
    this.offset += payload.length + trailer.length;
    return { offset: at, size: payload.length };
  }

  private flushBlock(): void {
    if (this.block.entryCount === 0) return;
    assert.ok(this.lastKey !== undefined);
    const { offset, size } = this.writeBlock(this.block.payload());
    this.index.lastKeys.push(this.lastKey);
    this.index.offsets.push(offset);
    this.index.sizes.push(size);
    this.block.reset();
  }

  /**
   * Completes the file and renames it into place. Returns `undefined` (and removes the
   * temp file) when no entry was added: an empty segment is never written.
   */
  finish(): WrittenSegment | undefined {
    assert.ok(this.fd !== undefined, 'finish() twice');
    if (this.entryCount === 0) {
      this.abort();
      return undefined;
    }
    this.flushBlock();
    const indexAt = this.writeBlock(encodeIndex(this.index));
    const bloomAt = this.writeBlock(buildBloom(this.hashes, this.entryCount, this.options.bloomBitsPerKey));
    const footer = encodeFooter({
      formatVersion: segmentFormatVersion,
      keyGroupFirst: keyGroupOf(this.index.firstKey),
      keyGroupLast: keyGroupOf(this.lastKey!),
      entryCount: this.entryCount,
      tombstoneCount: this.tombstoneCount,
      indexOffset: indexAt.offset,
      indexSizeBytes: indexAt.size,
      bloomOffset: bloomAt.offset,
      bloomSizeBytes: bloomAt.size,
      dataBlockCount: this.index.lastKeys.length,
    });
    fs.writeSync(this.fd, footer, 0, footer.length, this.offset);
    this.offset += footer.length;
    if (this.options.fsync) fs.fsyncSync(this.fd);
    fs.closeSync(this.fd);
    this.fd = undefined;
    fs.renameSync(this.tempPath, this.path);
    return { path: this.path, fileSizeBytes: this.offset, entryCount: this.entryCount };
  }

  /** Closes and deletes the temp file. Idempotent. */
  abort(): void {
    if (this.fd === undefined) return;
    fs.closeSync(this.fd);
    this.fd = undefined;
    fs.rmSync(this.tempPath, { force: true });
  }
}

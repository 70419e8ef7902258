/**
 * Full verification of one segment file, for checkpoint restore: opens it with the normal
 * reader (footer magic, CRC, version and offsets; index and bloom CRCs; index offsets
 * contiguous) and then reads and decodes every data block (CRC32 each), checking that
 * keys ascend strictly across blocks, that the index leads every block's first and last
 * key to that block, and that the entry count matches the footer.
 * Idea: LevelDB's `paranoid_checks` / RocksDB's `VerifyChecksum`.
 */
import fs from 'node:fs';
import { BlockCache } from './block-cache.js';
import { compareBytes } from './bytes.js';
import { CorruptSegmentError } from './errors.js';
import { SegmentReader } from './segment-reader.js';
import { crc32 } from './crc32.js';

/**
 * Checksum verification of one segment file, as RocksDB's `VerifyChecksum` without
 * `paranoid` decoding: footer, index and bloom as `SegmentReader` opens them, then the
 * CRC32 of every data block, in one read of the file, without decoding any entry. It
 * catches every changed, lost or truncated byte (what disks and copies do) but not a
 * block our own writer encoded wrongly with a correct CRC; `verifySegmentFile` decodes
 * too. Measured (native-notes §5): fast enough to run on the main thread at savepoint time.
 * Returns the file size in bytes. Throws `CorruptSegmentError` naming the file, or the fs error.
 */
export function verifySegmentChecksums(path: string): { sizeBytes: number } {
  if (typeof path !== 'string' || path.length === 0) throw new TypeError(`verifySegmentChecksums: path must be a non-empty string, got ${String(path)}`);
  const reader = new SegmentReader(path, 1, new BlockCache(0));
  try {
    const bytes = fs.readFileSync(path);
    if (bytes.length !== reader.fileSizeBytes) throw new CorruptSegmentError(path, 0, `file changed size while it was read (${reader.fileSizeBytes} then ${bytes.length} bytes)`);
    for (let i = 0; i < reader.blockCount; i++) {
      const { offset, sizeBytes } = reader.blockExtent(i);
      const stored = bytes.readUInt32LE(offset + sizeBytes);
      const computed = crc32(bytes.subarray(offset, offset + sizeBytes));
      if (stored !== computed) throw CorruptSegmentError.crc(path, offset, 'block', stored, computed);
    }
    return { sizeBytes: reader.fileSizeBytes };
  } finally {
    reader.unref();
  }
}

/**
 * Reads every block of the segment at `path` and checks every CRC, the footer and the
 * index. Returns the entry count (tombstones included) and the file size in bytes.
 * Throws `CorruptSegmentError` naming the file on any damage, the fs error (e.g. ENOENT)
 * if the file cannot be opened. Reads the whole file once; caches nothing.
 */
export function verifySegmentFile(path: string): { entries: number; sizeBytes: number } {
  if (typeof path !== 'string' || path.length === 0) throw new TypeError(`verifySegmentFile: path must be a non-empty string, got ${String(path)}`);
  const reader = new SegmentReader(path, 1, new BlockCache(0));
  try {
    let entries = 0;
    let previousLast: Uint8Array | undefined;
    for (let i = 0; i < reader.blockCount; i++) {
      const block = reader.readBlock(i, false);
      const first = block.keys[0];
      const last = block.keys[block.keys.length - 1];
      if (first === undefined || last === undefined) throw new CorruptSegmentError(path, 0, `data block ${i} is empty`);
      if (i === 0 && compareBytes(first, reader.firstKey) !== 0) {
        throw new CorruptSegmentError(path, 0, 'index first key differs from the first key of block 0');
      }
      if (previousLast !== undefined && compareBytes(previousLast, first) >= 0) {
        throw new CorruptSegmentError(path, 0, `keys of data block ${i} do not ascend from block ${i - 1}`);
      }
      // Reads go through the index: both ends of block i must lead to block i.
      if (reader.findBlock(first) !== i || reader.findBlock(last) !== i) {
        throw new CorruptSegmentError(path, 0, `index entry of data block ${i} does not cover the block's keys`);
      }
      entries += block.keys.length;
      previousLast = last;
    }
    if (previousLast === undefined || compareBytes(previousLast, reader.lastKey) !== 0) {
      throw new CorruptSegmentError(path, 0, 'index last key differs from the last key of the last block');
    }
    if (entries !== reader.footer.entryCount) {
      throw new CorruptSegmentError(path, 0, `blocks hold ${entries} entries, footer says ${reader.footer.entryCount}`);
    }
    return { entries, sizeBytes: reader.fileSizeBytes };
  } finally {
    reader.unref();
  }
}

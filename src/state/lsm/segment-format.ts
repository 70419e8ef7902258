/**
 * Segment file layout (byte for byte in native-notes.md section 3):
 *
 *   [data block 0][trailer] ... [data block n-1][trailer]
 *   [index block][trailer] [bloom block][trailer] [footer, 64 bytes]
 *
 * trailer = CRC32 of the block payload, u32 little-endian. All fixed-width integers are
 * little-endian except keys' key group (u16 big-endian, part of the key bytes).
 * Idea: LevelDB's table format (`doc/table_format.md`), with the filter as one block and
 * a fixed footer that also carries key-group range and counts.
 */
import { ByteReader, ByteWriter } from './bytes.js';
import { segmentFooterSizeBytes, segmentFormatVersion, segmentMagic } from './constants.js';
import { crc32 } from './crc32.js';

/** What the footer records. Offsets and sizes in bytes; sizes exclude the trailer. */
export interface Footer {
  formatVersion: number;
  keyGroupFirst: number;
  keyGroupLast: number;
  entryCount: number;
  tombstoneCount: number;
  indexOffset: number;
  indexSizeBytes: number;
  bloomOffset: number;
  bloomSizeBytes: number;
  dataBlockCount: number;
}

/** Footer fields at fixed offsets; bytes [0, 52) are covered by the CRC at 52. */
const at = {
  formatVersion: 0, // u32
  keyGroupFirst: 4, // u16
  keyGroupLast: 6, // u16
  entryCount: 8, // u64
  tombstoneCount: 16, // u64
  indexOffset: 24, // u64
  indexSizeBytes: 32, // u32
  bloomOffset: 36, // u64
  bloomSizeBytes: 44, // u32
  dataBlockCount: 48, // u32
  crc: 52, // u32, CRC32 of bytes [0, 52)
  magic: 56, // 8 bytes "SLUICSEG"
} as const;

function writeU64(view: DataView, offset: number, n: number): void {
  view.setBigUint64(offset, BigInt(n), true);
}

function readU64(view: DataView, offset: number): number {
  const n = view.getBigUint64(offset, true);
  if (n > BigInt(Number.MAX_SAFE_INTEGER)) throw new RangeError(`u64 at ${offset} too large`);
  return Number(n);
}

export function encodeFooter(f: Footer): Uint8Array {
  const out = new Uint8Array(segmentFooterSizeBytes);
  const v = new DataView(out.buffer);
  v.setUint32(at.formatVersion, f.formatVersion, true);
  v.setUint16(at.keyGroupFirst, f.keyGroupFirst, true);
  v.setUint16(at.keyGroupLast, f.keyGroupLast, true);
  writeU64(v, at.entryCount, f.entryCount);
  writeU64(v, at.tombstoneCount, f.tombstoneCount);
  writeU64(v, at.indexOffset, f.indexOffset);
  v.setUint32(at.indexSizeBytes, f.indexSizeBytes, true);
  writeU64(v, at.bloomOffset, f.bloomOffset);
  v.setUint32(at.bloomSizeBytes, f.bloomSizeBytes, true);
  v.setUint32(at.dataBlockCount, f.dataBlockCount, true);
  v.setUint32(at.crc, crc32(out.subarray(0, at.crc)), true);
  out.set(segmentMagic, at.magic);
  return out;
}

/** Parses a footer. Returns a reason string when it is invalid (caller names the file). */
export function decodeFooter(bytes: Uint8Array): Footer | string {
  if (bytes.length !== segmentFooterSizeBytes) return 'footer is short';
  for (let i = 0; i < segmentMagic.length; i++) {
    if (bytes[at.magic + i] !== segmentMagic[i]) return 'footer magic is not "SLUICSEG" (truncated or not a segment)';
  }
  const v = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const stored = v.getUint32(at.crc, true);
  const computed = crc32(bytes.subarray(0, at.crc));
  if (stored !== computed) {
    return `footer fails CRC32 (stored 0x${stored.toString(16)}, computed 0x${computed.toString(16)})`;
  }
  const formatVersion = v.getUint32(at.formatVersion, true);
  if (formatVersion !== segmentFormatVersion) return `unsupported format version ${formatVersion}`;
  return {
    formatVersion,
    keyGroupFirst: v.getUint16(at.keyGroupFirst, true),
    keyGroupLast: v.getUint16(at.keyGroupLast, true),
    entryCount: readU64(v, at.entryCount),
    tombstoneCount: readU64(v, at.tombstoneCount),
    indexOffset: readU64(v, at.indexOffset),
    indexSizeBytes: v.getUint32(at.indexSizeBytes, true),
    bloomOffset: readU64(v, at.bloomOffset),
    bloomSizeBytes: v.getUint32(at.bloomSizeBytes, true),
    dataBlockCount: v.getUint32(at.dataBlockCount, true),
  };
}

/** Index: first key of the segment, then per data block its last key, offset and size. */
export interface SegmentIndex {
  firstKey: Uint8Array;
  lastKeys: Uint8Array[];
  offsets: number[];
  sizes: number[];
}

/** `varint firstKeyLength | firstKey | varint blockCount | (varint keyLength | key | varint offset | varint size)*` */
export function encodeIndex(index: SegmentIndex): Uint8Array {
  const w = new ByteWriter();
  w.varint(index.firstKey.length);
  w.bytes(index.firstKey);
  w.varint(index.lastKeys.length);
  for (let i = 0; i < index.lastKeys.length; i++) {
    const k = index.lastKeys[i]!;
    w.varint(k.length);
    w.bytes(k);
    w.varint(index.offsets[i]!);
    w.varint(index.sizes[i]!);
  }
  return Uint8Array.from(w.view());
}

/** Throws `RangeError` on malformed input. Keys are copies (independent of `payload`). */
export function decodeIndex(payload: Uint8Array): SegmentIndex {
  const r = new ByteReader(payload);
  const firstKey = r.take(r.varint()).slice();
  const n = r.varint();
  const index: SegmentIndex = { firstKey, lastKeys: [], offsets: [], sizes: [] };
  for (let i = 0; i < n; i++) {
    index.lastKeys.push(r.take(r.varint()).slice());
    index.offsets.push(r.varint());
    index.sizes.push(r.varint());
  }
  if (!r.done) throw new RangeError('trailing bytes after the index');
  return index;
}

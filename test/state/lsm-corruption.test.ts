/**
 * Damaged segment files: a flipped byte in a data block, its CRC trailer, the index, the
 * bloom filter or the footer, and truncation, all raise CorruptSegmentError naming the
 * file; no read ever returns wrong data.
 */
import t, { type Test } from 'tap';
import fs from 'node:fs';
import path from 'node:path';
import { CorruptSegmentError, LsmStore } from '../../src/state/lsm/index.js';
import { tempDir } from './helpers.js';

const keyCount = 2000;
const key = (i: number) => Uint8Array.of(0, 7, i >> 8, i & 0xff);
const value = (i: number) => new Uint8Array(40).fill(i % 251);

/** Writes one segment of `keyCount` entries; returns its name and path. */
function makeSegment(dir: string): { name: string; file: string } {
  const store = LsmStore.open(dir, { memtableSizeBytes: 1024 * 1024, fsync: false });
  for (let i = 0; i < keyCount; i++) store.put(key(i), value(i));
  store.freeze();
  store.flushAll();
  const [name] = store.liveSegments();
  store.close();
  if (name === undefined) throw new Error('no segment written');
  return { name, file: path.join(dir, name) };
}

/** Footer fields the test needs (little-endian, native-notes.md section 3). */
function footerOf(file: string): { indexOffset: number; bloomOffset: number; size: number } {
  const bytes = fs.readFileSync(file);
  const f = bytes.subarray(bytes.length - 64);
  return { indexOffset: Number(f.readBigUInt64LE(24)), bloomOffset: Number(f.readBigUInt64LE(36)), size: bytes.length };
}

/** Size of data block 0 from the index: `firstKey`, block count, last key, offset, size. */
function firstBlockSize(file: string): number {
  const bytes = fs.readFileSync(file);
  let pos = footerOf(file).indexOffset;
  const varint = (): number => {
    let n = 0;
    for (let scale = 1; ; scale *= 128) {
      const b = bytes[pos++]!;
      n += (b & 0x7f) * scale;
      if (b < 0x80) return n;
    }
  };
  const skip = (n: number) => (pos += n);
  skip(varint()); // first key
  varint(); // block count
  skip(varint()); // last key of block 0
  if (varint() !== 0) throw new Error('block 0 does not start at offset 0');
  return varint();
}

function flipByte(file: string, offset: number): void {
  const bytes = fs.readFileSync(file);
  bytes[offset]! ^= 0x5a;
  fs.writeFileSync(file, bytes);
}

/** Opens and reads every key; returns the error thrown, checking no wrong value came back. */
function readAll(t: Test, dir: string, name: string): unknown {
  try {
    const store = LsmStore.open(dir, { segments: [name] });
    try {
      for (let i = 0; i < keyCount; i++) {
        const got = store.get(key(i));
        if (got === undefined || Buffer.compare(got, value(i)) !== 0) t.fail(`key ${i} read wrong data`);
      }
      for (const [k, v] of store.scan()) if (v[0] !== ((k[2]! << 8) | k[3]!) % 251) t.fail('scan read wrong data');
    } finally {
      store.close();
    }
  } catch (e) {
    return e;
  }
  return undefined;
}

function expectCorrupt(t: Test, e: unknown, file: string, pattern: RegExp): void {
  t.ok(e instanceof CorruptSegmentError, `CorruptSegmentError thrown (got ${String(e)})`);
  if (!(e instanceof CorruptSegmentError)) return;
  t.equal(e.file, file);
  t.match(e.message, `segment ${file}:`);
  t.match(e.message, /restore from a checkpoint/);
  t.match(e.message, pattern);
}

const cases: { what: string; damage: (file: string) => void; pattern: RegExp }[] = [
  { what: 'a data block', damage: (f) => flipByte(f, 1000), pattern: /block at offset \d+ fails CRC32 \(stored 0x[0-9a-f]{8}, computed 0x[0-9a-f]{8}\)/ },
  { what: 'the first block CRC trailer', damage: (f) => flipByte(f, firstBlockSize(f)), pattern: /block at offset 0 fails CRC32/ },
  { what: 'the index block', damage: (f) => flipByte(f, footerOf(f).indexOffset + 3), pattern: /index block at offset \d+ fails CRC32/ },
  { what: 'the bloom block', damage: (f) => flipByte(f, footerOf(f).bloomOffset + 5), pattern: /bloom block at offset \d+ fails CRC32/ },
  { what: 'the footer fields', damage: (f) => flipByte(f, footerOf(f).size - 64 + 26), pattern: /footer at offset \d+: footer fails CRC32/ },
  { what: 'the footer magic', damage: (f) => flipByte(f, footerOf(f).size - 1), pattern: /magic/ },
  { what: 'truncation at the end', damage: (f) => fs.truncateSync(f, footerOf(f).size - 100), pattern: /magic|truncated|CRC32/ },
  { what: 'truncation to a few bytes', damage: (f) => fs.truncateSync(f, 10), pattern: /shorter than a footer/ },
];

for (const c of cases) {
  t.test(`damage to ${c.what} raises CorruptSegmentError`, (t) => {
    const dir = tempDir(t, 'lsm-corrupt');
    const { name, file } = makeSegment(dir);
    t.equal(readAll(t, dir, name), undefined, 'the undamaged segment reads back');
    c.damage(file);
    expectCorrupt(t, readAll(t, dir, name), file, c.pattern);
    t.end();
  });
}

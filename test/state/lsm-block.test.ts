/**
 * The in-place point lookup of data blocks (`findInBlock`) against two references: a
 * `Map` of what was written, and `lowerBound` over `decodeBlock` (the cursor path).
 * Seeded blocks have keys from a tiny alphabet so neighbours share long prefixes, keys
 * that are prefixes of other keys, and tombstones; probes are every key, prefixes and
 * extensions of keys, keys before, between and after them, and random keys. Then the
 * store: point reads through raw cached, decoded cached and uncached blocks agree with a
 * model, before and after a scan upgrades cached blocks, and after a reopen; a block
 * with a valid CRC but malformed entries is reported as corruption by both paths.
 */
import t from 'tap';
import fs from 'node:fs';
import path from 'node:path';
import { BlockBuilder, decodeBlock, findInBlock, lowerBound } from '../../src/state/lsm/block.js';
import { compareBytes } from '../../src/state/lsm/bytes.js';
import { BlockCache } from '../../src/state/lsm/block-cache.js';
import { CorruptSegmentError, LsmStore, crc32 } from '../../src/state/lsm/index.js';
import { SegmentReader } from '../../src/state/lsm/segment-reader.js';
import { randomInt, seededRandom, tempDir, toHex } from './helpers.js';

const alphabet = [0x00, 0x01, 0x7f, 0x80, 0xff];

function randomKey(rand: () => number, maxLength = 6): Uint8Array {
  const key = new Uint8Array(randomInt(rand, 0, maxLength + 1));
  for (let i = 0; i < key.length; i++) key[i] = alphabet[randomInt(rand, 0, alphabet.length)]!;
  return key;
}

/** `v === null` is a tombstone. */
type Entry = [Uint8Array, Uint8Array | null];

/** Sorted, distinct random entries; about one in five a tombstone, some empty values. */
function randomEntries(rand: () => number, count: number): Entry[] {
  const byHex = new Map<string, Uint8Array>();
  for (let i = 0; i < count; i++) {
    const k = randomKey(rand);
    byHex.set(toHex(k), k);
  }
  const keys = [...byHex.values()].sort(compareBytes);
  return keys.map((k) => {
    if (rand() < 0.2) return [k, null];
    const v = new Uint8Array(randomInt(rand, 0, 20));
    for (let i = 0; i < v.length; i++) v[i] = randomInt(rand, 0, 256);
    return [k, v];
  });
}

function build(entries: readonly Entry[]): Uint8Array {
  const b = new BlockBuilder();
  for (const [k, v] of entries) b.add(k, v);
  return Uint8Array.from(b.payload());
}

/** Probe keys: every key, its prefixes and extensions, neighbours, random keys. */
function probesFor(rand: () => number, entries: readonly Entry[]): Uint8Array[] {
  const probes: Uint8Array[] = [new Uint8Array(0), Uint8Array.of(0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff)];
  for (const [k] of entries) {
    probes.push(k, k.subarray(0, Math.max(0, k.length - 1)), Uint8Array.of(...k, 0x00), Uint8Array.of(...k, 0xff));
    if (k.length > 0) {
      const up = Uint8Array.from(k);
      up[k.length - 1] = Math.min(0xff, up[k.length - 1]! + 1);
      const down = Uint8Array.from(k);
      down[k.length - 1] = Math.max(0, down[k.length - 1]! - 1);
      probes.push(up, down);
    }
  }
  for (let i = 0; i < 50; i++) probes.push(randomKey(rand, 8));
  return probes;
}

function viaDecode(payload: Uint8Array, key: Uint8Array): Uint8Array | null | undefined {
  const block = decodeBlock(payload);
  const i = lowerBound(block.keys, key);
  if (i >= block.keys.length || compareBytes(block.keys[i]!, key) !== 0) return undefined;
  return block.values[i]!;
}

const show = (v: Uint8Array | null | undefined): string => (v === undefined ? 'absent' : v === null ? 'tombstone' : toHex(v));

t.test('findInBlock agrees with a Map and with decodeBlock + lowerBound (seeded)', (t) => {
  let checked = 0;
  let found = 0;
  for (const seed of [1, 2, 3, 7, 42, 1234, 99991, 31337]) {
    const rand = seededRandom(seed);
    for (let round = 0; round < 30; round++) {
      const entries = randomEntries(rand, randomInt(rand, 1, 120));
      const payload = build(entries);
      const model = new Map(entries.map(([k, v]) => [toHex(k), v]));
      for (const probe of probesFor(rand, entries)) {
        const got = findInBlock(payload, probe);
        const expected = model.has(toHex(probe)) ? model.get(toHex(probe))! : undefined;
        const decoded = viaDecode(payload, probe);
        if (show(got) !== show(expected) || show(got) !== show(decoded)) {
          t.fail(`seed ${seed} round ${round} key ${toHex(probe)}: got ${show(got)}, model ${show(expected)}, decode ${show(decoded)}`);
          return t.end();
        }
        if (got !== undefined) found++;
        checked++;
      }
    }
  }
  t.ok(checked > 10_000 && found > 1000, `${checked} probes, ${found} found`);
  t.end();
});

t.test('findInBlock returns views of the payload and nothing for an empty block', (t) => {
  const payload = build([[Uint8Array.of(1), Uint8Array.of(9, 9)], [Uint8Array.of(1, 2), Uint8Array.of()], [Uint8Array.of(2), null]]);
  const v = findInBlock(payload, Uint8Array.of(1))!;
  t.same([...v], [9, 9]);
  t.equal(v.buffer, payload.buffer, 'a view, not a copy');
  t.same(findInBlock(payload, Uint8Array.of(1, 2)), new Uint8Array(0), 'an empty value is not a tombstone');
  t.equal(findInBlock(payload, Uint8Array.of(2)), null, 'tombstone');
  t.equal(findInBlock(payload, Uint8Array.of(1, 1)), undefined, 'between keys');
  t.equal(findInBlock(new Uint8Array(0), Uint8Array.of(1)), undefined, 'empty payload');
  t.end();
});

t.test('findInBlock throws RangeError on malformed payloads', (t) => {
  // Entries: shared, unshared, valueTag, suffix, value.
  const cases: [string, number[], number[], RegExp][] = [
    ['first entry shares a prefix', [1, 1, 0, 5], [5], /shared prefix 1 > previous key/],
    ['shared prefix longer than the previous key', [0, 1, 0, 5, 3, 0, 0], [5, 0, 0], /shared prefix 3 > previous key/],
    ['suffix runs past the end', [0, 4, 0, 5], [5], /runs past the end/],
    ['value runs past the end', [0, 1, 9, 5, 1], [5], /runs past the end/],
    ['varint runs past the end', [0, 1, 0, 5, 0x80], [6], /varint runs past the end/],
    ['varint longer than 8 bytes', [0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x01], [5], /varint longer than 8 bytes/],
    // Keys 05 06, then 05 04 (shares 1 byte, smaller): found while seeking 05 06 01.
    ['keys out of order', [0, 2, 0, 5, 6, 1, 1, 0, 4], [5, 6, 1], /keys out of order/],
  ];
  for (const [what, bytes, probe, message] of cases) {
    t.throws(() => findInBlock(Uint8Array.from(bytes), Uint8Array.from(probe)), message, what);
  }
  t.end();
});

t.test('store point reads through uncached, raw cached and decoded cached blocks match a model', (t) => {
  for (const seed of [5, 6, 77]) {
    for (const blockCacheSizeBytes of [0, 2048, 1 << 20]) {
      const dir = tempDir(t, 'lsm-block-get');
      const rand = seededRandom(seed);
      const options = { memtableSizeBytes: 4096, blockSizeBytes: 256, blockCacheSizeBytes, fsync: false };
      let store = LsmStore.open(dir, options);
      const model = new Map<string, Uint8Array>();
      const keys: Uint8Array[] = [];
      for (let i = 0; i < 3000; i++) {
        const k = Uint8Array.of(0, 1, ...randomKey(rand, 5));
        keys.push(k);
        if (rand() < 0.25) {
          store.delete(k);
          model.delete(toHex(k));
        } else {
          const v = Uint8Array.of(i & 0xff, i >> 8, ...randomKey(rand, 4));
          store.put(k, v);
          model.set(toHex(k), v);
        }
        if (i % 700 === 699) (store.freeze(), store.flushAll());
      }
      store.freeze();
      store.flushAll();
      const segments = store.liveSegments();
      store.close();
      store = LsmStore.open(dir, { ...options, segments });
      const probes = [...keys, ...probesFor(rand, keys.map((k) => [k, null]))].map((k) => Uint8Array.of(...k));
      const label = `seed ${seed}, cache ${blockCacheSizeBytes}`;
      const check = (phase: string): boolean => {
        for (const k of probes) {
          const got = store.get(k);
          const expected = model.get(toHex(k));
          if (show(got) !== show(expected)) {
            t.fail(`${label}, ${phase}: key ${toHex(k)} got ${show(got)}, expected ${show(expected)}`);
            return false;
          }
        }
        return true;
      };
      if (check('cold (misses, cached raw)') && check('again (raw cache hits)')) {
        const scanned = [...store.scan()].map(([k]) => toHex(k));
        t.same(scanned, [...model.keys()].sort(), `${label}: scan`);
        check('after a scan decoded the cached blocks');
      }
      const { blockCacheHits, blockCacheMisses } = store.stats();
      if (blockCacheSizeBytes === 1 << 20) t.ok(blockCacheHits > blockCacheMisses, `${label}: cache hits ${blockCacheHits}, misses ${blockCacheMisses}`);
      if (blockCacheSizeBytes === 0) t.equal(blockCacheHits, 0, `${label}: nothing cached`);
      t.ok(segments.length >= 4, `${label}: ${segments.length} segments, tombstones shadow older segments`);
      store.close();
    }
  }
  t.end();
});

t.test('a block with a valid CRC but malformed entries fails point reads and scans as corruption', (t) => {
  const dir = tempDir(t, 'lsm-block-malformed');
  const store = LsmStore.open(dir, { fsync: false });
  for (let i = 0; i < 500; i++) store.put(Uint8Array.of(0, 1, i >> 8, i & 0xff), new Uint8Array(30).fill(i & 0xff));
  store.freeze();
  store.flushAll();
  const [name] = store.liveSegments();
  store.close();
  const file = path.join(dir, name!);
  const reader = new SegmentReader(file, 1, new BlockCache(0));
  const { offset, sizeBytes } = reader.blockExtent(0);
  reader.unref();
  const bytes = fs.readFileSync(file);
  t.equal(bytes[offset], 0, 'the first entry shares nothing');
  bytes[offset] = 1; // a shared prefix on the first entry, then a CRC that matches
  bytes.writeUInt32LE(crc32(bytes.subarray(offset, offset + sizeBytes)), offset + sizeBytes);
  fs.writeFileSync(file, bytes);
  for (const read of ['get', 'scan'] as const) {
    const s = LsmStore.open(dir, { segments: [name!] });
    let error: unknown;
    try {
      if (read === 'get') s.get(Uint8Array.of(0, 1, 0, 3));
      else for (const _ of s.scan());
    } catch (e) {
      error = e;
    }
    t.ok(error instanceof CorruptSegmentError, `${read} throws CorruptSegmentError`);
    t.match((error as Error | undefined)?.message, /block at offset 0 is malformed: shared prefix 1 > previous key/, `${read}: the message says why`);
    s.close();
  }
  t.end();
});

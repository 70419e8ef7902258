/**
 * Model-based tests of LsmStore against a plain Map (sorted for scans): seeded random
 * sequences of puts, gets, deletes, scans, freezes, flushes, compaction steps and
 * reopen-from-segments. A failure prints the seed and the op index.
 */
import t, { type Test } from 'tap';
import fs from 'node:fs';
import path from 'node:path';
import { LsmStore, pickMerge, crc32, crc32Portable } from '../../src/state/lsm/index.js';
import { fromHex, randomInt, seededRandom, tempDir, toHex } from './helpers.js';

type Model = Map<string, string>; // hex key -> hex value

function randomKey(rand: () => number): Uint8Array {
  // Few distinct bytes so keys share prefixes and collide often.
  const len = randomInt(rand, 1, 7);
  const key = new Uint8Array(len);
  for (let i = 0; i < len; i++) key[i] = [0x00, 0x01, 0x7f, 0x80, 0xff][randomInt(rand, 0, 5)]!;
  return key;
}

function randomValue(rand: () => number): Uint8Array {
  const len = rand() < 0.05 ? randomInt(rand, 500, 3000) : randomInt(rand, 0, 80);
  const v = new Uint8Array(len);
  for (let i = 0; i < len; i++) v[i] = randomInt(rand, 0, 256);
  return v;
}

function modelScan(model: Model, start?: string, end?: string): string[] {
  return [...model.keys()]
    .filter((k) => (start === undefined || k >= start) && (end === undefined || k < end))
    .sort()
    .map((k) => `${k}=${model.get(k)}`);
}

function storeScan(store: LsmStore, start?: Uint8Array, end?: Uint8Array): string[] {
  return [...store.scan(start, end)].map(([k, v]) => `${toHex(k)}=${toHex(v)}`);
}

interface Ctx {
  store: LsmStore;
  model: Model;
  rand: () => number;
  dir: string;
  options: Parameters<typeof LsmStore.open>[1];
  /** Flushes and compactions over all reopened stores. */
  work: { flushes: number; compactions: number };
}

function addWork(c: Ctx): void {
  const s = c.store.stats();
  c.work.flushes += s.flushCount;
  c.work.compactions += s.compactionCount;
}

/** One random operation; throws (via assert) on divergence from the model. */
function step(c: Ctx): void {
  const r = c.rand();
  if (r < 0.4) {
    const k = randomKey(c.rand);
    const v = randomValue(c.rand);
    c.store.put(k, v);
    c.model.set(toHex(k), toHex(v));
  } else if (r < 0.55) {
    const k = randomKey(c.rand);
    c.store.delete(k);
    c.model.delete(toHex(k));
  } else if (r < 0.8) {
    const k = randomKey(c.rand);
    const got = c.store.get(k);
    const want = c.model.get(toHex(k));
    if ((got === undefined ? undefined : toHex(got)) !== want) throw new Error(`get ${toHex(k)}: got ${got && toHex(got)}, want ${want}`);
  } else if (r < 0.86) {
    let a: Uint8Array | undefined = randomKey(c.rand);
    let b: Uint8Array | undefined = randomKey(c.rand);
    if (toHex(a) > toHex(b)) [a, b] = [b, a];
    if (c.rand() < 0.2) a = undefined;
    if (c.rand() < 0.2) b = undefined;
    const got = storeScan(c.store, a, b);
    const want = modelScan(c.model, a && toHex(a), b && toHex(b));
    if (got.join() !== want.join()) throw new Error(`scan differs: got ${got.length} entries, want ${want.length}`);
  } else if (r < 0.9) {
    while (c.store.compactStep(randomInt(c.rand, 64, 8192))) if (c.rand() < 0.3) break;
  } else if (r < 0.95) {
    c.store.maintenanceStep(randomInt(c.rand, 64, 8192));
  } else if (r < 0.97) {
    c.store.freeze();
  } else if (r < 0.985) {
    c.store.flushAll();
  } else {
    c.store.freeze();
    c.store.flushAll();
    const segments = c.store.liveSegments();
    addWork(c);
    c.store.close();
    c.store = LsmStore.open(c.dir, { ...c.options, segments });
  }
}

const seeds = [1, 2, 3, 42, 1234, 99991];
for (const seed of seeds) {
  t.test(`store matches a Map model (seed ${seed})`, (t) => {
    const dir = tempDir(t, 'lsm-model');
    const options = { memtableSizeBytes: 4096, blockSizeBytes: 256, blockCacheSizeBytes: 8192, fsync: false };
    const c: Ctx = { store: LsmStore.open(dir, options), model: new Map(), rand: seededRandom(seed), dir, options, work: { flushes: 0, compactions: 0 } };
    const ops = 4000;
    for (let i = 0; i < ops; i++) {
      try {
        step(c);
      } catch (e) {
        t.fail(`seed ${seed}, op ${i}: ${(e as Error).message}`);
        break;
      }
    }
    while (c.store.maintenanceStep(4096));
    t.same(storeScan(c.store), modelScan(c.model), `final full scan (seed ${seed})`);
    addWork(c);
    t.ok(c.work.flushes > 10 && c.work.compactions > 3, `flushes and compactions happened (seed ${seed}): ${JSON.stringify(c.work)}`);
    c.store.close();
    t.end();
  });
}

t.test('a scan stays consistent while compaction replaces the segments it reads', (t) => {
  const dir = tempDir(t, 'lsm-scan');
  const store = LsmStore.open(dir, { memtableSizeBytes: 4096, blockSizeBytes: 256, fsync: false });
  const model: Model = new Map();
  for (let i = 0; i < 3000; i++) {
    const k = Uint8Array.of(i % 7, (i * 31) % 256, i % 3);
    const v = Uint8Array.of(i & 0xff, i >> 8);
    store.put(k, v);
    model.set(toHex(k), toHex(v));
  }
  store.freeze();
  store.flushAll();
  const it = store.scan();
  const seen: string[] = [];
  for (let i = 0; i < 10; i++) {
    const n = it.next();
    if (!n.done) seen.push(`${toHex(n.value[0])}=${toHex(n.value[1])}`);
  }
  let steps = 0;
  while (store.compactStep(1024)) steps++;
  t.ok(steps > 0, 'compaction ran during the scan');
  for (let n = it.next(); !n.done; n = it.next()) seen.push(`${toHex(n.value[0])}=${toHex(n.value[1])}`);
  t.same(seen, modelScan(model));
  store.close();
  t.end();
});

t.test('deleted keys stay deleted after the tombstone is compacted away', (t) => {
  const dir = tempDir(t, 'lsm-tomb');
  const store = LsmStore.open(dir, { memtableSizeBytes: 4096, fsync: false });
  const key = (i: number) => Uint8Array.of(1, i >> 8, i & 0xff);
  for (let i = 0; i < 400; i++) store.put(key(i), new Uint8Array(20).fill(i & 0xff));
  store.freeze();
  store.flushAll();
  for (let i = 0; i < 400; i += 2) store.delete(key(i));
  store.freeze();
  store.flushAll();
  while (store.compactStep(512));
  // Force a full merge: all segments into one, tombstones dropped at the bottom.
  t.ok(store.stats().segmentCount >= 1);
  for (let i = 0; i < 400; i++) t.equal(store.get(key(i)) === undefined, i % 2 === 0, `key ${i}`);
  t.equal([...store.scan()].length, 200);
  store.close();
  t.end();
});

t.test('obsolete segments are deleted unless retainSegment keeps them', (t) => {
  for (const retain of [false, true]) {
    const dir = tempDir(t, 'lsm-retain');
    const retained: string[] = [];
    const store = LsmStore.open(dir, {
      memtableSizeBytes: 4096,
      fsync: false,
      retainSegment: (name) => (retained.push(name), retain),
    });
    for (let i = 0; i < 2000; i++) store.put(Uint8Array.of(i >> 8, i & 0xff), new Uint8Array(30));
    store.freeze();
    store.flushAll();
    const before = store.liveSegments();
    while (store.compactStep());
    const live = store.liveSegments();
    const files = fs.readdirSync(dir).filter((f) => f.endsWith('.seg')).sort();
    t.ok(retained.length > 0, 'compaction retired segments');
    for (const name of retained) t.ok(before.includes(name) || !live.includes(name));
    t.same(files, retain ? [...new Set([...retained, ...live])].sort() : [...live].sort(), `retain=${retain}`);
    store.close();
  }
  t.end();
});

t.test('pickMerge: size-tiered rules', (t) => {
  t.equal(pickMerge([]), undefined);
  t.equal(pickMerge([100]), undefined);
  t.same(pickMerge([1000, 10, 10, 10, 10]), { start: 1, end: 5 }, 'four similar newest segments merge');
  t.same(pickMerge([100, 60, 50]), { start: 0, end: 3 }, 'space amplification merges all');
  t.equal(pickMerge([1000, 100]), undefined, 'a small newer segment waits');
  t.end();
});

t.test('options are validated with the option name and value', (t) => {
  const dir = tempDir(t, 'lsm-opts');
  t.throws(() => LsmStore.open(dir, { memtableSizeBytes: 100 }), /memtableSizeBytes.*got 100/);
  t.throws(() => LsmStore.open(dir, { blockSizeBytes: 1.5 }), /blockSizeBytes.*got 1\.5/);
  t.throws(() => LsmStore.open(dir, { segments: ['../x.seg'] }), /segments/);
  t.end();
});

t.test('crc32 native and portable agree', (t) => {
  const data = new Uint8Array(1000).map((_, i) => (i * 7) & 0xff);
  t.equal(crc32(data), crc32Portable(data));
  t.equal(crc32(Buffer.from('123456789')), 0xcbf43926, 'check value of CRC-32/ISO-HDLC');
  t.end();
});

t.test('restore from liveSegments after close gives the same content', (t) => {
  const dir = tempDir(t, 'lsm-restore');
  const store = LsmStore.open(dir, { memtableSizeBytes: 65536, fsync: true });
  for (let i = 0; i < 5000; i++) store.put(Uint8Array.of(i >> 8, i & 0xff, 9), fromHex((i * 2654435761).toString(16).padStart(8, '0').slice(0, 8)));
  store.freeze();
  store.flushAll();
  const segments = store.liveSegments();
  const before = storeScan(store);
  store.close();
  t.ok(segments.every((s) => fs.existsSync(path.join(dir, s))));
  const again = LsmStore.open(dir, { segments });
  t.same(storeScan(again), before);
  again.put(Uint8Array.of(0), Uint8Array.of(1));
  again.freeze();
  again.flushAll();
  t.notOk(segments.includes(again.liveSegments().at(-1)!), 'new segment names do not reuse old ones');
  again.close();
  t.end();
});

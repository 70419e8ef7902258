/**
 * Model-based tests of the memtable's hash index and in-place overwrites against a plain
 * Map (sorted for scans), seeded:
 * - HashIndex with a deliberately poor hash (long probe chains, growth) against a Map;
 * - Memtable puts, overwrites from one reused scratch buffer (mutated right after each
 *   call), tombstones and gets, with keys that share prefixes, hold 0x00 bytes and are
 *   shorter or longer than the skip list's 6-byte abbreviation; every cursor walk is the
 *   model in byte order;
 * - LsmStore overwrites mixed with puts, deletes, maintenance and snapshots begun
 *   mid-stream: each captured snapshot, restored into a fresh store, holds exactly the
 *   model as it was when the snapshot began, although the same keys were overwritten in
 *   place (same value length) afterwards.
 * Replay one seed: SLUICE_SEED=<seed> npx tap dist/test/state/lsm-overwrite-model.test.js
 */
import path from 'node:path';
import t from 'tap';
import { hashBytes, LsmStore } from '../../src/state/lsm/index.js';
import { HashIndex } from '../../src/state/lsm/hash-index.js';
import { Memtable } from '../../src/state/lsm/memtable.js';
import type { StoreSnapshot } from '../../src/state/lsm/store.js';
import { testSeed } from '../helpers/random.js';
import { randomInt, seededRandom, tempDir, toHex } from './helpers.js';

type Model = Map<string, string>; // hex key -> hex value

const seeds = [testSeed(7), 11, 2026];

function randomKey(rand: () => number): Uint8Array {
  // Few distinct bytes and lengths around the 6-byte abbreviation: shared prefixes, ties.
  const length = randomInt(rand, 0, 10);
  const key = new Uint8Array(length);
  for (let i = 0; i < length; i++) key[i] = [0x00, 0x01, 0x80, 0xff][randomInt(rand, 0, 4)]!;
  return key;
}

/** Values of 1 to 3 bytes: overwrites often keep the length (in place) and sometimes not. */
function randomValue(rand: () => number, scratch: Uint8Array[]): Uint8Array {
  const length = randomInt(rand, 1, 4);
  const v = (scratch[length] ??= new Uint8Array(length));
  for (let i = 0; i < length; i++) v[i] = randomInt(rand, 0, 256);
  return v;
}

function sortedModel(model: Model): string[] {
  return [...model.keys()].sort().map((k) => `${k}=${model.get(k)}`);
}

t.test('HashIndex finds exactly what was added, through collisions and growth', (t) => {
  for (const seed of seeds) {
    const rand = seededRandom(seed);
    const index = new HashIndex<{ key: Uint8Array; n: number }>();
    const model = new Map<string, number>();
    const poorHash = (k: Uint8Array): number => (k.length * 7 + (k[0] ?? 0)) & 15;
    for (let i = 0; i < 3000; i++) {
      const key = randomKey(rand);
      const hex = toHex(key);
      const found = index.get(key, poorHash(key));
      if (found?.n !== model.get(hex)) {
        t.fail(`seed ${seed}, op ${i}: ${hex} found ${found?.n}, want ${model.get(hex)}`);
        break;
      }
      if (found === undefined && rand() < 0.7) {
        index.add({ key: key.slice(), n: i }, poorHash(key));
        model.set(hex, i);
      }
    }
    t.equal(index.count, model.size, `seed ${seed}: ${model.size} keys`);
  }
  t.end();
});

t.test('Memtable with overwrites from a reused buffer matches a Map, in point reads and in order', (t) => {
  for (const seed of seeds) {
    const rand = seededRandom(seed);
    const memtable = new Memtable();
    const model: Model = new Map();
    const scratch: Uint8Array[] = [];
    let failed = false;
    for (let i = 0; i < 6000 && !failed; i++) {
      const key = randomKey(rand);
      const hex = toHex(key);
      const r = rand();
      if (r < 0.35) {
        const v = randomValue(rand, scratch);
        memtable.overwrite(key, v, hashBytes(key));
        model.set(hex, toHex(v));
        v.fill(0xee); // the caller reuses its buffer at once
      } else if (r < 0.5) {
        const v = randomValue(rand, []);
        memtable.put(key, v);
        model.set(hex, toHex(v));
      } else if (r < 0.6) {
        memtable.put(key, null);
        model.set(hex, 'tombstone');
      } else {
        const got = memtable.get(key);
        const text = got === undefined ? undefined : got === null ? 'tombstone' : toHex(got);
        if (text !== model.get(hex)) {
          t.fail(`seed ${seed}, op ${i}: get ${hex} = ${text}, want ${model.get(hex)}`);
          failed = true;
        }
      }
      if (i % 500 === 499) {
        const walk: string[] = [];
        for (const c = memtable.cursor(); c.valid(); c.next()) walk.push(`${toHex(c.key())}=${c.value() === null ? 'tombstone' : toHex(c.value()!)}`);
        if (walk.join() !== sortedModel(model).join()) {
          t.fail(`seed ${seed}, op ${i}: cursor walk differs from the model (${walk.length} vs ${model.size} entries)`);
          failed = true;
        }
      }
    }
    t.equal(memtable.entryCount, model.size, `seed ${seed}: entry count`);
  }
  t.end();
});

interface Pending {
  snap: StoreSnapshot;
  expected: Model;
}

t.test('snapshots hold the state as of their start although the keys are overwritten in place after', (t) => {
  for (const seed of seeds) {
    const dir = tempDir(t, 'lsm-overwrite');
    const rand = seededRandom(seed);
    const options = { memtableSizeBytes: 4096, blockSizeBytes: 256, fsync: false };
    const store = LsmStore.open(path.join(dir, 'live'), options);
    const model: Model = new Map();
    const scratch: Uint8Array[] = [];
    const pending: Pending[] = [];
    let restores = 0;
    let failed = false;
    for (let i = 0; i < 5000 && !failed; i++) {
      // Few keys, so the same keys are overwritten again and again across snapshots.
      const key = Uint8Array.of(randomInt(rand, 0, 4), randomInt(rand, 0, 50));
      const hex = toHex(key);
      const r = rand();
      if (r < 0.5) {
        const v = randomValue(rand, scratch);
        store.overwrite(key, v, hashBytes(key));
        model.set(hex, toHex(v));
        v.fill(0xee);
      } else if (r < 0.58) {
        const v = randomValue(rand, []).slice();
        store.put(key, v);
        model.set(hex, toHex(v));
      } else if (r < 0.63) {
        store.delete(key);
        model.delete(hex);
      } else if (r < 0.8) {
        const got = store.get(key);
        if ((got === undefined ? undefined : toHex(got)) !== model.get(hex)) {
          t.fail(`seed ${seed}, op ${i}: get ${hex} = ${got && toHex(got)}, want ${model.get(hex)}`);
          failed = true;
        }
      } else if (r < 0.83 && pending.length < 3) {
        pending.push({ snap: store.beginSnapshot(), expected: new Map(model) });
      } else if (r < 0.93 && pending.length > 0) {
        const p = pending[0]!;
        const captured = p.snap.step(randomInt(rand, 64, 4096));
        if (captured === undefined) continue;
        const restored = LsmStore.restore(path.join(dir, `restored-${restores++}`), captured.map((s) => path.join(store.dir, s.name)), options).store;
        const got = [...restored.scan()].map(([k, v]) => `${toHex(k)}=${toHex(v)}`);
        restored.close();
        if (got.join() !== sortedModel(p.expected).join()) {
          t.fail(`seed ${seed}, op ${i}: restored snapshot differs from the state at its start (${got.length} vs ${p.expected.size} entries)`);
          failed = true;
        }
        p.snap.release();
        pending.shift();
      } else {
        store.maintenanceStep(randomInt(rand, 64, 4096));
      }
    }
    const final = [...store.scan()].map(([k, v]) => `${toHex(k)}=${toHex(v)}`);
    t.same(final, sortedModel(model), `seed ${seed}: final scan`);
    t.ok(restores >= 5, `seed ${seed}: ${restores} snapshots restored and compared`);
    for (const p of pending) p.snap.release();
    store.close();
  }
  t.end();
});

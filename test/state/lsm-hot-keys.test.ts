/**
 * Model-based test of the LSM backend's hot-key path (src/state/lsm-hot-keys.ts): seeded
 * random updates (integers, which are rewritten in place, and other values), reductions,
 * clears and reads of ValueState and ReducingState over string keys (ASCII and not, some
 * given with two different key groups) and a few number keys, against a Map; snapshots
 * freeze the memtable mid-stream (so cached entries go stale) and each one, restored into
 * a fresh backend, holds exactly the model as of its start; tiny memtables make writes
 * freeze on their own too.
 * Replay one seed: SLUICE_SEED=<seed> npx tap dist/test/state/lsm-hot-keys.test.js
 */
import path from 'node:path';
import t from 'tap';
import type { SnapshotFiles, StateKey } from '../../src/state/api.js';
import { decode as decodeCbor } from 'cbor-x';
import { decodeStateValue } from '../../src/state/key-encoding.js';
import { LsmKeyedStateBackend } from '../../src/state/lsm-backend.js';
import { testSeed } from '../helpers/random.js';
import { randomInt, seededRandom, tempDir } from './helpers.js';

const keys: { key: StateKey; group: number }[] = [
  ...['the', 'a', 'word', 'x'.repeat(30), 'ünïcode', 'tab\there', 'w0', 'w1', 'w2', 'w3'].map((key, i) => ({ key, group: i % 8 })),
  // The same string under another key group is another state entry.
  { key: 'the', group: 5 },
  { key: 7, group: 3 },
  { key: 8, group: 3 },
];

type Model = Map<string, unknown>; // "<v|r>|<key index>" -> value

function compare(b: LsmKeyedStateBackend, model: Model, what: string): string | undefined {
  const value = b.getValueState<unknown>('op', { kind: 'value', name: 'v' });
  const sum = b.getReducingState<number>('op', { kind: 'reducing', name: 'r', reduce: (x, y) => x + y });
  for (let k = 0; k < keys.length; k++) {
    b.setCurrentKey(keys[k]!.key, keys[k]!.group);
    const got = JSON.stringify([value.value(), sum.get()]);
    const want = JSON.stringify([model.get(`v|${k}`), model.get(`r|${k}`)]);
    if (got !== want) return `${what}: key ${k} holds ${got}, want ${want}`;
  }
  return undefined;
}

for (const seed of [testSeed(5), 77, 2026]) {
  t.test(`hot-key reads and in-place writes match a Map across freezes and snapshots (seed ${seed})`, (t) => {
    const root = tempDir(t, 'lsm-hot');
    const rand = seededRandom(seed);
    const store = { memtableSizeBytes: 4096, blockSizeBytes: 256, fsync: false };
    const b = new LsmKeyedStateBackend({ dir: path.join(root, 'live'), maxParallelism: 8, store });
    const value = b.getValueState<unknown>('op', { kind: 'value', name: 'v' });
    const sum = b.getReducingState<number>('op', { kind: 'reducing', name: 'r', reduce: (x, y) => x + y });
    const model: Model = new Map();
    const pending: { job: ReturnType<LsmKeyedStateBackend['snapshot']>; expected: Model }[] = [];
    let restored = 0;
    let failure: string | undefined;
    for (let i = 0; i < 6000 && failure === undefined; i++) {
      const k = randomInt(rand, 0, keys.length);
      b.setCurrentKey(keys[k]!.key, keys[k]!.group);
      const r = rand();
      if (r < 0.35) {
        // Integers of every encoded length, so in-place writes and length changes mix.
        const n = [randomInt(rand, 0, 24), randomInt(rand, 0, 300), randomInt(rand, -70000, 70000), 2 ** 33][randomInt(rand, 0, 4)]!;
        value.update(n);
        model.set(`v|${k}`, n);
      } else if (r < 0.42) {
        value.update(`text-${i}`);
        model.set(`v|${k}`, `text-${i}`);
      } else if (r < 0.47) {
        value.clear();
        model.delete(`v|${k}`);
      } else if (r < 0.65) {
        const n = randomInt(rand, -5, 500);
        sum.add(n);
        model.set(`r|${k}`, ((model.get(`r|${k}`) as number | undefined) ?? 0) + n);
      } else if (r < 0.68) {
        sum.clear();
        model.delete(`r|${k}`);
      } else if (r < 0.9) {
        const got = JSON.stringify([value.value(), sum.get()]);
        const want = JSON.stringify([model.get(`v|${k}`), model.get(`r|${k}`)]);
        if (got !== want) failure = `op ${i}: key ${k} reads ${got}, want ${want}`;
      } else if (r < 0.93 && pending.length < 2) {
        pending.push({ job: b.snapshot(i), expected: new Map(model) });
      } else if (pending.length > 0) {
        const files: SnapshotFiles | undefined = pending[0]!.job.step();
        if (files === undefined || files.kind !== 'lsm') continue;
        const copy = new LsmKeyedStateBackend({
          dir: path.join(root, `restored-${restored++}`),
          maxParallelism: 8,
          store,
          restore: { kind: 'lsm', segments: files.segments.map((s) => ({ path: s.localPath })) },
        });
        failure = compare(copy, pending[0]!.expected, `op ${i}, snapshot restored`);
        void copy.close();
        pending.shift()!.job.release();
      } else {
        b.maintenanceStep();
      }
    }
    if (failure !== undefined) t.fail(`seed ${seed}, ${failure}`);
    t.equal(compare(b, model, 'final'), undefined, `seed ${seed}: final state`);
    t.ok(restored >= 5, `seed ${seed}: ${restored} snapshots restored and compared`);
    t.ok(b.stats().flushCount > 5, `seed ${seed}: memtables froze and flushed (${b.stats().flushCount})`);
    for (const p of pending) p.job.release();
    void b.close();
    t.end();
  });
}

t.test('deferred integers are written back before a scan reads the memtable, and before a freeze', (t) => {
  const root = tempDir(t, 'lsm-hot-scan');
  const b = new LsmKeyedStateBackend({ dir: path.join(root, 'live'), maxParallelism: 8, store: { memtableSizeBytes: 1 << 20, fsync: false } });
  const count = b.getValueState<number>('op', { kind: 'value', name: 'count' });
  const words = ['alpha', 'beta', 'gamma'];
  const scanned = (): number[] =>
    [...b.store.scan()].map(([, v]) => decodeCbor(decodeStateValue(v).payload) as number).sort((x, y) => x - y);
  // Counts 1..5 (one stored byte each): after the first write, every update is deferred.
  for (let n = 1; n <= 5; n++) {
    for (const [i, w] of words.entries()) {
      b.setCurrentKey(w, i);
      count.update(n * (i + 1));
    }
  }
  t.same(scanned(), [5, 10, 15], 'a scan sees the newest counts');
  for (const [i, w] of words.entries()) {
    b.setCurrentKey(w, i);
    count.update(count.value()! + 1);
  }
  b.store.freeze();
  t.same(scanned(), [6, 11, 16], 'the frozen memtable holds the newest counts');
  for (const [i, w] of words.entries()) {
    b.setCurrentKey(w, i);
    t.equal(count.value(), 5 * (i + 1) + 1, `${w} reads its count after the freeze`);
  }
  void b.close();
  t.end();
});

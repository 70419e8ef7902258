/**
 * Model-based test of keyed state snapshots, for both backends: seeded random writes on
 * all five state types across keys and key groups (with and without TTL, on a fake
 * clock), snapshots taken at random points while writes, maintenance and compaction go
 * on, up to three pending at once, steps interleaved, files "uploaded" (copied to a
 * checkpoint storage directory, incrementally: a segment with a shared name is not copied
 * again) some time after the snapshot completed, then released. Every snapshot is
 * restored into a fresh backend and compared, state by state, with a deep copy of the
 * reference taken when the snapshot was started. Sometimes the run continues on the
 * restored backend, so later snapshots are incremental across a restore.
 * Replay one seed: SLUICE_SEED=<seed> npx tap dist/test/state/snapshot-model.test.js
 */
import fs from 'node:fs';
import path from 'node:path';
import t, { type Test } from 'tap';
import { Encoder } from 'cbor-x';
import type {
  Clock,
  KeyedStateBackend,
  SnapshotFiles,
  StateKey,
  StateRestore,
  StateSnapshotJob,
  StateTtlConfig,
} from '../../src/state/api.js';
import { HeapKeyedStateBackend } from '../../src/state/heap-backend.js';
import { LsmKeyedStateBackend } from '../../src/state/lsm-backend.js';
import { testSeed } from '../helpers/random.js';
import { randomInt, seededRandom, tempDir } from './helpers.js';

class FakeClock implements Clock {
  constructor(public now: number) {}
  nowMs(): number {
    return this.now;
  }
}

interface Cell {
  v: unknown;
  at: number;
}

/** Reference state: cell id -> value and refresh time; TTL as the backends apply it. */
class Model {
  constructor(
    readonly cells: Map<string, Cell>,
    readonly ttl: StateTtlConfig | undefined,
  ) {}
  get(id: string, now: number): unknown {
    const c = this.cells.get(id);
    if (c === undefined) return undefined;
    if (this.ttl !== undefined && now - c.at >= this.ttl.ttlMs) {
      this.cells.delete(id);
      return undefined;
    }
    if (this.ttl?.updateType === 'OnReadAndWrite') c.at = now;
    return c.v;
  }
  set(id: string, v: unknown, now: number): void {
    this.cells.set(id, { v, at: now });
  }
  delete(id: string): void {
    this.cells.delete(id);
  }
  copy(): Model {
    return new Model(new Map([...this.cells].map(([id, c]) => [id, { v: structuredClone(c.v), at: c.at }])), this.ttl);
  }
}

const keys: StateKey[] = [
  1, 2, 'a', 'b', 0n, [1, 'x'], true, Uint8Array.of(0, 1),
  // Strings spelled as other keys' identities ('n1' is the number 1's): the heap backend
  // keeps string keys apart from the others, and they must not meet.
  'n1', 't', 'sa', 'b0',
  ...Array.from({ length: 22 }, (_, i) => (i % 2 === 0 ? i * 1000 : `user-${i}`)),
];
const keyGroupOf = (i: number) => (i * 37) % 128;
const mapKeys: (number | string)[] = [1, 2, 300, 'k', 'kk'];
const avg = {
  createAccumulator: () => ({ sum: 0, count: 0 }),
  add: (v: number, a: { sum: number; count: number }) => ({ sum: a.sum + v, count: a.count + 1 }),
  getResult: (a: { sum: number; count: number }) => a.sum / a.count,
};
const cbor = new Encoder({ useRecords: false });
const byCbor = (a: unknown, b: unknown) => Buffer.compare(cbor.encode(a), cbor.encode(b));

function openStates(b: KeyedStateBackend, ttl: StateTtlConfig | undefined) {
  const w = ttl === undefined ? {} : { ttl };
  return {
    value: b.getValueState<{ n: number }>('op1', { kind: 'value', name: 'v', ...w }),
    list: b.getListState<string>('op1', { kind: 'list', name: 'l', ...w }),
    map: b.getMapState<number | string, number>('op2', { kind: 'map', name: 'm', ...w }),
    reducing: b.getReducingState<number>('op2', { kind: 'reducing', name: 'r', reduce: (x, y) => x + y, ...w }),
    aggregating: b.getAggregatingState('op2', { kind: 'aggregating', name: 'a', aggregate: avg, ...w }),
  };
}
type States = ReturnType<typeof openStates>;

/** One random write to the backend and the model. */
function randomWrite(rand: () => number, b: KeyedStateBackend, s: States, m: Model, now: number): void {
  const k = randomInt(rand, 0, keys.length);
  b.setCurrentKey(keys[k]!, keyGroupOf(k));
  const n = randomInt(rand, -50, 50);
  const r = rand();
  if (r < 0.15) (s.value.update({ n }), m.set(`v|${k}`, { n }, now));
  else if (r < 0.2) (s.value.clear(), m.delete(`v|${k}`));
  else if (r < 0.35) {
    const list = [...((m.get(`l|${k}`, now) as string[] | undefined) ?? []), `e${n}`];
    s.list.add(`e${n}`);
    m.set(`l|${k}`, list, now);
  } else if (r < 0.38) (s.list.clear(), m.delete(`l|${k}`));
  else if (r < 0.6) {
    const mk = mapKeys[randomInt(rand, 0, mapKeys.length)]!;
    if (rand() < 0.75) (s.map.put(mk, n), m.set(`m|${k}|${mk}`, n, now));
    else (s.map.remove(mk), m.delete(`m|${k}|${mk}`));
  } else if (r < 0.62) {
    s.map.clear();
    for (const mk of mapKeys) m.delete(`m|${k}|${mk}`);
  } else if (r < 0.8) {
    const cur = m.get(`r|${k}`, now) as number | undefined;
    s.reducing.add(n);
    m.set(`r|${k}`, cur === undefined ? n : cur + n, now);
  } else if (r < 0.97) {
    const acc = (m.get(`a|${k}`, now) as { sum: number; count: number } | undefined) ?? avg.createAccumulator();
    s.aggregating.add(n);
    m.set(`a|${k}`, avg.add(n, acc), now);
  } else (s.aggregating.clear(), m.delete(`a|${k}`));
}

/** Every state of every key of `b` equals the model's (reads refresh both alike). */
function compareAll(b: KeyedStateBackend, s: States, m: Model, now: number): void {
  const check = (what: string, got: unknown, want: unknown) => {
    if (JSON.stringify(got) !== JSON.stringify(want)) throw new Error(`${what}: got ${JSON.stringify(got)}, want ${JSON.stringify(want)}`);
  };
  for (let k = 0; k < keys.length; k++) {
    b.setCurrentKey(keys[k]!, keyGroupOf(k));
    check(`value of key ${k}`, s.value.value(), m.get(`v|${k}`, now));
    check(`list of key ${k}`, s.list.get(), m.get(`l|${k}`, now) ?? []);
    const want = mapKeys.filter((mk) => m.get(`m|${k}|${mk}`, now) !== undefined).sort(byCbor);
    const got = [...s.map.entries()].sort((x, y) => byCbor(x[0], y[0]));
    check(`map of key ${k}`, got, want.map((mk) => [mk, m.cells.get(`m|${k}|${mk}`)!.v]));
    check(`reducing of key ${k}`, s.reducing.get(), m.get(`r|${k}`, now));
    const acc = m.get(`a|${k}`, now) as { sum: number; count: number } | undefined;
    check(`aggregating of key ${k}`, s.aggregating.get(), acc === undefined ? undefined : avg.getResult(acc));
  }
}

/**
 * The runtime's part, simulated: copies new files into checkpoint storage (`storage`),
 * skips segments that already are there (sharedName), and returns the restore handle.
 */
class Storage {
  private next = 1;
  constructor(readonly dir: string) {}
  upload(files: SnapshotFiles): StateRestore {
    if (files.kind === 'heap') {
      const to = path.join(this.dir, `heap-${this.next++}.snap`);
      fs.copyFileSync(files.localPath, to);
      return { kind: 'heap', path: to };
    }
    return {
      kind: 'lsm',
      segments: files.segments.map((seg) => {
        if (fs.statSync(seg.localPath).size !== seg.sizeBytes) throw new Error(`${seg.localPath}: size differs from the reported one`);
        if (seg.sharedName !== undefined) {
          const p = path.join(this.dir, seg.sharedName);
          if (!fs.existsSync(p)) throw new Error(`segment reported as shared ${seg.sharedName} is not in storage`);
          return { path: p, sharedName: seg.sharedName };
        }
        const sharedName = `seg-${this.next++}`;
        fs.copyFileSync(seg.localPath, path.join(this.dir, sharedName));
        return { path: path.join(this.dir, sharedName), sharedName };
      }),
    };
  }
}

interface Pending {
  chk: number;
  job: StateSnapshotJob;
  expected: Model;
  now: number;
  files: SnapshotFiles | undefined;
}

const lsmStore = { memtableSizeBytes: 4096, blockSizeBytes: 512, fsync: false, compactionStepBytes: 2048 };

interface RunStats {
  snapshots: number;
  restores: number;
  sharedReported: number;
  abandoned: number;
}

function run(t: Test, kind: 'lsm' | 'heap', seed: number, ttl: StateTtlConfig | undefined, opCount: number): RunStats {
  const root = tempDir(t, `snap-${kind}`);
  const storage = new Storage(fs.mkdtempSync(path.join(root, 'storage-')));
  const rand = seededRandom(seed);
  let dirs = 0;
  const open = (clock: FakeClock, restore?: StateRestore): KeyedStateBackend => {
    const dir = path.join(root, `backend-${dirs++}`);
    return kind === 'lsm'
      ? new LsmKeyedStateBackend({ dir, clock, maxParallelism: 128, store: lsmStore, restore })
      : new HeapKeyedStateBackend({ clock, scratchDir: dir, fsync: false, restore });
  };
  let clock = new FakeClock(1_000_000);
  let backend = open(clock);
  let states = openStates(backend, ttl);
  let model = new Model(new Map(), ttl);
  let pending: Pending[] = [];
  let chk = 0;
  const stats: RunStats = { snapshots: 0, restores: 0, sharedReported: 0, abandoned: 0 };

  const finish = (p: Pending): void => {
    const restore = storage.upload(p.files!);
    if (p.files!.kind === 'lsm') stats.sharedReported += p.files!.segments.filter((x) => x.sharedName !== undefined).length;
    p.job.release();
    p.job.release(); // idempotent
    const rClock = new FakeClock(p.now);
    const restored = open(rClock, restore);
    const rStates = openStates(restored, ttl);
    compareAll(restored, rStates, p.expected, p.now);
    stats.restores++;
    if (rand() < 0.25) {
      // Fail over to the restored backend: give up pending snapshots of the old one.
      for (const q of pending) q.job.release();
      stats.abandoned += pending.length;
      pending = [];
      void backend.close();
      backend = restored;
      states = rStates;
      model = p.expected;
      clock = rClock;
    } else {
      void restored.close();
    }
  };

  for (let i = 0; i < opCount; i++) {
    const r = rand();
    if (r < 0.7) randomWrite(rand, backend, states, model, clock.now);
    else if (r < 0.78) clock.now += randomInt(rand, 0, 12);
    else if (r < 0.86) backend.maintenanceStep?.();
    else if (r < 0.88 && pending.length < 3) {
      pending.push({ chk: ++chk, job: backend.snapshot(chk), expected: model.copy(), now: clock.now, files: undefined });
      stats.snapshots++;
    } else if (pending.length > 0) {
      const p = pending[randomInt(rand, 0, pending.length)]!;
      if (p.files === undefined) p.files = p.job.step();
      else if (rand() < 0.3) {
        pending = pending.filter((q) => q !== p);
        finish(p);
      } else if (rand() < 0.02) {
        pending = pending.filter((q) => q !== p);
        p.job.release();
        stats.abandoned++;
      }
    }
  }
  for (const p of pending.splice(0)) {
    let guard = 0;
    while ((p.files = p.job.step()) === undefined) if (++guard > 10_000) throw new Error(`snapshot ${p.chk} never completes`);
    finish(p);
  }
  // The live backend itself still matches the model.
  compareAll(backend, states, model, clock.now);
  void backend.close();
  return stats;
}

const ttls: (StateTtlConfig | undefined)[] = [
  undefined,
  { ttlMs: 60, updateType: 'OnCreateAndWrite' },
  { ttlMs: 60, updateType: 'OnReadAndWrite' },
];
const baseSeed = testSeed(1000);
for (const kind of ['lsm', 'heap'] as const) {
  for (const [ti, ttl] of ttls.entries()) {
    t.test(`${kind}: restored snapshots equal the reference at snapshot time (ttl ${ttl?.updateType ?? 'none'})`, (t) => {
      const seeds = process.env.SLUICE_SEED === undefined ? [baseSeed + ti * 10, baseSeed + ti * 10 + 1] : [baseSeed];
      for (const seed of seeds) {
        try {
          const s = run(t, kind, seed, ttl, kind === 'lsm' ? 3000 : 2000);
          t.ok(s.snapshots >= 10 && s.restores >= 5, `seed ${seed}: ${s.snapshots} snapshots, ${s.restores} restored and compared, ${s.abandoned} abandoned`);
          if (kind === 'lsm') t.ok(s.sharedReported > 0, `seed ${seed}: ${s.sharedReported} segments reported as already in storage`);
        } catch (e) {
          t.fail(`seed ${seed} (replay: SLUICE_SEED=${seed}): ${(e as Error).stack}`);
        }
      }
      t.end();
    });
  }
}

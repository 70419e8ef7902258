/**
 * Timers through snapshots, restores and rescaling, for both backends: seeded random timer
 * adds, deletes and polls (both domains, keys of every kind, negative timestamps) next to
 * a value state, in `pOld` subtasks that each own one key-group range (max parallelism
 * 128), with a 4 KiB LSM memtable so timers cross flushes and compactions. Then:
 *   1. checkpoint 1 of every subtask, files copied into "checkpoint storage";
 *   2. each subtask restored from it at the same parallelism (kind 'lsm' / 'heap'), its
 *      queues compared with the reference, more timer changes on the restored backends;
 *   3. checkpoint 2, incremental for the LSM (segments kept from the restore are reported
 *      with their shared name and not copied again), restored again and compared;
 *   4. checkpoint 2 rescaled to `pNew` subtasks ('lsm-rescale' clipping, 'heap-rescale'):
 *      each new queue holds exactly the timers of its key groups, the union is every
 *      timer once; polls, adds and deletes go on, and a drain returns the reference order.
 * Also: heap timers that no operator asked for after a restore survive the next snapshot.
 * Replay one seed: SLUICE_SEED=<seed> npx tap dist/test/state/timers-rescale.test.js
 */
import fs from 'node:fs';
import path from 'node:path';
import t, { type Test } from 'tap';
import type { KeyedStateBackend, SnapshotFiles, StateKey, StateRestore, TimeDomain, TimerQueue, ValueState } from '../../src/state/api.js';
import { HeapKeyedStateBackend } from '../../src/state/heap-backend.js';
import { assignToKeyGroup, keyGroupRangeForSubtask, type KeyGroupRange } from '../../src/state/key-group.js';
import { LsmKeyedStateBackend } from '../../src/state/lsm-backend.js';
import { testSeed } from '../helpers/random.js';
import { randomInt, seededRandom, tempDir } from './helpers.js';
import { TimerKeys, TimerReference, type BackendKind } from './timer-reference.js';

const maxParallelism = 128;
const keys: StateKey[] = Array.from({ length: 400 }, (_, i) =>
  i % 5 === 0 ? i * 7 : i % 5 === 1 ? `user-${i}` : i % 5 === 2 ? [i, 'x'] : i % 5 === 3 ? BigInt(-i) : Uint8Array.of(i & 0xff, i >> 8, 0),
);
const keyGroups = keys.map((k) => assignToKeyGroup(k, maxParallelism));
const timerKeys = new TimerKeys(keys, keyGroups);
const domains: TimeDomain[] = ['event', 'processing'];
const lsmStore = { memtableSizeBytes: 4096, blockSizeBytes: 512, fsync: false, compactionStepBytes: 2048 };
const inRange = (g: number, r: KeyGroupRange) => g >= r.start && g <= r.end;

/** One subtask: its backend, both queues, a value state, and the references of its keys. */
interface Subtask {
  backend: KeyedStateBackend;
  queues: TimerQueue[];
  value: ValueState<number>;
  range: KeyGroupRange;
  owned: number[];
  refs: TimerReference[];
  values: Map<number, number>;
}

/** Checkpoint storage, as in snapshot-model.test.ts: segments with a shared name are not copied again. */
class Storage {
  private next = 1;
  copied = 0;
  sharedSkipped = 0;
  constructor(readonly dir: string) {
    fs.mkdirSync(dir, { recursive: true });
  }
  upload(files: SnapshotFiles): StateRestore {
    if (files.kind === 'heap') {
      const to = path.join(this.dir, `heap-${this.next++}.snap`);
      fs.copyFileSync(files.localPath, to);
      return { kind: 'heap', path: to };
    }
    const segments = files.segments.map((seg) => {
      if (seg.sharedName !== undefined) {
        this.sharedSkipped++;
        return { path: path.join(this.dir, seg.sharedName), sharedName: seg.sharedName };
      }
      const sharedName = `seg-${this.next++}`;
      fs.copyFileSync(seg.localPath, path.join(this.dir, sharedName));
      this.copied++;
      return { path: path.join(this.dir, sharedName), sharedName };
    });
    return { kind: 'lsm', segments };
  }
}

function checkpoint(s: Subtask, chk: number, storage: Storage): StateRestore {
  const job = s.backend.snapshot(chk);
  let files: SnapshotFiles | undefined;
  for (let guard = 0; (files = job.step()) === undefined; guard++) if (guard > 100_000) throw new Error(`snapshot ${chk} never completes`);
  const restore = storage.upload(files);
  job.release();
  return restore;
}

class Run {
  private dirs = 0;
  readonly storage: Storage;
  constructor(
    readonly kind: BackendKind,
    readonly root: string,
    readonly rand: () => number,
    /** LSM timer cache entries per key group. */
    readonly timerCache: number,
  ) {
    this.storage = new Storage(path.join(root, 'storage'));
  }

  /** A subtask over `range`; its references start empty (fill them for a restore). */
  open(range: KeyGroupRange, restore?: StateRestore): Subtask {
    const dir = path.join(this.root, `backend-${this.dirs++}`);
    const backend: KeyedStateBackend =
      this.kind === 'lsm'
        ? new LsmKeyedStateBackend({ dir, maxParallelism, timerCacheEntriesPerKeyGroup: this.timerCache, store: lsmStore, restore })
        : new HeapKeyedStateBackend({ scratchDir: dir, fsync: false, restore });
    return {
      backend,
      queues: domains.map((d) => backend.timers('op', d)),
      value: backend.getValueState<number>('op', { kind: 'value', name: 'v' }),
      range,
      owned: keys.map((_, k) => k).filter((k) => inRange(keyGroups[k]!, range)),
      refs: domains.map(() => new TimerReference(this.kind, timerKeys)),
      values: new Map(),
    };
  }

  /** A new subtask over `range` whose references and values are the given subtasks' within `range`. */
  reopen(range: KeyGroupRange, restore: StateRestore, from: Subtask[]): Subtask {
    const s = this.open(range, restore);
    for (const old of from) {
      old.refs.forEach((ref, d) => ref.timers.filter((x) => inRange(keyGroups[x.k]!, range)).forEach((x) => s.refs[d]!.add(x)));
      for (const [k, v] of old.values) if (inRange(keyGroups[k]!, range)) s.values.set(k, v);
    }
    return s;
  }

  /** `count` random steps on random subtasks; every poll is checked against the references. */
  randomOps(subtasks: Subtask[], count: number): void {
    const rand = this.rand;
    for (let i = 0; i < count; i++) {
      const s = subtasks[randomInt(rand, 0, subtasks.length)]!;
      if (s.owned.length === 0) continue;
      const d = randomInt(rand, 0, domains.length);
      const q = s.queues[d]!;
      const ref = s.refs[d]!;
      const k = s.owned[randomInt(rand, 0, s.owned.length)]!;
      const ts = randomInt(rand, -500, 500);
      const r = rand();
      if (r < 0.5) (q.add(keys[k]!, keyGroups[k]!, ts), ref.add({ k, ts }));
      else if (r < 0.58 && ref.timers.length > 0) {
        const x = ref.timers[randomInt(rand, 0, ref.timers.length)]!;
        (q.delete(keys[x.k]!, keyGroups[x.k]!, x.ts), ref.delete(x));
      } else if (r < 0.62) (q.delete(keys[k]!, keyGroups[k]!, ts), ref.delete({ k, ts }));
      else if (r < 0.7) ref.poll(q, (ref.timers[0]?.ts ?? 0) + randomInt(rand, -2, 3), `step ${i}, ${domains[d]} queue of [${s.range.start}, ${s.range.end}]`);
      else if (r < 0.8) {
        s.backend.setCurrentKey(keys[k]!, keyGroups[k]!);
        s.value.update(i);
        s.values.set(k, i);
      } else s.backend.maintenanceStep?.();
    }
  }
}

/** Both queues and the value state of `s` agree with its references (without polling). */
function compare(s: Subtask, what: string): void {
  s.refs.forEach((ref, d) => ref.check(s.queues[d]!, `${what}: ${domains[d]} queue of [${s.range.start}, ${s.range.end}]`));
  for (const k of s.owned) {
    s.backend.setCurrentKey(keys[k]!, keyGroups[k]!);
    if (s.value.value() !== s.values.get(k)) throw new Error(`${what}: value of key ${k} is ${s.value.value()}, want ${s.values.get(k)}`);
  }
}

interface RunStats {
  timersAtRescale: number;
  sharedSkipped: number;
  drained: number;
}

function run(t: Test, kind: BackendKind, seed: number, pOld: number, pNew: number, timerCache: number): RunStats {
  const r = new Run(kind, tempDir(t, `timers-rescale-${kind}`), seededRandom(seed), timerCache);
  let subtasks = Array.from({ length: pOld }, (_, i) => r.open(keyGroupRangeForSubtask(maxParallelism, pOld, i)));
  r.randomOps(subtasks, 6000);
  // 1-2: checkpoint 1, restored at the same parallelism; the run goes on there.
  subtasks = subtasks.map((s, i) => {
    const restore = checkpoint(s, 1, r.storage);
    void s.backend.close();
    const back = r.reopen(s.range, restore, [s]);
    compare(back, `subtask ${i} restored from checkpoint 1`);
    return back;
  });
  // Few steps, so that compaction leaves some restored segments for checkpoint 2 to share.
  r.randomOps(subtasks, 500);
  // 3: checkpoint 2 (incremental on the LSM), restored and compared.
  const chk2 = subtasks.map((s, i) => {
    const restore = checkpoint(s, 2, r.storage);
    const again = r.reopen(s.range, restore, [s]);
    compare(again, `subtask ${i} restored from checkpoint 2`);
    void again.backend.close();
    return restore;
  });
  const stats: RunStats = { timersAtRescale: 0, sharedSkipped: r.storage.sharedSkipped, drained: 0 };
  for (const s of subtasks) for (const ref of s.refs) stats.timersAtRescale += ref.timers.length;
  // 4: rescale checkpoint 2 to pNew subtasks.
  const fresh = Array.from({ length: pNew }, (_, j) => {
    const range = keyGroupRangeForSubtask(maxParallelism, pNew, j);
    const restore: StateRestore =
      pNew === pOld
        ? chk2[j]!
        : kind === 'lsm'
          ? { kind: 'lsm-rescale', keyGroups: range, sources: chk2.map((x) => ({ segments: (x as StateRestore & { kind: 'lsm' }).segments.map((seg) => ({ path: seg.path })) })) }
          : { kind: 'heap-rescale', keyGroups: range, maxParallelism, paths: chk2.map((x) => (x as StateRestore & { kind: 'heap' }).path) };
    const s = r.reopen(range, restore, subtasks);
    compare(s, `new subtask ${j} of ${pNew}`);
    return s;
  });
  const restoredTotal = fresh.reduce((n, s) => n + s.queues.reduce((m, q) => m + q.size(), 0), 0);
  if (restoredTotal !== stats.timersAtRescale) throw new Error(`new subtasks hold ${restoredTotal} timers, the old ones ${stats.timersAtRescale}`);
  for (const s of subtasks) void s.backend.close();
  r.randomOps(fresh, 3000);
  for (const [j, s] of fresh.entries()) {
    compare(s, `new subtask ${j} after more steps`);
    s.refs.forEach((ref, d) => {
      while (ref.poll(s.queues[d]!, Infinity, `drain of new subtask ${j}`) !== undefined) stats.drained++;
    });
    void s.backend.close();
  }
  return stats;
}

const shapes: [number, number][] = [
  [1, 1],
  [2, 2],
  [2, 3],
  [3, 2],
  [1, 4],
  [4, 1],
  [3, 5],
];
const baseSeed = testSeed(5100);
for (const [ki, kind] of (['heap', 'lsm'] as const).entries()) {
  t.test(`${kind}: timers survive snapshot, restore and rescale, each in the subtask owning its key group`, (t) => {
    for (const [si, [pOld, pNew]] of shapes.entries()) {
      const seed = process.env.SLUICE_SEED === undefined ? baseSeed + ki * 100 + si : baseSeed;
      // LSM: a 4-entry timer cache per key group overflows (about 20 timers a group), 32 rarely.
      const timerCache = si % 2 === 0 ? 4 : 32;
      try {
        const s = run(t, kind, seed, pOld, pNew, timerCache);
        const shared = kind === 'lsm' ? `, ${s.sharedSkipped} segments not uploaded again` : '';
        t.ok(s.timersAtRescale > 1000 && s.drained > 1000 && (kind === 'heap' || s.sharedSkipped > 0), `seed ${seed}, ${pOld} -> ${pNew}${kind === 'lsm' ? `, timer cache ${timerCache}` : ''}: ${s.timersAtRescale} timers rescaled, ${s.drained} drained at the end${shared}`);
      } catch (e) {
        t.fail(`seed ${seed}, ${pOld} -> ${pNew} (replay: SLUICE_SEED=${seed}): ${(e as Error).stack}`);
      }
    }
    t.end();
  });
}

t.test('heap timers no operator asked for after a restore are written again by the next snapshot', (t) => {
  const root = tempDir(t, 'timers-unasked');
  const storage = new Storage(path.join(root, 'storage'));
  const range = { start: 0, end: maxParallelism - 1 };
  const open = (restore?: StateRestore) => new HeapKeyedStateBackend({ scratchDir: path.join(root, 'scratch'), fsync: false, restore });
  const first = open();
  first.timers('op', 'event').add('k', assignToKeyGroup('k', maxParallelism), -5);
  const asSubtask = (backend: KeyedStateBackend) => ({ backend }) as Subtask;
  const chk1 = checkpoint(asSubtask(first), 1, storage);
  const middle = open(chk1);
  middle.timers('op', 'processing').add('p', assignToKeyGroup('p', maxParallelism), 7);
  const chk2 = checkpoint(asSubtask(middle), 2, storage);
  const last = open({ kind: 'heap-rescale', keyGroups: range, maxParallelism, paths: [(chk2 as { path: string }).path] });
  t.same(last.timers('op', 'event').pollDue(0), { key: 'k', keyGroup: assignToKeyGroup('k', maxParallelism), timestampMs: -5 });
  t.same(last.timers('op', 'processing').pollDue(7), { key: 'p', keyGroup: assignToKeyGroup('p', maxParallelism), timestampMs: 7 });
  for (const b of [first, middle, last]) void b.close();
  t.end();
});

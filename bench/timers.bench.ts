/**
 * Timer queue benchmark: registrations and firings per second of `KeyedStateBackend.timers`
 * on the heap backend against the LSM backend, at 10 k and 1 M timers. A measurement,
 * never a test.
 *
 * Workload per round (fresh backend, max parallelism 128, string keys `key-<i>`, timers /
 * 10 keys, 10 timers per key at distinct random timestamps in [0, timers)):
 *   - register: `add` of every timer, in shuffled order;
 *   - re-register: `add` of every timer again (all duplicates, as a window operator
 *     registering its end-of-window timer for each record);
 *   - fire: a watermark rising in 100 steps over [0, timers), `pollDue` until nothing is due
 *     at each step; every timer fires once.
 * The LSM backend runs with the engine's default store options (64 MiB memtable, fsync off)
 * and one `maintenanceStep()` every 1024 calls, timed with them, as the mailbox loop
 * interleaves maintenance with records. Its "index rebuild" column is the first
 * `peekTimestamp()` after reopening the registered timers from their segments (one seek per
 * key group). Key groups are computed before the timing (the engine has them per record).
 * Figures are the median [min-max] of `roundsFor` rounds, after `warmupRoundsFor` untimed ones.
 *
 *   node dist/bench/timers.bench.js   (SLUICEGATE_BENCH_TIMERS=10000,1000000 to choose sizes)
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { pathToFileURL } from 'node:url';
import type { KeyedStateBackend, TimerQueue } from '../src/state/api.js';
import { HeapKeyedStateBackend } from '../src/state/heap-backend.js';
import { assignToKeyGroup } from '../src/state/key-group.js';
import { LsmKeyedStateBackend } from '../src/state/lsm-backend.js';
import { fixed, formatRate, formatSummary, loadAverage, printTable, xorshift32 } from './report.js';

const maxParallelism = 128;
const timersPerKey = 10;
const watermarkSteps = 100;
const maintenanceEveryCalls = 1024;
const sizesDefault = [10_000, 1_000_000];
/** Rounds per size: more for small sizes, where one round is short and noisy. */
const roundsFor = (timers: number): number => (timers <= 100_000 ? 9 : 3);
/** Untimed rounds first (JIT warm-up), where a round is short enough for it to matter. */
const warmupRoundsFor = (timers: number): number => (timers <= 100_000 ? 3 : 0);

interface Workload {
  keys: string[];
  keyGroups: number[];
  /** Timer i is (keys[keyOf[i]], timestamps[i]), in registration order. */
  keyOf: Int32Array;
  timestamps: Float64Array;
}

function makeWorkload(timers: number): Workload {
  const rand = xorshift32(4242);
  const keyCount = timers / timersPerKey;
  const keys = Array.from({ length: keyCount }, (_, i) => `key-${i}`);
  const keyGroups = keys.map((k) => assignToKeyGroup(k, maxParallelism));
  const keyOf = new Int32Array(timers);
  const timestamps = new Float64Array(timers);
  // Distinct timestamps per key: key k gets slots k*10 .. k*10+9 of a shuffled [0, timers).
  const perm = Int32Array.from({ length: timers }, (_, i) => i);
  for (let i = timers - 1; i > 0; i--) {
    const j = Math.floor(rand() * (i + 1));
    [perm[i], perm[j]] = [perm[j]!, perm[i]!];
  }
  const order = Int32Array.from({ length: timers }, (_, i) => i);
  for (let i = timers - 1; i > 0; i--) {
    const j = Math.floor(rand() * (i + 1));
    [order[i], order[j]] = [order[j]!, order[i]!];
  }
  for (let i = 0; i < timers; i++) {
    const slot = order[i]!;
    keyOf[i] = Math.floor(slot / timersPerKey);
    timestamps[i] = perm[slot]!;
  }
  return { keys, keyGroups, keyOf, timestamps };
}

interface RoundResult {
  registerPerS: number;
  reregisterPerS: number;
  firePerS: number;
  /** LSM only: ms of the first peekTimestamp() after a reopen. */
  rebuildMs: number | undefined;
}

type Kind = 'heap' | 'lsm';

function openBackend(kind: Kind, dir: string, segments?: string[]): KeyedStateBackend {
  if (kind === 'heap') return new HeapKeyedStateBackend({ scratchDir: dir, fsync: false });
  return new LsmKeyedStateBackend({ dir, maxParallelism, store: { fsync: false, ...(segments === undefined ? {} : { segments }) } });
}

/** Calls `add` for every timer; returns calls per second. */
function registerAll(backend: KeyedStateBackend, q: TimerQueue, w: Workload): number {
  const start = performance.now();
  for (let i = 0; i < w.keyOf.length; i++) {
    const k = w.keyOf[i]!;
    q.add(w.keys[k]!, w.keyGroups[k]!, w.timestamps[i]!);
    if ((i & (maintenanceEveryCalls - 1)) === 0) backend.maintenanceStep?.();
  }
  return w.keyOf.length / ((performance.now() - start) / 1000);
}

function round(kind: Kind, w: Workload, root: string): RoundResult {
  const dir = fs.mkdtempSync(path.join(root, `${kind}-`));
  let backend = openBackend(kind, dir);
  let q = backend.timers('bench', 'event');
  const n = w.keyOf.length;
  const registerPerS = registerAll(backend, q, w);
  const reregisterPerS = registerAll(backend, q, w);
  if (q.size() !== n) throw new Error(`${kind}: ${q.size()} timers registered, want ${n}`);
  let rebuildMs: number | undefined;
  if (backend instanceof LsmKeyedStateBackend) {
    backend.store.freeze();
    backend.store.flushAll();
    const segments = backend.store.liveSegments();
    backend.store.close();
    backend = openBackend(kind, dir, segments);
    q = backend.timers('bench', 'event');
    const start = performance.now();
    q.peekTimestamp();
    rebuildMs = performance.now() - start;
  }
  let fired = 0;
  let calls = 0;
  const start = performance.now();
  for (let step = 1; step <= watermarkSteps; step++) {
    const watermark = Math.floor((n * step) / watermarkSteps) - 1;
    while (q.pollDue(watermark) !== undefined) {
      fired++;
      if ((++calls & (maintenanceEveryCalls - 1)) === 0) backend.maintenanceStep?.();
    }
  }
  const firePerS = fired / ((performance.now() - start) / 1000);
  if (fired !== n || q.size() !== 0) throw new Error(`${kind}: ${fired} timers fired, ${q.size()} left, want ${n} and 0`);
  void backend.close();
  fs.rmSync(dir, { recursive: true, force: true });
  return { registerPerS, reregisterPerS, firePerS, rebuildMs };
}

/** Runs the rounds and prints one table row per backend and size. */
export async function main(): Promise<void> {
  const sizes = (process.env['SLUICEGATE_BENCH_TIMERS'] ?? sizesDefault.join(',')).split(',').map(Number);
  for (const s of sizes) {
    if (!Number.isSafeInteger(s) || s < 1000 || s % timersPerKey !== 0) throw new RangeError(`SLUICEGATE_BENCH_TIMERS must list multiples of 10 >= 1000, got ${s}`);
  }
  console.log(`Timer bench: ${os.cpus()[0]?.model ?? '?'} x${os.cpus().length}, Node ${process.version}, load before ${loadAverage()}`);
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'sluicegate-timers-bench-'));
  const rows: string[][] = [];
  try {
    for (const timers of sizes) {
      const w = makeWorkload(timers);
      for (const kind of ['heap', 'lsm'] as const) {
        const results: RoundResult[] = [];
        for (let r = 0; r < warmupRoundsFor(timers); r++) round(kind, w, root);
        for (let r = 0; r < roundsFor(timers); r++) results.push(round(kind, w, root));
        const rebuild = results.flatMap((x) => (x.rebuildMs === undefined ? [] : [x.rebuildMs]));
        rows.push([
          kind,
          timers.toLocaleString('en-US'),
          w.keys.length.toLocaleString('en-US'),
          formatSummary(results.map((x) => x.registerPerS), formatRate),
          formatSummary(results.map((x) => x.reregisterPerS), formatRate),
          formatSummary(results.map((x) => x.firePerS), formatRate),
          rebuild.length === 0 ? '-' : formatSummary(rebuild, fixed(1)),
        ]);
      }
    }
  } finally {
    fs.rmSync(root, { recursive: true, force: true });
  }
  printTable(
    'Timer queues: calls per second, median [min-max] of rounds',
    ['backend', 'timers', 'keys', 'register', 're-register (duplicates)', 'fire (pollDue)', 'index rebuild after reopen (ms)'],
    rows,
  );
  console.log(`load after ${loadAverage()}`);
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main().catch((e: unknown) => {
    console.error(e);
    process.exitCode = 1;
  });
}

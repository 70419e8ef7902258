/**
 * Window benchmarks: records per second of the window operators, heap (`hashmap`) against
 * LSM state, and the sliced window operator against Flink's per-window assignment.
 *
 *   1. Operator alone (in process, as the task drives it: `collectKeyed` per record, a
 *      watermark every `watermarkEveryRecords`, LSM maintenance every 1024 records, the
 *      final watermark firing the rest): tumbling, sliding at size/slide 2, 10 and 60, and
 *      session windows, each with reduce, aggregate and process (all elements), on each
 *      backend. Tumbling and sliding reduce and aggregate take the sliced operator, as the
 *      engine does by default; process (and sessions) take WindowOperator.
 *   2. Sliced against per-window, the same input, sliding aggregate at size/slide 2, 10
 *      and 60: the operators constructed directly, ratio per round. Goal: 5x at 60.
 *   3. The same comparison at size/slide 60 as a whole job through `runJob` (source,
 *      timestamps, keyBy across a ring, window, collect), parallelism 1, the per-window
 *      path forced by `SLUICEGATE_WINDOW_SLICING=off` (bench-only switch, window-factory.ts),
 *      with the same job over no records in each round, so rates are also given net of
 *      start-up (which dominates the sliced run: the per-window one is too slow for more
 *      records in the time budget).
 *
 * Workload (seeded): `keyCount` keys, one record per ms of event time (so about
 * `slideMs / keyCount` records per key and slide), each up to `disorderMs` out of order,
 * watermarks `disorderMs` behind the largest timestamp (no record is late). Windows slide
 * every `slideMs`; sessions have a gap of `sessionGapMs`.
 *
 * Method as engine.bench.ts / report.ts (the machine is small and shared, so read the
 * ratios measured side by side): one unmeasured warm-up of every variant, then rounds in
 * an order rotated per round; rates and ratios are median [min-max] over rounds, ratios
 * taken within a round. A measurement, never a test (it checks only that both paths
 * emitted the same number of results).
 *
 *   node dist/bench/windows.bench.js   (SLUICEGATE_BENCH_REPS=n rounds, default 3)
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { pathToFileURL } from 'node:url';
import { StreamExecutionEnvironment, runJob } from '../src/index.js';
import type { GraphNode } from '../src/graph/index.js';
import type { AggregateFunction, KeyedStateBackend } from '../src/state/api.js';
import { HeapKeyedStateBackend } from '../src/state/heap-backend.js';
import { assignToKeyGroup } from '../src/state/key-group.js';
import { LsmKeyedStateBackend } from '../src/state/lsm-backend.js';
import type { ChainOperator, OperatorEnvironment } from '../src/task/operators.js';
import { SlicedWindowOperator, slicingOf } from '../src/task/sliced-window-operator.js';
import { createWindowOperator, windowSlicingEnv } from '../src/task/window-factory.js';
import { WindowOperator } from '../src/task/window-operator.js';
import { EventTimeSessionWindows, SlidingEventTimeWindows, TumblingEventTimeWindows } from '../src/time/windows/index.js';
import type { ProcessWindowFunction, Window, WindowAssigner } from '../src/time/windows/index.js';
import type { WindowFunctionSpec, WindowSpec } from '../src/time/windows/spec.js';
import { fixed, formatRate, formatSummary, loadAverage, printTable, repetitionsFromEnv, runRounds, xorshift32 } from './report.js';
import type { RoundVariant } from './report.js';

const keyCount = 10;
const slideMs = 100;
const disorderMs = 50;
const sessionGapMs = 15;
const watermarkEveryRecords = 100;
const maintenanceEveryRecords = 1024;
const maxParallelism = 128;
const ratios = [2, 10, 60] as const;
/**
 * Records of a section 1 and 2 run: 12 s of event time, twice the largest window (6 s).
 * Fewer would leave mostly windows cut by the start and end of input, which flatter the
 * per-window path (a sliced window reads all its slices whatever it holds); more would
 * make the per-window path at size/slide 60 on LSM state (about 1 k records/s) too long.
 */
const recordsInProcess = 12_000;
/** Records of a process() run at size/slide 10 and 60 (each record is kept in every window: slow). */
const recordsProcessWide = 3_000;
/** Records of the unmeasured warm-up run of each variant (JIT only). */
const recordsWarmUp = 1_000;
/** Records of a section 3 job run. */
const recordsPerJob = 12_000;
const repetitionsDefault = 3;

type BackendKind = 'hashmap' | 'lsm';
type FnKind = 'reduce' | 'aggregate' | 'process';

interface Workload {
  keys: string[];
  keyGroups: number[];
  keyOf: Uint8Array;
  ts: Float64Array;
  values: Float64Array;
}

function makeWorkload(n: number): Workload {
  const rand = xorshift32(1414);
  const keys = Array.from({ length: keyCount }, (_, i) => `key-${i}`);
  const keyOf = Uint8Array.from({ length: n }, () => Math.floor(rand() * keyCount));
  const ts = Float64Array.from({ length: n }, (_, i) => Math.max(0, i - Math.floor(rand() * disorderMs)));
  const values = Float64Array.from({ length: n }, () => Math.floor(rand() * 100));
  return { keys, keyGroups: keys.map((k) => assignToKeyGroup(k, maxParallelism)), keyOf, ts, values };
}

// ---------------------------------------------------------------- window functions

const sumAggregate: AggregateFunction<number, { sum: number; count: number }, number> = {
  createAccumulator: () => ({ sum: 0, count: 0 }),
  add: (v, acc) => ({ sum: acc.sum + v, count: acc.count + 1 }),
  getResult: (acc) => acc.sum / acc.count,
  merge: (a, b) => ({ sum: a.sum + b.sum, count: a.count + b.count }),
};

const sumProcess: ProcessWindowFunction<number, number, string, Window> = {
  process: (_key, _ctx, elements, out) => {
    let s = 0;
    for (const e of elements) s += e;
    out.collect(s);
  },
};

function windowFunction(kind: FnKind): WindowFunctionSpec {
  switch (kind) {
    case 'reduce':
      return { kind: 'reduce', reduce: (a: number, b: number) => a + b };
    case 'aggregate':
      return { kind: 'aggregate', aggregate: sumAggregate };
    case 'process':
      return { kind: 'process', process: sumProcess };
  }
}

interface AssignerCase {
  name: string;
  make: () => WindowAssigner<any, Window>;
  /** size/slide of 10 or more: process() runs fewer records. */
  wide: boolean;
}

const assigners: AssignerCase[] = [
  { name: `tumbling ${slideMs} ms`, make: () => TumblingEventTimeWindows.of(slideMs), wide: false },
  ...ratios.map((r) => ({ name: `sliding, size/slide ${r}`, make: () => SlidingEventTimeWindows.of(r * slideMs, slideMs), wide: r >= 10 })),
  { name: `session, gap ${sessionGapMs} ms`, make: () => EventTimeSessionWindows.withGap(sessionGapMs), wide: false },
];

// ---------------------------------------------------------------- one in-process run

type Path = 'default' | 'sliced' | 'per-window';

interface RunResult {
  recordsPerS: number;
  outputs: number;
}

function openBackend(kind: BackendKind, dir: string): KeyedStateBackend {
  if (kind === 'hashmap') return new HeapKeyedStateBackend({ scratchDir: dir, fsync: false });
  return new LsmKeyedStateBackend({ dir, maxParallelism, store: { fsync: false } });
}

function makeOperator(spec: WindowSpec, env: OperatorEnvironment, path: Path): ChainOperator & { processWatermark(ms: number): void } {
  const node: GraphNode = { plan: undefined as never, id: 0, uid: 'window', name: 'Window(bench)', parallelism: 1, maxParallelism, slotSharingGroup: 'default', vertex: 0, keyed: true };
  if (path === 'default') return createWindowOperator(node, env, spec);
  if (path === 'per-window') return new WindowOperator(node, env, spec);
  const slicing = slicingOf(spec);
  assert.ok(typeof slicing !== 'string', `not sliceable: ${String(slicing)}`);
  return new SlicedWindowOperator(node, env, spec, slicing);
}

/** Runs the first `n` records of `w` through a fresh operator and backend; the final watermark fires the rest. */
async function runInProcess(w: Workload, n: number, assigner: AssignerCase, fn: FnKind, backendKind: BackendKind, path: Path, root: string): Promise<RunResult> {
  const dir = fs.mkdtempSync(`${root}/run-`);
  const backend = openBackend(backendKind, dir);
  const env: OperatorEnvironment = {
    subtaskIndex: 0,
    backend,
    failure: { operator: undefined, record: undefined, thrown: undefined, seq: 0 },
    position: () => undefined,
    restoredState: () => undefined,
    timestamp: { value: NaN },
    clock: { now: () => 0 },
    job: new StreamExecutionEnvironment(1).jobScope(),
  };
  const spec: WindowSpec = { assigner: assigner.make(), trigger: undefined, evictor: undefined, allowedLatenessMs: 0, lateDataTag: undefined, fn: windowFunction(fn), all: false };
  const op = makeOperator(spec, env, path);
  let outputs = 0;
  op.connect({ collect: () => outputs++, emitWatermark: () => {}, emitIdle: () => {}, emitLatencyMarker: () => {} });
  await op.open();
  assert.ok(n <= w.ts.length);
  let maxTs = -Infinity;
  const start = performance.now();
  for (let i = 0; i < n; i++) {
    const k = w.keyOf[i]!;
    const ts = w.ts[i]!;
    if (ts > maxTs) maxTs = ts;
    env.timestamp.value = ts;
    op.collectKeyed(w.values[i], w.keys[k]!, w.keyGroups[k]!);
    if (i % watermarkEveryRecords === watermarkEveryRecords - 1) op.processWatermark(maxTs - disorderMs);
    if (i % maintenanceEveryRecords === 0) backend.maintenanceStep?.();
  }
  op.processWatermark(Infinity);
  const recordsPerS = n / ((performance.now() - start) / 1000);
  await op.close();
  await backend.close();
  fs.rmSync(dir, { recursive: true, force: true });
  return { recordsPerS, outputs };
}

// ---------------------------------------------------------------- sections

function rateCell(samples: readonly RunResult[]): string {
  return formatSummary(samples.map((s) => s.recordsPerS), formatRate);
}

/** Section 1: every assigner x function x backend, the engine's default operator. */
async function gridSection(w: Workload, reps: number, root: string): Promise<void> {
  const fns: FnKind[] = ['reduce', 'aggregate', 'process'];
  const rows: string[][] = [];
  for (const backend of ['hashmap', 'lsm'] as const) {
    const cells = assigners.flatMap((a) => fns.map((fn) => ({ a, fn, n: fn === 'process' && a.wide ? recordsProcessWide : recordsInProcess })));
    const variants: RoundVariant<RunResult>[] = cells.map(({ a, fn, n }) => ({ name: `${a.name}|${fn}`, run: () => runInProcess(w, n, a, fn, backend, 'default', root) }));
    const warmUp: RoundVariant<RunResult>[] = cells.map(({ a, fn }) => ({ name: `${a.name}|${fn}`, run: () => runInProcess(w, recordsWarmUp, a, fn, backend, 'default', root) }));
    process.stdout.write(`  ${backend}:`);
    const samples = await runRounds(variants, reps, warmUp);
    for (const a of assigners) rows.push([backend, a.name, ...fns.map((fn) => rateCell(samples.get(`${a.name}|${fn}`)!))]);
  }
  printTable(
    `Window operator alone, records/s, median [min-max] of ${reps} rounds (${recordsInProcess} records; process at size/slide 10 and 60: ${recordsProcessWide}; ${keyCount} keys, slide ${slideMs} ms)`,
    ['backend', 'windows', 'reduce', 'aggregate', 'process (all elements)'],
    rows,
  );
}

/** Section 2: sliced against per-window on the same input, ratio per round. */
async function slicingSection(w: Workload, reps: number, root: string): Promise<void> {
  const rows: string[][] = [];
  for (const backend of ['hashmap', 'lsm'] as const) {
    for (const r of ratios) {
      const a = assigners.find((x) => x.name === `sliding, size/slide ${r}`)!;
      const paths = ['sliced', 'per-window'] as const;
      const variants: RoundVariant<RunResult>[] = paths.map((p) => ({ name: p, run: () => runInProcess(w, recordsInProcess, a, 'aggregate', backend, p, root) }));
      const warmUp: RoundVariant<RunResult>[] = paths.map((p) => ({ name: p, run: () => runInProcess(w, recordsWarmUp, a, 'aggregate', backend, p, root) }));
      process.stdout.write(`  ${backend} ${r}:`);
      const samples = await runRounds(variants, reps, warmUp);
      const sliced = samples.get('sliced')!;
      const perWindow = samples.get('per-window')!;
      assert.equal(sliced[0]!.outputs, perWindow[0]!.outputs, 'both paths emit the same number of window results');
      rows.push([backend, String(r), rateCell(perWindow), rateCell(sliced), formatSummary(sliced.map((s, i) => s.recordsPerS / perWindow[i]!.recordsPerS), fixed(1))]);
    }
  }
  printTable(
    `Sliding aggregate, sliced against per-window assignment, operator alone, the same ${recordsInProcess} records, records/s, median [min-max] of ${reps} rounds`,
    ['backend', 'size/slide', 'per-window (WindowOperator)', 'sliced', 'sliced / per-window'],
    rows,
  );
}

/** One timed job run: wall ms and the number of window results. */
interface JobSample {
  wallMs: number;
  outputs: number;
}

/**
 * Section 3: whole jobs through runJob at size/slide 60, the per-window path forced by the
 * environment switch, and the same job over no records (start-up and teardown) in the same
 * rounds: rates are also given net of it, per round.
 */
async function jobSection(reps: number, root: string): Promise<void> {
  const module = new URL('./jobs/sliding-window.js', import.meta.url);
  const rows: string[][] = [];
  for (const backend of ['hashmap', 'lsm'] as const) {
    const run = (slicing: 'on' | 'off', records: number) => async (): Promise<JobSample> => {
      const before = process.env[windowSlicingEnv];
      process.env[windowSlicingEnv] = slicing;
      try {
        const start = performance.now();
        const result = await runJob(module, {
          parallelism: 1,
          stateBackend: backend,
          stateDir: fs.mkdtempSync(`${root}/job-`),
          args: [String(records), String(keyCount), String(60 * slideMs), String(slideMs), String(disorderMs)],
        }).result;
        return { wallMs: performance.now() - start, outputs: (result.collected['collect'] ?? []).length };
      } finally {
        if (before === undefined) delete process.env[windowSlicingEnv];
        else process.env[windowSlicingEnv] = before;
      }
    };
    const variants: RoundVariant<JobSample>[] = [
      { name: 'sliced', run: run('on', recordsPerJob) },
      { name: 'per-window', run: run('off', recordsPerJob) },
      { name: 'empty', run: run('on', 0) },
    ];
    process.stdout.write(`  job ${backend}:`);
    const samples = await runRounds(variants, reps, []);
    const [sliced, perWindow, empty] = (['sliced', 'per-window', 'empty'] as const).map((n) => samples.get(n)!) as [JobSample[], JobSample[], JobSample[]];
    assert.equal(sliced[0]!.outputs, perWindow[0]!.outputs, 'both paths emit the same number of window results');
    const rate = (xs: JobSample[], net: boolean) => xs.map((x, i) => recordsPerJob / ((x.wallMs - (net ? empty[i]!.wallMs : 0)) / 1000));
    const ratio = (net: boolean) => {
      const a = rate(sliced, net);
      const b = rate(perWindow, net);
      return formatSummary(a.map((x, i) => x / b[i]!), fixed(1));
    };
    rows.push([
      backend,
      formatSummary(empty.map((x) => x.wallMs), fixed(0)),
      formatSummary(rate(perWindow, false), formatRate),
      formatSummary(rate(sliced, false), formatRate),
      ratio(false),
      formatSummary(rate(perWindow, true), formatRate),
      formatSummary(rate(sliced, true), formatRate),
      ratio(true),
    ]);
  }
  printTable(
    `Whole job (runJob, parallelism 1: source chain and window chain), sliding aggregate at size/slide 60, the same ${recordsPerJob} records, records/s, median [min-max] of ${reps} rounds`,
    ['backend', 'empty job ms', 'per-window (switch off)', 'sliced', 'sliced / per-window', 'per-window, net of empty', 'sliced, net of empty', 'net ratio'],
    rows,
  );
}

export async function main(): Promise<void> {
  const reps = repetitionsFromEnv(repetitionsDefault);
  console.log(`Window bench: ${os.cpus()[0]?.model ?? '?'} x${os.cpus().length}, Node ${process.version}, load before ${loadAverage()}`);
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'sluicegate-windows-bench-'));
  try {
    const w = makeWorkload(recordsInProcess);
    await gridSection(w, reps, root);
    await slicingSection(w, reps, root);
    await jobSection(reps, root);
  } finally {
    fs.rmSync(root, { recursive: true, force: true });
  }
  console.log(`load after ${loadAverage()}`);
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main().catch((e: unknown) => {
    console.error(e);
    process.exitCode = 1;
  });
}

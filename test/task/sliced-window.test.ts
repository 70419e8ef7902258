/**
 * The sliced window operator against Flink's WindowOperator, in process:
 * (a) which specs are sliced (`slicingOf`, `createWindowOperator`, the bench-only switch);
 * (b) model-based: seeded random tumbling and sliding windows (gaps, slides not dividing
 *     the size, negative offsets and timestamps), reduce or aggregate (functions that
 *     reuse their first argument), with or without a ProcessWindowFunction keeping
 *     window state, lateness 0 or more, a late side output or not, random out-of-order
 *     input and watermark jumps. WindowOperator on the heap backend is the reference;
 *     the sliced operator on the heap and on the LSM backend must emit the same records
 *     with the same timestamps (as multisets) at every watermark step, the same late
 *     records, the same numLateRecordsDropped, keep no slice past the cleanup time of
 *     its last window, and leave no slice, window state or timer at the end. Half of the
 *     runs snapshot the sliced operators mid-run and restore them at parallelism 2 or 3
 *     (records routed by key group), so slices and timers must rescale by key group.
 *     Replay one seed: SLUICE_SEED=<seed> npx tap --disable-coverage dist/test/task/sliced-window.test.js
 */
import { operatorEnvironment, windowGraphNode } from '../time/windows/harness.js';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import t, { type Test } from 'tap';
import type { Collector, ProcessWindowContext, ProcessWindowFunction } from '../../src/index.js';
import type { GraphNode } from '../../src/graph/index.js';
import type { AggregateFunction, KeyedStateBackend, SnapshotFiles, StateKey, StateRestore } from '../../src/state/api.js';
import { HeapKeyedStateBackend } from '../../src/state/heap-backend.js';
import { assignToKeyGroup, keyGroupRangeForSubtask, operatorIndexForKeyGroup } from '../../src/state/key-group.js';
import { LsmKeyedStateBackend } from '../../src/state/lsm-backend.js';
import type { ChainOperator, OperatorEnvironment } from '../../src/task/operators.js';
import { SlicedWindowOperator, slicesStateName, slicingOf } from '../../src/task/sliced-window-operator.js';
import { createWindowOperator, windowSlicingEnabled } from '../../src/task/window-factory.js';
import { WindowOperator } from '../../src/task/window-operator.js';
import {
  CountEvictor,
  CountTrigger,
  EventTimeSessionWindows,
  EventTimeTrigger,
  SlidingEventTimeWindows,
  SlidingProcessingTimeWindows,
  TumblingEventTimeWindows,
} from '../../src/time/windows/index.js';
import type { Window, WindowAssigner } from '../../src/time/windows/index.js';
import type { WindowFunctionSpec, WindowSpec } from '../../src/time/windows/spec.js';
import { runJob } from '../../src/index.js';
import { seededRandom, testSeed } from '../helpers/random.js';

const maxParallelism = 128;
const uid = 'window-under-test';
const lateTagId = 'late-elements';
const firesStateName = 'fires';

type WindowOp = ChainOperator & { processWatermark(timestampMs: number): void };

const graphNode = (): GraphNode => windowGraphNode(uid, maxParallelism);
const environment = (backend: KeyedStateBackend): OperatorEnvironment => operatorEnvironment(backend);

function spec(assigner: WindowAssigner<any, Window>, fn: WindowFunctionSpec, more: Partial<WindowSpec> = {}): WindowSpec {
  return { assigner, trigger: undefined, evictor: undefined, allowedLatenessMs: 0, lateDataTag: undefined, fn, all: false, ...more };
}

const sumReduce: WindowFunctionSpec = { kind: 'reduce', reduce: (a: number, b: number) => a + b };

// ---------------------------------------------------------------- (a) which specs are sliced

t.test('slicingOf: tumbling and sliding event-time reduce and aggregate with the default trigger are sliced, with pane gcd(size, slide)', async (t) => {
  t.same(slicingOf(spec(SlidingEventTimeWindows.of(60, 25, -5), sumReduce)), { size: 60, slide: 25, offset: -5, pane: 5 });
  t.same(slicingOf(spec(TumblingEventTimeWindows.of(10, 3), sumReduce)), { size: 10, slide: 10, offset: 3, pane: 10 });
  t.same(slicingOf(spec(SlidingEventTimeWindows.of(10, 30), sumReduce)), { size: 10, slide: 30, offset: 0, pane: 10 }, 'slide > size (gaps)');
  const explicit = spec(SlidingEventTimeWindows.of(60, 10), sumReduce, { trigger: EventTimeTrigger.create() });
  t.equal(typeof slicingOf(explicit), 'object', 'EventTimeTrigger given explicitly still qualifies');
  const agg = { createAccumulator: () => 0, add: (v: number, a: number) => a + v, getResult: (a: number) => a };
  t.match(slicingOf(spec(SlidingEventTimeWindows.of(60, 10), { kind: 'aggregate', aggregate: agg })), /no merge/);
  t.equal(typeof slicingOf(spec(SlidingEventTimeWindows.of(60, 10), { kind: 'aggregate', aggregate: { ...agg, merge: (a: number, b: number) => a + b } })), 'object');
  t.match(slicingOf(spec(SlidingEventTimeWindows.of(60, 10), { ...sumReduce, orderSensitive: true })), /first element/);
  t.match(slicingOf(spec(SlidingEventTimeWindows.of(60, 10), sumReduce, { trigger: CountTrigger.of(3) })), /not EventTimeTrigger/);
  t.match(slicingOf(spec(SlidingEventTimeWindows.of(60, 10), sumReduce, { evictor: CountEvictor.of(3) })), /evictor/);
  t.match(slicingOf(spec(SlidingEventTimeWindows.of(60, 10), { kind: 'process', process: { process: () => {} } })), /every element/);
  t.match(slicingOf(spec(SlidingProcessingTimeWindows.of(60, 10), sumReduce)), /not a tumbling or sliding event-time/);
  t.match(slicingOf(spec(EventTimeSessionWindows.withGap(10), sumReduce)), /not a tumbling or sliding event-time/);
  t.match(slicingOf(spec(SlidingEventTimeWindows.of(60, 10), sumReduce, { allowedLatenessMs: 5 })), /allowed lateness on sliding/, 'sliding with lateness stays per window');
  t.equal(typeof slicingOf(spec(TumblingEventTimeWindows.of(60), sumReduce, { allowedLatenessMs: 5 })), 'object', 'tumbling with lateness is sliced');
});

t.test('createWindowOperator picks the sliced operator when the spec qualifies, unless SLUICEGATE_WINDOW_SLICING=off', async (t) => {
  const env = environment(new HeapKeyedStateBackend());
  const sliding = spec(SlidingEventTimeWindows.of(60, 10), sumReduce);
  t.ok(createWindowOperator(graphNode(), env, sliding) instanceof SlicedWindowOperator);
  t.ok(createWindowOperator(graphNode(), env, spec(SlidingEventTimeWindows.of(60, 10), sumReduce, { evictor: CountEvictor.of(2) })) instanceof WindowOperator);
  const before = process.env['SLUICEGATE_WINDOW_SLICING'];
  t.teardown(() => {
    if (before === undefined) delete process.env['SLUICEGATE_WINDOW_SLICING'];
    else process.env['SLUICEGATE_WINDOW_SLICING'] = before;
  });
  process.env['SLUICEGATE_WINDOW_SLICING'] = 'off';
  t.ok(createWindowOperator(graphNode(), env, sliding) instanceof WindowOperator, 'off: the per-window operator');
  t.equal(windowSlicingEnabled({ SLUICEGATE_WINDOW_SLICING: 'on' }), true);
  t.throws(() => windowSlicingEnabled({ SLUICEGATE_WINDOW_SLICING: 'no' }), /must be "on" or "off"/);
});

// ---------------------------------------------------------------- harness


/** An element as fed: key, event time, value. Each operator gets its own record objects. */
interface Element {
  key: string | number;
  t: number;
  v: number;
}

type Step = { kind: 'element'; e: Element } | { kind: 'watermark'; wm: number } | { kind: 'rescale'; parallelism: number };

/** One operator subtask under test and what it emitted (records with their timestamps). */
interface Subtask {
  op: WindowOp;
  env: OperatorEnvironment;
  backend: KeyedStateBackend;
}

/** Counts firings per window in window state, cleared with the window (tests refires and clear). */
class CountingProcess implements ProcessWindowFunction<unknown, string, StateKey, Window> {
  process(key: StateKey, ctx: ProcessWindowContext<Window>, elements: unknown[], out: Collector<string>): void {
    const fires = ctx.windowState().getState<number>({ name: firesStateName });
    const n = (fires.value() ?? 0) + 1;
    fires.update(n);
    out.collect(JSON.stringify([key, ctx.window.toString(), elements, n, ctx.currentWatermark()]));
  }
  clear(ctx: ProcessWindowContext<Window>): void {
    ctx.windowState().getState<number>({ name: firesStateName }).clear();
  }
}

interface Scenario {
  assigner: SlidingEventTimeWindows | TumblingEventTimeWindows;
  lateness: number;
  lateTag: boolean;
  fnKind: 'reduce' | 'aggregate';
  withProcess: boolean;
  steps: Step[];
}

/**
 * The window function: `add` and `merge` reuse (mutate) their first argument, and so does
 * `reduce` when `reuse` is true. The reference gets a reduce that does not: WindowOperator
 * on the heap backend stores one record object as the first value of each of its sliding
 * windows, so a reduce that mutates it changes the other windows too. The sliced operator
 * must cope with it (a record goes to one slice; the fold starts on a copy).
 */
function windowFunction(s: Scenario, reuse: boolean): WindowFunctionSpec {
  const process = s.withProcess ? new CountingProcess() : undefined;
  if (s.fnKind === 'reduce') {
    type Sum = { v: number; n: number };
    const reduce = reuse
      ? (a: Sum, b: Sum) => {
          a.v += b.v;
          a.n += b.n;
          return a;
        }
      : (a: Sum, b: Sum) => ({ v: a.v + b.v, n: a.n + b.n });
    return { kind: 'reduce', reduce, process };
  }
  type Acc = { sum: number; count: number; max: number };
  const aggregate: AggregateFunction<Element, Acc, [number, number, number]> = {
    createAccumulator: () => ({ sum: 0, count: 0, max: -1 }),
    add: (e, acc) => {
      acc.sum += e.v;
      acc.count++;
      acc.max = Math.max(acc.max, e.v);
      return acc;
    },
    getResult: (acc) => [acc.sum, acc.count, acc.max],
    merge: (a, b) => {
      a.sum += b.sum;
      a.count += b.count;
      a.max = Math.max(a.max, b.max);
      return a;
    },
  };
  return { kind: 'aggregate', aggregate, process };
}

/** A record of element `e` for the window function (a fresh object each call). */
function record(s: Scenario, e: Element): unknown {
  return s.fnKind === 'reduce' ? { v: e.v, n: 1 } : { ...e };
}

type Kind = 'reference' | 'sliced';

/** Runs operators of one kind (on one backend kind) through the steps; parallel subtasks after a rescale. */
class Run {
  subtasks: Subtask[] = [];
  out: string[] = [];
  late: string[] = [];
  droppedBefore = 0;
  private snapshots = 0;

  constructor(
    private readonly s: Scenario,
    private readonly kind: Kind,
    private readonly backendKind: 'heap' | 'lsm',
    private readonly dir: string,
  ) {}

  private openBackend(name: string, restore?: StateRestore): KeyedStateBackend {
    const dir = path.join(this.dir, name);
    if (this.backendKind === 'heap') return new HeapKeyedStateBackend({ scratchDir: dir, fsync: false, ...(restore === undefined ? {} : { restore }) });
    return new LsmKeyedStateBackend({ dir, maxParallelism, store: { fsync: false }, ...(restore === undefined ? {} : { restore }) });
  }

  async open(backend = this.openBackend('p1')): Promise<Subtask> {
    const env = environment(backend);
    const ws = spec(this.s.assigner, windowFunction(this.s, this.kind === 'sliced'), { allowedLatenessMs: this.s.lateness, lateDataTag: this.s.lateTag ? lateTagId : undefined });
    let op: WindowOp;
    if (this.kind === 'reference') op = new WindowOperator(graphNode(), env, ws);
    else {
      const slicing = slicingOf(ws);
      if (typeof slicing === 'string') throw new Error(`scenario not sliceable: ${slicing}`);
      op = new SlicedWindowOperator(graphNode(), env, ws, slicing);
    }
    const stamp = (into: string[]) => ({ collect: (r: unknown) => into.push(JSON.stringify([r, env.timestamp.value])), emitWatermark: () => {}, emitIdle: () => {}, emitLatencyMarker: () => {} });
    op.connect(stamp(this.out));
    op.connectSide(lateTagId, stamp(this.late));
    await op.open();
    const sub = { op, env, backend };
    this.subtasks.push(sub);
    return sub;
  }

  get dropped(): number {
    return this.droppedBefore + this.subtasks.reduce((n, x) => n + x.op.numLateRecordsDropped, 0);
  }

  element(e: Element): void {
    const kg = assignToKeyGroup(e.key, maxParallelism);
    const sub = this.subtasks[operatorIndexForKeyGroup(kg, this.subtasks.length, maxParallelism)]!;
    sub.env.timestamp.value = e.t;
    sub.op.collectKeyed(record(this.s, e), e.key, kg);
  }

  watermark(wm: number): void {
    for (const sub of this.subtasks) sub.op.processWatermark(wm);
  }

  /** Snapshots every subtask, closes them, and restores `parallelism` subtasks by key group ranges. */
  async rescale(parallelism: number, watermark: number): Promise<void> {
    const chk = ++this.snapshots;
    const sources = this.subtasks.map((sub, i) => {
      const job = sub.backend.snapshot(chk);
      let files: SnapshotFiles | undefined;
      for (let guard = 0; (files = job.step()) === undefined; guard++) if (guard > 1_000_000) throw new Error('snapshot never completes');
      const keep = path.join(this.dir, `chk-${chk}-${i}`);
      fs.mkdirSync(keep, { recursive: true });
      let copied: string[];
      if (files.kind === 'heap') {
        copied = [path.join(keep, 'heap')];
        fs.copyFileSync(files.localPath, copied[0]!);
      } else {
        copied = files.segments.map((seg, j) => {
          const to = path.join(keep, `seg-${j}`);
          fs.copyFileSync(seg.localPath, to);
          return to;
        });
      }
      job.release();
      return copied;
    });
    this.droppedBefore = this.dropped;
    const old = this.subtasks;
    this.subtasks = [];
    for (const sub of old) {
      await sub.op.close();
      await sub.backend.close();
    }
    for (let j = 0; j < parallelism; j++) {
      const keyGroups = keyGroupRangeForSubtask(maxParallelism, parallelism, j);
      const restore: StateRestore =
        this.backendKind === 'heap'
          ? { kind: 'heap-rescale', keyGroups, maxParallelism, paths: sources.map((x) => x[0]!) }
          : { kind: 'lsm-rescale', keyGroups, sources: sources.map((x) => ({ segments: x.map((p) => ({ path: p })) })) };
      const sub = await this.open(this.openBackend(`chk-${chk}-p${parallelism}-${j}`, restore));
      // A restored operator learns the watermark again from its inputs; timers at or below it already fired.
      if (watermark > -Infinity) sub.op.processWatermark(watermark);
    }
  }

  /** Namespaced keys `[key, [start, end]]` holding state `name` now, over all subtasks. */
  keysOf(name: string): Array<[StateKey, [number, number]]> {
    const keys: Array<[StateKey, [number, number]]> = [];
    for (const sub of this.subtasks) {
      try {
        sub.backend.applyToAllKeys(uid, name, (k) => keys.push(k as [StateKey, [number, number]]));
      } catch (e) {
        if (!(e instanceof TypeError)) throw e; // never registered: nothing held
      }
    }
    return keys;
  }

  timersLeft(): number {
    return this.subtasks.reduce((n, sub) => n + sub.backend.timers(uid, 'event').size(), 0);
  }

  async close(): Promise<void> {
    for (const sub of this.subtasks) {
      await sub.op.close();
      await sub.backend.close();
    }
  }
}

// ---------------------------------------------------------------- scenarios

function randomScenario(rand: () => number): Scenario {
  const int = (lo: number, hi: number) => lo + Math.floor(rand() * (hi - lo + 1));
  let assigner: SlidingEventTimeWindows | TumblingEventTimeWindows;
  const unit = int(1, 3);
  if (rand() < 0.25) {
    const size = unit * int(1, 12);
    assigner = TumblingEventTimeWindows.of(size, int(-(size - 1), size - 1));
  } else {
    const shapes: Array<[number, number]> = [
      [int(2, 12), 1],
      [int(1, 6) * 2, 2],
      [int(2, 10), int(1, 10)],
      [int(1, 4), int(4, 9)],
      [60, 1],
      [12, 8],
    ];
    const [size, slide] = shapes[int(0, shapes.length - 1)]!;
    assigner = SlidingEventTimeWindows.of(size * unit, slide * unit, int(-(slide * unit - 1), slide * unit - 1));
  }
  // Allowed lateness is sliced on tumbling windows only (slicingOf).
  const lateness = rand() < 0.4 || assigner.slide !== assigner.size ? 0 : int(1, 3 * assigner.size);
  const s: Scenario = { assigner, lateness, lateTag: rand() < 0.5, fnKind: rand() < 0.5 ? 'reduce' : 'aggregate', withProcess: rand() < 0.5, steps: [] };
  const keys: Array<string | number> = ['a', 'b', 7, 'key-with-longer-name', -3].slice(0, int(1, 5));
  const n = int(50, 400);
  let clock = int(-200, 200);
  let wm = -Infinity;
  const disorder = int(0, 4 * assigner.size);
  const rescaleAt = rand() < 0.5 ? int(Math.floor(n / 4), Math.floor((3 * n) / 4)) : -1;
  for (let i = 0; i < n; i++) {
    clock += int(0, 3);
    let ts = clock - int(0, disorder);
    if (rand() < 0.05) ts -= int(0, 6 * assigner.size); // very late now and then
    s.steps.push({ kind: 'element', e: { key: keys[int(0, keys.length - 1)]!, t: ts, v: int(0, 20) } });
    if (rand() < 0.15) {
      const next = rand() < 0.1 ? clock + int(0, 3 * assigner.size) : clock - int(0, disorder); // jumps, and steps that do not advance
      if (next > wm) wm = next;
      s.steps.push({ kind: 'watermark', wm: next });
    }
    if (i === rescaleAt) s.steps.push({ kind: 'rescale', parallelism: int(2, 3) });
  }
  s.steps.push({ kind: 'watermark', wm: Infinity });
  return s;
}

function describe(s: Scenario): string {
  return `${String(s.assigner)} offset ${s.assigner.offset}, lateness ${s.lateness}, ${s.fnKind}${s.withProcess ? ' + process' : ''}, ${s.lateTag ? 'late side output' : 'late dropped'}`;
}

const sorted = (xs: readonly string[]) => [...xs].sort();

/** The slices still held whose last window's cleanup time the watermark reached (should be none). */
function overdueSlices(run: Run, s: Scenario, wm: number): string[] {
  const { size, slide, offset } = s.assigner;
  const over: string[] = [];
  for (const [key, [a]] of run.keysOf(slicesStateName)) {
    const lastStart = a - ((((a - offset) % slide) + slide) % slide);
    const cleanup = lastStart + size - 1 + s.lateness;
    if (cleanup <= wm) over.push(`${String(key)}:[${a}] cleanup ${cleanup}`);
  }
  return over;
}

async function runScenario(t: Test, seed: number): Promise<{ outputs: number; late: number; rescaled: boolean }> {
  const rand = seededRandom(seed);
  const s = randomScenario(rand);
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'sliced-window-'));
  t.teardown(() => fs.rmSync(root, { recursive: true, force: true }));
  const reference = new Run(s, 'reference', 'heap', path.join(root, 'ref'));
  const candidates = [new Run(s, 'sliced', 'heap', path.join(root, 'heap')), new Run(s, 'sliced', 'lsm', path.join(root, 'lsm'))];
  const all = [reference, ...candidates];
  for (const r of all) await r.open();
  const where = `seed ${seed} (${describe(s)})`;
  let wm = -Infinity;
  let from = 0;
  let rescaled = false;
  for (const [i, step] of s.steps.entries()) {
    if (step.kind === 'element') {
      for (const r of all) r.element(step.e);
      continue;
    }
    if (step.kind === 'rescale') {
      rescaled = true;
      for (const c of candidates) await c.rescale(step.parallelism, wm);
      continue;
    }
    for (const r of all) r.watermark(step.wm);
    wm = Math.max(wm, step.wm);
    const want = sorted(reference.out.slice(from));
    for (const [j, c] of candidates.entries()) {
      const name = j === 0 ? 'heap' : 'lsm';
      const got = sorted(c.out.slice(from));
      if (JSON.stringify(got) !== JSON.stringify(want)) {
        t.same(got, want, `${where}: ${name} outputs up to step ${i} (watermark ${step.wm})`);
        return { outputs: 0, late: 0, rescaled };
      }
      const over = overdueSlices(c, s, wm);
      if (over.length > 0) {
        t.fail(`${where}: ${name} keeps slices past their cleanup at watermark ${wm}: ${over.slice(0, 5).join(', ')}`);
        return { outputs: 0, late: 0, rescaled };
      }
    }
    from = reference.out.length;
    for (const c of candidates) if (c.out.length !== from) t.fail(`${where}: output counts differ at step ${i}`);
  }
  for (const [j, c] of candidates.entries()) {
    const name = j === 0 ? 'heap' : 'lsm';
    t.same(sorted(c.late), sorted(reference.late), `${where}: ${name} late side output`);
    t.equal(c.dropped, reference.dropped, `${where}: ${name} numLateRecordsDropped`);
    t.same(c.keysOf(slicesStateName), [], `${where}: ${name} holds no slice after the last watermark`);
    t.same(c.keysOf(firesStateName), [], `${where}: ${name} holds no window state after the last watermark`);
    t.equal(c.timersLeft(), 0, `${where}: ${name} holds no timer after the last watermark`);
  }
  t.equal(reference.timersLeft(), 0, `${where}: the reference holds no timer either`);
  for (const r of all) await r.close();
  return { outputs: reference.out.length, late: reference.late.length + reference.dropped, rescaled };
}

t.test('the sliced operator emits what WindowOperator emits, at every watermark step, on heap and LSM state, across rescales', async (t) => {
  const base = testSeed(20_261_214);
  const runs = process.env['SLUICE_SEED'] === undefined ? 120 : 1;
  let outputs = 0;
  let late = 0;
  let rescaled = 0;
  for (let i = 0; i < runs; i++) {
    const r = await runScenario(t, base + i);
    outputs += r.outputs;
    late += r.late;
    if (r.rescaled) rescaled++;
  }
  t.ok(outputs > 1000 && late > 0 && rescaled > 0, `${runs} scenarios from seed ${base}: ${outputs} window results compared, ${late} late elements, ${rescaled} rescaled`);
});

// ---------------------------------------------------------------- end to end

const slicedJob = new URL('../jobs/sliced-windows.js', import.meta.url);

/** Every sliding window [s, s + size) with an element, per key: `key,start,end,sum/count`. */
function bruteForce(events: readonly Element[], size: number, slide: number): Map<string, { sum: number; count: number }> {
  const windows = new Map<string, { sum: number; count: number }>();
  for (const e of events) {
    for (let s = e.t - ((((e.t % slide) + slide) % slide)); s > e.t - size; s -= slide) {
      const id = `${String(e.key)},${s},${s + size}`;
      const w = windows.get(id) ?? { sum: 0, count: 0 };
      w.sum += e.v;
      w.count++;
      windows.set(id, w);
    }
  }
  return windows;
}

t.test('end to end through runJob: sliding aggregate and reduce take the sliced path (merge runs) and equal a brute-force computation; SLUICEGATE_WINDOW_SLICING=off takes WindowOperator with the same result', async (t) => {
  const seed = testSeed(77_001);
  const rand = seededRandom(seed);
  const size = 600;
  const slide = 20;
  const outOfOrder = 80;
  // Times drift upwards with disorder below the watermark bound: no element is late.
  const events: Element[] = [];
  let clock = 0;
  for (let i = 0; i < 3000; i++) {
    clock += Math.floor(rand() * 4);
    events.push({ key: `k${Math.floor(rand() * 12)}`, t: clock - Math.floor(rand() * outOfOrder), v: Math.floor(rand() * 100) });
  }
  const expected = bruteForce(events, size, slide);
  const params = JSON.stringify({ events, size, slide, outOfOrder });
  const run = async (scenario: string, stateBackend: 'hashmap' | 'lsm') =>
    (await runJob(slicedJob, { parallelism: 2, stateBackend, args: [scenario, params] }).result).collected['collect'] as string[];

  for (const stateBackend of ['hashmap', 'lsm'] as const) {
    const aggregated = await run('aggregate', stateBackend);
    const want = [...expected].map(([id, w]) => `${id},${w.sum}/${w.count}/true`).sort();
    t.same([...aggregated].sort(), want, `seed ${seed}, ${stateBackend}: aggregate per window equals brute force, every firing made by merge (sliced)`);
    const reduced = await run('reduce', stateBackend);
    t.same([...reduced].sort(), [...expected].map(([id, w]) => `${id},${w.sum}`).sort(), `seed ${seed}, ${stateBackend}: reduce per window equals brute force`);
  }
  const before = process.env['SLUICEGATE_WINDOW_SLICING'];
  process.env['SLUICEGATE_WINDOW_SLICING'] = 'off';
  try {
    const perWindow = await run('aggregate', 'hashmap');
    t.same([...perWindow].sort(), [...expected].map(([id, w]) => `${id},${w.sum}/${w.count}/false`).sort(), 'slicing off: WindowOperator (merge never runs), same sums');
  } finally {
    if (before === undefined) delete process.env['SLUICEGATE_WINDOW_SLICING'];
    else process.env['SLUICEGATE_WINDOW_SLICING'] = before;
  }
});

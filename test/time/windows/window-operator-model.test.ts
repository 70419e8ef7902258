// The window operator against a brute-force reference (window-reference.ts): for every
// assigner x trigger x window function (and evictors on tumbling and global windows),
// random keyed streams with out-of-order timestamps (negative ones too), watermarks,
// processing-time advances and late elements, with and without allowed lateness and a
// late side output, on both state backends. After every step the operator's outputs
// (value and timestamp) and late side output must be the reference's, as multisets; at
// the end, its count of dropped late elements too. Seeded; replay with SLUICE_SEED.
import t from 'tap';
import type { Test } from 'tap';
import { OutputTag } from '../../../src/api/output-tag.js';
import { WindowedStream } from '../../../src/api/windowed-stream.js';
import type { OperatorSpec } from '../../../src/api/plan.js';
import type { Collector } from '../../../src/api/functions.js';
import {
  ContinuousEventTimeTrigger,
  CountEvictor,
  CountTrigger,
  EventTimeSessionWindows,
  GlobalWindows,
  ProcessingTimeSessionWindows,
  PurgingTrigger,
  SlidingEventTimeWindows,
  SlidingProcessingTimeWindows,
  TimeEvictor,
  TumblingEventTimeWindows,
  TumblingProcessingTimeWindows,
} from '../../../src/time/windows/index.js';
import type { ProcessWindowContext, ProcessWindowFunction, Trigger, Window, WindowAssigner } from '../../../src/time/windows/index.js';
import type { WindowSpec } from '../../../src/time/windows/spec.js';
import { seededRandom, testSeed } from '../../helpers/random.js';
import { WindowHarness, makeBackend } from './harness.js';
import type { BackendKind } from './harness.js';
import { WindowReference } from './window-reference.js';
import type { AssignerConfig, Elem, EvictorConfig, FunctionConfig, ReferenceConfig, TriggerConfig } from './window-reference.js';

interface Rec extends Elem {
  n: number;
}

function assignerOf(a: AssignerConfig): WindowAssigner<any, Window> {
  switch (a.kind) {
    case 'tumbling':
      return a.eventTime ? TumblingEventTimeWindows.of(a.size, a.offset) : TumblingProcessingTimeWindows.of(a.size, a.offset);
    case 'sliding':
      return a.eventTime ? SlidingEventTimeWindows.of(a.size, a.slide, a.offset) : SlidingProcessingTimeWindows.of(a.size, a.slide, a.offset);
    case 'session':
      return a.eventTime ? EventTimeSessionWindows.withGap(a.gap) : ProcessingTimeSessionWindows.withGap(a.gap);
    case 'dynamic-session':
      return EventTimeSessionWindows.withDynamicGap((e: Rec) => e.g);
    case 'global':
      return GlobalWindows.create();
  }
}

function triggerOf(c: ReferenceConfig, assigner: WindowAssigner<any, Window>): Trigger<any, Window> | undefined {
  switch (c.trigger) {
    case 'default':
      return undefined;
    case 'count':
      return CountTrigger.of(c.countN);
    case 'purging-count':
      return PurgingTrigger.of(CountTrigger.of(c.countN));
    case 'purging-default':
      return PurgingTrigger.of(assigner.getDefaultTrigger());
    case 'continuous':
      return ContinuousEventTimeTrigger.of(c.intervalMs);
  }
}

class Describe implements ProcessWindowFunction<unknown, unknown, unknown, Window> {
  constructor(private readonly read: (x: any) => [number, number]) {}
  process(key: unknown, ctx: ProcessWindowContext<Window>, elements: unknown[], out: Collector<unknown>): void {
    if (elements.length !== 1) throw new Error(`a pre-aggregated window got ${elements.length} elements`);
    out.collect([key, ctx.window.namespace(), ...this.read(elements[0])]);
  }
}

const lateTag = new OutputTag<Rec>('late');

/** The spec the public API builds for `c` (WindowedStream with the operator captured). */
function specOf(c: ReferenceConfig): WindowSpec {
  let captured: OperatorSpec | undefined;
  const assigner = assignerOf(c.assigner);
  const ws = new WindowedStream<Rec, unknown, Window>(assigner, ((_name: string, op: OperatorSpec) => {
    captured = op;
    return undefined;
  }) as never);
  const trigger = triggerOf(c, assigner);
  if (trigger !== undefined) ws.trigger(trigger);
  if (c.evictor !== undefined) ws.evictor(c.evictor.kind === 'count' ? CountEvictor.of(c.evictor.n, c.evictor.after) : TimeEvictor.of(c.evictor.ms, c.evictor.after));
  ws.allowedLateness(c.lateness);
  if (c.lateTag) ws.sideOutputLateData(lateTag);
  const reduce = (a: Rec, b: Rec): Rec => ({ k: a.k, id: Math.min(a.id, b.id), v: a.v + b.v, g: Math.max(a.g, b.g), n: a.n + b.n });
  const aggregate = {
    createAccumulator: (): [number, number] => [0, 0],
    add: (e: Rec, acc: [number, number]): [number, number] => [acc[0] + e.v, acc[1] + 1],
    getResult: (acc: [number, number]) => acc,
    merge: (a: [number, number], b: [number, number]): [number, number] => [a[0] + b[0], a[1] + b[1]],
  };
  switch (c.fn) {
    case 'reduce':
      ws.reduce(reduce, new Describe((r: Rec) => [r.v, r.n]));
      break;
    case 'reduce-plain':
      ws.reduce(reduce);
      break;
    case 'aggregate':
      ws.aggregate(aggregate, new Describe((r: [number, number]) => r));
      break;
    case 'aggregate-plain':
      ws.aggregate(aggregate);
      break;
    case 'process':
      ws.process({
        process: (key, ctx, elements, out) => out.collect([key, ctx.window.namespace(), elements.map((e) => e.id).sort((x, y) => x - y)]),
      });
      break;
  }
  if (captured?.kind !== 'window') throw new Error('the window builder added no window operator');
  return captured.spec;
}

type TimeShape = { kind: 'tumbling'; size: number; offset: number } | { kind: 'sliding'; size: number; slide: number; offset: number } | { kind: 'session'; gap: number };
const et = (a: TimeShape): AssignerConfig => ({ ...a, eventTime: true });
const pt = (a: TimeShape): AssignerConfig => ({ ...a, eventTime: false });

interface CaseShape {
  assigner: AssignerConfig;
  trigger: TriggerConfig;
  evictor: EvictorConfig;
  fn: FunctionConfig;
}

function cases(): CaseShape[] {
  const fns: FunctionConfig[] = ['reduce', 'reduce-plain', 'aggregate', 'aggregate-plain', 'process'];
  const out: CaseShape[] = [];
  const add = (assigners: AssignerConfig[], triggers: TriggerConfig[], evictors: EvictorConfig[] = [undefined]) => {
    for (const assigner of assigners) for (const trigger of triggers) for (const evictor of evictors) for (const fn of fns) out.push({ assigner, trigger, evictor, fn });
  };
  const etAligned = [
    et({ kind: 'tumbling', size: 10, offset: 0 }),
    et({ kind: 'tumbling', size: 7, offset: 3 }),
    et({ kind: 'tumbling', size: 10, offset: -4 }),
    et({ kind: 'sliding', size: 12, slide: 4, offset: 0 }),
    et({ kind: 'sliding', size: 10, slide: 3, offset: 1 }),
    et({ kind: 'sliding', size: 5, slide: 8, offset: -2 }),
  ];
  add(etAligned, ['default', 'count', 'purging-count', 'purging-default', 'continuous']);
  add([et({ kind: 'tumbling', size: 10, offset: 0 })], ['default', 'count'], [
    { kind: 'count', n: 2, after: false },
    { kind: 'count', n: 2, after: true },
    { kind: 'time', ms: 4, after: false },
  ]);
  add([et({ kind: 'session', gap: 6 }), { kind: 'dynamic-session', eventTime: true }], ['default', 'count', 'continuous', 'purging-default']);
  add([pt({ kind: 'tumbling', size: 10, offset: 0 }), pt({ kind: 'sliding', size: 12, slide: 4, offset: 2 }), pt({ kind: 'session', gap: 5 }), pt({ kind: 'session', gap: 1 })], ['default', 'count', 'purging-default']);
  add([{ kind: 'global' }], ['default', 'count', 'purging-count'], [undefined, { kind: 'count', n: 2, after: false }, { kind: 'count', n: 2, after: true }]);
  return out;
}

const canon = (xs: ReadonlyArray<{ value: unknown; timestamp: number }>): string[] => xs.map((x) => JSON.stringify([x.value, x.timestamp])).sort();

/** Outputs seen over all cases: the test must exercise firings, late data and drops. */
interface Seen {
  main: number;
  late: number;
  dropped: number;
}

async function runCase(t: Test, shape: CaseShape, backendKind: BackendKind, seed: number, steps: number, seen: Seen): Promise<string | undefined> {
  const random = seededRandom(seed);
  const int = (lo: number, hi: number) => lo + Math.floor(random() * (hi - lo + 1));
  const eventTime = shape.assigner.kind !== 'global' && shape.assigner.eventTime;
  const config: ReferenceConfig = {
    ...shape,
    countN: int(2, 4),
    intervalMs: int(3, 6),
    lateness: eventTime ? [0, 0, 7, 25][int(0, 3)]! : 0,
    lateTag: random() < 0.5,
  };
  const harness = await new WindowHarness(makeBackend(t, backendKind), specOf(config)).open();
  const reference = new WindowReference(config);
  harness.now = reference.now = 1000;
  const keys: Array<string | number> = ['a', 'b', 3];
  const history: string[] = [];
  let nextId = 0;
  const base = () => (Number.isFinite(reference.watermark) ? reference.watermark : -60);
  for (let step = 0; step < steps; step++) {
    const r = random();
    if (r < 0.65) {
      const e: Rec = { k: keys[int(0, keys.length - 1)]!, id: nextId++, v: int(1, 9), g: int(1, 12), n: 1 };
      const ts = base() + int(-25, 45);
      history.push(`element ${JSON.stringify(e)} @${ts}`);
      harness.element(e.k, e, ts);
      reference.element(e, ts);
    } else if (r < 0.85) {
      const w = base() + int(1, 20);
      history.push(`watermark ${w}`);
      harness.watermark(w);
      reference.advanceWatermark(w);
    } else {
      const now = reference.now + int(1, 15);
      history.push(`clock ${now}`);
      harness.advanceClock(now);
      reference.advanceClock(now);
    }
    const got = canon(harness.takeMain());
    const want = canon(reference.main.splice(0));
    const gotLate = canon(harness.takeLate());
    const wantLate = canon(reference.late.splice(0));
    seen.main += got.length;
    seen.late += gotLate.length;
    if (JSON.stringify(got) !== JSON.stringify(want) || JSON.stringify(gotLate) !== JSON.stringify(wantLate)) {
      return [
        `step ${step}: ${history.at(-1)}`,
        `  output ${JSON.stringify(got)}`,
        `  wanted ${JSON.stringify(want)}`,
        `  late ${JSON.stringify(gotLate)} wanted ${JSON.stringify(wantLate)}`,
        `  config ${JSON.stringify(config)}`,
        `  last steps: ${history.slice(-12).join(' | ')}`,
      ].join('\n');
    }
  }
  if (harness.operator.numLateRecordsDropped !== reference.lateDropped) {
    return `dropped ${harness.operator.numLateRecordsDropped} late elements, wanted ${reference.lateDropped} (config ${JSON.stringify(config)})`;
  }
  seen.dropped += harness.operator.numLateRecordsDropped;
  return undefined;
}

for (const backendKind of ['heap', 'lsm'] as const) {
  t.test(`every assigner x trigger x function (evictors on tumbling and global) matches the reference, ${backendKind} backend`, async (t) => {
    const seed = testSeed(14014);
    const all = cases();
    let failures = 0;
    const seen: Seen = { main: 0, late: 0, dropped: 0 };
    for (const [i, shape] of all.entries()) {
      const problem = await runCase(t, shape, backendKind, seed + i, backendKind === 'heap' ? 240 : 120, seen);
      if (problem !== undefined) {
        failures++;
        t.fail(`case ${i} (seed ${seed + i}; replay with SLUICE_SEED=${seed}): ${JSON.stringify(shape)}\n${problem}`);
        if (failures >= 5) break;
      }
    }
    t.equal(failures, 0, `${all.length} cases (seed ${seed})`);
    t.ok(seen.main > 20 * all.length && seen.late > 100 && seen.dropped > 100, `firings, late side outputs and drops all happen: ${JSON.stringify(seen)}`);
  });
}

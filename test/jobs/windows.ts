// Job modules for the window tests. args[0] names the scenario, args[1] holds JSON
// parameters; deterministic given them.
import {
  EventTimeSessionWindows,
  SlidingEventTimeWindows,
  Time,
  TumblingEventTimeWindows,
  WatermarkStrategy,
  defineJob,
} from '../../src/index.js';
import type { Collector, DataStream, ProcessWindowContext, ProcessWindowFunction, TimeWindow } from '../../src/index.js';

/** An event: key, event time (ms) and a value. */
export interface WindowEvent {
  key: string;
  t: number;
  v: number;
}

/** Emits `[key, start, end, value]` for each firing of a reduce or aggregate. */
export class Describe implements ProcessWindowFunction<number, [string, number, number, number], string, TimeWindow> {
  process(key: string, ctx: ProcessWindowContext<TimeWindow>, elements: number[], out: Collector<[string, number, number, number]>): void {
    out.collect([key, ctx.window.getStart(), ctx.window.getEnd(), elements[0]!]);
  }
}

/** A generated event: `late` ones are behind the watermark's bound on purpose. */
export interface GeneratedEvent extends WindowEvent {
  late: boolean;
}

/**
 * Constants of the 'exactly-once' scenario, ms. Event i has time i minus a jitter of
 * 0..`outOfOrder` (never late: the watermark trails the largest time by `outOfOrder` + 1),
 * except every `lateEvery`-th, `lateBy` behind: often behind the watermark (periodic, every
 * 50 ms, so it lags 50 ms of input: 100 events at 2,000 a second), so it fires its tumbling
 * window again, yet within the allowed lateness (`lateBy` < `lateness` + `outOfOrder` + 2),
 * so never dropped. The other windows filter late events out.
 *
 * With one source subtask emitting indexes in order (also after a restore at another
 * parallelism: a reader holding several splits would make one split's events late), a
 * window's on-time contents and each session are whole when the watermark passes them
 * (jitter <= `outOfOrder`), whatever the timing, and no late event reaches a window after
 * its cleanup: the expected output is a function of the indexes alone (how many late
 * firings a tumbling window has is not).
 */
export const generated = {
  outOfOrder: 30,
  lateEvery: 7,
  lateBy: 250,
  lateness: 300,
  tumblingMs: 100,
  slidingMs: 200,
  slideMs: 50,
  gapMs: 20,
  allMs: 500,
  /** Keys take turns in blocks of this many indexes; each key sits out one block in four (its sessions end). */
  block: 200,
} as const;

/** Event `i` of the 'exactly-once' scenario over `keys` keys (see `generated`). */
export function generatedEvent(i: number, keys: number): GeneratedEvent {
  const g = generated;
  const b = Math.floor(i / g.block);
  // Keys k with (3k + b) % 4 !== 0 are active in block b; the record goes to one of them.
  const active: number[] = [];
  for (let k = 0; k < keys; k++) if ((3 * k + b) % 4 !== 0) active.push(k);
  const key = `k${active[i % active.length]}`;
  const late = i % g.lateEvery === 3 && i >= g.lateBy;
  const t = late ? i - g.lateBy : Math.max(0, i - ((i * 13) % (g.outOfOrder + 1)));
  return { key, t, v: ((i * 7) % 13) + 1, late };
}

/** `session<TAB>key<TAB>start<TAB>end<TAB>count<TAB>sum` for each session. */
class SessionLine implements ProcessWindowFunction<GeneratedEvent, string, string, TimeWindow> {
  process(key: string, ctx: ProcessWindowContext<TimeWindow>, elements: GeneratedEvent[], out: Collector<string>): void {
    const sum = elements.reduce((s, e) => s + e.v, 0);
    out.collect(`session\t${key}\t${ctx.window.getStart()}\t${ctx.window.getEnd()}\t${elements.length}\t${sum}`);
  }
}

/** Count and sum, as an AggregateFunction. */
const countSum = {
  createAccumulator: (): [number, number] => [0, 0],
  add: (e: GeneratedEvent, acc: [number, number]): [number, number] => [acc[0] + 1, acc[1] + e.v],
  getResult: (acc: [number, number]) => acc,
  merge: (a: [number, number], b: [number, number]): [number, number] => [a[0] + b[0], a[1] + b[1]],
};

/**
 * Windows of every kind over the generated events, each line naming its window: tumbling
 * reduce with allowed lateness (one line per firing, late firings included), sliding
 * aggregate, session process, tumbling windowAll aggregate. One source subtask (see
 * `generated`); the window operators run at the job's parallelism.
 */
function exactlyOnceWindows(events: DataStream<GeneratedEvent>): DataStream<string> {
  const g = generated;
  const onTime = events.filter((e) => !e.late).setParallelism(1).uid('on-time');
  const tumbling = events
    .keyBy((e) => e.key)
    .window(TumblingEventTimeWindows.of(g.tumblingMs))
    .allowedLateness(g.lateness)
    .reduce((a: GeneratedEvent, b: GeneratedEvent) => ({ ...a, v: a.v + b.v }), {
      process: (key: string, ctx: ProcessWindowContext<TimeWindow>, [e]: GeneratedEvent[], out: Collector<string>) =>
        out.collect(`tumbling\t${key}\t${ctx.window.getStart()}\t${e!.v}`),
    })
    .uid('tumbling');
  const sliding = onTime
    .keyBy((e) => e.key)
    .window(SlidingEventTimeWindows.of(g.slidingMs, g.slideMs))
    .aggregate(countSum, {
      process: (key: string, ctx: ProcessWindowContext<TimeWindow>, [r]: Array<[number, number]>, out: Collector<string>) =>
        out.collect(`sliding\t${key}\t${ctx.window.getStart()}\t${r![0]}\t${r![1]}`),
    })
    .uid('sliding');
  const sessions = onTime.keyBy((e) => e.key).window(EventTimeSessionWindows.withGap(g.gapMs)).process(new SessionLine()).uid('sessions');
  const all = onTime
    .windowAll(TumblingEventTimeWindows.of(g.allMs))
    .aggregate(countSum, {
      process: (ctx: ProcessWindowContext<TimeWindow>, [r]: Array<[number, number]>, out: Collector<string>) =>
        out.collect(`all\t${ctx.window.getStart()}\t${r![0]}\t${r![1]}`),
    })
    .uid('all');
  return tumbling.union(sliding, sessions, all);
}

export default defineJob((env, args) => {
  const scenario = args[0];
  const p = JSON.parse(args[1] ?? '{}') as Record<string, any>;
  const events = () =>
    env
      .fromCollection(p.events as WindowEvent[])
      .assignTimestampsAndWatermarks(WatermarkStrategy.forBoundedOutOfOrderness<WindowEvent>(p.outOfOrder ?? 0).withTimestampAssigner((e) => e.t));
  switch (scenario) {
    case 'tumbling-sum':
      events()
        .map((e) => [e.key, e.v] as [string, number])
        .keyBy((e) => e[0])
        .window(TumblingEventTimeWindows.of(p.size ?? Time.milliseconds(10)))
        .sum(1)
        .collect();
      return;
    case 'sliding-reduce':
      events()
        .map((e) => e.v)
        .keyBy(() => 'all')
        .window(SlidingEventTimeWindows.of(p.size, p.slide))
        .reduce((a: number, b: number) => a + b, new Describe())
        .collect();
      return;
    case 'sessions':
      events()
        .keyBy((e) => e.key)
        .window(EventTimeSessionWindows.withGap(p.gap))
        .aggregate({ createAccumulator: () => 0, add: (e: WindowEvent, acc: number) => acc + e.v, getResult: (acc: number) => acc, merge: (a: number, b: number) => a + b }, new Describe())
        .collect();
      return;
    case 'exactly-once': {
      // Generated events (n, keys, rate) at one source subtask, so event time ascends (but
      // for the jitter and the late ones) also after a restore at another parallelism; every
      // window firing to a two-phase sink (output).
      env.getConfig().setAutoWatermarkInterval(50);
      const source = env
        .fromGenerator((i: number) => generatedEvent(i, p.keys), p.n, { recordsPerSecond: p.rate })
        .setParallelism(1)
        .uid('events')
        .assignTimestampsAndWatermarks(WatermarkStrategy.forBoundedOutOfOrderness<GeneratedEvent>(generated.outOfOrder).withTimestampAssigner((e) => e.t))
        .setParallelism(1)
        .uid('stamped');
      exactlyOnceWindows(source).writeAsText(p.output).uid('sink');
      return;
    }
    default:
      throw new Error(`unknown scenario ${scenario}`);
  }
});

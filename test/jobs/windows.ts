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
import type { Collector, ProcessWindowContext, ProcessWindowFunction, TimeWindow } from '../../src/index.js';

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
    default:
      throw new Error(`unknown scenario ${scenario}`);
  }
});

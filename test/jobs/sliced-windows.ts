// Job module for the sliced window test (test/task/sliced-window.test.ts). args[0] names
// the scenario, args[1] holds JSON parameters { events, size, slide, outOfOrder };
// deterministic given them.
import { SlidingEventTimeWindows, WatermarkStrategy, defineJob } from '../../src/index.js';
import type { AggregateFunction, Collector, ProcessWindowContext, ProcessWindowFunction, TimeWindow } from '../../src/index.js';

/** An event: key, event time (ms) and a value. */
export interface SliceEvent {
  key: string;
  t: number;
  v: number;
}

/** Sum and count, and how many merges made the accumulator (merge runs only on the sliced path). */
export interface MergeCountingAcc {
  sum: number;
  count: number;
  merges: number;
}

const sumCountMerges: AggregateFunction<SliceEvent, MergeCountingAcc, MergeCountingAcc> = {
  createAccumulator: () => ({ sum: 0, count: 0, merges: 0 }),
  add: (e, acc) => ({ sum: acc.sum + e.v, count: acc.count + 1, merges: acc.merges }),
  getResult: (acc) => acc,
  merge: (a, b) => ({ sum: a.sum + b.sum, count: a.count + b.count, merges: a.merges + b.merges + 1 }),
};

/** `key,start,end,value` per firing (value: the reduce's sum, or `sum/count/merged`). */
class Describe<T> implements ProcessWindowFunction<T, string, string, TimeWindow> {
  constructor(private readonly show: (value: T) => string) {}
  process(key: string, ctx: ProcessWindowContext<TimeWindow>, elements: T[], out: Collector<string>): void {
    out.collect(`${key},${ctx.window.getStart()},${ctx.window.getEnd()},${this.show(elements[0]!)}`);
  }
}

export default defineJob((env, args) => {
  const scenario = args[0];
  const p = JSON.parse(args[1] ?? '{}') as { events: SliceEvent[]; size: number; slide: number; outOfOrder: number };
  const events = env
    .fromCollection(p.events)
    .assignTimestampsAndWatermarks(WatermarkStrategy.forBoundedOutOfOrderness<SliceEvent>(p.outOfOrder).withTimestampAssigner((e) => e.t));
  const windows = SlidingEventTimeWindows.of(p.size, p.slide);
  switch (scenario) {
    case 'aggregate':
      events
        .keyBy((e) => e.key)
        .window(windows)
        .aggregate(sumCountMerges, new Describe<MergeCountingAcc>((a) => `${a.sum}/${a.count}/${a.merges > 0}`))
        .collect();
      return;
    case 'reduce':
      events
        .map((e) => [e.key, e.v] as [string, number])
        .keyBy((e) => e[0])
        .window(windows)
        .reduce((a: [string, number], b: [string, number]) => [a[0], a[1] + b[1]] as [string, number], new Describe<[string, number]>((x) => String(x[1])))
        .collect();
      return;
    default:
      throw new Error(`unknown scenario ${scenario}`);
  }
});

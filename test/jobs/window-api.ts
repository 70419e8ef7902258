// Job modules for the window API end to end (test/engine/window-api.test.ts): the seeds'
// windowed word count, count windows, windowAll, field aggregations and apply, as a user
// writes them. args[0] names the scenario, args[1] holds JSON parameters.
import { OutputTag, Time, TumblingEventTimeWindows, WatermarkStrategy, defineJob } from '../../src/index.js';
import type { Collector, TimeWindow } from '../../src/index.js';

/** A reading: sensor, event time (ms) and value. */
export interface Reading {
  sensor: string;
  t: number;
  value: number;
}

export default defineJob((env, args) => {
  const scenario = args[0];
  const p = JSON.parse(args[1] ?? '{}') as Record<string, any>;
  const readings = () =>
    env
      .fromCollection(p.readings as Reading[])
      .assignTimestampsAndWatermarks(WatermarkStrategy.forBoundedOutOfOrderness<Reading>(p.outOfOrder ?? 0).withTimestampAssigner((r) => r.t));
  switch (scenario) {
    case 'word-count': {
      // The seeds' program: text.flatMap(split).keyBy(word).timeWindow(5 s).sum(1), with
      // each line's event time.
      env
        .fromCollection(p.lines as Array<{ t: number; text: string }>)
        .assignTimestampsAndWatermarks(WatermarkStrategy.forMonotonousTimestamps<{ t: number; text: string }>().withTimestampAssigner((l) => l.t))
        .flatMap((l: { t: number; text: string }, out: Collector<[string, number]>) => {
          for (const w of l.text.split(/\s+/)) if (w !== '') out.collect([w, 1]);
        })
        .keyBy((x) => x[0])
        .timeWindow(Time.seconds(5))
        .sum(1)
        .collect();
      return;
    }
    case 'count-window':
      env
        .fromCollection(p.readings as Reading[])
        .keyBy((r) => r.sensor)
        .countWindow(p.size, p.slide)
        .apply((key: string, _w, elements: Reading[], out: Collector<[string, number[]]>) => out.collect([key, elements.map((r) => r.value)]))
        .collect();
      return;
    case 'window-all':
      readings()
        .windowAll(TumblingEventTimeWindows.of(p.size))
        .process({
          process: (ctx, elements: Reading[], out: Collector<[number, number, number]>) => {
            const w = ctx.window as TimeWindow;
            out.collect([w.getStart(), elements.length, elements.reduce((s, r) => s + r.value, 0)]);
          },
        })
        .collect();
      return;
    case 'field-aggregations': {
      const windowed = () => readings().keyBy((r) => r.sensor).window(TumblingEventTimeWindows.of(p.size));
      const tag = (name: string) => (r: Reading): [string, string, number, number] => [name, r.sensor, r.t, r.value];
      windowed()
        .min('value')
        .map(tag('min'))
        .union(
          windowed().max('value').map(tag('max')),
          windowed().minBy('value').map(tag('minBy')),
          windowed().maxBy('value').map(tag('maxBy')),
          windowed().sum('value').map(tag('sum')),
        )
        .collect();
      return;
    }
    case 'late-data': {
      // Punctuated watermarks (one per reading, at its time; run at parallelism 1), so what is late is exact;
      // late readings go to a side output when p.sideOutput, else they are dropped and counted.
      const windowed = env
        .fromCollection(p.readings as Reading[])
        .assignTimestampsAndWatermarks(
          WatermarkStrategy.forGenerator<Reading>(() => ({ onEvent: (_r, ts, out) => out.emitWatermark(ts), onPeriodicEmit: () => {} })).withTimestampAssigner((r) => r.t),
        )
        .keyBy((r) => r.sensor)
        .window(TumblingEventTimeWindows.of(p.size))
        .allowedLateness(p.lateness);
      const lateTag = new OutputTag<Reading>('late-readings');
      if (p.sideOutput) windowed.sideOutputLateData(lateTag);
      const sums = windowed.sum('value').uid('window');
      const tagged = sums.map((r): [string, number, number] => ['sum', r.t, r.value]);
      if (p.sideOutput) tagged.union(sums.getSideOutput(lateTag).map((r): [string, number, number] => ['late', r.t, r.value])).collect();
      else tagged.collect();
      return;
    }
    default:
      throw new Error(`unknown scenario ${scenario}`);
  }
});

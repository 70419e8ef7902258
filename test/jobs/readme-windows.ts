// The README's "Windows" example, as it is printed there from the first import on (with
// 'sluicegate' for '../../src/index.js'); kept in step by test/engine/readme-windows.test.ts,
// which also runs it.
import { join } from 'node:path';
import { OutputTag, Time, TumblingEventTimeWindows, WatermarkStrategy, defineJob } from '../../src/index.js';
import type { AggregateFunction, Collector } from '../../src/index.js';

interface Reading { sensor: string; at: number; value: number }   // at: ms since the epoch

const mean: AggregateFunction<Reading, [number, number], number> = {  // one [count, sum] per window
  createAccumulator: () => [0, 0],
  add: (r, [n, sum]) => [n + 1, sum + r.value],
  getResult: ([n, sum]) => sum / n,
  merge: ([n1, s1], [n2, s2]) => [n1 + n2, s1 + s2],              // for windows that merge (sessions)
};
const tooLate = new OutputTag<Reading>('too-late');

export default defineJob((env, args) => {
  const readings = env
    .readJsonLines<Reading>(args[0]!)
    .assignTimestampsAndWatermarks(WatermarkStrategy.forBoundedOutOfOrderness<Reading>(Time.seconds(5)).withTimestampAssigner((r) => r.at));
  const perSensor = readings
    .keyBy((r) => r.sensor)
    .window(TumblingEventTimeWindows.of(Time.minutes(1)))          // [12:00, 12:01), [12:01, 12:02), ...
    .allowedLateness(Time.minutes(1))                              // a late reading fires its minute again
    .sideOutputLateData(tooLate)                                   // later ones come out here
    .aggregate(mean, {                                             // each window's mean, with the window
      process(sensor, ctx, [m], out: Collector<string>) { out.collect(`${sensor}\t${ctx.window.getStart()}\t${m}`); },
    });
  perSensor.writeAsText(join(args[1]!, 'per-sensor'));
  perSensor.getSideOutput(tooLate).writeAsJsonLines(join(args[1]!, 'too-late'));
  readings
    .windowAll(TumblingEventTimeWindows.of(Time.minutes(1)))       // all sensors, in one subtask
    .aggregate(mean, { process(ctx, [m], out: Collector<string>) { out.collect(`${ctx.window.getStart()}\t${m}`); } })
    .writeAsText(join(args[1]!, 'all'));
});

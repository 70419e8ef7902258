// Job modules for the window error tests: session windows whose gap extractor returns
// what args[1] says (JSON; the string "NaN" stands for NaN). Deterministic given them.
import { EventTimeSessionWindows, ProcessingTimeSessionWindows, WatermarkStrategy, defineJob } from '../../src/index.js';

/** An element: key, event time (ms), and the gap its extractor returns. */
export interface GapEvent {
  key: string;
  t: number;
  gap: unknown;
}

const gapOf = (e: GapEvent): number => (e.gap === 'NaN' ? NaN : (e.gap as number));

export default defineJob((env, args) => {
  const scenario = args[0];
  const events = JSON.parse(args[1] ?? '[]') as GapEvent[];
  const stream = env.fromCollection(events).assignTimestampsAndWatermarks(WatermarkStrategy.forMonotonousTimestamps<GapEvent>().withTimestampAssigner((e) => e.t));
  const assigner =
    scenario === 'event-time' ? EventTimeSessionWindows.withDynamicGap(gapOf)
    : scenario === 'processing-time' ? ProcessingTimeSessionWindows.withDynamicGap({ extract: gapOf })
    : undefined;
  if (assigner === undefined) throw new Error(`unknown scenario ${scenario}`);
  stream
    .keyBy((e) => e.key)
    .window(assigner)
    .process<string>({ process: (key, _ctx, elements, out) => out.collect(`${key}:${elements.length}`) })
    .name('Sessions')
    .collect();
});

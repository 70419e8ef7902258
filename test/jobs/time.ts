// Job modules for the event-time tests: timestamps, watermarks, timers, side outputs.
// args[0] names the scenario, args[1] holds JSON parameters; deterministic given them.
import { OutputTag, WatermarkStrategy, defineJob } from '../../src/index.js';
import type { Collector, KeyedContext, KeyedProcessFunction, OnTimerContext, ProcessContext, RuntimeContext, ValueState } from '../../src/index.js';

export interface TimedEvent {
  key: string;
  t: number;
}

/** Registers an event-time timer `delay` after each event; onTimer emits what fired. */
export class DelayTimers implements KeyedProcessFunction<string, TimedEvent, unknown[]> {
  constructor(private readonly delay: number) {}
  processElement(e: TimedEvent, ctx: KeyedContext<string>, out: Collector<unknown[]>): void {
    ctx.timerService().registerEventTimeTimer(e.t + this.delay);
    out.collect(['event', e.key, e.t, ctx.timestamp()]);
  }
  onTimer(timestamp: number, ctx: OnTimerContext<string>, out: Collector<unknown[]>): void {
    out.collect(['timer', ctx.getCurrentKey(), timestamp, ctx.timeDomain(), ctx.timerService().currentWatermark(), ctx.timestamp()]);
  }
}

export const late = new OutputTag<TimedEvent>('late');

export default defineJob((env, args) => {
  const scenario = args[0];
  const p = JSON.parse(args[1] ?? '{}') as Record<string, any>;
  switch (scenario) {
    case 'event-timers': {
      env
        .fromCollection(p.events as TimedEvent[])
        .assignTimestampsAndWatermarks(WatermarkStrategy.forBoundedOutOfOrderness<TimedEvent>(p.outOfOrder ?? 0).withTimestampAssigner((e) => e.t))
        .keyBy((e: TimedEvent) => e.key)
        .process(new DelayTimers(p.delay ?? 10))
        .uid('timers')
        .collect();
      return;
    }
    default:
      throw new Error(`unknown scenario ${String(scenario)}`);
  }
});

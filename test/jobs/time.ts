// Job modules for the event-time tests: timestamps, watermarks, timers, side outputs.
// args[0] names the scenario, args[1] holds JSON parameters; deterministic given them.
import { OutputTag, WatermarkStrategy, defineJob } from '../../src/index.js';
import type { Collector, KeyedContext, KeyedProcessFunction, OnTimerContext, ProcessContext, RuntimeContext, ValueState } from '../../src/index.js';

export interface TimedEvent {
  key: string;
  t: number;
}

/** Reports a record at or behind the watermark ('late'), and fires a timer at each record's time. */
export class LatenessCheck implements KeyedProcessFunction<string, TimedEvent, unknown[]> {
  processElement(e: TimedEvent, ctx: KeyedContext<string>, out: Collector<unknown[]>): void {
    const watermark = ctx.timerService().currentWatermark();
    if (e.t <= watermark) out.collect(['late', e.key, e.t, watermark]);
    ctx.timerService().registerEventTimeTimer(e.t);
  }
  onTimer(timestamp: number, ctx: OnTimerContext<string>, out: Collector<unknown[]>): void {
    out.collect(['timer', ctx.getCurrentKey(), timestamp, ctx.timerService().currentWatermark() >= timestamp]);
  }
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

export const rejected = new OutputTag<number>('rejected');

/** One line per timer firing: `key<TAB>timestamp<TAB>watermark at firing >= timestamp`. */
export class FiringLog implements KeyedProcessFunction<string, TimedEvent, string> {
  constructor(private readonly delay: number) {}
  processElement(e: TimedEvent, ctx: KeyedContext<string>): void {
    ctx.timerService().registerEventTimeTimer(e.t + this.delay);
  }
  onTimer(timestamp: number, ctx: OnTimerContext<string>, out: Collector<string>): void {
    out.collect(`${ctx.getCurrentKey()}\t${timestamp}\t${ctx.timerService().currentWatermark() >= timestamp}\t${ctx.timestamp() === timestamp}`);
  }
}

/** A processing-time timer `delay` ms after each key's first record, then every `delay` ms. */
export class ProcessingTimers implements KeyedProcessFunction<string, TimedEvent, unknown[]> {
  private armed!: ValueState<boolean>;
  constructor(private readonly delay: number) {}
  open(ctx: RuntimeContext): void {
    this.armed = ctx.getState<boolean>({ name: 'armed' });
  }
  processElement(_e: TimedEvent, ctx: KeyedContext<string>): void {
    if (this.armed.value() === true) return;
    this.armed.update(true);
    ctx.timerService().registerProcessingTimeTimer(ctx.timerService().currentProcessingTime() + this.delay);
  }
  onTimer(timestamp: number, ctx: OnTimerContext<string>, out: Collector<unknown[]>): void {
    const now = ctx.timerService().currentProcessingTime();
    out.collect([ctx.getCurrentKey(), timestamp, now >= timestamp, ctx.timeDomain(), ctx.timestamp() === undefined]);
    ctx.timerService().registerProcessingTimeTimer(timestamp + this.delay);
  }
}

/** Routes negative numbers to the `rejected` side output. */
export class Validate {
  processElement(x: number, ctx: ProcessContext, out: Collector<number>): void {
    if (x < 0) ctx.output(rejected, x);
    else out.collect(x);
  }
}

/** Event timers at each event's time + 1, and a line at the end of input: after every timer. */
export class TimersThenEnd implements KeyedProcessFunction<string, TimedEvent, string> {
  private seen!: ValueState<number>;
  open(ctx: RuntimeContext): void {
    this.seen = ctx.getState<number>({ name: 'seen', defaultValue: 0 });
  }
  processElement(e: TimedEvent, ctx: KeyedContext<string>): void {
    this.seen.update(this.seen.value()! + 1);
    ctx.timerService().registerEventTimeTimer(e.t + 1);
  }
  onTimer(timestamp: number, ctx: OnTimerContext<string>, out: Collector<string>): void {
    out.collect(`timer ${ctx.getCurrentKey()} ${timestamp}`);
  }
  endInput(out: Collector<string>, ctx: { applyToAllKeys(name: string, fn: (key: string) => void): void }): void {
    ctx.applyToAllKeys('seen', (key) => out.collect(`end ${key} ${this.seen.value()}`));
  }
}

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
    case 'generated-timers': {
      // Events i = 0..n-1 with event time i, key i % keys; each registers a timer at
      // t + delay; the timers' firings go to a two-phase sink (exactly once).
      env.getConfig().setAutoWatermarkInterval(50);
      const events = env
        .fromGenerator((i: number): TimedEvent => ({ key: `k${i % p.keys}`, t: i }), p.n, p.rate === undefined ? {} : { recordsPerSecond: p.rate })
        .uid('events')
        .assignTimestampsAndWatermarks(WatermarkStrategy.forBoundedOutOfOrderness<TimedEvent>(p.outOfOrder ?? 0).withTimestampAssigner((e) => e.t))
        .uid('stamped');
      const fired = events.keyBy((e: TimedEvent) => e.key).process(new FiringLog(p.delay ?? 5)).uid('timers');
      if (p.output !== undefined) fired.writeAsText(p.output).uid('sink');
      else fired.collect();
      return;
    }
    case 'processing-timers': {
      env
        .fromGenerator((i: number): TimedEvent => ({ key: `k${i % p.keys}`, t: i }), Infinity, { recordsPerSecond: p.rate })
        .keyBy((e: TimedEvent) => e.key)
        .process(new ProcessingTimers(p.delay))
        .uid('proc')
        .collect();
      return;
    }
    case 'side-outputs': {
      // Bad records (negative) go to a side output instead of failing the job; the side
      // output is shuffled by key and written like any stream.
      const parsed = env
        .fromGenerator((i: number) => (i % p.badEvery === 0 ? -i - 1 : i), p.n)
        .uid('numbers')
        .process(new Validate());
      parsed.uid('validate').writeAsText(p.good).uid('good-sink');
      parsed
        .getSideOutput(rejected)
        .keyBy((x: number) => x % 7)
        .map((x: number) => `rejected ${x}`)
        .writeAsText(p.bad)
        .uid('bad-sink');
      return;
    }
    case 'bad-timestamps': {
      env
        .fromCollection([{ key: 'a', t: 1 }, { key: 'b', t: Number.NaN }])
        .assignTimestampsAndWatermarks(WatermarkStrategy.forMonotonousTimestamps<TimedEvent>().withTimestampAssigner((e) => e.t))
        .name('Stamp events')
        .collect();
      return;
    }
    case 'timer-without-key': {
      env
        .fromCollection([1, 2, 3])
        .process({
          processElement(x: number, ctx: ProcessContext, out: Collector<number>) {
            ctx.timerService().registerEventTimeTimer(x);
            out.collect(x);
          },
        })
        .name('Unkeyed timers')
        .collect();
      return;
    }
    case 'end-input-after-timers': {
      env
        .fromCollection(p.events as TimedEvent[])
        .assignTimestampsAndWatermarks(WatermarkStrategy.forMonotonousTimestamps<TimedEvent>().withTimestampAssigner((e) => e.t))
        .keyBy((e: TimedEvent) => e.key)
        .process(new TimersThenEnd())
        .collect();
      return;
    }
    case 'random-dag': {
      // Sources of monotonous event time (each subtask's range ascends), unioned, through an
      // optional middle stage (rebalance, keyBy or forward), into a keyed check that counts
      // late records and fires one timer per record. Shapes and parallelisms from params.
      env.getConfig().setAutoWatermarkInterval(20);
      const streams = (p.sources as Array<{ n: number; p: number; stride: number; idleMs?: number }>).map((src, k) => {
        let strategy = WatermarkStrategy.forMonotonousTimestamps<TimedEvent>().withTimestampAssigner((e) => e.t);
        if (src.idleMs !== undefined) strategy = strategy.withIdleness(src.idleMs);
        return env
          .fromGenerator((i: number): TimedEvent => ({ key: `k${(i * 7 + k) % p.keys}`, t: i * src.stride }), src.n, { recordsPerSecond: p.rate })
          .setParallelism(src.p)
          .assignTimestampsAndWatermarks(strategy)
          .setParallelism(src.p);
      });
      let merged = streams[0]!.union(...streams.slice(1));
      if (p.middle === 'rebalance') merged = merged.rebalance().map((e: TimedEvent) => e).setParallelism(p.pMiddle);
      else if (p.middle === 'keyBy') merged = merged.keyBy((e: TimedEvent) => e.key).map((e: TimedEvent) => e).setParallelism(p.pMiddle);
      merged
        .keyBy((e: TimedEvent) => e.key)
        .process(new LatenessCheck())
        .setParallelism(p.pFinal)
        .collect();
      return;
    }
    default:
      throw new Error(`unknown scenario ${String(scenario)}`);
  }
});

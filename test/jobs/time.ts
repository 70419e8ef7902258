// Job modules for the event-time tests: timestamps, watermarks, timers, side outputs.
// args[0] names the scenario, args[1] holds JSON parameters; deterministic given them.
import { Boundedness, OutputTag, SplitRequests, WatermarkStrategy, defineJob } from '../../src/index.js';
import type {
  Collector,
  KeyedContext,
  KeyedProcessFunction,
  OnTimerContext,
  ProcessContext,
  RuntimeContext,
  Source,
  SourceReader,
  SourceReaderContext,
  SourceSplit,
  SplitEnumeratorContext,
  ValueState,
} from '../../src/index.js';

export interface TimedEvent {
  key: string;
  t: number;
}

/**
 * Split k emits events at times 0, k+1, 2(k+1), ... (split 0 is slow in event time, the
 * last fast); the reader takes turns among its splits, one record each, through each
 * split's own output.
 */
export class SkewedSplits implements Source<TimedEvent, SourceSplit & { next: number; end: number }, { pending: Array<SourceSplit & { next: number; end: number }> }> {
  readonly boundedness = Boundedness.BOUNDED;
  constructor(
    private readonly splits: number,
    private readonly n: number,
    /** false: every record through the reader's single output (no split-aware watermarks). */
    private readonly perSplit = true,
  ) {}
  createEnumerator(ctx: SplitEnumeratorContext<SourceSplit & { next: number; end: number }>) {
    return this.restoreEnumerator(ctx, { pending: Array.from({ length: this.splits }, (_, k) => ({ splitId: `s${k}`, next: 0, end: this.n })) });
  }
  restoreEnumerator(ctx: SplitEnumeratorContext<SourceSplit & { next: number; end: number }>, state: { pending: Array<SourceSplit & { next: number; end: number }> }) {
    const pending = [...state.pending];
    return {
      start() {},
      addReader(reader: number) {
        ctx.assignSplits(new Map([[reader, pending.splice(0)]]));
      },
      handleSplitRequest(reader: number) {
        ctx.signalNoMoreSplits(reader);
      },
      snapshotState: () => ({ pending: [...pending] }),
      close() {},
    };
  }
  createReader(ctx: SourceReaderContext): SourceReader<TimedEvent, SourceSplit & { next: number; end: number }> {
    const splits: Array<SourceSplit & { next: number; end: number }> = [];
    const requests = new SplitRequests(ctx);
    let turn = 0;
    const perSplit = this.perSplit;
    return {
      start() {},
      close() {},
      addSplits(s) {
        splits.push(...s);
        requests.splitsAdded();
      },
      notifyNoMoreSplits: () => requests.noMore(),
      pollNext(output) {
        if (splits.length === 0) return requests.noSplit();
        turn = (turn + 1) % splits.length;
        const split = splits[turn]!;
        const k = Number(split.splitId.slice(1));
        const out = perSplit ? output.createOutputForSplit!(split.splitId) : output;
        out.collect({ key: `k${split.next % 5}`, t: split.next * (k + 1) });
        if (++split.next >= split.end) {
          splits.splice(turn, 1);
          output.releaseOutputForSplit!(split.splitId);
        }
        return 'more';
      },
      isAvailable: () => requests.available.promise(),
      snapshotState: () => splits.map((s) => ({ ...s })),
    };
  }
}

/** One processing-time timer per key, `delay` ms after its first record; reports when it fired. */
export class OneProcessingTimer implements KeyedProcessFunction<string, TimedEvent, unknown[]> {
  private armed!: ValueState<number>;
  constructor(private readonly delay: number) {}
  open(ctx: RuntimeContext): void {
    this.armed = ctx.getState<number>({ name: 'armed' });
  }
  processElement(_e: TimedEvent, ctx: KeyedContext<string>, out: Collector<unknown[]>): void {
    if (this.armed.value() !== undefined) return;
    const at = ctx.timerService().currentProcessingTime() + this.delay;
    this.armed.update(at);
    ctx.timerService().registerProcessingTimeTimer(at);
    out.collect(['registered', ctx.getCurrentKey(), at]);
  }
  onTimer(timestamp: number, ctx: OnTimerContext<string>, out: Collector<unknown[]>): void {
    out.collect(['fired', ctx.getCurrentKey(), timestamp, ctx.timerService().currentProcessingTime()]);
  }
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
    case 'split-watermarks': {
      // A user source whose splits run at different speeds in event time; per split
      // watermarks keep the fast split from making the slow one's records late. The
      // watermarks are punctuated (monotonous timestamps, one watermark per record), so
      // lateness does not hang on when a periodic watermark falls.
      const punctuated = WatermarkStrategy.forGenerator<TimedEvent>(() => ({
        onEvent: (_e, ts, out) => out.emitWatermark(ts - 1),
        onPeriodicEmit: () => {},
      })).withTimestampAssigner((e) => e.t);
      env
        .fromSource(new SkewedSplits(p.splits, p.n, p.perSplit !== false), punctuated, 'Skewed')
        .setParallelism(1)
        .keyBy((e: TimedEvent) => e.key)
        .process(new LatenessCheck())
        .collect();
      return;
    }
    case 'processing-timers-restore': {
      // One processing-time timer per key, `delay` ms after its record: an unbounded slow
      // source, stopped before they are due and restored after.
      env
        .fromGenerator((i: number): TimedEvent => ({ key: `k${i % p.keys}`, t: i }), Infinity, { recordsPerSecond: p.rate })
        .uid('events')
        .keyBy((e: TimedEvent) => e.key)
        .process(new OneProcessingTimer(p.delay))
        .uid('proc')
        .collect();
      return;
    }
    case 'bounded-processing-timers': {
      env
        .fromCollection(['a', 'b', 'c'].map((key, t) => ({ key, t })))
        .keyBy((e: TimedEvent) => e.key)
        .process(new OneProcessingTimer(p.delay))
        .collect();
      return;
    }
    case 'side-outputs-exactly-once': {
      const validated = env
        .fromGenerator((i: number) => (i % p.badEvery === 0 ? -i - 1 : i), p.n, { recordsPerSecond: p.rate })
        .uid('numbers')
        .process(new Validate())
        .uid('validate');
      validated.writeAsText(p.good).uid('good-sink');
      validated.getSideOutput(rejected).keyBy((x: number) => x % 7).map((x: number) => `rejected ${x}`).uid('label').writeAsText(p.bad).uid('bad-sink');
      return;
    }
    default:
      throw new Error(`unknown scenario ${String(scenario)}`);
  }
});

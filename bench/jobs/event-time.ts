/**
 * Benchmark job for bench/time.bench.ts: a keyed rolling count with and without event
 * time, on the same input.
 *
 *   args: --mode plain|map|stamped|watermarks|timers --count <n> --keys <n> --sources <p>
 *
 * `fromGenerator` (parallelism `--sources`, one contiguous range of indexes each) emits
 * `{ k: i % keys, t }` -> keyBy(k) -> a KeyedProcessFunction counting per key in a
 * ValueState and emitting each new count -> a sink that drops everything.
 *
 * - `plain`: no timestamps, no watermarks.
 * - `map`: as plain, plus a chained `map(r => r)` where the others assign timestamps (the
 *   cost of one more chained operator; for the breakdown only).
 * - `stamped`: `WatermarkStrategy.noWatermarks().withTimestampAssigner(r => r.t)`: the
 *   timestamps are assigned and travel, but no watermark is generated (breakdown only).
 * - `watermarks`: `assignTimestampsAndWatermarks(forBoundedOutOfOrderness(1000)
 *   .withTimestampAssigner(r => r.t))` chained to the source, watermarks every 200 ms of
 *   processing time (the default interval).
 * - `timers`: the same, and the count function registers an event-time timer at the end of
 *   each second of event time a key sees records in (once per key and second: a second
 *   ValueState holds the last second registered); `onTimer` emits the key's count.
 *
 * Event time: each source subtask's j-th record (j counts from 0 in its own range) is at
 * `baseMs + floor(j / recordsPerEventMs)`, minus up to 444 ms of jitter, so both subtasks
 * move through event time at the same pace and the watermark (their minimum, downstream)
 * keeps up with both: timers fire while the job runs, not all at the end. At 100 records
 * per ms, one subtask's 2M records span 20 s of event time; each key sees 10 records of a
 * subtask per second, so timers come to one per 20 records at `--sources 2`.
 */
import { parseArgs } from 'node:util';
import { WatermarkStrategy, defineJob } from '../../src/index.js';
import type { Collector, KeyedContext, KeyedProcessFunction, OnTimerContext, RuntimeContext, ValueState } from '../../src/index.js';

/** A generated record: key and event time (ms since the epoch). */
export interface TimedRecord {
  k: number;
  t: number;
}

export const eventTimeModes = ['plain', 'map', 'stamped', 'watermarks', 'timers'] as const;
export type EventTimeMode = (typeof eventTimeModes)[number];

/** Event time of a subtask's first record, ms since the epoch (2026-01-01). */
const baseMs = Date.UTC(2026, 0, 1);
/** Records per ms of event time, per source subtask. */
export const recordsPerEventMs = 100;
/** Jitter: record j is `(j % 13) * 37` ms late, at most 444 ms, under the strategy's bound. */
const jitterSteps = 13;
const jitterStepMs = 37;
/** Bounded out-of-orderness of the strategy, ms. */
const outOfOrdernessMs = 1000;

/** Counts per key and emits each new count; in `timers` mode also one timer per key and second. */
class RollingCount implements KeyedProcessFunction<number, TimedRecord, number> {
  private count!: ValueState<number>;
  private timerSecond!: ValueState<number>;

  constructor(private readonly timers: boolean) {}

  open(ctx: RuntimeContext): void {
    this.count = ctx.getState<number>({ name: 'count' });
    this.timerSecond = ctx.getState<number>({ name: 'timer-second' });
  }

  processElement(record: TimedRecord, ctx: KeyedContext<number>, out: Collector<number>): void {
    const count = (this.count.value() ?? 0) + 1;
    this.count.update(count);
    out.collect(count);
    if (!this.timers) return;
    const second = Math.floor(record.t / 1000);
    // Once per key and second: a late record of an earlier second registers nothing.
    if (second > (this.timerSecond.value() ?? -Infinity)) {
      this.timerSecond.update(second);
      ctx.timerService().registerEventTimeTimer(second * 1000 + 999);
    }
  }

  onTimer(_timestampMs: number, _ctx: OnTimerContext<number>, out: Collector<number>): void {
    out.collect(this.count.value() ?? 0);
  }
}

function integerArg(name: string, text: string | undefined, min: number): number {
  const value = Number(text);
  if (text === undefined || !Number.isSafeInteger(value) || value < min) {
    throw new RangeError(`event-time job needs --${name} <integer >= ${min}>, got ${String(text)}`);
  }
  return value;
}

export default defineJob((env, args) => {
  const { values } = parseArgs({
    args: [...args],
    options: { mode: { type: 'string' }, count: { type: 'string' }, keys: { type: 'string' }, sources: { type: 'string' } },
    strict: true,
  });
  const mode = values.mode as EventTimeMode;
  if (!eventTimeModes.includes(mode)) throw new RangeError(`event-time job needs --mode ${eventTimeModes.join('|')}, got ${String(values.mode)}`);
  const count = integerArg('count', values.count, 1);
  const keys = integerArg('keys', values.keys, 1);
  const sources = integerArg('sources', values.sources, 1);
  // Equal contiguous ranges, so the index within a subtask's range is i % perSource.
  if (count % sources !== 0) throw new RangeError(`event-time job: --count ${count} must be a multiple of --sources ${sources}`);
  const perSource = count / sources;
  const generated = env
    .fromGenerator((i): TimedRecord => {
      const j = i % perSource;
      return { k: i % keys, t: baseMs + Math.floor(j / recordsPerEventMs) - (j % jitterSteps) * jitterStepMs };
    }, count)
    .setParallelism(sources)
    .name('Records');
  const stamped =
    mode === 'plain'
      ? generated
      : mode === 'map'
        ? generated.map((r) => r)
        : mode === 'stamped'
          ? generated.assignTimestampsAndWatermarks(WatermarkStrategy.noWatermarks<TimedRecord>().withTimestampAssigner((r) => r.t))
          : generated.assignTimestampsAndWatermarks(WatermarkStrategy.forBoundedOutOfOrderness<TimedRecord>(outOfOrdernessMs).withTimestampAssigner((r) => r.t));
  stamped
    .keyBy((r) => r.k)
    .process(new RollingCount(mode === 'timers'))
    .name('Rolling count')
    .uid('count')
    .addSink(() => undefined)
    .name('Discard');
});

/**
 * `WindowedStream` (`keyedStream.window(assigner)`) and `AllWindowedStream`
 * (`stream.windowAll(assigner)`): Flink's builders of a window operator. Set the trigger,
 * evictor and lateness, then end with a window function (`reduce`, `aggregate`,
 * `process`, `apply`, `sum`, `min`, `max`, `minBy`, `maxBy`), which adds the operator.
 * The operator is task/window-operator.ts; semantics are Flink's (see docs/windows.md).
 */
import type { Collector } from './functions.js';
import { normalizeFunction } from './functions.js';
import { OutputTag } from './output-tag.js';
import type { OperatorSpec } from './plan.js';
import type { SingleOutputStream } from './data-stream.js';
import { maxByReducer, maxReducer, minByReducer, minReducer, sumReducer } from './field-aggregations.js';
import type { Field } from './field-aggregations.js';
import type { ReduceFunction } from './functions.js';
import type { AggregateFunction } from '../state/api.js';
import { isMergingAssigner } from '../time/windows/api.js';
import type {
  AllWindowFunction,
  Evictor,
  ProcessAllWindowFunction,
  ProcessWindowFunction,
  Trigger,
  Window,
  WindowAssigner,
  WindowFunction,
} from '../time/windows/api.js';
import type { WindowFunctionSpec, WindowSpec } from '../time/windows/spec.js';

/** Adds the window operator to the plan (given by the stream that was windowed). */
export type AddWindowOperator = <OUT>(name: string, op: OperatorSpec) => SingleOutputStream<OUT>;

function checkAssigner(assigner: unknown, what: string): asserts assigner is WindowAssigner<unknown, Window> {
  const a = assigner as Partial<WindowAssigner<unknown, Window>> | null;
  if (a === null || typeof a !== 'object' || typeof a.assignWindows !== 'function' || typeof a.getDefaultTrigger !== 'function' || typeof a.isEventTime !== 'function' || typeof a.windowOf !== 'function') {
    throw new TypeError(`${what} expects a WindowAssigner, e.g. TumblingEventTimeWindows.of(Time.seconds(5))`);
  }
}

function checkProcess(fn: unknown, what: string): void {
  if (fn === undefined) return;
  if (fn === null || typeof fn !== 'object' || typeof (fn as { process?: unknown }).process !== 'function') {
    throw new TypeError(`${what} expects a window function object with process(...)`);
  }
}

/** Common builder state of keyed and all-window streams. */
abstract class WindowBuilder<T, W extends Window> {
  protected triggerValue: Trigger<T, W> | undefined;
  protected evictorValue: Evictor<T, W> | undefined;
  protected latenessMs = 0;
  protected lateTag: string | undefined;

  /** @internal */
  constructor(
    protected readonly assigner: WindowAssigner<T, W>,
    protected readonly add: AddWindowOperator,
    private readonly all: boolean,
  ) {
    checkAssigner(assigner, all ? 'windowAll()' : 'window()');
  }

  /**
   * Replaces the assigner's default trigger. Merging assigners (sessions) need a trigger
   * whose `canMerge()` is true. Flink: `WindowedStream.trigger`.
   * @throws TypeError for anything but a Trigger, or one that cannot merge on a merging assigner.
   */
  trigger(trigger: Trigger<T, W>): this {
    const t = trigger as Partial<Trigger<T, W>> | null;
    if (t === null || typeof t !== 'object' || typeof t.onElement !== 'function' || typeof t.onEventTime !== 'function' || typeof t.onProcessingTime !== 'function' || typeof t.clear !== 'function') {
      throw new TypeError('trigger() expects a Trigger (onElement, onEventTime, onProcessingTime, canMerge, onMerge, clear), e.g. CountTrigger.of(100)');
    }
    if (isMergingAssigner(this.assigner)) {
      const canMerge = typeof t.canMerge === 'function' ? t.canMerge() : undefined;
      if (canMerge !== true) {
        const own = String(trigger);
        const name = own === '[object Object]' ? 'the trigger' : own;
        const why = t.canMerge === undefined ? 'has no canMerge()' : `canMerge() returned ${String(canMerge)}`;
        throw new TypeError(`trigger(): ${name} cannot merge (${why}), and ${String(this.assigner)} merges windows: use a trigger whose canMerge() returns true and whose onMerge() merges its state`);
      }
    }
    this.triggerValue = trigger;
    return this;
  }

  /** Removes elements before and/or after the window function runs. Flink: `WindowedStream.evictor`. */
  evictor(evictor: Evictor<T, W>): this {
    const e = evictor as Partial<Evictor<T, W>> | null;
    if (e === null || typeof e !== 'object' || typeof e.evictBefore !== 'function' || typeof e.evictAfter !== 'function') {
      throw new TypeError('evictor() expects an Evictor (evictBefore, evictAfter), e.g. CountEvictor.of(10)');
    }
    this.evictorValue = evictor;
    return this;
  }

  /**
   * How long after the watermark passes a window's end its elements are still accepted,
   * ms (>= 0, default 0). A late element within it adds to the window and, with the event
   * time trigger, fires it again; the window's state is cleared at `maxTimestamp +
   * lateness`. Event-time windows only: processing-time windows accept it and ignore it
   * (no element is late, and they are cleared at their end), as Flink does since FLINK-5247.
   * @throws RangeError for a negative or non-integer value.
   */
  allowedLateness(ms: number): this {
    if (typeof ms !== 'number' || !Number.isSafeInteger(ms) || ms < 0) {
      throw new RangeError(`allowedLateness() expects an integer number of ms >= 0, got ${String(ms)}`);
    }
    this.latenessMs = ms;
    return this;
  }

  /**
   * Elements later than the allowed lateness go to side output `tag` (read it with
   * `getSideOutput(tag)` on the window's result stream) instead of being dropped.
   * Flink: `sideOutputLateData`.
   */
  sideOutputLateData(tag: OutputTag<T>): this {
    if (!(tag instanceof OutputTag)) throw new TypeError('sideOutputLateData() expects an OutputTag');
    this.lateTag = tag.id;
    return this;
  }

  /** @internal Adds the operator. */
  protected build<OUT>(name: string, fn: WindowFunctionSpec): SingleOutputStream<OUT> {
    if (isMergingAssigner(this.assigner) && fn.kind === 'aggregate' && typeof fn.aggregate.merge !== 'function' && this.evictorValue === undefined) {
      throw new TypeError(`aggregate() on ${String(this.assigner)}: the AggregateFunction has no merge(a, b), and merging windows merge their accumulators: add merge(a, b)`);
    }
    const spec: WindowSpec = {
      assigner: this.assigner as WindowAssigner<any, Window>,
      trigger: this.triggerValue as Trigger<any, Window> | undefined,
      evictor: this.evictorValue as Evictor<any, Window> | undefined,
      allowedLatenessMs: this.latenessMs,
      lateDataTag: this.lateTag,
      fn,
      all: this.all,
    };
    return this.add<OUT>(`${name}(${String(this.assigner)})`, { kind: 'window', spec });
  }

  protected reduceSpec(fn: ReduceFunction<T>, process: ProcessWindowFunction<T, any, any, W> | undefined): WindowFunctionSpec {
    if (typeof fn !== 'function') throw new TypeError('reduce() expects a function (accumulated, value) => value');
    checkProcess(process, 'reduce()');
    return { kind: 'reduce', reduce: fn, process: process as ProcessWindowFunction<any, any, any, any> | undefined };
  }

  /**
   * A field aggregation (`sum`, `min`, `max`, `minBy`, `maxBy`). On a field it keeps the
   * first element's other fields (or the first of equals): order-sensitive, so it is not
   * sliced. On the record itself (numbers, bigints, strings) the order does not matter.
   */
  protected fieldSpec(fn: ReduceFunction<T>, field: Field): WindowFunctionSpec {
    return { kind: 'reduce', reduce: fn, orderSensitive: field !== undefined };
  }

  protected aggregateSpec(fn: AggregateFunction<T, any, any>, process: ProcessWindowFunction<any, any, any, W> | undefined): WindowFunctionSpec {
    const f = fn as Partial<AggregateFunction<T, any, any>> | null;
    if (f === null || typeof f !== 'object' || typeof f.createAccumulator !== 'function' || typeof f.add !== 'function' || typeof f.getResult !== 'function') {
      throw new TypeError('aggregate() expects an AggregateFunction { createAccumulator(), add(value, acc), getResult(acc), merge?(a, b) }');
    }
    checkProcess(process, 'aggregate()');
    return { kind: 'aggregate', aggregate: fn, process: process as ProcessWindowFunction<any, any, any, any> | undefined };
  }
}

/** A keyed stream cut into windows. Flink: `WindowedStream<T, K, W>`. */
export class WindowedStream<T, K, W extends Window> extends WindowBuilder<T, W> {
  /** @internal */
  constructor(assigner: WindowAssigner<T, W>, add: AddWindowOperator) {
    super(assigner, add, false);
  }

  /**
   * Reduces each window's elements to one value, incrementally (one value kept per window);
   * with `process`, that value is handed to it as the window's only element.
   */
  reduce<OUT = T>(fn: ReduceFunction<T>, process?: ProcessWindowFunction<T, OUT, K, W>): SingleOutputStream<OUT> {
    return this.build('Window', this.reduceSpec(fn, process));
  }

  /** Aggregates incrementally (one accumulator per window); output `getResult`, or `process` over it. */
  aggregate<ACC, R, OUT = R>(fn: AggregateFunction<T, ACC, R>, process?: ProcessWindowFunction<R, OUT, K, W>): SingleOutputStream<OUT> {
    return this.build('Window', this.aggregateSpec(fn, process));
  }

  /** All elements of each window, with its context. Flink: `ProcessWindowFunction`. */
  process<OUT>(fn: ProcessWindowFunction<T, OUT, K, W>): SingleOutputStream<OUT> {
    checkProcess(fn, 'process()');
    if (fn === undefined) throw new TypeError('process() expects a ProcessWindowFunction');
    return this.build('Window', { kind: 'process', process: fn as ProcessWindowFunction<any, any, any, any> });
  }

  /** All elements of each window. Flink: `apply(WindowFunction)`. */
  apply<OUT>(fn: WindowFunction<T, OUT, K, W>): SingleOutputStream<OUT> {
    const f = normalizeFunction<(key: K, window: W, elements: T[], out: Collector<OUT>) => void>(fn, 'apply', 'apply()');
    const process: ProcessWindowFunction<T, OUT, K, W> = {
      open: (ctx) => f.open?.(ctx),
      close: () => f.close?.(),
      ...(f.snapshotState === undefined ? {} : { snapshotState: f.snapshotState }),
      process: (key, context, elements, out) => f.call(key, context.window, elements, out),
    };
    return this.build('Window', { kind: 'process', process: process as ProcessWindowFunction<any, any, any, any> });
  }

  /** Sum of a field per window (other fields from the first element). */
  sum(field?: Field): SingleOutputStream<T> {
    return this.build('Window', this.fieldSpec(sumReducer(field), field));
  }
  min(field?: Field): SingleOutputStream<T> {
    return this.build('Window', this.fieldSpec(minReducer(field), field));
  }
  max(field?: Field): SingleOutputStream<T> {
    return this.build('Window', this.fieldSpec(maxReducer(field), field));
  }
  minBy(field?: Field): SingleOutputStream<T> {
    return this.build('Window', this.fieldSpec(minByReducer(field), field));
  }
  maxBy(field?: Field): SingleOutputStream<T> {
    return this.build('Window', this.fieldSpec(maxByReducer(field), field));
  }
}

/** Adapts an all-window function to the keyed form the operator runs. */
function allProcess<IN, OUT, W extends Window>(fn: ProcessAllWindowFunction<IN, OUT, W>): ProcessWindowFunction<IN, OUT, unknown, W> {
  return {
    open: (ctx) => fn.open?.(ctx),
    close: () => fn.close?.(),
    ...(fn.snapshotState === undefined ? {} : { snapshotState: (c) => fn.snapshotState!(c) }),
    process: (_key, context, elements, out) => fn.process(context, elements, out),
    ...(fn.clear === undefined ? {} : { clear: (context) => fn.clear!(context) }),
  };
}

/**
 * A whole (non-keyed) stream cut into windows, at parallelism 1. Flink: `AllWindowedStream`.
 */
export class AllWindowedStream<T, W extends Window> extends WindowBuilder<T, W> {
  /** @internal */
  constructor(assigner: WindowAssigner<T, W>, add: AddWindowOperator) {
    super(assigner, add, true);
  }

  reduce<OUT = T>(fn: ReduceFunction<T>, process?: ProcessAllWindowFunction<T, OUT, W>): SingleOutputStream<OUT> {
    checkProcess(process, 'reduce()');
    return this.build('WindowAll', this.reduceSpec(fn, process === undefined ? undefined : allProcess(process)));
  }

  aggregate<ACC, R, OUT = R>(fn: AggregateFunction<T, ACC, R>, process?: ProcessAllWindowFunction<R, OUT, W>): SingleOutputStream<OUT> {
    checkProcess(process, 'aggregate()');
    return this.build('WindowAll', this.aggregateSpec(fn, process === undefined ? undefined : allProcess(process)));
  }

  process<OUT>(fn: ProcessAllWindowFunction<T, OUT, W>): SingleOutputStream<OUT> {
    checkProcess(fn, 'process()');
    if (fn === undefined) throw new TypeError('process() expects a ProcessAllWindowFunction');
    return this.build('WindowAll', { kind: 'process', process: allProcess(fn) as ProcessWindowFunction<any, any, any, any> });
  }

  apply<OUT>(fn: AllWindowFunction<T, OUT, W>): SingleOutputStream<OUT> {
    const f = normalizeFunction<(window: W, elements: T[], out: Collector<OUT>) => void>(fn, 'apply', 'apply()');
    return this.process<OUT>({
      open: (ctx) => f.open?.(ctx),
      close: () => f.close?.(),
      ...(f.snapshotState === undefined ? {} : { snapshotState: f.snapshotState }),
      process: (context, elements, out) => f.call(context.window, elements, out),
    });
  }

  sum(field?: Field): SingleOutputStream<T> {
    return this.build('WindowAll', this.fieldSpec(sumReducer(field), field));
  }
  min(field?: Field): SingleOutputStream<T> {
    return this.build('WindowAll', this.fieldSpec(minReducer(field), field));
  }
  max(field?: Field): SingleOutputStream<T> {
    return this.build('WindowAll', this.fieldSpec(maxReducer(field), field));
  }
  minBy(field?: Field): SingleOutputStream<T> {
    return this.build('WindowAll', this.fieldSpec(minByReducer(field), field));
  }
  maxBy(field?: Field): SingleOutputStream<T> {
    return this.build('WindowAll', this.fieldSpec(maxByReducer(field), field));
  }
}

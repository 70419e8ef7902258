/**
 * The contracts of windows: windows, assigners, triggers, evictors and window functions,
 * with Flink's names and semantics (`org.apache.flink.streaming.api.windowing`). The
 * window operator (task/window-operator.ts) drives them; the built-in implementations are
 * in this folder (window.ts; the assigners in *-windows.ts; triggers/; evictors.ts;
 * merging-window-set.ts).
 *
 * Times are ms since the epoch (event time or processing time), integers within 2^53.
 */
import type { OutputTag } from '../../api/output-tag.js';
import type { Collector, KeyedStateStore, RichFunction } from '../../api/functions.js';
import type { AggregatingStateDescriptor, ReducingStateDescriptor } from '../../state/api.js';

/**
 * A window. `maxTimestamp()` is the largest timestamp that still belongs to it: an
 * event-time trigger fires the window when the watermark reaches it.
 * `namespace()` is its identity in keyed state: equal windows give equal arrays.
 * Flink: `Window`.
 */
export interface Window {
  maxTimestamp(): number;
  /** [start, end] for a TimeWindow, [] for the GlobalWindow. */
  namespace(): readonly number[];
  equals(other: Window): boolean;
  toString(): string;
}

/** What an assigner may ask when assigning. Flink: `WindowAssigner.WindowAssignerContext`. */
export interface WindowAssignerContext {
  /** Processing time now, ms. */
  getCurrentProcessingTime(): number;
}

/**
 * Assigns each element to zero or more windows. Flink: `WindowAssigner`.
 * `timestamp` is the element's event timestamp (NaN when it has none; event-time assigners
 * then throw a `UsageError` naming the assigner and telling to assign timestamps), or the
 * processing time for processing-time assigners.
 */
export interface WindowAssigner<T, W extends Window> {
  assignWindows(element: T, timestamp: number, context: WindowAssignerContext): W[];
  /** The trigger used unless `.trigger(t)` replaces it. */
  getDefaultTrigger(): Trigger<T, W>;
  isEventTime(): boolean;
  /** The window whose `namespace()` is `ns` (restoring window state and timers). */
  windowOf(ns: readonly number[]): W;
  toString(): string;
}

/**
 * An assigner whose windows merge (sessions). Flink: `MergingWindowAssigner`.
 * `mergeWindows` calls `callback(toMerge, mergeResult)` for every group of two or more of
 * `windows` that overlap, with the window covering them.
 */
export interface MergingWindowAssigner<T, W extends Window> extends WindowAssigner<T, W> {
  readonly merging: true;
  mergeWindows(windows: readonly W[], callback: (toMerge: W[], mergeResult: W) => void): void;
}

export function isMergingAssigner<T, W extends Window>(a: WindowAssigner<T, W>): a is MergingWindowAssigner<T, W> {
  return (a as Partial<MergingWindowAssigner<T, W>>).merging === true;
}

/**
 * What a trigger decides. Flink: `TriggerResult`. FIRE emits the window's result, PURGE
 * clears its contents (the window itself lives on until cleanup).
 */
export const TriggerResult = {
  CONTINUE: 'CONTINUE',
  FIRE: 'FIRE',
  PURGE: 'PURGE',
  FIRE_AND_PURGE: 'FIRE_AND_PURGE',
} as const;
export type TriggerResult = (typeof TriggerResult)[keyof typeof TriggerResult];

export function isFire(r: TriggerResult): boolean {
  return r === 'FIRE' || r === 'FIRE_AND_PURGE';
}
export function isPurge(r: TriggerResult): boolean {
  return r === 'PURGE' || r === 'FIRE_AND_PURGE';
}

/**
 * Keyed state scoped to the current key and window (a trigger's `getPartitionedState`, a
 * ProcessWindowFunction's `windowState()`) or to the key alone (`globalState()`): the
 * same getters as a RuntimeContext's. Flink: `KeyedStateStore`.
 */
export type PartitionedStateStore = KeyedStateStore;

/**
 * What a trigger can do for the current key and window: timers (per key and window, kept in
 * keyed state, so checkpointed and rescaled) and per-window state. Flink: `Trigger.TriggerContext`.
 */
export interface TriggerContext {
  getCurrentProcessingTime(): number;
  /** The operator's event-time watermark (-Infinity before the first). */
  getCurrentWatermark(): number;
  registerProcessingTimeTimer(timeMs: number): void;
  registerEventTimeTimer(timeMs: number): void;
  deleteProcessingTimeTimer(timeMs: number): void;
  deleteEventTimeTimer(timeMs: number): void;
  /** State of this key and window, by descriptor name. */
  getPartitionedState: PartitionedStateStore;
}

/** Flink: `Trigger.OnMergeContext`: also merges the merged windows' trigger state. */
export interface OnMergeContext extends TriggerContext {
  /**
   * Merges the reducing state `descriptor` (`{ name, reduce }`) of the windows being merged
   * into the result window, as Flink's `mergePartitionedState`. Flink also merges
   * aggregating state; here that is refused (TypeError), as is any other kind.
   * @throws TypeError for a descriptor without `reduce`.
   */
  mergePartitionedState(descriptor: Omit<ReducingStateDescriptor<any>, 'kind'> | Omit<AggregatingStateDescriptor<any, any, any>, 'kind'>): void;
}

/**
 * Decides when a window fires and purges. Flink: `Trigger`. All methods run in the
 * mailbox thread with the window's key current.
 */
export interface Trigger<T, W extends Window> {
  onElement(element: T, timestamp: number, window: W, ctx: TriggerContext): TriggerResult;
  onEventTime(time: number, window: W, ctx: TriggerContext): TriggerResult;
  onProcessingTime(time: number, window: W, ctx: TriggerContext): TriggerResult;
  /** True when the trigger can merge (required by merging assigners). */
  canMerge(): boolean;
  /** The windows merged into `window`: re-register timers, merge trigger state. */
  onMerge(window: W, ctx: OnMergeContext): void;
  /** The window is purged for good: delete its timers and trigger state. */
  clear(window: W, ctx: TriggerContext): void;
  toString(): string;
}

/** An element with its event timestamp (NaN when it has none). Flink: `TimestampedValue`. */
export interface TimestampedValue<T> {
  value: T;
  timestamp: number;
}

/** What an evictor can ask. Flink: `Evictor.EvictorContext`. */
export interface EvictorContext {
  getCurrentProcessingTime(): number;
  getCurrentWatermark(): number;
}

/**
 * Removes elements of a window before and/or after the window function runs. Flink:
 * `Evictor`. `elements` is the window's contents in arrival order; an evictor removes
 * elements by mutating the array in place (e.g. `splice`); `size` is its length on entry.
 */
export interface Evictor<T, W extends Window> {
  evictBefore(elements: TimestampedValue<T>[], size: number, window: W, ctx: EvictorContext): void;
  evictAfter(elements: TimestampedValue<T>[], size: number, window: W, ctx: EvictorContext): void;
}


/** Context of a `ProcessWindowFunction`. Flink: `ProcessWindowFunction.Context`. */
export interface ProcessWindowContext<W extends Window> {
  readonly window: W;
  currentProcessingTime(): number;
  currentWatermark(): number;
  /** State of this key and window (cleared in `clear`). */
  windowState(): PartitionedStateStore;
  /** State of this key, across windows. */
  globalState(): PartitionedStateStore;
  output<X>(tag: OutputTag<X>, value: X): void;
}

/** Flink's `ProcessWindowFunction`: all elements (or the pre-aggregated result) of a window. */
export interface ProcessWindowFunction<IN, OUT, K, W extends Window> extends RichFunction {
  process(key: K, context: ProcessWindowContext<W>, elements: IN[], out: Collector<OUT>): void;
  /** The window is purged for good: clear what `windowState()` holds. */
  clear?(context: ProcessWindowContext<W>): void;
}

/** Flink's `WindowFunction` (`apply`). */
export type WindowFunction<IN, OUT, K, W extends Window> =
  | ((key: K, window: W, elements: IN[], out: Collector<OUT>) => void)
  | (RichFunction & { apply(key: K, window: W, elements: IN[], out: Collector<OUT>): void });

/** Flink's `ProcessAllWindowFunction` (windowAll). */
export interface ProcessAllWindowFunction<IN, OUT, W extends Window> extends RichFunction {
  process(context: ProcessWindowContext<W>, elements: IN[], out: Collector<OUT>): void;
  clear?(context: ProcessWindowContext<W>): void;
}

/** Flink's `AllWindowFunction` (windowAll `apply`). */
export type AllWindowFunction<IN, OUT, W extends Window> =
  | ((window: W, elements: IN[], out: Collector<OUT>) => void)
  | (RichFunction & { apply(window: W, elements: IN[], out: Collector<OUT>): void });

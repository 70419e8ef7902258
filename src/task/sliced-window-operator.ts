/**
 * The sliced window operator: `reduce` and `aggregate` on tumbling and sliding event-time
 * windows with the default trigger, at a cost per element that does not grow with
 * size / slide. Flink assigns an element of a sliding window to every one of the
 * size / slide windows holding it (one state update and two timers each); Flink SQL's
 * window slicing (`SliceAssigner`, `SliceSharedWindowAggProcessor`) keeps one partial
 * result per slice instead, and so does this operator. Observable behaviour is
 * `WindowOperator`'s with `EventTimeTrigger` (window-operator.ts): the same outputs with
 * the same timestamps, late firings, cleanup, late side output and counters.
 *
 * Design. Slices (panes) are the intervals `[a, a + pane)`, `pane = gcd(size, slide)`,
 * `a = offset + k * pane`: every window is a run of whole slices. An element updates its
 * slice only (one read and one write of keyed state); a window's result is the combination
 * of its slices, made when it fires (`reduce`: a fold; `aggregate`: `merge` into a fresh
 * accumulator).
 *
 * State (all keyed state, so checkpointed, restored and rescaled by key group):
 *   - slice contents: value state `window-slices`, `namespaced: true`, under
 *     `[key, [a, a + pane]]`: the slice's reduced value or accumulator;
 *   - timers, event time, under `[key, [s, s + size]]` (the window, as WindowOperator's):
 *     at `s + size - 1` (fire) and at `s + size - 1 + lateness` (cleanup; the same timer
 *     when lateness is 0);
 *   - the ProcessWindowFunction's `windowState()` under `[key, [s, s + size]]`, as in
 *     WindowOperator.
 *
 * Timers, chained so that an element sets at most one: a new slice (its first element)
 * registers the fire timer of the first window holding it whose end the watermark has not
 * passed. When a window fires from its timer and slices it shares with the next window are
 * not empty, it registers the next window's fire timer, so every window holding a
 * non-empty slice fires once when the watermark passes its end, as its own timer would
 * have. A window registers its cleanup timer when it fires (every window given an element
 * fires: from its timer, or at once for a late element).
 *
 * Lateness: an element whose latest window's cleanup time the watermark passed goes to no
 * window, and to the late side output (or `numLateRecordsDropped`) when
 * `timestamp + lateness <= watermark`, as in WindowOperator. Otherwise it updates its
 * slice and fires at once each of its windows whose end the watermark passed and whose
 * cleanup time it did not, latest start first (WindowOperator's order).
 *
 * Cleanup: slice `a` is cleared by the cleanup of the last window holding it (the window
 * starting at the latest window start <= a): no window holding it can fire after that.
 * A window's cleanup clears the slices `[s, s + min(slide, size))`, then calls the
 * ProcessWindowFunction's `clear`. Windows end in slice order, so at equal timer times the
 * fire of a window never needs a slice an earlier cleanup cleared.
 *
 * Contract beyond WindowOperator's: `reduce` is associative and commutative, and
 * `AggregateFunction.merge` is consistent with `add`; partial results are combined in time
 * order, not arrival order (floating-point sums may differ in the last bits). Values read
 * from state are never handed to user code as the first argument (the fold starts on a
 * copy, `merge` on a fresh accumulator), so functions may reuse their first argument.
 */
import assert from 'node:assert/strict';
import type { Collector } from '../api/index.js';
import { refuseAsyncResult } from '../errors.js';
import type { GraphNode } from '../graph/index.js';
import type { AggregateFunction, StateKey, ValueState } from '../state/api.js';
import type { FiredTimer } from '../time/index.js';
import { eventTimestamp } from '../time/windows/checks.js';
import { SlidingEventTimeWindows } from '../time/windows/sliding-windows.js';
import type { WindowSpec } from '../time/windows/spec.js';
import { EventTimeTrigger } from '../time/windows/triggers/event-time-trigger.js';
import { TumblingEventTimeWindows } from '../time/windows/tumbling-windows.js';
import { TimeWindow } from '../time/windows/window.js';
import type { OperatorEnvironment } from './operators.js';
import { WindowOperatorBase } from './window-operator-base.js';

/** Largest time a timer can have; a window whose cleanup time reaches it is never cleaned. */
const maxTime = Number.MAX_SAFE_INTEGER;

/** Internal state name of slice contents. */
export const slicesStateName = 'window-slices';

/** How a window spec is cut into slices: all ms, `pane = gcd(size, slide)`. */
export interface Slicing {
  size: number;
  slide: number;
  offset: number;
  pane: number;
}

function gcd(a: number, b: number): number {
  while (b !== 0) [a, b] = [b, a % b];
  return a;
}

/**
 * The slicing of `spec` when the sliced operator runs it with WindowOperator's behaviour,
 * else the reason it cannot: tumbling or sliding event-time windows, the default trigger
 * (`EventTimeTrigger`, given or not), no evictor, and `reduce` (not order-sensitive) or
 * `aggregate` with `merge`.
 */
export function slicingOf(spec: WindowSpec): Slicing | string {
  const a = spec.assigner;
  if (!(a instanceof TumblingEventTimeWindows) && !(a instanceof SlidingEventTimeWindows)) return `${String(a)} is not a tumbling or sliding event-time assigner`;
  if (spec.trigger !== undefined && !(spec.trigger instanceof EventTimeTrigger)) return `the trigger ${String(spec.trigger)} is not EventTimeTrigger`;
  if (spec.evictor !== undefined) return 'an evictor needs every element';
  const fn = spec.fn;
  if (fn.kind === 'process') return 'process() needs every element';
  if (fn.kind === 'reduce' && fn.orderSensitive === true) return 'the reduce keeps fields of the first element in arrival order';
  if (fn.kind === 'aggregate' && typeof fn.aggregate.merge !== 'function') return 'the AggregateFunction has no merge(a, b)';
  // After a restore the watermark starts again at -Infinity, so an element late before the
  // failure is on time again and its windows must fire once more when the watermark passes
  // them. A tumbling window is one slice: every element registers its fire timer (below).
  // A sliding window would need a timer for each window of the element, which is what
  // slicing avoids; WindowOperator does exactly that.
  if (spec.allowedLatenessMs > 0 && a.slide !== a.size) return 'allowed lateness on sliding windows';
  return { size: a.size, slide: a.slide, offset: a.offset, pane: gcd(a.size, a.slide) };
}

/** A copy of a state value to fold into (primitives as they are; objects keep their prototype). */
function detached(value: unknown): unknown {
  if (value === null || typeof value !== 'object') return value;
  const copy = structuredClone(value) as object;
  const proto = Object.getPrototypeOf(value) as object | null;
  if (Object.getPrototypeOf(copy) !== proto) Object.setPrototypeOf(copy, proto);
  return copy;
}

export class SlicedWindowOperator extends WindowOperatorBase {
  private slices!: ValueState<unknown>;
  private readonly size: number;
  private readonly slide: number;
  private readonly offset: number;
  private readonly pane: number;
  private readonly lateness: number;
  /** Adds an element to a slice's value (undefined: the slice is empty). */
  private readonly addTo: (value: unknown, current: unknown) => unknown;
  /** Folds slice values into a window's partial result (undefined: nothing folded yet). */
  private readonly fold: (acc: unknown, slice: unknown) => unknown;
  /** A window's output from its folded partial result. */
  private readonly result: (acc: unknown) => unknown;

  constructor(node: GraphNode, env: OperatorEnvironment, spec: WindowSpec, slicing: Slicing) {
    super(node, env, spec);
    this.window = new TimeWindow(0, 1);
    assert.ok(slicing.pane > 0 && slicing.size % slicing.pane === 0 && slicing.slide % slicing.pane === 0, 'the pane divides size and slide');
    assert.ok(spec.fn.kind !== 'process' && spec.evictor === undefined, 'a sliced window has reduce or aggregate and no evictor');
    ({ size: this.size, slide: this.slide, offset: this.offset, pane: this.pane } = slicing);
    this.lateness = spec.allowedLatenessMs;
    const fn = spec.fn;
    if (fn.kind === 'reduce') {
      const reduce = fn.reduce;
      this.addTo = (value, current) => (current === undefined ? value : reduce(current, value));
      this.fold = (acc, slice) => (acc === undefined ? detached(slice) : reduce(acc, slice));
      this.result = (acc) => acc;
    } else {
      const agg = fn.aggregate as AggregateFunction<unknown, unknown, unknown>;
      const merge = agg.merge!.bind(agg);
      this.addTo = (value, current) => agg.add(value, current === undefined ? agg.createAccumulator() : current);
      this.fold = (acc, slice) => merge(acc === undefined ? agg.createAccumulator() : acc, slice);
      this.result = (acc) => agg.getResult(acc);
    }
  }

  override async open(): Promise<void> {
    this.slices = this.env.backend.getValueState(this.node.uid, { name: slicesStateName, kind: 'value', namespaced: true });
    await super.open();
  }

  /** Makes slice `[start, start + pane)` of the current key current in the backend. */
  private enterSlice(start: number): void {
    this.env.backend.setCurrentKey([this.key, [start, start + this.pane]], this.keyGroup);
  }

  /** Makes window `[start, start + size)` current for the window function, its state and timers. */
  private setWindow(start: number): void {
    this.window = new TimeWindow(start, start + this.size);
    this.windowKey = [this.key, this.window.namespace()];
  }

  /** The latest start of a window (on the slide grid) at or before `time`. */
  private windowStartAtOrBefore(time: number): number {
    return TimeWindow.getWindowStartWithOffset(time, this.offset, this.slide);
  }

  /** Flink's `WindowOperator.cleanupTime` of the window starting at `start`. */
  private cleanupTime(start: number): number {
    const maxTs = start + this.size - 1;
    const t = maxTs + this.lateness;
    return t >= maxTs && t <= maxTime ? t : maxTime;
  }

  protected process(record: unknown): void {
    const ts = eventTimestamp(this.spec.assigner, this.env.timestamp.value);
    const watermark = this.timers.currentWatermark();
    const slice = TimeWindow.getWindowStartWithOffset(ts, this.offset, this.pane);
    const lastStart = this.windowStartAtOrBefore(slice);
    // No window holds the slice (a gap between windows), or every window holding it is late.
    if (lastStart + this.size <= slice || this.cleanupTime(lastStart) <= watermark) {
      if (ts + this.lateness <= watermark) {
        if (this.lateTag !== undefined) this.emitSide(this.lateTag.id, record);
        else this.numLateRecordsDropped++;
      }
      return;
    }
    this.enterSlice(slice);
    const current = this.slices.value();
    this.slices.update(this.addTo(record, current));
    // Windows holding the slice start at firstStart, firstStart + slide, ..., lastStart.
    const firstStart = lastStart - (Math.ceil((lastStart + this.size - slice) / this.slide) - 1) * this.slide;
    // A new slice starts the chain of fire timers. With allowed lateness (tumbling only) every
    // element re-registers its window's timer: after a restore the watermark is behind the
    // windows that fired before the failure, and one of their late elements must fire its
    // window again (idempotent otherwise: the timer exists).
    if (current === undefined || this.lateness > 0) this.registerFirstFire(firstStart, lastStart, watermark);
    if (firstStart + this.size - 1 <= watermark) this.fireLate(firstStart, lastStart, watermark);
  }

  /** A new slice: the fire timer of its first window whose end the watermark has not passed. */
  private registerFirstFire(firstStart: number, lastStart: number, watermark: number): void {
    // Smallest window start s on the grid with s + size - 1 > watermark.
    const pending = watermark === -Infinity ? firstStart : Math.max(firstStart, this.windowStartAtOrBefore(watermark - this.size + 1) + this.slide);
    if (pending > lastStart) return;
    this.setWindow(pending);
    this.timers.registerEventTimeTimer(this.window.maxTimestamp());
  }

  /** A late element: fires its windows whose end the watermark passed and whose cleanup it did not. */
  private fireLate(firstStart: number, lastStart: number, watermark: number): void {
    for (let s = Math.min(lastStart, this.windowStartAtOrBefore(watermark - this.size + 1)); s >= firstStart; s -= this.slide) {
      if (this.cleanupTime(s) <= watermark) break;
      this.fireWindow(s);
      this.registerCleanup(s);
    }
  }

  /**
   * Emits the window starting at `start` (nothing when all its slices are empty). Returns
   * true when a slice it shares with the next window is not empty.
   */
  private fireWindow(start: number): boolean {
    let acc: unknown;
    let any = false;
    let sharedNonEmpty = false;
    const end = start + this.size;
    for (let a = start; a < end; a += this.pane) {
      this.enterSlice(a);
      const v = this.slices.value();
      if (v === undefined) continue;
      acc = this.fold(any ? acc : undefined, v);
      any = true;
      if (a >= start + this.slide) sharedNonEmpty = true;
    }
    if (any) this.emitWindow(start, this.result(acc));
    return sharedNonEmpty;
  }

  /** Runs the window function over the window's one result; outputs carry `maxTimestamp()`. */
  private emitWindow(start: number, value: unknown): void {
    this.setWindow(start);
    this.env.timestamp.value = this.window.maxTimestamp();
    const process = this.spec.fn.process;
    if (process === undefined) this.emit(value);
    else refuseAsyncResult(process.process(this.key, this.processContext, [value], this.out as Collector<unknown>), this.node.name, "the window function's process()");
  }

  /** The cleanup timer of the window at `start`, when it is not its fire timer (lateness 0) and not never. */
  private registerCleanup(start: number): void {
    const t = this.cleanupTime(start);
    if (t === maxTime || t === start + this.size - 1) return;
    this.setWindow(start);
    this.timers.registerEventTimeTimer(t);
  }

  /** The window at `start` can never fire again: clears the slices it is the last window of. */
  private cleanWindow(start: number): void {
    const end = start + Math.min(this.slide, this.size);
    for (let a = start; a < end; a += this.pane) {
      this.enterSlice(a);
      this.slices.clear();
    }
    const process = this.spec.fn.process;
    if (process?.clear !== undefined) {
      this.setWindow(start);
      process.clear(this.processContext);
    }
  }

  /** Fires one timer; a throw out of it is blamed on this operator (see `blame`). */
  protected readonly fire = this.blamingThrows((timer: FiredTimer) => this.fireTimer(timer));

  private fireTimer(timer: FiredTimer): void {
    if (timer.domain !== 'EVENT_TIME') return;
    const [key, ns] = timer.key as [StateKey, readonly number[]];
    const [start, end] = ns as [number, number];
    assert.equal(end - start, this.size, `timer of window [${start}, ${end}) in an operator of size ${this.size}`);
    this.key = key;
    this.keyGroup = timer.keyGroup;
    const t = timer.timestampMs;
    if (t === start + this.size - 1) {
      if (this.fireWindow(start)) {
        this.setWindow(start + this.slide);
        this.timers.registerEventTimeTimer(this.window.maxTimestamp());
      }
      this.registerCleanup(start);
    }
    if (t === this.cleanupTime(start)) this.cleanWindow(start);
  }
}

/**
 * The built-in evictors: they remove elements of a window (its array, in place, in arrival
 * order) before the window function runs, or after it when `doEvictAfter`. Flink:
 * `CountEvictor`, `TimeEvictor`.
 */
import type { Evictor, TimestampedValue, Window } from './api.js';
import { checkMs } from './checks.js';

/**
 * Keeps the last `maxCount` elements of a window: removes the oldest `size - maxCount`
 * arrivals. Flink: `CountEvictor`.
 */
export class CountEvictor implements Evictor<unknown, Window> {
  private constructor(
    readonly maxCount: number,
    readonly doEvictAfter: boolean,
  ) {}

  /**
   * @param maxCount elements to keep, an integer >= 0.
   * @param doEvictAfter evict after the window function instead of before.
   * @throws RangeError for a bad count.
   */
  static of(maxCount: number, doEvictAfter = false): CountEvictor {
    if (!Number.isSafeInteger(maxCount) || maxCount < 0) {
      throw new RangeError(`CountEvictor.of: the count must be an integer >= 0, got ${String(maxCount)} (how many of the latest elements to keep)`);
    }
    return new CountEvictor(maxCount, doEvictAfter);
  }

  evictBefore(elements: TimestampedValue<unknown>[], size: number): void {
    if (!this.doEvictAfter) this.evict(elements, size);
  }

  evictAfter(elements: TimestampedValue<unknown>[], size: number): void {
    if (this.doEvictAfter) this.evict(elements, size);
  }

  private evict(elements: TimestampedValue<unknown>[], size: number): void {
    if (size > this.maxCount) elements.splice(0, size - this.maxCount);
  }

  toString(): string {
    return `CountEvictor(${this.maxCount})`;
  }
}

/**
 * Keeps the elements of the last `windowMs` ms of a window, measured back from its newest
 * element: removes those with `timestamp <= maxTimestamp - windowMs` (so, as Flink, an
 * element exactly `windowMs` older than the newest goes). Does nothing when the first
 * element has no timestamp (NaN), as Flink; elements without one are never removed.
 * Flink: `TimeEvictor`.
 */
export class TimeEvictor implements Evictor<unknown, Window> {
  private constructor(
    readonly windowMs: number,
    readonly doEvictAfter: boolean,
  ) {}

  /**
   * @param windowMs how much time to keep, ms, an integer >= 0.
   * @param doEvictAfter evict after the window function instead of before.
   * @throws RangeError for a bad duration.
   */
  static of(windowMs: number, doEvictAfter = false): TimeEvictor {
    checkMs('TimeEvictor.of', 'window', windowMs, true);
    if (windowMs < 0) throw new RangeError(`TimeEvictor.of: window must be >= 0 ms, got ${windowMs} (how much time to keep before the newest element)`);
    return new TimeEvictor(windowMs, doEvictAfter);
  }

  evictBefore(elements: TimestampedValue<unknown>[]): void {
    if (!this.doEvictAfter) this.evict(elements);
  }

  evictAfter(elements: TimestampedValue<unknown>[]): void {
    if (this.doEvictAfter) this.evict(elements);
  }

  private evict(elements: TimestampedValue<unknown>[]): void {
    const first = elements[0];
    if (first === undefined || Number.isNaN(first.timestamp)) return;
    let newest = -Infinity;
    for (const e of elements) if (e.timestamp > newest) newest = e.timestamp;
    const cutoff = newest - this.windowMs;
    let kept = 0;
    for (const e of elements) if (!(e.timestamp <= cutoff)) elements[kept++] = e;
    elements.length = kept;
  }

  toString(): string {
    return `TimeEvictor(${this.windowMs})`;
  }
}

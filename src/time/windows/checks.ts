/**
 * Argument checks shared by the assigners, triggers and evictors: one-line `RangeError`s
 * naming the call, the value and what to do (STYLE.md), and the `UsageError` for records
 * without an event timestamp.
 */
import { UsageError } from '../../errors.js';

/**
 * REQUIRES `value` to be an integer number of ms within 2^53 and (unless `allowNonPositive`)
 * > 0. `where` names the call (`TumblingEventTimeWindows.of`), `what` the argument (`size`).
 * @throws RangeError otherwise.
 */
export function checkMs(where: string, what: string, value: number, allowNonPositive = false): void {
  if (typeof value !== 'number' || !Number.isSafeInteger(value)) {
    throw new RangeError(`${where}: ${what} must be a whole number of milliseconds, got ${describeValue(value)} (use Time.seconds(...), Time.minutes(...) or an integer)`);
  }
  if (!allowNonPositive && value <= 0) {
    throw new RangeError(`${where}: ${what} must be > 0 ms, got ${value} (give a positive duration, e.g. Time.seconds(10))`);
  }
}

/** A value as it reads in an error: numbers plain, strings quoted (`"10"` is not 10), bigints with `n`. */
export function describeValue(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value);
  if (typeof value === 'bigint') return `${value}n`;
  return String(value);
}

/**
 * REQUIRES |offset| < bound (Flink's rule for window offsets; a negative offset is allowed).
 * @throws RangeError otherwise.
 */
export function checkOffset(where: string, offset: number, boundName: string, bound: number): void {
  checkMs(where, 'offset', offset, true);
  if (Math.abs(offset) >= bound) {
    throw new RangeError(`${where}: |offset| must be < ${boundName} (${bound} ms), got offset ${offset} (use offset % ${boundName}, here ${offset % bound})`);
  }
}

/**
 * The event timestamp of a record, for an event-time assigner named `assigner`.
 * @throws UsageError when it is NaN (the record has none).
 */
export function eventTimestamp(assigner: { toString(): string }, timestamp: number): number {
  if (Number.isNaN(timestamp)) {
    throw new UsageError(
      `${assigner.toString()} needs event timestamps: the record has none. Call assignTimestampsAndWatermarks() or give fromSource() a WatermarkStrategy`,
    );
  }
  return timestamp;
}

/**
 * The [start, end] of a window namespace, checked, for `windowOf` when restoring.
 * @throws RangeError when `ns` is not two integers with start < end.
 */
export function timeWindowBounds(where: string, ns: readonly number[]): [number, number] {
  const [start, end] = ns;
  if (ns.length !== 2 || !Number.isSafeInteger(start) || !Number.isSafeInteger(end) || start! >= end!) {
    throw new RangeError(`${where}: ${JSON.stringify(ns)} is not a time window namespace [start, end] with integer start < end (state written by another assigner?)`);
  }
  return [start!, end!];
}

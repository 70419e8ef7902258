/**
 * Durations in milliseconds, named as Flink's `Time` (`org.apache.flink.streaming.api.windowing.time.Time`)
 * so window code reads the same: `TumblingEventTimeWindows.of(Time.minutes(5))`. Each returns
 * a plain number of ms, not an object.
 */

const MS_PER = { milliseconds: 1, seconds: 1_000, minutes: 60_000, hours: 3_600_000, days: 86_400_000 } as const;

/**
 * `n` units in ms. Fractions that land on a whole ms are fine (`Time.seconds(1.5)` is 1500;
 * `Time.seconds(1.1)` is 1100 despite floating point).
 * @throws RangeError when `n` is not finite, or the result is not a whole number of ms
 *   within +-Number.MAX_SAFE_INTEGER.
 */
function toMs(unit: keyof typeof MS_PER, n: number): number {
  const exact = n * MS_PER[unit];
  const ms = Math.round(exact);
  // Tolerate floating-point noise (1.1 * 1000 = 1100.0000000000002), nothing more.
  const whole = Number.isFinite(exact) && Math.abs(exact - ms) <= Math.max(1e-9, Math.abs(exact) * 4 * Number.EPSILON);
  if (typeof n !== 'number' || !whole || !Number.isSafeInteger(ms)) {
    throw new RangeError(`Time.${unit}(${String(n)}) is not a whole number of milliseconds within 2^53 (got ${String(exact)} ms): give a finite value, or a smaller unit`);
  }
  return ms === 0 ? 0 : ms; // no -0
}

/** Flink's `Time`: factories of durations in ms. */
export const Time = {
  milliseconds: (n: number): number => toMs('milliseconds', n),
  seconds: (n: number): number => toMs('seconds', n),
  minutes: (n: number): number => toMs('minutes', n),
  hours: (n: number): number => toMs('hours', n),
  days: (n: number): number => toMs('days', n),
} as const;

/**
 * A token bucket for rate-limited sources. Flink: `RateLimiterStrategy.perSecond(r)`, which
 * gives each of p readers r/p permits per second (Guava's `RateLimiter`).
 *
 * Permits accrue continuously at `permitsPerSecond`; at most `burstMs` worth are banked, so
 * a reader that was blocked (backpressure, a checkpoint) does not burst far above the rate
 * afterwards. Time comes from an injectable clock, so tests advance it instead of sleeping.
 */

/** Milliseconds, monotonic. */
export type MonotonicClock = () => number;

/** Longest stretch of permits a limiter banks while its reader is not asking, ms. */
export const rateLimiterBurstMs = 50;

export class RateLimiter {
  private available: number;
  private lastRefillMs: number;
  private readonly capacity: number;

  /**
   * @throws RangeError unless `permitsPerSecond` is a finite number > 0.
   */
  constructor(
    readonly permitsPerSecond: number,
    private readonly now: MonotonicClock = () => performance.now(),
    burstMs = rateLimiterBurstMs,
  ) {
    if (typeof permitsPerSecond !== 'number' || !Number.isFinite(permitsPerSecond) || permitsPerSecond <= 0) {
      throw new RangeError(`A rate limit must be a finite number of records per second > 0, got ${String(permitsPerSecond)}`);
    }
    // At least one permit fits, so rates below 1000/burstMs still make progress.
    this.capacity = Math.max(1, (permitsPerSecond * burstMs) / 1000);
    this.available = 0;
    this.lastRefillMs = now();
  }

  private refill(): void {
    const t = this.now();
    this.available = Math.min(this.capacity, this.available + ((t - this.lastRefillMs) * this.permitsPerSecond) / 1000);
    this.lastRefillMs = t;
  }

  /** Takes up to `wanted` whole permits now; returns how many were taken (0 when none is due). */
  acquire(wanted: number): number {
    this.refill();
    const n = Math.min(wanted, Math.floor(this.available));
    this.available -= n;
    return n;
  }

  /** Milliseconds until the next whole permit is due (0 if one is available). */
  msUntilNext(): number {
    this.refill();
    return this.available >= 1 ? 0 : ((1 - this.available) * 1000) / this.permitsPerSecond;
  }
}

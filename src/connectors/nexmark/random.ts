/**
 * The random source of one Nexmark event, derived from the run's seed and the event
 * number, as Apache Beam's Nexmark generator seeds a `Random` per event: an event is a
 * pure function of (seed, event number), whatever the parallelism and wherever a restore
 * resumes. (The Flink port draws from one unseeded `SplittableRandom`, so its events are
 * not reproducible.)
 *
 * The generator is Mulberry32 (a 32-bit state advanced by a Weyl sequence and mixed), its
 * state set per event by MurmurHash3's finaliser over the seed and both 32-bit halves of
 * the event number. One instance is reset per event: no allocation per event.
 */
import { fmix32 } from '../../state/key-group.js';

const twoTo32 = 4294967296;

export class EventRandom {
  private state = 0;

  /** Starts the sequence of event number `n` (a safe integer >= 0) under `seed` (any integer). */
  reset(seed: number, n: number): this {
    const lo = n >>> 0;
    const hi = Math.floor(n / twoTo32) >>> 0;
    this.state = fmix32(fmix32(seed ^ 0x9e3779b9) ^ fmix32(lo + 0x632be5ab) ^ Math.imul(hi, 0x85ebca77));
    return this;
  }

  /** The next 32 random bits, as an integer in [0, 2^32). */
  nextUint32(): number {
    const a = (this.state = (this.state + 0x6d2b79f5) | 0);
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return (t ^ (t >>> 14)) >>> 0;
  }

  /** An integer in [0, bound), bound a positive integer below 2^32. Java: `nextInt(bound)`. */
  nextInt(bound: number): number {
    return Math.floor((this.nextUint32() / twoTo32) * bound);
  }

  /** A number in [0, 1) with 32 random bits. Java: `nextDouble()`. */
  nextDouble(): number {
    return this.nextUint32() / twoTo32;
  }
}

/** What the seeded window tests share: integers in a closed range, and assigner contexts with a fixed clock. */
import type { WindowAssignerContext } from '../../../src/time/windows/api.js';

/** A uniform integer in [lo, hi] (both included). */
export function randomInt(random: () => number, lo: number, hi: number): number {
  return lo + Math.floor(random() * (hi - lo + 1));
}

/** An assigner context whose processing time is `nowMs`. */
export function clockAt(nowMs: number): WindowAssignerContext {
  return { getCurrentProcessingTime: () => nowMs };
}

/** A context for event-time assigners, which must not read the clock. */
export const noClock: WindowAssignerContext = {
  getCurrentProcessingTime: () => {
    throw new Error('an event-time assigner read the processing-time clock');
  },
};

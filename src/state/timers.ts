/**
 * What both timer queues share (heap-timers.ts, lsm-timers.ts): the reserved state names
 * timers live under, and the checks of timestamps, key groups and time domains.
 *
 * A queue's timers are state named `_timers/<domain>` of its operator, so snapshots,
 * restores and rescales carry them as they carry user state. User state names starting
 * with `_timers/` are refused so the two never share a name (operator uids cannot hold
 * '/', so `<uid>/<name>` ids cannot meet either).
 */
import type { TimeDomain } from './api.js';

/** The prefix of every timer state name; refused for user state. */
export const timerStatePrefix = '_timers/';

/** The state name of a domain's timers, e.g. `_timers/event`. Throws `RangeError` for another domain. */
export function timerStateName(domain: TimeDomain): string {
  if (domain !== 'event' && domain !== 'processing') {
    throw new RangeError(`Timer domain must be 'event' or 'processing', got ${JSON.stringify(domain)}`);
  }
  return `${timerStatePrefix}${domain}`;
}

/** Throws `RangeError` when a user state would take a reserved timer state name. */
export function checkUserStateName(operatorUid: string, name: string): void {
  if (typeof name === 'string' && name.startsWith(timerStatePrefix)) {
    throw new RangeError(
      `State name ${JSON.stringify(name)} of operator ${operatorUid} starts with "${timerStatePrefix}", which is reserved for timers: rename the state`,
    );
  }
}

/**
 * `t` as a timer timestamp (-0 becomes 0). Throws `RangeError` naming the value unless it
 * is an integer with |t| <= Number.MAX_SAFE_INTEGER (ms since the epoch).
 */
export function checkTimerTimestamp(t: number): number {
  if (!Number.isSafeInteger(t)) {
    throw new RangeError(
      `Timer timestamp ${typeof t === 'number' ? String(t) : `${JSON.stringify(t)} (a ${typeof t})`} is not an integer number of ms ` +
        `within +-Number.MAX_SAFE_INTEGER: round event times to whole ms before registering a timer`,
    );
  }
  return t + 0;
}

/** Throws `RangeError` unless `keyGroup` is an integer in [0, maxParallelism). */
export function checkTimerKeyGroup(keyGroup: number, maxParallelism: number): void {
  if (!Number.isInteger(keyGroup) || keyGroup < 0 || keyGroup >= maxParallelism) {
    throw new RangeError(`Timer key group ${String(keyGroup)} is outside [0, ${maxParallelism}): pass assignToKeyGroup(key, maxParallelism)`);
  }
}

/** Throws `RangeError` for NaN (nothing would ever be due); any other number is a bound. */
export function checkPollBound(upToMs: number): void {
  if (typeof upToMs !== 'number' || Number.isNaN(upToMs)) {
    throw new RangeError(`pollDue bound must be a number of ms (Infinity drains), got ${String(upToMs)}`);
  }
}

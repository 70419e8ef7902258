/**
 * Small helpers shared by Ring and Doorbell: argument checks for timeouts and a typed
 * handle on `Atomics.waitAsync` (ES2024; the project's `lib` is ES2023, Node 20 has it).
 *
 * A pending `Atomics.waitAsync` does not keep a Node.js event loop (main thread or worker)
 * alive. A thread that awaits `Ring.read()`, `Ring.write()` or `Doorbell.wait()` with
 * nothing else pending exits silently; keep a handle open (a ref'd MessagePort, timer or
 * Worker) while waiting.
 */
import assert from 'node:assert';

/** Result of a wait on a 32-bit word, as Atomics.wait reports it. */
export type WaitResult = 'ok' | 'not-equal' | 'timed-out';

type WaitAsyncResult =
  | { async: false; value: 'not-equal' | 'timed-out' }
  | { async: true; value: Promise<'ok' | 'timed-out'> };
type WaitAsyncFn = (i32: Int32Array, index: number, value: number, timeoutMs?: number) => WaitAsyncResult;

const atomicsWaitAsync = (Atomics as unknown as { waitAsync?: WaitAsyncFn }).waitAsync;
assert(typeof atomicsWaitAsync === 'function', 'Atomics.waitAsync is missing: sluicegate needs Node.js 20 or later');
const waitAsyncFn: WaitAsyncFn = atomicsWaitAsync.bind(Atomics);

/**
 * `Atomics.waitAsync(i32, index, expected, timeoutMs)` as a promise. The compare of the
 * word with `expected` and the enqueue as a waiter happen atomically with respect to
 * `Atomics.notify` on the same word, so a notify issued after the word changed cannot
 * be missed: either the compare sees the new value ('not-equal') or the waiter is
 * already queued when the notify runs.
 */
export function waitAsyncOnWord(i32: Int32Array, index: number, expected: number, timeoutMs: number): Promise<WaitResult> {
  const result = waitAsyncFn(i32, index, expected, timeoutMs);
  return result.async ? result.value : Promise.resolve(result.value);
}

/**
 * Checks an optional timeout argument in milliseconds and returns it, `Infinity` when
 * undefined. Throws TypeError for a non-number and RangeError for NaN or a negative value.
 */
export function checkTimeoutMs(timeoutMs: number | undefined, where: string): number {
  if (timeoutMs === undefined) return Infinity;
  if (typeof timeoutMs !== 'number') {
    throw new TypeError(`${where}: timeoutMs must be a number of milliseconds or undefined, got ${typeof timeoutMs}`);
  }
  if (Number.isNaN(timeoutMs) || timeoutMs < 0) {
    throw new RangeError(`${where}: timeoutMs must be >= 0 (or undefined for no timeout), got ${timeoutMs}`);
  }
  return timeoutMs;
}

/** Milliseconds left until `deadline` (a performance.now() value), never negative. */
export function remainingMs(deadline: number): number {
  if (deadline === Infinity) return Infinity;
  return Math.max(0, deadline - performance.now());
}

/** performance.now() + timeoutMs, or Infinity. */
export function deadlineAfter(timeoutMs: number): number {
  return timeoutMs === Infinity ? Infinity : performance.now() + timeoutMs;
}

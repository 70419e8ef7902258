/**
 * Small helpers shared by Ring and Doorbell: argument checks for timeouts and a typed
 * handle on `Atomics.waitAsync` (ES2024; the project's `lib` is ES2023, Node 20 has it).
 *
 * A pending `Atomics.waitAsync` alone does not keep a Node.js event loop (main thread or
 * worker) alive; the waits made here hold a ref'd timer while pending, so a thread that
 * awaits `Ring.read()`, `Ring.write()` or `Doorbell.wait()` stays alive until it is woken.
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
 * Longest single `Atomics.waitAsync` in milliseconds. Longer waits are made of slices, and
 * after each slice the word is compared again: Node 20's `Atomics.waitAsync` can lose a
 * wake-up (seen about once in 200 runs of test/channel/doorbell.test.ts: the producer
 * changed the word and notified a queued waiter whose promise never resolved), so an
 * unsliced wait could sleep forever on a word that has long changed. A lost wake-up now
 * costs at most one slice. See native-notes.md §1, "Lost wake-ups in waitAsync".
 */
export const WAIT_SLICE_MS = 100;

let lostWakeUpCount = 0;

/**
 * How many waits in this thread found their word changed at the end of a slice, that is,
 * wake-ups the platform lost (or a notify still on its way when the slice ended).
 */
export function lostWakeUps(): number {
  return lostWakeUpCount;
}

/**
 * `Atomics.waitAsync(i32, index, expected, timeoutMs)` as a promise. The compare of the
 * word with `expected` and the enqueue as a waiter happen atomically with respect to
 * `Atomics.notify` on the same word, so a notify issued after the word changed cannot
 * be missed: either the compare sees the new value ('not-equal') or the waiter is
 * already queued when the notify runs. The wait is made of WAIT_SLICE_MS slices: a word
 * found changed after a slice resolves 'ok' as a wake-up would (see WAIT_SLICE_MS).
 *
 * Unlike a bare waitAsync, a pending wait keeps this thread's event loop alive (see
 * keepAlive below): `await ring.read()` behaves like awaiting a socket, not like a
 * promise nobody can resolve.
 * @param timeoutMs Infinity or a checked number of ms (checkTimeoutMs).
 */
export function waitAsyncOnWord(i32: Int32Array, index: number, expected: number, timeoutMs: number): Promise<WaitResult> {
  const result = waitAsyncFn(i32, index, expected, Math.min(timeoutMs, WAIT_SLICE_MS));
  if (!result.async) return Promise.resolve(result.value);
  holdKeepAlive();
  const slices = timeoutMs <= WAIT_SLICE_MS ? result.value : nextSlices(result.value, i32, index, expected, deadlineAfter(timeoutMs));
  return slices.finally(releaseKeepAlive);
}

/** The slices after the first: until woken, the word changes, or `deadline` passes. */
async function nextSlices(first: Promise<'ok' | 'timed-out'>, i32: Int32Array, index: number, expected: number, deadline: number): Promise<WaitResult> {
  let result: WaitResult = await first;
  while (result === 'timed-out') {
    if (Atomics.load(i32, index) !== expected) {
      lostWakeUpCount++;
      return 'ok';
    }
    const left = remainingMs(deadline);
    if (left === 0) return 'timed-out';
    const next = waitAsyncFn(i32, index, expected, Math.min(left, WAIT_SLICE_MS));
    if (!next.async) return next.value === 'not-equal' ? 'ok' : 'timed-out';
    result = await next.value;
  }
  return result;
}

// A pending Atomics.waitAsync is not an event-loop handle: a thread (main or worker)
// whose only pending work is such a wait exits. One ref'd interval per thread, created on
// first use and ref'd only while waits are pending, keeps it alive. ref()/unref() are
// cheap; the timer never fires in practice (2^30 ms).
let keepAlive: ReturnType<typeof setInterval> | undefined;
let pendingWaits = 0;

function holdKeepAlive(): void {
  if (pendingWaits++ === 0) {
    keepAlive ??= setInterval(() => undefined, 2 ** 30);
    keepAlive.ref();
  }
}

function releaseKeepAlive(): void {
  assert(pendingWaits > 0, 'keep-alive released more often than held');
  if (--pendingWaits === 0) keepAlive?.unref();
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

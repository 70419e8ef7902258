/**
 * Doorbell: one per consumer subtask, shared by all of its input rings, so that a
 * consumer with several inputs can sleep until "anything arrived on any input" with a
 * single `Atomics.waitAsync`.
 *
 * Memory layout of the SharedArrayBuffer (DOORBELL_BYTES = 128, Int32Array indices):
 *   byte   0 (i32[0])  sequence: bumped (Atomics.add, wraps at 2^31) by every publish
 *   byte  64 (i32[16]) waiting: 1 while the consumer is (about to be) asleep, else 0
 * Each word sits on its own 64-byte line, so producers bumping the sequence do not
 * invalidate the line the consumer polls for its flag and vice versa.
 *
 * Protocol (consumer):
 *   const seen = bell.sequence();      // 1. read the sequence first
 *   ...try every input ring...         // 2. nothing there
 *   await bell.wait(seen);             // 3. sleeps unless a publish happened since 1.
 * A publish after step 1 bumps the sequence (ring() runs after the ring's tail store),
 * so step 3 returns 'not-equal' at once or is woken: no lost wake-up.
 */
import { checkTimeoutMs, waitAsyncOnWord, type WaitResult } from './wait.js';

/** Size of a doorbell's SharedArrayBuffer in bytes: two 64-byte lines. */
export const DOORBELL_BYTES = 128;
const SEQUENCE = 0; // i32 index of the sequence word, byte 0
const WAITING = 16; // i32 index of the waiting flag, byte 64

export class Doorbell {
  /** A zeroed SharedArrayBuffer of DOORBELL_BYTES for `new Doorbell(sab)`; send it to producers. */
  static allocate(): SharedArrayBuffer {
    return new SharedArrayBuffer(DOORBELL_BYTES);
  }

  readonly sab: SharedArrayBuffer;
  private readonly i32: Int32Array;

  /** Wraps a buffer from `Doorbell.allocate()`. TypeError for anything else. */
  constructor(sab: SharedArrayBuffer) {
    if (!(sab instanceof SharedArrayBuffer)) {
      throw new TypeError(`Doorbell: expected a SharedArrayBuffer from Doorbell.allocate(), got ${describe(sab)}`);
    }
    if (sab.byteLength !== DOORBELL_BYTES) {
      throw new TypeError(
        `Doorbell: the SharedArrayBuffer has ${sab.byteLength} bytes, a doorbell has ${DOORBELL_BYTES} (use Doorbell.allocate())`,
      );
    }
    this.sab = sab;
    this.i32 = new Int32Array(sab);
  }

  /** The current sequence (a wrapping int32). Read it before polling the inputs. */
  sequence(): number {
    // SeqCst load; pairs with the Atomics.add in ring(): a consumer that reads the
    // sequence and then finds an input empty is guaranteed that the publish it missed
    // bumps the sequence after this load, so wait(seen) will not sleep through it.
    return Atomics.load(this.i32, SEQUENCE);
  }

  /**
   * Producer side (any number of producer threads): announce a publish. Call after the
   * data is visible (Ring does this after its tail store). Costs one atomic add; the
   * notify (a futex syscall) only happens when the consumer flagged that it waits.
   */
  ring(): void {
    // Atomics.add (SeqCst RMW) after the ring's tail store: prevents the consumer from
    // reading `seen`, missing our data, and then sleeping on an unchanged sequence.
    Atomics.add(this.i32, SEQUENCE, 1);
    // SeqCst load after the add (Dekker with the consumer's flag store in wait()): if we
    // read 0 here, the consumer's flag store comes later in the total order, so its
    // wait's compare sees our add and does not sleep. Exchange clears the flag so other
    // producers (and our next publish) skip the syscall until the consumer waits again.
    if (Atomics.load(this.i32, WAITING) !== 0 && Atomics.exchange(this.i32, WAITING, 0) !== 0) {
      Atomics.notify(this.i32, SEQUENCE);
    }
  }

  /**
   * Consumer side: sleeps until the sequence differs from `seenSequence` (a value from
   * sequence()), a ring() wakes it, or `timeoutMs` elapses. Does not spin and does not
   * block the event loop (Atomics.waitAsync). Resolves 'not-equal' when something was
   * published since `seenSequence` (no sleep), 'ok' when woken, 'timed-out'. Spurious
   * 'ok' wake-ups are possible: always re-poll the inputs.
   * A pending wait does not keep the thread's event loop alive (see wait.ts).
   * @throws TypeError if seenSequence is not an integer; RangeError for a bad timeout.
   */
  wait(seenSequence: number, timeoutMs?: number): Promise<WaitResult> {
    const timeout = checkTimeoutMs(timeoutMs, 'Doorbell.wait');
    const seen = checkSequence(seenSequence, 'Doorbell.wait');
    this.setWaiting();
    return waitAsyncOnWord(this.i32, SEQUENCE, seen, timeout).then((result) => {
      // Our own flag: clearing it after waking only saves producers a needless notify.
      Atomics.store(this.i32, WAITING, 0);
      return result;
    });
  }

  /**
   * As wait(), but blocks the calling thread with Atomics.wait. For workers and
   * benchmarks; on the main thread it freezes the event loop.
   */
  waitBlocking(seenSequence: number, timeoutMs?: number): WaitResult {
    const timeout = checkTimeoutMs(timeoutMs, 'Doorbell.waitBlocking');
    const seen = checkSequence(seenSequence, 'Doorbell.waitBlocking');
    this.setWaiting();
    // Atomics.wait compares the sequence with `seen` and queues us atomically with
    // respect to notify: an add+notify between setWaiting() and here is seen as
    // 'not-equal', one after it finds us queued.
    const result = Atomics.wait(this.i32, SEQUENCE, seen, timeout);
    Atomics.store(this.i32, WAITING, 0);
    return result;
  }

  private setWaiting(): void {
    // SeqCst store before the compare inside Atomics.wait(Async): with the load in
    // ring() this is Dekker's pattern, so either the producer sees the flag and
    // notifies, or our compare sees its add.
    Atomics.store(this.i32, WAITING, 1);
  }
}

function checkSequence(value: number, where: string): number {
  if (typeof value !== 'number' || !Number.isInteger(value)) {
    throw new TypeError(`${where}: seenSequence must be an integer from Doorbell.sequence(), got ${String(value)}`);
  }
  return value | 0;
}

/** Short description of an unexpected argument for error messages. */
export function describe(value: unknown): string {
  if (value === null) return 'null';
  if (typeof value === 'object') return value.constructor?.name ?? 'object';
  return typeof value;
}

/**
 * Ring: a single-producer single-consumer byte ring of frames in a SharedArrayBuffer, with
 * blocking backpressure and sleeping (never spinning) waits on both sides.
 *
 * Design
 * - Memory layout (RING_HEADER_BYTES = 320, then `capacityBytes` of data):
 *     byte   0  head      i32: consumer position (bytes released), free-running u32
 *     byte  64  tail      i32: producer position (bytes published), free-running u32
 *     byte 128  spaceWait i32: free bytes the sleeping producer waits for, 0 = not waiting:
 *                          its frame's, or half the ring if more (spaceWakeBytes)
 *     byte 192  dataWait  i32: 1 while the consumer is (about to be) asleep, else 0
 *     byte 256  magic     i32 RING_MAGIC, then capacityBytes (i32), written by allocate()
 *     byte 320  data      capacityBytes (a power of two, 4096 .. 2^30)
 *   Each word written by one side lives on its own 64-byte line (no false sharing).
 * - Positions grow without bound modulo 2^32; `(tail - head) >>> 0` is the used byte
 *   count and `pos & (capacity - 1)` the offset. No slot is sacrificed: full is
 *   `used === capacity`.
 * - Frame = `u32 length | u8 kind | 3 zero bytes | payload`, padded to 8 bytes (frame.ts).
 *   A frame's payload may wrap around the end of the data area byte-wise; no padding
 *   marker. The 8-byte header never wraps (frames and capacity are multiples of 8).
 *   Wrapping wastes no space and allows one frame as large as the whole ring; the price
 *   is that a wrapped payload is copied once for tryReadWith (see native-notes.md §1).
 * - Publication: the producer writes the frame with plain stores, then stores tail with
 *   Atomics.store (SeqCst); the consumer loads tail with Atomics.load before reading the
 *   frame. In the JS memory model that pair is a synchronizes-with edge, so the frame
 *   bytes are visible. The same holds for head in the other direction (release of space).
 * - Sleeping: the waiter announces itself in its flag word, re-checks the position word,
 *   then Atomics.wait(Async)s on that position word with the value it just read. The other
 *   side stores its position and then loads the flag (Dekker); it notifies only if the
 *   flag is set. All Atomics operations are SeqCst, so one of the two always sees the
 *   other's store, and the futex compare inside Atomics.wait covers the gap between
 *   re-check and sleep. The producer clears dataWait with an atomic exchange right after
 *   moving tail (one notify per burst); spaceWait is cleared only by the producer itself
 *   (see release() for the lost wake-up a consumer-side clear caused). With
 *   `deferWakeUps` the producer's notify and doorbell ring wait for a microtask (or its
 *   own next sleep), so a synchronous stretch of publishes wakes the consumer once.
 *
 * Invariants: 0 <= tail - head <= capacity; head and tail are multiples of 8; every
 * frame between head and tail has a valid kind and length <= maxPayloadBytes.
 * Threads: producer methods (tryWrite, write, writeBlocking, waitForSpace) from exactly one
 * thread, consumer methods (tryRead*, read*, waitForData) from exactly one thread.
 */
import assert from 'node:assert';
import { Doorbell, describe } from './doorbell.js';
import { FRAME_ALIGN_BYTES, FRAME_HEADER_BYTES, FRAME_KIND_MAX, FRAME_KIND_MIN, FrameKind, frameBytes, frameKindName, isFrameKind } from './frame.js';
import { checkTimeoutMs, deadlineAfter, remainingMs, waitAsyncOnWord, type WaitResult } from './wait.js';

/** A frame read from a ring. `payload` is a fresh copy the caller owns. */
export interface Frame {
  kind: FrameKind;
  payload: Uint8Array;
}

/** Bytes before the data area: five 64-byte lines. */
export const RING_HEADER_BYTES = 320;
/** Smallest data capacity in bytes: one page; smaller rings make batches pointless. */
export const RING_CAPACITY_MIN_BYTES = 4096;
/** Largest data capacity in bytes (2^30): keeps `tail - head` far from the 2^32 wrap. */
export const RING_CAPACITY_MAX_BYTES = 2 ** 30;
/** Marks a buffer made by Ring.allocate ("SGR1"). */
const RING_MAGIC = 0x53475231;

// Int32Array indices of the header words (byte offset / 4).
const HEAD = 0;
const TAIL = 16;
const SPACE_WAIT = 32;
const DATA_WAIT = 48;
const MAGIC = 64;
const CAPACITY = 65;

export class Ring {
  /**
   * A zeroed SharedArrayBuffer of RING_HEADER_BYTES + capacityBytes for `new Ring(sab)`.
   * @param capacityBytes data bytes, a power of two in [4096, 2^30].
   * @throws TypeError if not a number; RangeError naming the value otherwise.
   */
  static allocate(capacityBytes: number): SharedArrayBuffer {
    if (typeof capacityBytes !== 'number') {
      throw new TypeError(`Ring.allocate: capacityBytes must be a number, got ${describe(capacityBytes)}`);
    }
    if (!isPowerOfTwo(capacityBytes) || capacityBytes < RING_CAPACITY_MIN_BYTES || capacityBytes > RING_CAPACITY_MAX_BYTES) {
      throw new RangeError(
        `Ring.allocate: capacityBytes must be a power of two from ${RING_CAPACITY_MIN_BYTES} to ${RING_CAPACITY_MAX_BYTES}, got ${capacityBytes}`,
      );
    }
    const sab = new SharedArrayBuffer(RING_HEADER_BYTES + capacityBytes);
    const header = new Int32Array(sab, 0, RING_HEADER_BYTES / 4);
    header[CAPACITY] = capacityBytes;
    // Plain stores are enough: the buffer reaches other threads by postMessage, which
    // orders everything written before it.
    header[MAGIC] = RING_MAGIC;
    return sab;
  }

  /** Data bytes; a power of two. */
  readonly capacityBytes: number;
  /**
   * Largest payload of one frame in bytes: `capacityBytes - 8` (the frame header), so that
   * the largest frame fills the whole ring. A producer that writes such a frame waits
   * until the ring is empty; batches of at most capacityBytes / 4 keep both sides busy.
   */
  readonly maxPayloadBytes: number;
  /** Times this object's producer side went to sleep waiting for room (not counting 'not-equal'). */
  producerWaitCount = 0;
  /** Times this object's consumer side went to sleep waiting for a frame. */
  consumerWaitCount = 0;

  private readonly header: Int32Array;
  private readonly data: Uint8Array;
  private readonly data32: Int32Array;
  private readonly mask: number;
  private readonly doorbell: Doorbell | undefined;
  // Producer-owned: our tail (equals the stored tail), last head we loaded.
  private producerTail: number;
  private producerHead: number;
  private writePending = false;
  // Consumer-owned: our head (equals the stored head), last tail we loaded.
  private consumerHead: number;
  private consumerTail: number;
  private readPending = false;
  private peekKind: FrameKind = FrameKind.RECORDS; // set by peek()
  private peekStart = 0; // set by peek()
  private inReadCallback = false;
  private scratch: Uint8Array | undefined;
  /**
   * Producer side: when true, a publish moves tail at once but wakes the consumer (the
   * ring's own notify and the doorbell) only once per synchronous stretch, from a
   * microtask, or before the producer itself sleeps. Off by default (see publish()).
   */
  deferWakeUps = false;
  /** A wake-up is owed for publishes since the last one (deferWakeUps). */
  private wakePending = false;
  private readonly wakeBound = (): void => this.wakeConsumer();

  /**
   * Opens a ring made by Ring.allocate. Each side (producer thread, consumer thread)
   * builds its own Ring over the same buffer.
   * @param doorbell the consumer's doorbell; the producer side rings it after each publish.
   * @throws TypeError for a buffer not made by Ring.allocate or a non-Doorbell.
   */
  constructor(sab: SharedArrayBuffer, doorbell?: Doorbell) {
    if (!(sab instanceof SharedArrayBuffer)) {
      throw new TypeError(`Ring: expected a SharedArrayBuffer from Ring.allocate(), got ${describe(sab)}`);
    }
    const header = new Int32Array(sab, 0, Math.min(RING_HEADER_BYTES, sab.byteLength) >> 2);
    const capacity = header[CAPACITY] ?? 0;
    if (header[MAGIC] !== RING_MAGIC || sab.byteLength !== RING_HEADER_BYTES + capacity || !isPowerOfTwo(capacity)) {
      throw new TypeError(`Ring: the SharedArrayBuffer (${sab.byteLength} bytes) was not made by Ring.allocate()`);
    }
    if (doorbell !== undefined && !(doorbell instanceof Doorbell)) {
      throw new TypeError(`Ring: doorbell must be a Doorbell or undefined, got ${describe(doorbell)}`);
    }
    this.header = header;
    this.capacityBytes = capacity;
    this.maxPayloadBytes = capacity - FRAME_HEADER_BYTES;
    this.mask = capacity - 1;
    this.data = new Uint8Array(sab, RING_HEADER_BYTES, capacity);
    this.data32 = new Int32Array(sab, RING_HEADER_BYTES, capacity >> 2);
    this.doorbell = doorbell;
    this.producerTail = Atomics.load(header, TAIL) >>> 0;
    this.producerHead = Atomics.load(header, HEAD) >>> 0;
    this.consumerHead = this.producerHead;
    this.consumerTail = this.producerTail;
    assert.equal(frameBytes(this.maxPayloadBytes), capacity);
    assert.equal((this.producerTail - this.producerHead) % FRAME_ALIGN_BYTES, 0);
  }

  /** Bytes currently in flight (published, not yet released), 0 .. capacityBytes. Any thread. */
  usedBytes(): number {
    const head = Atomics.load(this.header, HEAD);
    const tail = Atomics.load(this.header, TAIL);
    return Math.min((tail - head) >>> 0, this.capacityBytes);
  }

  // ---------------------------------------------------------------- producer side

  /**
   * Writes one frame if there is room now; never waits.
   * @returns false when the ring has less than frameBytes(payload.length) free.
   * @throws RangeError for an unknown kind or a payload over maxPayloadBytes;
   *   TypeError if payload is not a Uint8Array; Error if a write() is still pending.
   */
  tryWrite(kind: FrameKind, payload: Uint8Array): boolean {
    this.checkFrame(kind, payload, 'Ring.tryWrite');
    if (this.writePending) throw new Error('Ring.tryWrite: a write() is still pending; await it first (frames would reorder)');
    return this.writeNow(kind, payload);
  }

  /**
   * Writes one frame, sleeping with Atomics.waitAsync while the ring is full (that is the
   * backpressure). One write() at a time; the promise resolves once the frame is published.
   * A pending write does not keep the thread alive (see wait.ts).
   * @throws as tryWrite (synchronously, before returning a promise).
   */
  write(kind: FrameKind, payload: Uint8Array): Promise<void> {
    this.checkFrame(kind, payload, 'Ring.write');
    if (this.writePending) throw new Error('Ring.write: a previous write() is still pending; await it first');
    if (this.writeNow(kind, payload)) return Promise.resolve();
    this.writePending = true;
    return this.writeLater(kind, payload);
  }

  private async writeLater(kind: FrameKind, payload: Uint8Array): Promise<void> {
    const need = frameBytes(payload.length);
    try {
      while (!this.writeNow(kind, payload)) await this.sleepForSpace(need, Infinity);
    } finally {
      this.writePending = false;
    }
  }

  /**
   * Writes one frame, blocking the thread with Atomics.wait while the ring is full. For
   * workers and benchmarks: on the main thread it freezes the event loop.
   * @param timeoutMs give up after this long (default: wait forever).
   * @returns true when written, false on timeout. @throws as tryWrite.
   */
  writeBlocking(kind: FrameKind, payload: Uint8Array, timeoutMs?: number): boolean {
    this.checkFrame(kind, payload, 'Ring.writeBlocking');
    const deadline = deadlineAfter(checkTimeoutMs(timeoutMs, 'Ring.writeBlocking'));
    if (this.writePending) throw new Error('Ring.writeBlocking: a write() is still pending; await it first');
    const need = frameBytes(payload.length);
    while (!this.writeNow(kind, payload)) {
      if (!this.sleepForSpaceBlocking(need, deadline)) return this.writeNow(kind, payload); // last try
    }
    return true;
  }

  /**
   * Resolves true once a frame with `payloadBytes` of payload fits, false after timeoutMs.
   * Producer side only; lets a record writer fill its batch while the ring is full.
   * @throws RangeError if payloadBytes is not an integer in [0, maxPayloadBytes].
   */
  async waitForSpace(payloadBytes: number, timeoutMs?: number): Promise<boolean> {
    this.checkPayloadBytes(payloadBytes, 'Ring.waitForSpace');
    const deadline = deadlineAfter(checkTimeoutMs(timeoutMs, 'Ring.waitForSpace'));
    const need = frameBytes(payloadBytes);
    while (this.freeBytes() < need) {
      if (!(await this.sleepForSpace(need, deadline))) return this.reloadedFree() >= need; // last look
    }
    return true;
  }

  /** Free bytes as of the last head we loaded (a lower bound: the consumer only frees more). */
  private freeBytes(): number {
    return this.capacityBytes - ((this.producerTail - this.producerHead) >>> 0);
  }

  private writeNow(kind: FrameKind, payload: Uint8Array): boolean {
    const length = payload.length;
    const need = frameBytes(length);
    const tail = this.producerTail;
    if (this.freeBytes() < need) {
      // SeqCst load of head pairs with the consumer's store in release(): the consumer's
      // reads of the frames it released happen before we overwrite those bytes.
      this.producerHead = Atomics.load(this.header, HEAD) >>> 0;
      if (this.freeBytes() < need) return false;
    }
    const offset = tail & this.mask;
    this.data32[offset >> 2] = length;
    this.data[offset + 4] = kind;
    this.data[offset + 5] = 0;
    this.data[offset + 6] = 0;
    this.data[offset + 7] = 0;
    const start = (offset + FRAME_HEADER_BYTES) & this.mask;
    const firstPart = this.capacityBytes - start;
    if (length <= firstPart) {
      this.data.set(payload, start);
    } else {
      this.data.set(payload.subarray(0, firstPart), start);
      this.data.set(payload.subarray(firstPart), 0);
    }
    this.publish((tail + need) >>> 0);
    return true;
  }

  private publish(tail: number): void {
    this.producerTail = tail;
    // SeqCst store: the frame's plain stores above happen before any consumer load that
    // reads this tail (prevents the consumer reading a half-written frame).
    Atomics.store(this.header, TAIL, tail);
    if (!this.deferWakeUps) return this.wakeConsumer();
    // Waking a thread asleep in waitAsync costs the waker 13 µs of CPU and 23-200 µs of
    // wall on the 2-core VM (native-notes §1, "Deferred wake-ups"): one per synchronous
    // stretch, not one per frame. A microtask runs before this thread can await anything, and the
    // producer's own sleeps wake first, so a publish is never left unannounced while the
    // producer waits.
    if (this.wakePending) return;
    this.wakePending = true;
    queueMicrotask(this.wakeBound);
  }

  /** Announces the publishes so far: notifies a sleeping consumer and rings its doorbell. */
  private wakeConsumer(): void {
    this.wakePending = false;
    // SeqCst load after the tail store (Dekker with sleepForData): if the consumer's flag is
    // not visible yet, its re-check of tail will see our store. The exchange clears the
    // flag so the next publishes skip the notify syscall until the consumer sleeps again.
    if (Atomics.load(this.header, DATA_WAIT) !== 0 && Atomics.exchange(this.header, DATA_WAIT, 0) !== 0) {
      Atomics.notify(this.header, TAIL);
    }
    this.doorbell?.ring();
  }

  /** One sleep of the producer; true if it may be worth retrying, false on timeout. */
  private sleepForSpaceBlocking(need: number, deadline: number): boolean {
    const head = this.announceSpaceWait(need);
    return head === undefined || this.countSpaceWait(sleepOnWord(this.header, HEAD, SPACE_WAIT, head, deadline));
  }

  /** As sleepForSpaceBlocking, but the event loop keeps running while we sleep. */
  private async sleepForSpace(need: number, deadline: number): Promise<boolean> {
    const head = this.announceSpaceWait(need);
    return head === undefined || this.countSpaceWait(await sleepOnWordAsync(this.header, HEAD, SPACE_WAIT, head, deadline));
  }

  private countSpaceWait(result: WaitResult): boolean {
    if (result !== 'not-equal') this.producerWaitCount++;
    return result !== 'timed-out';
  }

  /**
   * Sets spaceWait = need, then re-reads head. Returns the head value to sleep on, or
   * undefined (flag cleared) when the room is already there.
   */
  private announceSpaceWait(need: number): number | undefined {
    // Never sleep owing the consumer a wake-up: it might be asleep on the frames we wait behind.
    if (this.wakePending) this.wakeConsumer();
    // SeqCst store before the re-load of head (Dekker with release()): either the
    // consumer sees our flag and notifies, or we see its new head here.
    Atomics.store(this.header, SPACE_WAIT, this.spaceWakeBytes(need));
    const head = Atomics.load(this.header, HEAD);
    this.producerHead = head >>> 0;
    if (this.freeBytes() >= need) {
      Atomics.store(this.header, SPACE_WAIT, 0);
      return undefined;
    }
    return head;
  }

  /**
   * The free bytes a sleeping producer asks to be woken at: half the ring, or its frame if
   * larger. Woken as soon as its frame fits, a backpressured producer slept and woke once
   * per frame the consumer released (1,940 notifies for 3,500 frames of the word count at
   * parallelism 1; 430 with the threshold, and 2-11 % less CPU: native-notes.md §1). Waiting
   * for half the ring costs no throughput: the consumer still has the other half to read.
   */
  private spaceWakeBytes(need: number): number {
    return Math.max(need, this.capacityBytes >>> 1);
  }

  private reloadedFree(): number {
    this.producerHead = Atomics.load(this.header, HEAD) >>> 0; // SeqCst; as in writeNow
    return this.freeBytes();
  }

  private checkFrame(kind: FrameKind, payload: Uint8Array, where: string): void {
    if (!isFrameKind(kind)) throw new RangeError(`${where}: kind must be a FrameKind (${FRAME_KIND_MIN}..${FRAME_KIND_MAX}), got ${String(kind)}`);
    if (!(payload instanceof Uint8Array)) {
      throw new TypeError(`${where}: payload must be a Uint8Array, got ${describe(payload)}`);
    }
    if (payload.length > this.maxPayloadBytes) {
      throw new RangeError(
        `${where}: ${frameKindName(kind)} payload of ${payload.length} bytes exceeds maxPayloadBytes ${this.maxPayloadBytes} ` +
          `of this ${this.capacityBytes}-byte ring (split the batch or allocate a larger ring)`,
      );
    }
  }

  private checkPayloadBytes(payloadBytes: number, where: string): void {
    if (!Number.isInteger(payloadBytes) || payloadBytes < 0 || payloadBytes > this.maxPayloadBytes) {
      throw new RangeError(
        `${where}: payloadBytes must be an integer from 0 to maxPayloadBytes ${this.maxPayloadBytes}, got ${String(payloadBytes)}`,
      );
    }
  }

  // ---------------------------------------------------------------- consumer side

  /** Reads one frame if one is there, copying its payload out; never waits. */
  tryRead(): Frame | undefined {
    this.checkNotInCallback('Ring.tryRead');
    const length = this.peek();
    if (length < 0) return undefined;
    const start = this.peekStart;
    const payload =
      start + length <= this.capacityBytes
        ? this.data.slice(start, start + length) // slice copies into a new, unshared buffer
        : this.copyWrapped(new Uint8Array(length), start, length);
    const kind = this.peekKind;
    this.release((this.consumerHead + frameBytes(length)) >>> 0);
    return { kind, payload };
  }

  /**
   * Reads one frame without copying it when it is contiguous: calls fn(kind, view) where
   * `view` aliases ring memory and is valid only until fn returns; then the frame is
   * released, also when fn throws (a frame that cannot be decoded must not block the
   * channel). A payload that wraps around the end of the ring is first copied into a
   * reusable scratch buffer (also valid only during fn). fn must not read from this ring.
   * @returns `{ value }` with fn's result, or undefined when no frame is there.
   */
  tryReadWith<T>(fn: (kind: FrameKind, view: Uint8Array) => T): { value: T } | undefined {
    this.checkNotInCallback('Ring.tryReadWith');
    const length = this.peek();
    if (length < 0) return undefined;
    const start = this.peekStart;
    let view: Uint8Array;
    if (start + length <= this.capacityBytes) {
      view = this.data.subarray(start, start + length);
    } else {
      if (this.scratch === undefined || this.scratch.length < length) {
        // Grows by powers of two up to maxPayloadBytes; reused for every later wrapped frame.
        this.scratch = new Uint8Array(Math.min(this.maxPayloadBytes, 2 ** Math.ceil(Math.log2(length))));
      }
      view = this.copyWrapped(this.scratch, start, length);
    }
    this.inReadCallback = true;
    try {
      return { value: fn(this.peekKind, view) };
    } finally {
      this.inReadCallback = false;
      this.release((this.consumerHead + frameBytes(length)) >>> 0);
    }
  }

  /** Copies a payload that wraps around the end of the data area into out[0, length). */
  private copyWrapped(out: Uint8Array, start: number, length: number): Uint8Array {
    const firstPart = this.capacityBytes - start;
    out.set(this.data.subarray(start));
    out.set(this.data.subarray(0, length - firstPart), firstPart);
    return out.length === length ? out : out.subarray(0, length);
  }

  /**
   * Reads one frame, sleeping with Atomics.waitAsync while the ring is empty. One read()
   * at a time. A pending read does not keep the thread alive (see wait.ts).
   */
  async read(): Promise<Frame> {
    if (this.readPending) throw new Error('Ring.read: a previous read() is still pending; await it first');
    this.readPending = true;
    try {
      for (;;) {
        const frame = this.tryRead();
        if (frame !== undefined) return frame;
        await this.sleepForData(Infinity);
      }
    } finally {
      this.readPending = false;
    }
  }

  /**
   * Reads one frame, blocking the thread with Atomics.wait while the ring is empty.
   * @returns the frame, or undefined after timeoutMs (default: wait forever).
   */
  readBlocking(timeoutMs?: number): Frame | undefined {
    const deadline = deadlineAfter(checkTimeoutMs(timeoutMs, 'Ring.readBlocking'));
    for (;;) {
      const frame = this.tryRead();
      if (frame !== undefined) return frame;
      if (!this.sleepForDataBlocking(deadline)) return this.tryRead();
    }
  }

  /**
   * Consumer side: resolves true once a frame is there (then tryRead / tryReadWith
   * return it), false after timeoutMs. For a zero-copy read loop on one input; a
   * consumer of several inputs waits on its Doorbell instead.
   */
  async waitForData(timeoutMs?: number): Promise<boolean> {
    const deadline = deadlineAfter(checkTimeoutMs(timeoutMs, 'Ring.waitForData'));
    while (!this.hasFrame()) {
      if (!(await this.sleepForData(deadline))) return this.hasFrame();
    }
    return true;
  }

  /** True when a frame is published and not yet released; reloads tail only when needed. */
  private hasFrame(): boolean {
    if (this.consumerHead !== this.consumerTail) return true;
    // SeqCst load pairs with the producer's store in publish(): the frame bytes written
    // before that store are visible to the reads that follow.
    this.consumerTail = Atomics.load(this.header, TAIL) >>> 0;
    return this.consumerHead !== this.consumerTail;
  }

  /**
   * Looks at the frame at head: returns its payload length (or -1 when there is none) and
   * sets peekKind and peekStart (data offset of the payload). Checks the ring's invariants.
   */
  private peek(): number {
    if (!this.hasFrame()) return -1;
    const offset = this.consumerHead & this.mask;
    const length = this.data32[offset >> 2]! >>> 0;
    const kind = this.data[offset + 4];
    const available = (this.consumerTail - this.consumerHead) >>> 0;
    if (length > this.maxPayloadBytes || !isFrameKind(kind) || frameBytes(length) > available) {
      assert.fail(
        `Ring: corrupt frame at position ${this.consumerHead}: length ${length}, kind ${String(kind)}, ` +
          `${available} bytes published (two producers or two consumers on one ring?)`,
      );
    }
    this.peekKind = kind;
    this.peekStart = (offset + FRAME_HEADER_BYTES) & this.mask;
    return length;
  }

  private release(head: number): void {
    this.consumerHead = head;
    // SeqCst store: our reads of the released frame happen before the producer's load
    // of this head, after which it may overwrite those bytes.
    Atomics.store(this.header, HEAD, head);
    // SeqCst load after the store (Dekker with announceSpaceWait): if the producer's flag
    // is not visible yet, its re-load of head sees our store.
    const need = Atomics.load(this.header, SPACE_WAIT);
    if (need === 0) return;
    // The producer is (about to be) asleep: wake it once the frame it waits to write fits.
    // SeqCst load of the exact tail (it is fixed while the producer waits) instead of our
    // cached one, so that the test agrees with the producer's and we notify no earlier
    // than needed. Unlike dataWait, the flag is NOT cleared here: only the producer clears
    // it, after it woke up. A notifier-side clear lost a wake-up (seen as a rare deadlock
    // in test/channel/ring-threads): we could judge "enough room" for the very head the
    // producer had judged "too little" (stale tail, or the ABA of a new wait with the same
    // need), clear the flag and notify before it slept; its futex compare on head then
    // passed and it slept with no flag left to draw the next notify. With a waiter-owned
    // flag, a notify that comes too early is simply repeated at the next release.
    this.consumerTail = Atomics.load(this.header, TAIL) >>> 0;
    if (this.capacityBytes - ((this.consumerTail - head) >>> 0) >= need) Atomics.notify(this.header, HEAD);
  }

  /** One sleep of the consumer; true if it may be worth re-checking, false on timeout. */
  private sleepForDataBlocking(deadline: number): boolean {
    const tail = this.announceDataWait();
    return tail === undefined || this.countDataWait(sleepOnWord(this.header, TAIL, DATA_WAIT, tail, deadline));
  }

  private async sleepForData(deadline: number): Promise<boolean> {
    const tail = this.announceDataWait();
    return tail === undefined || this.countDataWait(await sleepOnWordAsync(this.header, TAIL, DATA_WAIT, tail, deadline));
  }

  private countDataWait(result: WaitResult): boolean {
    if (result !== 'not-equal') this.consumerWaitCount++;
    return result !== 'timed-out';
  }

  /** Sets dataWait, re-reads tail; returns the tail to sleep on, or undefined if a frame is there. */
  private announceDataWait(): number | undefined {
    // SeqCst store before the re-load of tail (Dekker with publish()): either the
    // producer sees our flag and notifies, or we see its new tail here.
    Atomics.store(this.header, DATA_WAIT, 1);
    const tail = Atomics.load(this.header, TAIL);
    this.consumerTail = tail >>> 0;
    if (this.consumerTail !== this.consumerHead) {
      Atomics.store(this.header, DATA_WAIT, 0);
      return undefined;
    }
    return tail;
  }

  private checkNotInCallback(where: string): void {
    if (this.inReadCallback) throw new Error(`${where}: called from inside a tryReadWith callback on the same ring`);
  }
}

function isPowerOfTwo(n: number): boolean {
  return Number.isInteger(n) && n > 0 && n <= 2 ** 30 && (n & (n - 1)) === 0;
}

/**
 * Sleeps (Atomics.wait) while header word `word` holds `value`, until notified or the
 * deadline, then clears our flag word `flag`. The futex compare on `word` closes the gap
 * after our re-check: a store + notify from the other side in between makes the wait
 * return 'not-equal' at once instead of sleeping through it (lost wake-up race).
 * Then we clear our flag: for spaceWait this is the only clear; for dataWait the producer
 * may have cleared it already, and clearing again only saves it a needless notify.
 */
function sleepOnWord(header: Int32Array, word: number, flag: number, value: number, deadline: number): WaitResult {
  const timeout = remainingMs(deadline);
  const result = timeout === 0 ? 'timed-out' : Atomics.wait(header, word, value, timeout);
  Atomics.store(header, flag, 0);
  return result;
}

/** As sleepOnWord, with Atomics.waitAsync: the thread's event loop keeps running. */
async function sleepOnWordAsync(header: Int32Array, word: number, flag: number, value: number, deadline: number): Promise<WaitResult> {
  const timeout = remainingMs(deadline);
  const result = timeout === 0 ? 'timed-out' : await waitAsyncOnWord(header, word, value, timeout);
  Atomics.store(header, flag, 0);
  return result;
}

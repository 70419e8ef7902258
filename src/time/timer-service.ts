/**
 * Timers of one keyed operator, in event time and processing time. Flink:
 * `InternalTimerServiceImpl` behind the `TimerService` a `KeyedProcessFunction` sees.
 *
 * - Timers are kept in keyed state (`KeyedStateBackend.timers(uid, domain)`: a priority
 *   queue on the heap backend, key-group-prefixed entries in the LSM backend), so they are
 *   part of every checkpoint, restored, and redistributed by key group on a rescale.
 * - One timer per (key, timestamp, domain): registering it again is a no-op.
 * - Event-time timers fire, in timestamp order, when the watermark reaches them
 *   (`advanceWatermark`): the watermark is set first, so `currentWatermark()` inside
 *   `onTimer` is the new one. A timer at or below the current watermark fires with the
 *   next advance.
 * - Processing-time timers fire when the clock reaches them (`fireProcessingTimers`,
 *   called by the mailbox loop, which also sleeps no longer than the next one is due).
 *   Timers that came due while the job was down fire right after a restore.
 * - Every firing runs in the mailbox thread, never at the same time as `processElement`.
 */
import type { StateKey } from '../state/api.js';

/** Flink: `TimeDomain`. */
export type TimeDomain = 'EVENT_TIME' | 'PROCESSING_TIME';

/** A queue of timers of one operator and domain, kept in keyed state (see state/api.ts). */
export interface TimerQueue {
  add(key: StateKey, keyGroup: number, timestampMs: number): void;
  delete(key: StateKey, keyGroup: number, timestampMs: number): void;
  peekTimestamp(): number | undefined;
  pollDue(upToMs: number): { key: StateKey; keyGroup: number; timestampMs: number } | undefined;
  size(): number;
}

/** Processing time, ms since the epoch. Tests inject a manual clock. */
export interface ProcessingClock {
  now(): number;
}

export const systemProcessingClock: ProcessingClock = { now: () => Date.now() };

/** What a process function sees. Flink: `TimerService`. */
export interface TimerService {
  /** Processing time now, ms since the epoch. */
  currentProcessingTime(): number;
  /** The operator's current event-time watermark (-Infinity before the first). */
  currentWatermark(): number;
  /** Calls `onTimer` once the watermark reaches `timestampMs` (for the current key). */
  registerEventTimeTimer(timestampMs: number): void;
  /** Calls `onTimer` once processing time reaches `timestampMs` (for the current key). */
  registerProcessingTimeTimer(timestampMs: number): void;
  deleteEventTimeTimer(timestampMs: number): void;
  deleteProcessingTimeTimer(timestampMs: number): void;
}

/** The current key and its key group, for registrations. */
export interface KeyContext {
  currentKey(): { key: StateKey; keyGroup: number } | undefined;
  setCurrentKey(key: StateKey, keyGroup: number): void;
}

/** A timer that fired. */
export interface FiredTimer {
  key: StateKey;
  keyGroup: number;
  timestampMs: number;
  domain: TimeDomain;
}

function checkTimestamp(what: string, timestampMs: unknown): number {
  if (typeof timestampMs !== 'number' || !Number.isSafeInteger(timestampMs)) {
    throw new RangeError(`${what}: a timer's time must be an integer number of ms since the epoch (at most 2^53 in size), got ${String(timestampMs)}`);
  }
  return timestampMs;
}

export class InternalTimerService implements TimerService {
  private watermark = -Infinity;

  constructor(
    private readonly operatorName: string,
    private readonly keys: KeyContext,
    private readonly eventTimers: TimerQueue,
    private readonly processingTimers: TimerQueue,
    private readonly clock: ProcessingClock,
  ) {}

  currentProcessingTime(): number {
    return this.clock.now();
  }

  currentWatermark(): number {
    return this.watermark;
  }

  private current(what: string): { key: StateKey; keyGroup: number } {
    const current = this.keys.currentKey();
    if (current === undefined) {
      throw new TypeError(`${what} of "${this.operatorName}": timers belong to a key, and there is no current key here (register timers in processElement or onTimer of a keyed stream)`);
    }
    return current;
  }

  registerEventTimeTimer(timestampMs: number): void {
    const { key, keyGroup } = this.current('registerEventTimeTimer');
    this.eventTimers.add(key, keyGroup, checkTimestamp('registerEventTimeTimer', timestampMs));
  }

  registerProcessingTimeTimer(timestampMs: number): void {
    const { key, keyGroup } = this.current('registerProcessingTimeTimer');
    this.processingTimers.add(key, keyGroup, checkTimestamp('registerProcessingTimeTimer', timestampMs));
  }

  deleteEventTimeTimer(timestampMs: number): void {
    const { key, keyGroup } = this.current('deleteEventTimeTimer');
    this.eventTimers.delete(key, keyGroup, checkTimestamp('deleteEventTimeTimer', timestampMs));
  }

  deleteProcessingTimeTimer(timestampMs: number): void {
    const { key, keyGroup } = this.current('deleteProcessingTimeTimer');
    this.processingTimers.delete(key, keyGroup, checkTimestamp('deleteProcessingTimeTimer', timestampMs));
  }

  /**
   * The watermark advanced to `watermarkMs`: fires every event-time timer at or below it,
   * in timestamp order, with its key current. Returns the number fired.
   */
  advanceWatermark(watermarkMs: number, fire: (timer: FiredTimer) => void): number {
    if (watermarkMs <= this.watermark) return 0;
    this.watermark = watermarkMs;
    return this.fireDue(this.eventTimers, 'EVENT_TIME', watermarkMs, fire);
  }

  /** Fires every processing-time timer due by `nowMs` (the clock's time when omitted). */
  fireProcessingTimers(fire: (timer: FiredTimer) => void, nowMs = this.clock.now()): number {
    return this.fireDue(this.processingTimers, 'PROCESSING_TIME', nowMs, fire);
  }

  /** When the next processing-time timer is due, or undefined. */
  nextProcessingTimer(): number | undefined {
    return this.processingTimers.peekTimestamp();
  }

  private fireDue(queue: TimerQueue, domain: TimeDomain, upTo: number, fire: (timer: FiredTimer) => void): number {
    let fired = 0;
    for (let t = queue.pollDue(upTo); t !== undefined; t = queue.pollDue(upTo)) {
      this.keys.setCurrentKey(t.key, t.keyGroup);
      fire({ key: t.key, keyGroup: t.keyGroup, timestampMs: t.timestampMs, domain });
      fired++;
    }
    return fired;
  }
}

/**
 * Barrier handling for a subtask with several inputs, as pure transitions. Flink:
 * `CheckpointBarrierHandler` (`SingleCheckpointBarrierHandler` aligned for exactly-once,
 * `CheckpointBarrierTracker` for at-least-once).
 *
 * Exactly-once (aligned): once BARRIER n arrives on an input, that input is blocked (no
 * record behind the barrier is read) until BARRIER n arrived on every live input; then the
 * subtask snapshots (trigger n) and all inputs are unblocked. A barrier of a newer
 * checkpoint than the one aligning aborts the older one (it timed out or was declined
 * upstream) and starts aligning the newer; an older barrier is ignored.
 *
 * At-least-once (tracking): inputs are never blocked; checkpoint n triggers when its
 * barrier arrived on every live input. Records after a barrier may be processed before the
 * snapshot, so they may be replayed after a restore (duplicates, never losses).
 *
 * An input that ended (END_OF_INPUT) counts as having delivered every later barrier.
 *
 * Invariants: `blocked` is empty unless aligning; a trigger is emitted at most once per id,
 * in increasing id order, and never for an aborted id.
 */
import assert from 'node:assert/strict';

export type CheckpointMode = 'exactly-once' | 'at-least-once';

/** What the subtask must do after an event. */
export interface BarrierActions {
  /** Snapshot for this checkpoint now, then forward its barrier. */
  trigger?: number;
  /** Checkpoints abandoned by this event (release their partial work). */
  aborted?: number[];
  /** With `trigger`: performance.now() when its alignment began (alignment time). */
  alignedSince?: number;
}

export class BarrierHandler {
  /** Inputs not to read (exactly-once alignment). */
  readonly blocked = new Set<number>();
  private readonly ended = new Set<number>();
  /** Checkpoint id -> inputs whose barrier arrived. */
  private readonly pending = new Map<number, Set<number>>();
  private lastTriggered = 0;
  /** Checkpoints above `lastTriggered` abandoned by the coordinator: their barriers are ignored. */
  private readonly abandoned = new Set<number>();
  /** performance.now() when the current alignment began, for alignment time. */
  alignmentStartedAt: number | undefined;

  constructor(
    private readonly inputCount: number,
    readonly mode: CheckpointMode,
  ) {
    assert(Number.isInteger(inputCount) && inputCount >= 1);
  }

  private liveCount(): number {
    return this.inputCount - this.ended.size;
  }

  /** BARRIER `checkpointId` arrived on `input`. */
  /** `now`: performance.now(), for alignment time. */
  barrier(input: number, checkpointId: number, now: number): BarrierActions {
    assert(input >= 0 && input < this.inputCount && !this.ended.has(input));
    if (checkpointId <= this.lastTriggered || this.abandoned.has(checkpointId)) return {};
    const aborted: number[] = [];
    if (this.mode === 'exactly-once') {
      for (const id of [...this.pending.keys()]) {
        if (id < checkpointId) {
          this.pending.delete(id);
          aborted.push(id);
        }
      }
      // An older barrier while a newer checkpoint aligns (the older one was abandoned): ignore it.
      if (this.pending.size > 0 && !this.pending.has(checkpointId)) return aborted.length > 0 ? { aborted } : {};
      if (aborted.length > 0) this.blocked.clear();
      this.blocked.add(input);
    }
    let arrived = this.pending.get(checkpointId);
    if (arrived === undefined) {
      arrived = new Set();
      this.pending.set(checkpointId, arrived);
      if (this.mode === 'exactly-once') this.alignmentStartedAt = now;
      else this.alignmentStartedAt ??= now;
    }
    arrived.add(input);
    return this.complete(checkpointId, aborted);
  }

  /** `input` delivered END_OF_INPUT: it will deliver no barrier any more. */
  endOfInput(input: number): BarrierActions {
    assert(input >= 0 && input < this.inputCount);
    this.ended.add(input);
    this.blocked.delete(input);
    for (const arrived of this.pending.values()) arrived.delete(input);
    // The newest pending checkpoint may now be complete.
    const ids = [...this.pending.keys()].sort((a, b) => a - b);
    const newest = ids[ids.length - 1];
    return newest === undefined ? {} : this.complete(newest, []);
  }

  /**
   * Abandons checkpoint `checkpointId` (declined or timed out): unblocks its inputs, and
   * its barriers that arrive later are ignored (an aborted checkpoint is never taken; for
   * a stop-with-savepoint that would end the subtask).
   */
  abort(checkpointId: number): void {
    if (checkpointId > this.lastTriggered) this.abandoned.add(checkpointId);
    if (!this.pending.delete(checkpointId)) return;
    if (this.mode === 'exactly-once') this.blocked.clear();
    if (this.pending.size === 0) this.alignmentStartedAt = undefined;
  }

  private complete(checkpointId: number, aborted: number[]): BarrierActions {
    const arrived = this.pending.get(checkpointId)!;
    if (arrived.size < this.liveCount()) return aborted.length > 0 ? { aborted } : {};
    // Triggering n also settles every older pending checkpoint (tracking mode).
    for (const id of [...this.pending.keys()]) {
      if (id < checkpointId) aborted.push(id);
      if (id <= checkpointId) this.pending.delete(id);
    }
    this.blocked.clear();
    this.lastTriggered = checkpointId;
    for (const id of this.abandoned) if (id <= checkpointId) this.abandoned.delete(id);
    const alignedSince = this.alignmentStartedAt;
    this.alignmentStartedAt = undefined;
    const actions: BarrierActions = { trigger: checkpointId };
    if (alignedSince !== undefined) actions.alignedSince = alignedSince;
    if (aborted.length > 0) actions.aborted = aborted;
    return actions;
  }
}

/**
 * The checkpoint side of a subtask's mailbox: when it takes checkpoint n (a barrier frame
 * that completed alignment, or a direct trigger), the synchronous phase (every operator's
 * state, the keyed-state snapshot started) and the barrier forwarded behind the records
 * emitted so far, and what `complete` and `abort` mails do: sinks commit, partial work is
 * dropped. It also keeps stop-with-savepoint's state: after a stop barrier's snapshot the
 * source reads no more (`stopping`), and the savepoint's completion ends the subtask
 * (`stopped`).
 *
 * Flink: the checkpoint methods of `StreamTask` (`triggerCheckpointAsync`,
 * `triggerCheckpointOnBarrier`, `notifyCheckpointCompleteAsync`,
 * `notifyCheckpointAbortAsync`) and the synchronous half of
 * `SubtaskCheckpointCoordinatorImpl.checkpointState`. Barrier alignment is
 * barrier-handler.ts; the asynchronous phase and checkpoint storage are checkpointing.ts.
 *
 * Invariants: checkpoints are taken in increasing id order, each at most once; after the
 * input ended no barrier goes downstream.
 */
import assert from 'node:assert/strict';
import { performance } from 'node:perf_hooks';
import { decodeBarrier } from './barrier-codec.js';
import type { BarrierActions, BarrierHandler } from './barrier-handler.js';
import type { SubtaskCheckpointing } from './checkpointing.js';
import type { MasterMessage, SubtaskMessage } from './deployment.js';
import type { OperatorChain } from './operator-chain.js';

/** Aborted checkpoint ids remembered (a late stop barrier of one is not a stop). */
const abortedIdsKept = 64;

export class TaskCheckpoints {
  /** The newest checkpoint this subtask took: a direct trigger of it again is ignored. */
  private lastCheckpointTaken = 0;
  /**
   * A checkpoint the last barrier frame (or END_OF_INPUT) completed: the run loop takes it
   * right after the frame (`takeTriggered`).
   */
  triggered: { checkpointId: number; timestamp: number; alignedSince: number | undefined } | undefined;
  /** Recently aborted checkpoint ids (the newest 64): a late stop barrier of one is not a stop. */
  private readonly abortedIds = new Set<number>();
  /** Ids whose barrier arrived marked as stop-with-savepoint (cleared when taken or aborted). */
  private readonly stopBarriers = new Set<number>();
  /**
   * The stop-with-savepoint this subtask has snapshotted and now waits on: no record
   * follows its barrier; `complete` ends the subtask without draining (operators get no
   * end of input, as Flink's stop without --drain), `abort` resumes normal work.
   */
  private stoppingId: number | undefined;
  /** The stop-with-savepoint completed: end now. */
  private stoppedNow = false;

  constructor(
    /** Snapshot orchestration; undefined when checkpointing is off (triggers are declined). */
    private readonly checkpointing: SubtaskCheckpointing | undefined,
    /** Aligns barriers of several inputs; undefined for sources or without checkpointing. */
    private readonly barriers: BarrierHandler | undefined,
    /** The subtask's operators, source, sinks and writers. */
    private readonly chain: OperatorChain,
    private readonly post: (message: SubtaskMessage) => void,
  ) {}

  /** The stop-with-savepoint snapshotted and waited on, if any: no record may follow its barrier. */
  get stopping(): number | undefined {
    return this.stoppingId;
  }

  /** The stop-with-savepoint completed: the subtask ends now. */
  get stopped(): boolean {
    return this.stoppedNow;
  }

  /** A BARRIER frame's payload (copied out of the ring) arrived on input `inputIndex`. */
  onBarrier(inputIndex: number, payload: Uint8Array): void {
    const barrier = decodeBarrier(payload);
    if (barrier.stop && !this.abortedIds.has(barrier.checkpointId)) this.stopBarriers.add(barrier.checkpointId);
    if (this.barriers !== undefined) this.onBarrierActions(this.barriers.barrier(inputIndex, barrier.checkpointId, performance.now()), barrier.timestamp);
  }

  /** Input `inputIndex` delivered END_OF_INPUT: it counts as having delivered every later barrier. */
  onEndOfInput(inputIndex: number): void {
    if (this.barriers !== undefined) this.onBarrierActions(this.barriers.endOfInput(inputIndex), 0);
  }

  private onBarrierActions(actions: BarrierActions, timestamp: number): void {
    for (const id of actions.aborted ?? []) this.checkpointing?.abort(id);
    if (actions.trigger !== undefined) {
      this.triggered = { checkpointId: actions.trigger, timestamp, alignedSince: actions.alignedSince };
    }
  }

  /** Takes the checkpoint the last frame completed (`triggered`). REQUIRES: `triggered` is set. */
  async takeTriggered(inputEnded: boolean): Promise<void> {
    const { checkpointId, timestamp, alignedSince } = this.triggered!;
    this.triggered = undefined;
    await this.checkpoint(checkpointId, timestamp, alignedSince, inputEnded);
  }

  /** A direct trigger: sources (they start the barrier) and subtasks whose input ended. */
  async onTrigger(checkpointId: number, timestamp: number, stop: boolean, inputEnded: boolean): Promise<void> {
    // Taken already through barriers (a trigger raced with this subtask's end of input).
    if (checkpointId <= this.lastCheckpointTaken) return;
    if (this.checkpointing === undefined) return this.post({ type: 'decline', checkpointId, reason: 'checkpointing is off in this subtask' });
    if (this.stoppingId !== undefined) return this.post({ type: 'decline', checkpointId, reason: `the subtask is stopping with savepoint ${this.stoppingId}` });
    if (this.chain.source === undefined && !inputEnded) return this.post({ type: 'decline', checkpointId, reason: 'a running subtask takes checkpoints at barriers' });
    if (stop) this.stopBarriers.add(checkpointId);
    await this.checkpoint(checkpointId, timestamp, undefined, inputEnded);
  }

  /** A `complete` mail: sinks commit what checkpoint n covers; a completed stop-with-savepoint ends the subtask. */
  async onComplete(checkpointId: number): Promise<void> {
    await this.notifyComplete(checkpointId);
    if (checkpointId === this.stoppingId) this.stoppedNow = true;
  }

  /** Checkpoint n is complete: sinks commit what it covers, the reader is told. @throws TaskFailure naming the sink. */
  private async notifyComplete(checkpointId: number): Promise<void> {
    for (const sink of this.chain.sinks) {
      try {
        await sink.notifyComplete(checkpointId);
      } catch (thrown) {
        throw sink.failure(thrown, undefined);
      }
    }
    this.chain.source?.notifyCheckpointComplete(checkpointId);
  }

  /** An `abort` mail: checkpoint n's partial work is dropped; a failed stop-with-savepoint resumes the job. */
  onAbort(checkpointId: number): void {
    if (this.abortedIds.size >= abortedIdsKept) this.abortedIds.delete(this.abortedIds.values().next().value!);
    this.abortedIds.add(checkpointId);
    this.checkpointing?.abort(checkpointId);
    this.barriers?.abort(checkpointId);
    this.stopBarriers.delete(checkpointId);
    // A failed stop-with-savepoint: the job goes on (sources read on).
    if (this.stoppingId === checkpointId) this.stoppingId = undefined;
  }

  /**
   * After a cancel, given the mails not run yet (in arrival order): commits what
   * `complete` mails that arrived before the cancel cover (their checkpoints are complete:
   * their output must stay), then lets the sinks discard everything else they staged, so
   * a cancelled job leaves no hidden files. Never throws.
   */
  async settleBeforeCancel(mails: readonly MasterMessage[]): Promise<void> {
    for (const mail of mails) {
      if (mail.type === 'cancel') break;
      if (mail.type === 'complete') await this.notifyComplete(mail.checkpointId).catch(() => undefined);
    }
    for (const sink of this.chain.sinks) await sink.abort().catch(() => undefined);
  }

  /** Declines every trigger among `mails` (the subtask takes no more checkpoints: `reason`). */
  declineTriggers(mails: readonly MasterMessage[], reason: string): void {
    for (const mail of mails) {
      if (mail.type === 'trigger') this.post({ type: 'decline', checkpointId: mail.checkpointId, reason });
    }
  }

  /**
   * Takes checkpoint n: the synchronous phase (operator state, keyed state snapshot
   * started), then, unless the input has ended, the barrier goes downstream behind every
   * record emitted so far.
   */
  private async checkpoint(checkpointId: number, timestamp: number, alignedSince: number | undefined, inputEnded: boolean): Promise<void> {
    const checkpointing = this.checkpointing;
    assert(checkpointing !== undefined);
    assert(checkpointId > this.lastCheckpointTaken, `checkpoint ${checkpointId} after ${this.lastCheckpointTaken}`);
    this.lastCheckpointTaken = checkpointId;
    const startedAt = performance.now();
    const operatorState: Record<string, unknown> = {};
    const { operators, source, sinks, writers } = this.chain;
    for (const op of operators) {
      const lists = op.snapshotOperatorState(checkpointId);
      if (lists !== undefined) operatorState[op.node.uid] = lists;
    }
    if (source !== undefined) {
      try {
        operatorState[source.node.uid] = { splits: source.snapshotSplits(checkpointId) };
      } catch (thrown) {
        throw source.failure(thrown, undefined);
      }
    }
    for (const sink of sinks) {
      let state: unknown;
      try {
        state = sink.snapshotSink(checkpointId);
      } catch (thrown) {
        throw sink.failure(thrown, undefined);
      }
      if (state !== undefined) operatorState[sink.node.uid] = state;
    }
    checkpointing.begin(checkpointId, operatorState, startedAt, alignedSince === undefined ? 0 : startedAt - alignedSince, inputEnded);
    const stop = this.stopBarriers.delete(checkpointId);
    if (stop) this.stoppingId = checkpointId;
    // After END_OF_INPUT no frame may follow (downstream reads no more from this channel).
    if (inputEnded) return;
    // Written without waiting when the rings have room (RecordWriter.barrier).
    for (const w of writers) if (!w.barrier(checkpointId, timestamp, stop)) await w.flushReady();
  }
}

/**
 * The checkpoint coordinator, in the main thread, after Flink's `CheckpointCoordinator`:
 * triggers checkpoint n at every source subtask, collects one ack per subtask (its state
 * handle, already durable in shared/), then writes `chk-n/_metadata` (the commit point),
 * prunes to the retained count, and notifies every subtask that n is complete.
 *
 * Knobs as Flink's: interval, timeout, min pause between checkpoints, max concurrent,
 * tolerable consecutive failures, retained count. A checkpoint fails when it times out or
 * a subtask declines it; a decline because a source has finished does not count as a
 * failure (bounded input ends, and checkpoints stop there).
 *
 * Pruning deletes shared files that no retained checkpoint references. Subtasks put files
 * into shared/ before they ack, so a prune while another checkpoint is in flight could
 * delete files that checkpoint is about to reference: prunes wait until none is in flight.
 */
import { performance } from 'node:perf_hooks';
import type { CheckpointMetadata, CheckpointStats, CheckpointStorage, SubtaskState } from '../checkpoint/index.js';
import type { SubtaskCheckpointStats } from '../task/index.js';
import type { CheckpointConfig, JobEvent } from './options.js';

/** Figures of one completed checkpoint, for results, progress and `sluice checkpoints`. */
export interface CompletedCheckpoint extends CheckpointStats {
  checkpointId: number;
  completedAt: number;
}

/** The job failed because checkpoints failed more often in a row than tolerated. */
export class CheckpointFailureError extends Error {
  constructor(failures: number, tolerable: number, reason: string) {
    super(`${failures} checkpoints failed in a row (tolerable: ${tolerable}); the last: ${reason}. Raise --tolerable-failed-checkpoints or --checkpoint-timeout`);
    this.name = 'CheckpointFailureError';
  }
}

interface PendingCheckpoint {
  checkpointId: number;
  triggeredAt: number;
  startedAtMs: number;
  acks: Map<string, { state: SubtaskState; stats: SubtaskCheckpointStats }>;
  timeout: unknown;
}

export interface CoordinatorIo {
  /** Sends a trigger to every source subtask. */
  trigger(checkpointId: number, timestamp: number): void;
  /** Tells every subtask that checkpoint n is complete. */
  complete(checkpointId: number): void;
  /** Tells every subtask that checkpoint n is abandoned. */
  abort(checkpointId: number): void;
  /** The job must fail (too many failed checkpoints). */
  fail(error: Error): void;
  event(event: JobEvent): void;
}

/** Time for the coordinator: real timers by default; tests pass a manual clock. */
export interface CoordinatorClock {
  /** Monotonic ms. */
  now(): number;
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

export const realClock: CoordinatorClock = {
  now: () => performance.now(),
  setTimeout: (fn, ms) => setTimeout(fn, ms).unref(),
  clearTimeout: (handle) => clearTimeout(handle as NodeJS.Timeout),
};

export interface CoordinatorJob {
  jobId: string;
  planFingerprint: string;
  parallelism: Record<string, number>;
  maxParallelism: Record<string, number>;
  /** Keys (`vertex/subtask`) of every subtask that must ack. */
  subtasks: readonly string[];
}

export class CheckpointCoordinator {
  readonly completed: CompletedCheckpoint[] = [];
  private readonly pending = new Map<number, PendingCheckpoint>();
  private nextId: number;
  private timer: unknown;
  private stopped = false;
  private lastCompletedAt = -Infinity;
  private consecutiveFailures = 0;
  private pruneDue = false;

  /** `lastCheckpointId`: ids go on from there (after a restore they keep increasing). */
  constructor(
    private readonly config: CheckpointConfig,
    private readonly storage: Pick<CheckpointStorage, 'complete' | 'prune'>,
    private readonly job: CoordinatorJob,
    private readonly io: CoordinatorIo,
    lastCheckpointId: number,
    private readonly clock: CoordinatorClock = realClock,
  ) {
    this.nextId = lastCheckpointId + 1;
  }

  start(): void {
    this.schedule(this.config.intervalMs);
  }

  /** Stops triggering and abandons in-flight checkpoints (without messages if `quiet`). */
  stop(quiet = false): void {
    this.stopped = true;
    if (this.timer !== undefined) this.clock.clearTimeout(this.timer);
    for (const p of this.pending.values()) {
      this.clock.clearTimeout(p.timeout);
      if (!quiet) this.io.abort(p.checkpointId);
    }
    this.pending.clear();
  }

  /** The id the next checkpoint gets (after a restart, ids keep increasing). */
  get lastTriggeredId(): number {
    return this.nextId - 1;
  }

  private schedule(delayMs: number): void {
    if (this.stopped) return;
    this.timer = this.clock.setTimeout(() => this.tick(), delayMs);
  }

  private tick(): void {
    if (this.stopped) return;
    const now = this.clock.now();
    if (this.pending.size >= this.config.maxConcurrent) return this.schedule(Math.min(this.config.intervalMs, 50));
    const pauseLeft = this.lastCompletedAt + this.config.minPauseMs - now;
    if (pauseLeft > 0) return this.schedule(pauseLeft);
    this.triggerNow();
    this.schedule(this.config.intervalMs);
  }

  private triggerNow(): void {
    const checkpointId = this.nextId++;
    const timeout = this.clock.setTimeout(() => this.failPending(checkpointId, `not complete after ${this.config.timeoutMs} ms (--checkpoint-timeout)`, true), this.config.timeoutMs);
    const triggeredAt = Date.now();
    this.pending.set(checkpointId, { checkpointId, triggeredAt, startedAtMs: this.clock.now(), acks: new Map(), timeout });
    this.io.trigger(checkpointId, triggeredAt);
  }

  onAck(subtask: string, checkpointId: number, state: SubtaskState, stats: SubtaskCheckpointStats): void {
    const p = this.pending.get(checkpointId);
    if (p === undefined) return; // aborted or timed out meanwhile
    p.acks.set(subtask, { state, stats });
    if (p.acks.size < this.job.subtasks.length) return;
    try {
      this.complete(p);
    } catch (error) {
      // Writing the metadata failed (full disk, a clashing chk folder): the checkpoint fails.
      this.pending.set(p.checkpointId, p);
      this.failPending(p.checkpointId, `could not be written: ${(error as Error).message}`, true);
    }
  }

  onDecline(checkpointId: number, reason: string): void {
    this.failPending(checkpointId, reason, false);
  }

  /** A source has finished: no later checkpoint can complete (bounded input). */
  onSourceFinished(): void {
    if (this.stopped) return;
    this.stopped = true;
    if (this.timer !== undefined) this.clock.clearTimeout(this.timer);
    for (const id of [...this.pending.keys()]) this.failPending(id, 'a source has finished', false);
  }

  private failPending(checkpointId: number, reason: string, counts: boolean): void {
    const p = this.pending.get(checkpointId);
    if (p === undefined) return;
    this.clock.clearTimeout(p.timeout);
    this.pending.delete(checkpointId);
    this.io.abort(checkpointId);
    this.io.event({ type: 'checkpoint-failed', checkpointId, reason });
    this.pruneIfDue();
    if (!counts) return;
    this.consecutiveFailures++;
    if (this.consecutiveFailures > this.config.tolerableFailures) {
      this.stop();
      this.io.fail(new CheckpointFailureError(this.consecutiveFailures, this.config.tolerableFailures, `checkpoint ${checkpointId} ${reason}`));
    }
  }

  private complete(p: PendingCheckpoint): void {
    this.clock.clearTimeout(p.timeout);
    this.pending.delete(p.checkpointId);
    const acks = [...p.acks.values()];
    const max = (f: (s: SubtaskCheckpointStats) => number): number => acks.reduce((m, a) => Math.max(m, f(a.stats)), 0);
    const stats: CheckpointStats = {
      durationMs: this.clock.now() - p.startedAtMs,
      syncMs: max((s) => s.syncMs),
      asyncMs: max((s) => s.asyncMs),
      alignmentMs: max((s) => s.alignmentMs),
      bytesWritten: acks.reduce((sum, a) => sum + a.stats.bytesWritten, 0),
      fullSizeBytes: acks.reduce((sum, a) => sum + a.stats.fullSizeBytes, 0),
    };
    const completedAt = Date.now();
    const meta: CheckpointMetadata = {
      jobId: this.job.jobId,
      checkpointId: p.checkpointId,
      kind: 'checkpoint',
      mode: this.config.mode,
      triggeredAt: p.triggeredAt,
      completedAt,
      planFingerprint: this.job.planFingerprint,
      parallelism: this.job.parallelism,
      maxParallelism: this.job.maxParallelism,
      subtasks: acks.map((a) => a.state).sort((a, b) => a.vertex - b.vertex || a.subtaskIndex - b.subtaskIndex),
      stats,
    };
    this.storage.complete(meta);
    this.consecutiveFailures = 0;
    this.lastCompletedAt = this.clock.now();
    this.completed.push({ checkpointId: p.checkpointId, completedAt, ...stats });
    this.pruneDue = true;
    this.pruneIfDue();
    this.io.complete(p.checkpointId);
    this.io.event({ type: 'checkpoint-completed', checkpointId: p.checkpointId, durationMs: stats.durationMs, bytesWritten: stats.bytesWritten, fullSizeBytes: stats.fullSizeBytes });
  }

  /** Prunes once no checkpoint is in flight (see the file comment). */
  private pruneIfDue(): void {
    if (!this.pruneDue || this.pending.size > 0) return;
    this.pruneDue = false;
    this.storage.prune(this.config.retained);
  }
}

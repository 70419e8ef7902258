/**
 * The checkpoint coordinator, in the main thread, after Flink's `CheckpointCoordinator`:
 * triggers checkpoint n at every source subtask, collects one ack per subtask (its state
 * handle, already durable in shared/), then writes `chk-n/_metadata` (the commit point),
 * prunes to the retained count, and notifies every subtask that n is complete.
 *
 * Knobs as Flink's: interval, timeout, min pause between checkpoints, max concurrent,
 * tolerable consecutive failures, retained count. A checkpoint fails when it times out or
 * a subtask declines it.
 *
 * Source enumerators (FLIP-27) are snapshotted in the main thread right before the trigger
 * goes out; their states go into the metadata (`coordinatorState`, Flink's operator
 * coordinator state).
 *
 * Checkpoints after tasks finished (Flink's FLIP-147): a subtask whose input has ended
 * reports it (`onInputEnded`) and from then on is triggered directly, like a source,
 * because no barrier can reach it any more. When every subtask has ended its input, a
 * final checkpoint is triggered at once; its completion (`complete(n, final = true)`) lets
 * every subtask commit and end, and checkpointing stops.
 *
 * Pruning deletes shared files that no retained checkpoint references. Subtasks put files
 * into shared/ before they ack, so a prune while another checkpoint is in flight could
 * delete files that checkpoint is about to reference: prunes wait until none is in flight.
 */
import { performance } from 'node:perf_hooks';
import type { CheckpointMetadata, CheckpointStats, CheckpointStorage, SubtaskState } from '../checkpoint/index.js';
import type { SubtaskCheckpointStats } from '../task/index.js';
import type { CheckpointConfig, JobEvent } from './options.js';
import { optionNamer } from '../option-names.js';
import type { OptionNamer } from '../option-names.js';
import type { CheckpointStatsTracker } from './checkpoint-stats.js';

/** Figures of one completed checkpoint, for results, progress and `sluice checkpoints`. */
export interface CompletedCheckpoint extends CheckpointStats {
  checkpointId: number;
  completedAt: number;
}

/** The job failed because checkpoints failed more often in a row than tolerated. */
export class CheckpointFailureError extends Error {
  /** `n` names the options to raise (option-names.ts). */
  constructor(failures: number, tolerable: number, reason: string, n: OptionNamer = optionNamer('api')) {
    super(`${failures} checkpoints failed in a row (tolerable: ${tolerable}); the last: ${reason}. Raise ${n('tolerableFailedCheckpoints')} or ${n('checkpointTimeoutMs')}`);
    this.name = 'CheckpointFailureError';
  }
}

/** A savepoint in flight: its request and the promise to settle. */
interface PendingSavepoint {
  stop: boolean;
  /** Writes the savepoint folder from the completed checkpoint; returns its path. Runs before any prune. */
  write: (meta: CheckpointMetadata) => string;
  resolve: (done: { checkpointId: number; path: string }) => void;
  reject: (error: Error) => void;
}

/** A savepoint could not be taken; the job goes on. */
export class SavepointFailedError extends Error {
  constructor(checkpointId: number, reason: string) {
    super(`Savepoint ${checkpointId} failed: ${reason}`);
    this.name = 'SavepointFailedError';
  }
}

interface PendingCheckpoint {
  checkpointId: number;
  savepoint: PendingSavepoint | undefined;
  /** Every subtask had ended its input when it was triggered. */
  final: boolean;
  /** Source enumerator states by operator uid, taken at the trigger. */
  coordinatorState: Record<string, unknown>;
  /** Subtasks the trigger went to directly (sources, and subtasks whose input had ended). */
  triggered: Set<string>;
  triggeredAt: number;
  startedAtMs: number;
  acks: Map<string, { state: SubtaskState; stats: SubtaskCheckpointStats }>;
  timeout: unknown;
}

export interface CoordinatorIo {
  /** Sends a trigger to these subtasks (by key); `stop`: a stop-with-savepoint. */
  trigger(checkpointId: number, timestamp: number, stop: boolean, subtasks: readonly string[]): void;
  /**
   * The source enumerators' states for checkpoint n, by operator uid; called right before
   * the trigger. A throw fails the checkpoint.
   */
  snapshotEnumerators(checkpointId: number): Record<string, unknown>;
  /** Tells every subtask that checkpoint n is complete; `final`: the job's final checkpoint. */
  complete(checkpointId: number, final: boolean): void;
  /** Tells every subtask that checkpoint n is abandoned. */
  abort(checkpointId: number): void;
  /** The job must fail (too many failed checkpoints). */
  fail(error: Error): void;
  event(event: JobEvent): void;
  /** Per-checkpoint statistics for observers (the REST API's checkpoint details), when kept. */
  stats?: CheckpointStatsTracker;
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
  /** The chains' operator uids, head first, by vertex (see CheckpointMetadata.vertices). */
  vertices: Array<{ uids: string[] }>;
  /** Keys (`vertex/subtask`) of every subtask that must ack. */
  subtasks: readonly string[];
  /** Keys of the subtasks whose chain starts with a source: a checkpoint is triggered there. */
  sources: readonly string[];
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
  /** The stop-with-savepoint in flight: no periodic checkpoint is triggered meanwhile. */
  private stopping: number | undefined;
  /** Subtasks whose input has ended (FLIP-147): triggered directly. */
  private readonly inputEnded = new Set<string>();
  /** The final checkpoint completed: the job is finishing. */
  private finalCompleted = false;
  /** How messages name the options. */
  private readonly names: OptionNamer;
  /** Subtasks that reported running (`onSubtaskRunning`). */
  private readonly running = new Set<string>();
  /** Clock ms from which the first trigger may come early once every subtask runs; undefined: not early. */
  private firstTriggerAfter: number | undefined;
  /** Clock ms of this attempt's latest trigger. */
  private lastTriggeredAt: number | undefined;
  /** Clock ms when the armed periodic timer fires. */
  private timerDueAt = Infinity;

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
    this.names = config.names ?? optionNamer('api');
  }

  /**
   * Starts the periodic schedule: the first checkpoint is triggered `intervalMs` after
   * this call, or earlier, once every subtask runs (`onSubtaskRunning`), when an earlier
   * trigger `previousTriggerAt` (clock ms: the job's last trigger before this attempt, in
   * an attempt that failed) was at least `intervalMs` ago by then. After a restart, the
   * subtasks often all run well before the interval is over, and the last trigger was
   * longer ago than that: a checkpoint triggered at once finds fewer replayed records
   * queued ahead of its barriers, and nothing waits for the interval. Flink: the
   * coordinator's scheduler starts when the job is RUNNING (all its tasks run), not at
   * deployment (native-notes §6, "The first checkpoint after a restore").
   */
  start(previousTriggerAt?: number): void {
    this.firstTriggerAfter = previousTriggerAt === undefined ? undefined : previousTriggerAt + (this.config.intervalMs ?? Infinity);
    this.schedulePeriodic();
    this.triggerEarlyIfRunning();
  }

  /**
   * Subtask `key` runs (its modules and state backend are loaded; it reads its port): once
   * every subtask does, the first trigger may come early (see `start`). Ignored once this
   * attempt has triggered a checkpoint.
   */
  onSubtaskRunning(key: string): void {
    this.running.add(key);
    this.triggerEarlyIfRunning();
  }

  /** Moves the first trigger earlier (see `start`) once every subtask runs. */
  private triggerEarlyIfRunning(): void {
    if (this.stopped || this.firstTriggerAfter === undefined || this.lastTriggeredAt !== undefined || this.timer === undefined) return;
    if (this.job.subtasks.some((k) => !this.running.has(k))) return;
    const delayMs = Math.max(0, this.firstTriggerAfter - this.clock.now());
    this.firstTriggerAfter = undefined;
    if (delayMs < this.timerDueAt - this.clock.now()) this.schedulePeriodic(delayMs);
  }

  /** Clock ms of this attempt's latest trigger (periodic or savepoint); undefined before the first. */
  get lastTriggerAt(): number | undefined {
    return this.lastTriggeredAt;
  }

  /**
   * Stops triggering and abandons in-flight checkpoints (without messages if `quiet`);
   * pending savepoints reject with `reason`.
   */
  stop(quiet = false, reason = 'the job stopped before it completed (a failure, a cancel, or the end of input)'): void {
    this.stopped = true;
    if (this.timer !== undefined) this.clock.clearTimeout(this.timer);
    for (const p of this.pending.values()) {
      this.clock.clearTimeout(p.timeout);
      if (!quiet) this.io.abort(p.checkpointId);
      p.savepoint?.reject(new SavepointFailedError(p.checkpointId, reason));
      this.io.stats?.failed(p.checkpointId, reason);
    }
    this.pending.clear();
  }

  /**
   * Takes a savepoint now, outside the periodic schedule and its limits (min pause, max
   * concurrent), as Flink's `CheckpointCoordinator.triggerSavepoint`. It is an aligned
   * checkpoint that completes as `chk-<n>` like any other, and `write` turns it into the
   * savepoint folder right after its metadata is durable, before any prune. With `stop`
   * (Flink's stop-with-savepoint), sources emit nothing after its barrier, no periodic
   * checkpoint is triggered while it is in flight, and completion ends every subtask.
   * Resolves with the id and the folder `write` returned. Rejects with
   * `SavepointFailedError` when it is declined, times out, cannot be written, or the job
   * stops first; a failed savepoint does not count as a failed checkpoint, and after a
   * failed stop the job goes on.
   */
  triggerSavepoint(stop: boolean, write: (meta: CheckpointMetadata) => string): Promise<{ checkpointId: number; path: string }> {
    return new Promise((resolve, reject) => {
      if (this.stopped) return reject(new SavepointFailedError(this.nextId, 'checkpointing has ended (the job is finishing or has failed)'));
      if (this.stopping !== undefined) return reject(new SavepointFailedError(this.nextId, `the job is already stopping with savepoint ${this.stopping}`));
      const checkpointId = this.triggerNow({ stop, write, resolve, reject });
      if (stop) this.stopping = checkpointId;
    });
  }

  /** The id the next checkpoint gets (after a restart, ids keep increasing). */
  get lastTriggeredId(): number {
    return this.nextId - 1;
  }

  /** Schedules the next periodic checkpoint; none without an interval (savepoints only). */
  private schedulePeriodic(delayMs = this.config.intervalMs): void {
    if (this.stopped || delayMs === undefined) return;
    if (this.timer !== undefined) this.clock.clearTimeout(this.timer);
    this.timerDueAt = this.clock.now() + delayMs;
    this.timer = this.clock.setTimeout(() => this.tick(), delayMs);
  }

  private tick(): void {
    this.timer = undefined;
    this.timerDueAt = Infinity;
    if (this.stopped || this.stopping !== undefined) return;
    const now = this.clock.now();
    const interval = this.config.intervalMs!;
    if (this.pending.size >= this.config.maxConcurrent) return this.schedulePeriodic(Math.min(interval, 50));
    const pauseLeft = this.lastCompletedAt + this.config.minPauseMs - now;
    if (pauseLeft > 0) return this.schedulePeriodic(pauseLeft);
    if (this.allInputEnded && this.takesFinalCheckpoint) return this.triggerFinal();
    this.triggerNow(undefined);
    this.schedulePeriodic(interval);
  }

  /** Periodic checkpoints are on: a final checkpoint is taken when every subtask's input has ended. */
  private get takesFinalCheckpoint(): boolean {
    return this.config.intervalMs !== undefined;
  }

  private get allInputEnded(): boolean {
    return this.inputEnded.size === this.job.subtasks.length;
  }

  private triggerNow(savepoint: PendingSavepoint | undefined): number {
    const checkpointId = this.nextId++;
    this.lastTriggeredAt = this.clock.now();
    const timeout = this.clock.setTimeout(
      () => this.failPending(checkpointId, `not complete after ${this.config.timeoutMs} ms (${this.names('checkpointTimeoutMs')})`, savepoint === undefined),
      this.config.timeoutMs,
    );
    const triggeredAt = Date.now();
    const targets = new Set([...this.job.sources, ...this.inputEnded]);
    const p: PendingCheckpoint = {
      checkpointId,
      savepoint,
      final: this.allInputEnded,
      coordinatorState: {},
      triggered: targets,
      triggeredAt,
      startedAtMs: this.clock.now(),
      acks: new Map(),
      timeout,
    };
    this.pending.set(checkpointId, p);
    this.io.stats?.triggered(checkpointId, triggeredAt, savepoint !== undefined, this.job.subtasks.length);
    try {
      // Before the trigger, on the same ordered ports as the enumerators' assignments: a
      // split is then in the enumerator's state or in exactly one reader's.
      p.coordinatorState = this.io.snapshotEnumerators(checkpointId);
    } catch (error) {
      this.failPending(checkpointId, `a source enumerator could not snapshot its state: ${(error as Error).message}`, savepoint === undefined);
      return checkpointId;
    }
    this.io.trigger(checkpointId, triggeredAt, savepoint?.stop === true, [...targets]);
    return checkpointId;
  }

  /**
   * Subtask `key` has ended its input (FLIP-147): from now on it is triggered directly.
   * Pending checkpoints it has not acked are triggered there now (it can no longer get
   * their barriers); when every subtask has ended, the final checkpoint is triggered.
   */
  onInputEnded(key: string): void {
    if (this.stopped || this.inputEnded.has(key)) return;
    this.inputEnded.add(key);
    for (const p of this.pending.values()) {
      if (p.acks.has(key) || p.triggered.has(key)) continue;
      p.triggered.add(key);
      this.io.trigger(p.checkpointId, p.triggeredAt, p.savepoint?.stop === true, [key]);
    }
    if (this.allInputEnded && this.takesFinalCheckpoint && this.stopping === undefined) this.triggerFinal();
  }

  /** Triggers the final checkpoint now, outside the schedule (min pause, max concurrent). */
  private triggerFinal(): void {
    if (this.stopped || this.finalCompleted || [...this.pending.values()].some((p) => p.final)) return;
    this.triggerNow(undefined);
  }

  onAck(subtask: string, checkpointId: number, state: SubtaskState, stats: SubtaskCheckpointStats): void {
    const p = this.pending.get(checkpointId);
    if (p === undefined) return; // aborted or timed out meanwhile
    p.acks.set(subtask, { state, stats });
    this.io.stats?.acknowledged(checkpointId, state.vertex, state.subtaskIndex, stats);
    if (p.acks.size < this.job.subtasks.length) return;
    try {
      this.complete(p);
    } catch (error) {
      // Writing the metadata failed (full disk, a clashing chk folder): the checkpoint fails.
      this.pending.set(p.checkpointId, p);
      const code = (error as NodeJS.ErrnoException | undefined)?.code;
      const message = error instanceof Error ? error.message : String(error);
      this.failPending(p.checkpointId, `its metadata could not be written by the job master${code === undefined ? '' : ` (${code})`}: ${message}`, p.savepoint === undefined);
    }
  }

  /**
   * A subtask declined checkpoint n. `failed`: its asynchronous phase failed (a full disk),
   * which counts against the tolerable failures; otherwise it was not ready, which does not.
   */
  onDecline(checkpointId: number, reason: string, failed = false): void {
    this.failPending(checkpointId, reason, failed);
  }

  /** True while a stop-with-savepoint is in flight. */
  get isStopping(): boolean {
    return this.stopping !== undefined;
  }

  private failPending(checkpointId: number, reason: string, counts: boolean): void {
    const p = this.pending.get(checkpointId);
    if (p === undefined) return;
    this.clock.clearTimeout(p.timeout);
    this.pending.delete(checkpointId);
    this.io.abort(checkpointId);
    this.io.stats?.failed(checkpointId, reason);
    this.io.event({ type: 'checkpoint-failed', checkpointId, reason });
    // What subtasks already put into shared/ for it is referenced by nothing: the prune
    // (once no checkpoint is in flight) deletes it, so a full disk gets its space back.
    this.pruneDue = true;
    this.pruneIfDue();
    if (p.savepoint !== undefined) {
      p.savepoint.reject(new SavepointFailedError(checkpointId, reason));
      if (this.stopping === checkpointId) {
        // The subtasks go on (TaskCheckpoints.onAbort, task/task-checkpoints.ts): so do periodic checkpoints.
        this.stopping = undefined;
        this.schedulePeriodic();
      }
    }
    if (p.final) this.schedulePeriodic(); // the next tick triggers another final checkpoint
    if (!counts) return;
    this.consecutiveFailures++;
    if (this.consecutiveFailures > this.config.tolerableFailures) {
      this.stop();
      this.io.fail(new CheckpointFailureError(this.consecutiveFailures, this.config.tolerableFailures, `checkpoint ${checkpointId} ${reason}`, this.names));
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
      vertices: this.job.vertices,
      subtasks: acks.map((a) => a.state).sort((a, b) => a.vertex - b.vertex || a.subtaskIndex - b.subtaskIndex),
      coordinatorState: p.coordinatorState,
      stats,
    };
    this.storage.complete(meta);
    this.io.stats?.completed(p.checkpointId);
    this.consecutiveFailures = 0;
    this.lastCompletedAt = this.clock.now();
    this.completed.push({ checkpointId: p.checkpointId, completedAt, ...stats });
    // The savepoint folder links the checkpoint's files: before any prune can delete them.
    let savepoint: { path: string } | { error: Error } | undefined;
    if (p.savepoint !== undefined) {
      try {
        savepoint = { path: p.savepoint.write(meta) };
      } catch (error) {
        savepoint = { error: error as Error };
      }
    }
    this.pruneDue = true;
    this.pruneIfDue();
    if (savepoint !== undefined && 'error' in savepoint && p.savepoint!.stop) {
      // No savepoint, no stop: the subtasks are told to go on (the checkpoint itself is
      // complete; its sink files are committed by the next completion or a restore).
      this.stopping = undefined;
      this.io.abort(p.checkpointId);
      this.schedulePeriodic();
    } else {
      if (p.final) {
        // Every subtask commits and ends: no checkpoint follows.
        this.finalCompleted = true;
        this.stopped = true;
        if (this.timer !== undefined) this.clock.clearTimeout(this.timer);
      }
      this.io.complete(p.checkpointId, p.final);
    }
    this.io.event({ type: 'checkpoint-completed', checkpointId: p.checkpointId, durationMs: stats.durationMs, bytesWritten: stats.bytesWritten, fullSizeBytes: stats.fullSizeBytes });
    if (savepoint !== undefined) {
      if ('path' in savepoint) {
        this.io.event({ type: 'savepoint-completed', checkpointId: p.checkpointId, path: savepoint.path, stop: p.savepoint!.stop });
        p.savepoint!.resolve({ checkpointId: p.checkpointId, path: savepoint.path });
      } else {
        p.savepoint!.reject(new SavepointFailedError(p.checkpointId, savepoint.error.message));
      }
    }
  }

  /**
   * Prunes once no checkpoint is in flight (see the file comment). A prune that fails
   * (a file that cannot be deleted) leaves extra files, never a wrong checkpoint: it is
   * reported and retried after the next completion, and fails nothing.
   */
  private pruneIfDue(): void {
    if (!this.pruneDue || this.pending.size > 0) return;
    this.pruneDue = false;
    try {
      this.storage.prune(this.config.retained);
    } catch (error) {
      this.pruneDue = true;
      this.io.event({ type: 'prune-failed', reason: (error as Error).message });
    }
  }
}

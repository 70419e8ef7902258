/**
 * What happened to a job so far, from its engine events and its outcome: its state
 * (Flink's `JobStatus`), the failure of each attempt that restarted (Flink's exception
 * history), failed checkpoints and the latest restore. Fed by `startJob` (every engine
 * event passes `record` on its way to the user's `onEvent`); read by the REST API and the
 * Prometheus export. Bounded: at most `historyEntriesMax` entries of each list are kept.
 */
import type { JobEvent } from '../runtime/index.js';

/** Flink's `JobStatus` names, those a sluicegate job goes through. */
export type JobState = 'INITIALIZING' | 'RUNNING' | 'RESTARTING' | 'CANCELLING' | 'CANCELED' | 'FINISHED' | 'FAILED';

/** The failure that ended one attempt (Flink: an `ExceptionHistoryEntry`). */
export interface AttemptFailure {
  /** The attempt that failed, 0 first. */
  attempt: number;
  /** Epoch ms. */
  timestamp: number;
  /** The error's message, first line first (the engine's `restarting` cause, or the job's final error). */
  message: string;
  /** The error's stack when the job ended with it, else the message. */
  stacktrace: string;
  /** Whether the job restarted after it (false for the failure that ended the job). */
  restarted: boolean;
}

export interface FailedCheckpoint {
  checkpointId: number;
  /** Epoch ms when the failure was reported. */
  timestamp: number;
  reason: string;
}

/** The latest restore (Flink: `RestoredCheckpointStats`). */
export interface RestoreRecord {
  checkpointId: number;
  /** Epoch ms. Flink: `lastCheckpointRestoreTimestamp`. */
  timestamp: number;
  isSavepoint: boolean;
  /** The savepoint folder, for a restore from a savepoint. */
  externalPath?: string;
}

/** A completed savepoint (Flink: a `CompletedCheckpointStats` whose properties are a savepoint's). */
export interface SavepointRecord {
  checkpointId: number;
  /** The savepoint folder. */
  path: string;
  /** Epoch ms when it completed. */
  timestamp: number;
  /** A stop-with-savepoint. */
  stop: boolean;
}

/** Entries kept per list: older ones are dropped (the counts go on). */
export const historyEntriesMax = 100;

export class JobHistory {
  readonly failures: AttemptFailure[] = [];
  readonly failedCheckpoints: FailedCheckpoint[] = [];
  /** Completed savepoints, oldest first. */
  readonly savepoints: SavepointRecord[] = [];
  /** Failed checkpoints so far, including those dropped from the list. */
  numberOfFailedCheckpoints = 0;
  restore: RestoreRecord | undefined;
  private ended: { state: 'FINISHED' | 'FAILED' | 'CANCELED'; at: number } | undefined;
  private restartingTo: number | undefined;
  private cancelRequested = false;

  constructor(
    /** Epoch ms the job was submitted. */
    readonly startTime: number,
    private readonly now: () => number = Date.now,
  ) {}

  /** Takes in one engine event. */
  record(event: JobEvent): void {
    switch (event.type) {
      case 'restarting':
        this.restartingTo = event.attempt;
        push(this.failures, { attempt: event.attempt - 1, timestamp: this.now(), message: event.cause, stacktrace: event.cause, restarted: true });
        return;
      case 'checkpoint-failed':
        this.numberOfFailedCheckpoints++;
        push(this.failedCheckpoints, { checkpointId: event.checkpointId, timestamp: this.now(), reason: event.reason });
        return;
      case 'savepoint-completed':
        push(this.savepoints, { checkpointId: event.checkpointId, path: event.path, timestamp: this.now(), stop: event.stop });
        return;
      case 'restored':
        this.restore = { checkpointId: event.checkpointId, timestamp: this.now(), isSavepoint: false };
        return;
      case 'restored-savepoint':
        this.restore = { checkpointId: event.checkpointId, timestamp: this.now(), isSavepoint: true, externalPath: event.path };
        return;
      default:
        return;
    }
  }

  /** A cancel was asked for (state CANCELLING until the job ends). */
  cancelling(): void {
    this.cancelRequested = true;
  }

  /** The job ended: finished, or with `error` (cancelled when `cancelled`). */
  end(error: Error | undefined, cancelled: boolean, attempt: number | undefined): void {
    const at = this.now();
    if (error === undefined) this.ended = { state: 'FINISHED', at };
    else {
      this.ended = { state: cancelled ? 'CANCELED' : 'FAILED', at };
      if (!cancelled) push(this.failures, { attempt: attempt ?? 0, timestamp: at, message: error.message, stacktrace: error.stack ?? error.message, restarted: false });
    }
  }

  /** Epoch ms the job ended; undefined while it runs. */
  get endTime(): number | undefined {
    return this.ended?.at;
  }

  /** The job's state, given the attempt now deployed (undefined: none yet). */
  state(attempt: number | undefined): JobState {
    if (this.ended !== undefined) return this.ended.state;
    if (this.cancelRequested) return 'CANCELLING';
    if (attempt === undefined) return 'INITIALIZING';
    if (this.restartingTo !== undefined && this.restartingTo > attempt) return 'RESTARTING';
    return 'RUNNING';
  }
}

function push<T>(list: T[], entry: T): void {
  list.push(entry);
  if (list.length > historyEntriesMax) list.shift();
}

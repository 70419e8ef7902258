/**
 * What `runJob` hands back and how a run ends, as a caller sees it: the job handle, the
 * result of a finished job, and the errors a job's result rejects with besides the user
 * function's (`UserFunctionError`) and a usage error (`UsageError`). Flink: `JobClient`,
 * `JobExecutionResult`.
 */
import type { ObservedJob } from '../metrics/index.js';
import { optionName } from '../option-names.js';
import type { CompletedCheckpoint } from './checkpoint-coordinator.js';
import type { JobMetrics } from './job-metrics.js';
import type { ResolvedOptions } from './options.js';

export interface JobResult extends JobMetrics {
  jobId: string;
  status: 'FINISHED';
  /** Wall time from `runJob` to the last subtask's end, ms. */
  wallTimeMs: number;
  /** Records of each `collect(name)` sink, in arrival order; exactly once with checkpointing. */
  collected: Record<string, unknown[]>;
  checkpoints: CompletedCheckpoint[];
  restarts: number;
  /** The savepoint folder the job was stopped with (`stop()`), if it was. */
  savepoint?: string;
}

export interface JobHandle {
  readonly jobId: string;
  /** Resolves when every subtask finished; rejects with the first failure. */
  readonly result: Promise<JobResult>;
  /**
   * Settles (never rejects) once the job's worker threads have exited, after `result`
   * settled: `result` does not wait for them, since V8 frees each thread's heap as it
   * exits (13-20 ms of wall, 25 ms of CPU for the two threads of a word count). Await it before timing the next
   * piece of work, or to be sure that no thread of the job remains. A job on a MiniCluster
   * gives its threads back instead (they stay for the next job): `closed` settles then.
   */
  readonly closed: Promise<void>;
  /** Current figures (zeros until the subtasks are deployed). */
  metrics(): JobMetrics;
  /** Cancels the job; `result` rejects with a JobCancelledError. */
  cancel(): void;
  /** The job as the REST API sees it: state, history, graph (see metrics/observed-job.ts). */
  readonly observed: ObservedJob;
  /** The web server's URL (`webPort`), once it listens; undefined without one. */
  webUrl(): string | undefined;
  /**
   * Takes a savepoint (Flink's `flink savepoint`) into `targetDir` (default: the
   * `savepointDir` option) while the job goes on; resolves with the new savepoint folder.
   * Rejects with UsageError without a target or a checkpoint directory, or while the job
   * is not running; with SavepointFailedError when the savepoint fails (the job goes on).
   */
  savepoint(targetDir?: string): Promise<string>;
  /**
   * Stops the job with a savepoint (Flink's `flink stop`): sources stop after its
   * barrier, every subtask snapshots, sinks commit, and the job finishes (`result`
   * resolves, with `savepoint` set). Resolves with the savepoint folder once the job has
   * finished. Rejects as `savepoint()`; after a failed stop the job goes on.
   */
  stop(targetDir?: string): Promise<string>;
}

export class JobCancelledError extends Error {
  /** @param cause the failure the job was restarting from when it was cancelled, if any. */
  constructor(jobId: string, cause?: Error) {
    super(`Job ${jobId} was cancelled`, cause === undefined ? undefined : { cause });
    this.name = 'JobCancelledError';
  }
}

/** A subtask failed without a user-function failure (crash, out of memory, engine error). */
export class SubtaskError extends Error {
  constructor(subtask: string, name: string, message: string, stack: string | undefined) {
    super(`Subtask ${subtask} failed: ${name}: ${message}`);
    this.name = 'SubtaskError';
    if (stack !== undefined) this.stack = `${this.name}: ${this.message}\nCaused by: ${stack}`;
  }
}

/** A worker thread's death as a subtask failure; running out of memory says what to do. */
export function subtaskFailure(label: string, error: Error, options: ResolvedOptions): SubtaskError {
  if ((error as NodeJS.ErrnoException).code === 'ERR_WORKER_OUT_OF_MEMORY') {
    const name = optionName('workerMemoryMb', options.optionStyle);
    const limit = options.workerMemoryMb === undefined ? "V8's default heap limit" : `${name} ${options.workerMemoryMb} MiB`;
    return new SubtaskError(label, 'OutOfMemory', `the worker ran out of memory (${limit}): raise ${name}, or keep state in the lsm backend`, error.stack);
  }
  return new SubtaskError(label, error.name, error.message, error.stack);
}

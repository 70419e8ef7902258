/**
 * Worker threads kept across jobs: Flink's `MiniCluster`, the session cluster a program
 * embeds (its task slots outlive the jobs that run on them). `runJob` starts a thread pool
 * for each job and ends it with the job, so every job pays the threads' start (Node's
 * worker bootstrap, the engine bundle, the job module: about 130 ms on this project's
 * 2-core machines) and runs its first records in code V8 has not optimized yet. A
 * MiniCluster's jobs deploy onto the threads of the job before, which have the engine
 * loaded, the job module imported and the hot code compiled: the word count ran at
 * 0.83-0.94 of a plain loop's wall at parallelism 1 on warm threads against 1.27-1.37 on
 * threads of its own (README, "Warm threads: a MiniCluster").
 *
 *   const cluster = new MiniCluster({ slots: 2 });
 *   try {
 *     for (const day of days) await cluster.runJob('./job.ts', { args: [day] }).result;
 *   } finally {
 *     await cluster.close();
 *   }
 *
 * - One job at a time, in the order `runJob` was called (a job takes its place in the
 *   queue when submitted, however long it then takes to load): a job waits, loaded but not
 *   deployed, until the job before has ended and its threads have finished their tasks
 *   (a cancel ends the wait at once). Its wall time (`wallTimeMs`) counts from when it got
 *   the threads. Flink's MiniCluster runs jobs side by side when its slots allow; here a
 *   job's slots are the whole cluster's threads for its run (a streaming job needs all
 *   its slots at once).
 * - A job needs at most `slots` threads (its slots: runtime/slot-sharing.ts); a job that
 *   needs more is refused with a UsageError naming both numbers, when its turn comes.
 * - Module-level values of a job module survive from one run of the same module to the
 *   next in the same thread (the thread imported it once), as static fields of classes on
 *   a Flink cluster's own class path do; run the job with `runJob` to start from a fresh
 *   module. A thread that died is replaced by a new one, as in any run.
 * - `JobHandle.closed` settles when the job has given its threads back (they do not exit).
 * - Threads idle between jobs hold no event loop open: a program that forgets `close()`
 *   still exits. `close()` refuses the jobs still waiting and ends the threads once the
 *   running job has ended.
 */
import { availableParallelism } from 'node:os';
import { UsageError } from '../errors.js';
import type { JobHandle } from './job-handle.js';
import type { RunJobOptions } from './options.js';
import { startJob } from './run-job.js';
import { SubtaskPool } from './subtask-pool.js';

export interface MiniClusterOptions {
  /** Worker threads at most (Flink: `numberOfTaskSlots` of its TaskManagers); default `os.availableParallelism()`. */
  slots?: number;
}

/**
 * The threads one job holds while it runs (job-master.ts): `pool()` hands them over for
 * an attempt, `discard()` ends them (threads stuck loading a module), `release()` gives
 * them back to the cluster when the job has ended.
 */
export interface ThreadLease {
  /**
   * The cluster's threads for a job of `slots` slots whose workers load `taskFile`.
   * @throws UsageError when the job needs more threads than the cluster has, or its
   *   `workerMemoryMb` is set (the cluster's threads were started without that limit)
   */
  pool(slots: number, options: { execArgv: string[]; workerMemoryMb: number | undefined; taskFile: string | undefined }): SubtaskPool;
  /** Ends the threads (the next `pool()` starts new ones). */
  discard(): Promise<void>;
  /** Gives the threads back, once the slot and warm-up tasks in flight have ended. Idempotent. */
  release(): Promise<void>;
}

export class MiniCluster {
  /** Worker threads at most. */
  readonly slots: number;
  private threads: SubtaskPool | undefined;
  /** Settles when the job holding the threads (and every job queued before) has released them. */
  private tail: Promise<void> = Promise.resolve();
  private closing: Promise<void> | undefined;

  /** @throws UsageError for a `slots` that is not an integer from 1 to 32768 */
  constructor(options: MiniClusterOptions = {}) {
    const slots = options.slots ?? availableParallelism();
    if (!Number.isSafeInteger(slots) || slots < 1 || slots > 32768) throw new UsageError(`MiniCluster slots must be an integer from 1 to 32768, got ${String(slots)}`);
    this.slots = slots;
  }

  /**
   * Runs the job module on the cluster's threads, once the jobs submitted before it have
   * ended; as `runJob` otherwise (same options, same handle and rejections). A job
   * submitted after `close()` rejects with a UsageError.
   */
  runJob(moduleUrl: string | URL, options: RunJobOptions = {}): JobHandle {
    return startJob(moduleUrl, options, 'api', () => this.lease());
  }

  /** Ids of the cluster's live worker threads (`threadId`), for observers and tests. */
  get threadIds(): number[] {
    return (this.threads?.threads ?? []).map((w) => w.threadId);
  }

  /**
   * Waits for the jobs submitted before, then leases the threads to one job run.
   * @throws UsageError once the cluster is closed
   */
  async lease(): Promise<ThreadLease> {
    if (this.closing !== undefined) throw new UsageError('This MiniCluster is closed: start a new one to run more jobs');
    const before = this.tail;
    let give!: () => void;
    this.tail = new Promise<void>((resolve) => (give = resolve));
    await before;
    if (this.closing !== undefined) {
      give();
      throw new UsageError('This MiniCluster was closed while the job waited for its threads');
    }
    let released = false;
    const held = (): void => {
      if (released) throw new Error('a released ThreadLease was used: its threads may be the next job\'s');
    };
    return {
      pool: (slots, o) => {
        held();
        if (slots > this.slots) {
          throw new UsageError(`The job needs ${slots} worker threads (slots) and the MiniCluster has ${this.slots}: start it with { slots: ${slots} } or lower the job's parallelism`);
        }
        if (o.workerMemoryMb !== undefined) {
          throw new UsageError('workerMemoryMb does not apply to a job on a MiniCluster: its threads outlive the job (run it with runJob for a per-job heap limit)');
        }
        // The flags are the process's (workerExecArgv of process.execArgv): the same for every job.
        if (this.threads === undefined) this.threads = new SubtaskPool({ slots, maxThreads: this.slots, execArgv: o.execArgv, workerMemoryMb: undefined, filename: o.taskFile, acrossJobs: true });
        else this.threads.useFor(slots, o.taskFile);
        return this.threads;
      },
      discard: async () => {
        held();
        const threads = this.threads;
        this.threads = undefined;
        await threads?.destroy();
      },
      release: async () => {
        if (released) return;
        released = true;
        try {
          await this.threads?.tasksEnded();
        } finally {
          give();
        }
      },
    };
  }

  /**
   * Ends the cluster: jobs not yet started are refused, the threads end once the running
   * job (if any) has released them. Idempotent.
   */
  close(): Promise<void> {
    this.closing ??= (async () => {
      await this.tail;
      const threads = this.threads;
      this.threads = undefined;
      await threads?.destroy();
    })();
    return this.closing;
  }
}

/**
 * The job master, in the main thread: runs a job that run-job.ts has loaded. Each
 * deployment of the job is an attempt (attempt.ts): source splits planned, one ring per
 * channel and one doorbell per subtask allocated, every slot (its subtasks,
 * runtime/slot-sharing.ts) deployed as a long-running piscina task (one thread per slot,
 * none spare). The job master runs one attempt after another until one finishes: after a
 * failure the restart strategy decides, and the next attempt restores from the latest
 * restorable checkpoint (attempt-restore.ts). It also takes savepoints, stops and cancels
 * the job, and gives its result and metrics. It never touches records. Flink: `JobMaster` + `Execution` deployment.
 *
 * A subtask ends with exactly one final message on its port (see task/worker.ts). The
 * first failure cancels every other subtask; the job's promise rejects with that failure.
 */
import { accessSync, constants as fsConstants, mkdirSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import { CheckpointStorage, writeSavepoint } from '../checkpoint/index.js';
import type { TerminalJobState } from '../checkpoint/index.js';
import type { RestorePlan, RestoreSource } from './restore-plan.js';
import type { CompletedCheckpoint } from './checkpoint-coordinator.js';
import { CheckpointStatsTracker } from './checkpoint-stats.js';
import { RestartBackoff } from './restart-strategy.js';
import { UsageError, findUserError } from '../errors.js';
import type { JobGraph } from '../graph/index.js';
import type { JobInfo } from '../api/index.js';
import { optionNamer } from '../option-names.js';
import type { ResolvedOptions } from './options.js';
import { EarlierAttempts, readJobMetrics } from './job-metrics.js';
import { LatencyRegistry, withLatency } from '../metrics/latency.js';
import { hdrHistogram } from '../metrics/hdr-histogram.js';
import type { JobMetrics } from './job-metrics.js';
import { SubtaskPool, workerExecArgv } from './subtask-pool.js';
import type { ThreadLease } from './mini-cluster.js';
import { WorkerKiller } from './fault-injection.js';
import type { ObservableRun } from './observed-run.js';
import { JobCancelledError } from './job-handle.js';
import type { JobResult } from './job-handle.js';
import { CollectedRecords } from './collected-records.js';
import { commitInMaster } from './sink-commits.js';
import { failAttempt, planAttempt, startAttempt, startEnumerators, waitForEnd, warmReplacements } from './attempt.js';
import type { Attempt, AttemptRun } from './attempt.js';
import { restoreAfterFailure, restoreAtStart, rollbackAndCommit } from './attempt-restore.js';
import { openRun, recordStatus, startedFrom } from './job-setup.js';
import type { JobModuleUrls, JobSetup } from './job-setup.js';

/** One run of a loaded job (run-job.ts starts it): its attempts, one after another, until one finishes or the job fails. */
export class JobRun {
  /** The job graph once loaded (read by observers). */
  graph: JobGraph | undefined;
  /** Slots of the deployment, one worker thread each (read by observers). */
  slots = 0;
  private current: Attempt | undefined;
  private cancelled = false;
  /** Ends the restart delay in progress (cancel). */
  private endRestartDelay: (() => void) | undefined;
  /** Ends the wait for a MiniCluster's threads (cancel). */
  private endLeaseWait: (() => void) | undefined;
  /** The `collect(name)` sinks' records (collected-records.ts). */
  private readonly collected = new CollectedRecords();
  private readonly checkpoints: CompletedCheckpoint[] = [];
  /** Per-checkpoint statistics of every attempt (the REST API's in-progress counts and details). */
  readonly checkpointStats = new CheckpointStatsTracker();
  private restarts = 0;
  /** Fault injection (`killWorkerEveryMs`): one for the run, so its kill count spans attempts. */
  private readonly killer = new WorkerKiller();
  /** Coordinator clock ms of the latest checkpoint trigger of an earlier attempt of this run (the next attempt's first may come early). */
  private lastTriggerAt: number | undefined;
  /** The run's worker threads, kept across attempts (subtask-pool.ts); undefined before the first deploy. */
  private pool: SubtaskPool | undefined;
  /** A MiniCluster's threads, held for the run (mini-cluster.ts); undefined for a run with threads of its own. */
  private lease: ThreadLease | undefined;
  /** The subtasks' latency histograms (latency tracking on). */
  private readonly latency = new LatencyRegistry(hdrHistogram);
  /** `info` and `cancel` of the control socket (`sluice list`, `sluice cancel`), set by watchJob. */
  observerHandlers: ObservableRun['observerHandlers'] = {};
  /** Counts of the attempts before the current one (metrics stay monotonic across restarts). */
  private readonly earlier = new EarlierAttempts();
  private setup: JobSetup | undefined;
  /** The stop-with-savepoint that ended the job. */
  private stoppedWith: string | undefined;
  /** Epoch ms, recorded in the job's status. */
  private readonly startedAt = Date.now();
  /** Settles when execute() has ended (either way). */
  private readonly ended: Promise<void>;
  private markEnded!: () => void;
  /** The end of the run's threads, started when execute() ends (see `closed`). */
  private closedBy: Promise<void> = Promise.resolve();
  /** Whether execute() was called (else no thread was ever started). */
  private executing = false;

  /** A MiniCluster's threads, asked for at submission (the job's place in the cluster's queue); undefined: the run starts threads of its own. */
  private readonly leasing: Promise<ThreadLease> | undefined;

  /**
   * `leaseThreads`: a MiniCluster's, asked for now (so jobs take the threads in the order
   * they were submitted, however long each takes to load); the run waits for them and
   * deploys onto them. `start` (performance.now()) is reset when they are granted: a
   * job's wall time does not count its wait.
   */
  constructor(
    readonly jobId: string,
    private start: number,
    leaseThreads?: () => Promise<ThreadLease>,
  ) {
    this.ended = new Promise((resolve) => (this.markEnded = resolve));
    this.leasing = leaseThreads?.();
    // A job that fails before it runs never awaits it: handled here, given back by abandonThreads().
    this.leasing?.catch(() => undefined);
  }

  /** The job ended before `execute` (a bad option, a module that failed to load): its place in the MiniCluster's queue goes to the next job. */
  abandonThreads(): void {
    if (!this.executing) this.giveBackUnused();
  }

  /** Gives the MiniCluster's threads back unused, when (if ever) the lease comes. */
  private giveBackUnused(): void {
    void this.leasing?.then(
      (lease) => lease.release(),
      () => undefined,
    );
  }

  /** See JobHandle.savepoint / JobHandle.stop. */
  async savepoint(targetDir: string | undefined, stop: boolean): Promise<string> {
    const setup = this.setup;
    const what = stop ? 'stop the job with a savepoint' : 'take a savepoint';
    if (setup === undefined) throw new UsageError(`Cannot ${what}: the job is not running yet (still loading)`);
    const { options, storage } = setup;
    const n = optionNamer(options.optionStyle);
    if (storage === undefined) throw new UsageError(`Cannot ${what}: the job runs without a checkpoint directory; start it with ${n('checkpointDir')}`);
    const target = targetDir ?? options.savepointDir;
    if (target === undefined) throw new UsageError(`Cannot ${what}: no target directory; pass one (${options.optionStyle === 'cli' ? '--target <dir>' : 'targetDir'}) or start the job with ${n('savepointDir')}`);
    try {
      mkdirSync(target, { recursive: true });
      accessSync(target, fsConstants.W_OK);
    } catch (error) {
      throw new UsageError(`Cannot ${what} into ${target}: ${(error as Error).message}; pass a writable directory`, { cause: error });
    }
    const coordinator = this.current?.coordinator;
    if (coordinator === undefined || this.current?.failure !== undefined) throw new UsageError(`Cannot ${what}: the job is restarting after a failure; try again shortly`);
    const { path } = await coordinator.triggerSavepoint(stop, (meta) => {
      const folder = writeSavepoint(meta, storage.sharedDir, target);
      // From here the job is stopped, whatever happens while it shuts down (see executeAttempts).
      if (stop) this.stoppedWith = folder;
      try {
        storage.recordSavepoint(folder);
      } catch (error) {
        // The savepoint is complete; only `sluice checkpoints` will not list it.
        options.onEvent({ type: 'savepoint-unrecorded', path: folder, reason: (error as Error).message });
      }
      return folder;
    });
    if (!stop) return path;
    await this.ended;
    return path;
  }

  cancel(): void {
    if (this.cancelled) return;
    this.cancelled = true;
    if (this.current !== undefined) this.fail(this.current, new JobCancelledError(this.jobId));
    this.endRestartDelay?.();
    this.endLeaseWait?.();
  }

  /**
   * A MiniCluster's threads, once the jobs before have ended; a cancel ends the wait at
   * once (JobCancelledError), and the lease, when it comes, goes back unused.
   */
  private async waitForThreads(leased: Promise<ThreadLease>): Promise<ThreadLease> {
    const cancelled = new Promise<undefined>((resolve) => (this.endLeaseWait = () => resolve(undefined)));
    if (this.cancelled) this.endLeaseWait?.();
    try {
      const lease = await Promise.race([leased, cancelled]);
      if (lease !== undefined && !this.cancelled) {
        this.start = performance.now();
        return lease;
      }
      this.giveBackUnused();
      throw new JobCancelledError(this.jobId);
    } finally {
      this.endLeaseWait = undefined;
    }
  }

  /**
   * Why `error` ends the job instead of a restart: a cancel (as a JobCancelledError, even
   * when the attempt had already failed of something else, which becomes its cause: Flink
   * ends a cancelled job CANCELED whatever it was restarting from), a user function's
   * failure, or undefined when the restart strategy decides.
   */
  private notRestartable(error: Error): Error | undefined {
    if (this.cancelled) return error instanceof JobCancelledError ? error : new JobCancelledError(this.jobId, error);
    return findUserError(error);
  }

  /** The restart strategy's delay; a cancel ends it at once. */
  private restartDelay(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const done = (): void => {
        clearTimeout(timer);
        this.endRestartDelay = undefined;
        resolve();
      };
      const timer = setTimeout(done, this.cancelled ? 0 : ms);
      this.endRestartDelay = done;
    });
  }

  /** Ends the run's threads (after warm-ups in flight); a MiniCluster's too, which then starts new ones for the next attempt or job. */
  async destroyPool(): Promise<void> {
    const pool = this.pool;
    this.pool = undefined;
    if (this.lease !== undefined) await this.lease.discard();
    else await pool?.destroy();
  }

  /** The run has ended: its threads exit, or go back to the MiniCluster. */
  private async endThreads(): Promise<void> {
    if (this.lease === undefined) return this.destroyPool();
    this.pool = undefined;
    await this.lease.release();
  }

  /** Fails `attempt` (attempt.ts `failAttempt`: the first failure is the attempt's), and readies threads for the restart that is likely. */
  private fail(attempt: Attempt, error: Error): void {
    if (!failAttempt(attempt, error)) return;
    // A restart is likely: threads that died are replaced now, while the others cancel.
    const module = this.setup?.moduleUrl;
    if (module !== undefined && this.notRestartable(error) === undefined) warmReplacements(attempt, module);
  }

  /**
   * Runs attempts until one finishes: after a failure the restart strategy decides, and
   * the next attempt restores every subtask from the latest restorable checkpoint.
   */
  async execute(moduleUrl: JobModuleUrls, fingerprint: string, graph: JobGraph, options: ResolvedOptions, initial: RestoreSource | undefined, info: JobInfo): Promise<JobResult> {
    this.executing = true;
    try {
      if (this.leasing !== undefined) this.lease = await this.waitForThreads(this.leasing);
      const result = await this.executeAttempts(moduleUrl, fingerprint, graph, options, initial, info);
      this.recordTerminalState('FINISHED', undefined);
      return result;
    } catch (error) {
      // A job refused before it ran (a usage mistake, a running twin) has no state to record.
      if (this.setup !== undefined) this.recordTerminalState(error instanceof JobCancelledError ? 'CANCELED' : 'FAILED', error as Error);
      throw error;
    } finally {
      // The threads end in the background: V8 frees each thread's heap as it exits (13-20 ms
      // of wall, 25 ms of CPU for a word count's two threads; native-notes §7), no part of the result.
      // `closed` settles once they are gone. Flink's job result, too, does not wait for slots.
      this.closedBy = this.endThreads().catch((e: unknown) => options.onEvent({ type: 'threads-unended', reason: (e as Error).message }));
      this.markEnded();
    }
  }

  /**
   * Settles once the run's worker threads have exited, after `execute` ended (resolved at
   * once when none were started). Never rejects: a thread that fails to end loses nothing
   * (the `threads-unended` event reports it).
   */
  async closed(): Promise<void> {
    if (!this.executing) return;
    await this.ended;
    await this.closedBy;
  }

  /** Writes the job's terminal state into its checkpoint folder (best effort: reported, never fatal). */
  private recordTerminalState(state: TerminalJobState, error: Error | undefined): void {
    const setup = this.setup;
    if (setup === undefined) return;
    recordStatus(this.jobId, setup, {
      state,
      startedAt: this.startedAt,
      ...startedFrom(setup),
      endedAt: Date.now(),
      ...(this.stoppedWith === undefined ? {} : { savepoint: this.stoppedWith }),
      ...(error === undefined ? {} : { reason: error.message.split('\n')[0]! }),
    });
  }

  private async executeAttempts(
    moduleUrl: JobModuleUrls,
    fingerprint: string,
    graph: JobGraph,
    options: ResolvedOptions,
    initial: RestoreSource | undefined,
    info: JobInfo,
  ): Promise<JobResult> {
    this.graph = graph;
    const config = options.checkpointing;
    const storage = config === undefined ? undefined : CheckpointStorage.open(config.dir, this.jobId);
    const savepoint = initial?.shared === false ? initial : undefined;
    let { restore, fallback } = await restoreAtStart(this.jobId, initial, fingerprint, graph, options);
    const run = await openRun(this.jobId, { moduleUrl, fingerprint, info, graph, options, storage, savepoint, restoredMaxParallelism: initial?.meta.maxParallelism }, {
      savepoint: (target) => this.savepoint(target, false),
      stop: (target) => this.savepoint(target, true),
      ...this.observerHandlers,
    });
    const setup = run.setup;
    this.setup = setup;
    // Once no twin runs (the control socket): from here `--resume` picks this job first.
    recordStatus(this.jobId, setup, { state: 'RUNNING', startedAt: this.startedAt, ...startedFrom(setup) });
    const backoff = new RestartBackoff(options.restartStrategy);
    // Ids go on after every chk-<n> folder there is, valid or not, and after the restored
    // savepoint's: never reuse one (collect sink epochs rely on increasing ids).
    const listed = storage?.list();
    let lastCheckpointId = Math.max(
      savepoint?.meta.checkpointId ?? 0,
      ...(listed?.valid.map((c) => c.checkpointId) ?? []),
      ...(listed?.invalid.map((c) => c.checkpointId) ?? []),
    );
    try {
      for (let number = 0; ; number++) {
        let error: Error | undefined;
        // What the restored checkpoint prepared may not have been committed before the
        // failure. A commit that fails (a busy database, say) fails this attempt: the
        // restart strategy decides, and the next attempt commits again.
        const committed = await rollbackAndCommit(graph, options, this.collected, restore, fallback).then(
          () => true,
          (e: unknown) => {
            error = e as Error;
            return false;
          },
        );
        if (committed) {
          const attempt = this.deploy(setup, number, restore, lastCheckpointId);
          if (restore !== undefined) options.onEvent({ type: 'restored', checkpointId: restore.checkpointId, attempt: number });
          error = await waitForEnd(attempt, () => this.destroyPool());
          lastCheckpointId = Math.max(lastCheckpointId, attempt.coordinator?.lastTriggeredId ?? 0);
          this.lastTriggerAt = attempt.coordinator?.lastTriggerAt ?? this.lastTriggerAt;
          if (error === undefined) return await this.result(attempt);
          // Completed checkpoints of a failed attempt stay in the job's history.
          this.checkpoints.push(...(attempt.coordinator?.completed ?? []));
          const fatal = this.notRestartable(error);
          if (fatal !== undefined) throw fatal;
          if (this.stoppedWith !== undefined) {
            // The stop-with-savepoint completed before this failure: its state is complete
            // and nothing followed its barrier, so the job ends stopped instead of restarting
            // past the savepoint (which would process records twice after a restore from it).
            options.onEvent({ type: 'failed-after-stop', savepoint: this.stoppedWith, cause: error.message });
            return await this.result(attempt);
          }
        }
        if (error === undefined) throw new Error('unreachable: an attempt ended without result or error');
        const fatal = this.notRestartable(error);
        if (fatal !== undefined) throw fatal;
        const delayMs = backoff.onFailure(performance.now());
        if (delayMs === undefined) {
          if (options.restartStrategy.kind === 'none') throw error;
          const note = ` (not restarting: ${backoff.describe()} exhausted after ${this.restarts} restarts)`;
          error.stack = error.stack?.replace(error.message, `${error.message}${note}`);
          error.message += note;
          throw error;
        }
        this.restarts++;
        options.onEvent({ type: 'restarting', attempt: number + 1, delayMs, cause: error.message });
        await this.restartDelay(delayMs);
        if (this.cancelled) throw new JobCancelledError(this.jobId, error);
        ({ restore, fallback } = await restoreAfterFailure(this.jobId, storage, savepoint, graph, options));
      }
    } finally {
      await run.close();
    }
  }

  private async result(attempt: Attempt): Promise<JobResult> {
    // The whole job finished: publish what the sinks held back for the end.
    attempt.collected.finished();
    await commitInMaster(this.graph!, attempt.finalCommits);
    const metrics = this.metrics();
    return {
      jobId: this.jobId,
      status: 'FINISHED',
      wallTimeMs: metrics.elapsedMs,
      collected: this.collected.byName,
      checkpoints: this.checkpoints,
      restarts: this.restarts,
      ...metrics,
      ...(this.stoppedWith === undefined ? {} : { savepoint: this.stoppedWith }),
    };
  }

  private deploy(setup: JobSetup, number: number, restore: RestorePlan | undefined, lastCheckpointId: number): Attempt {
    if (this.cancelled) throw new JobCancelledError(this.jobId);
    const { graph, options } = setup;
    const planned = planAttempt(this.jobId, setup, number, restore, this.collected.forAttempt());
    this.slots = planned.slots.length;
    const { attempt } = planned;
    const fail = (error: Error): void => this.fail(attempt, error);
    // One pool for the run: a restart deploys onto the threads of the attempt before. No
    // thread starts here (a pool starts them for its tasks).
    const threads = { execArgv: workerExecArgv(process.execArgv), workerMemoryMb: options.workerMemoryMb, taskFile: setup.moduleUrl.taskFile };
    this.pool ??= this.lease?.pool(planned.slots.length, threads) ?? new SubtaskPool({ slots: planned.slots.length, execArgv: threads.execArgv, workerMemoryMb: threads.workerMemoryMb, filename: threads.taskFile });
    attempt.pool = this.pool;
    // Source enumerators next: a bad input fails here, before any thread starts.
    startEnumerators(attempt, graph, restore, fail);
    if (this.current !== undefined) this.earlier.fold(graph, this.metrics());
    this.current = attempt;
    const run: AttemptRun = { jobId: this.jobId, setup, checkpointStats: this.checkpointStats, latency: this.latency, killer: this.killer, lastTriggerAt: this.lastTriggerAt, fail };
    startAttempt(planned, run, lastCheckpointId);
    if (this.cancelled) this.fail(attempt, new JobCancelledError(this.jobId));
    return attempt;
  }

  get attemptNumber(): number | undefined {
    return this.current?.number;
  }

  metrics(): JobMetrics {
    const checkpoints = [...this.checkpoints, ...(this.current?.coordinator?.completed ?? [])];
    const metrics = readJobMetrics(this.graph, this.current?.deployed ?? [], performance.now() - this.start, checkpoints, this.restarts, this.earlier, this.current?.number);
    withLatency(metrics.operators, this.latency.summaries());
    return metrics;
  }
}

/**
 * The job master, in the main thread: loads the job module, builds the job graph, plans
 * source splits, allocates one ring per channel and one doorbell per subtask, and deploys
 * every slot (its subtasks, runtime/slot-sharing.ts) as a long-running piscina task (one
 * thread per slot, none spare). It never touches records. Flink: `JobMaster` + `Execution` deployment.
 *
 * A subtask ends with exactly one final message on its port (see task/worker.ts). The
 * first failure cancels every other subtask; the job's promise rejects with that failure.
 */
import { randomInt, randomUUID } from 'node:crypto';
import { accessSync, constants as fsConstants, mkdirSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { CheckpointStorage, readJobInfo, writeJobInfo, writeJobStatus, writeSavepoint } from '../checkpoint/index.js';
import type { JobStatusRecord, TerminalJobState } from '../checkpoint/index.js';
import { ControlServer, controlSocketPath } from './control-socket.js';
import { planRestore } from './restore-plan.js';
import { initialRestore, jobToResume, latestRestorable } from './restore-source.js';
import type { RestorePlan, RestoreSource } from './restore-plan.js';
import { CheckpointCoordinator } from './checkpoint-coordinator.js';
import type { CompletedCheckpoint } from './checkpoint-coordinator.js';
import { CheckpointStatsTracker } from './checkpoint-stats.js';
import { RestartBackoff } from './restart-strategy.js';
import { UsageError, findUserError } from '../errors.js';
import { compileJobModule, loadJob, resolveJobModule, workerModule } from '../graph/index.js';
import type { JobGraph } from '../graph/index.js';
import type { JobInfo } from '../api/index.js';
import { planDeployments } from './deployment-plan.js';
import { resolveOptions } from './options.js';
import { optionName, optionNamer } from '../option-names.js';
import type { OptionStyle } from '../option-names.js';
import type { ResolvedOptions, RunJobOptions } from './options.js';
import { EarlierAttempts, readJobMetrics } from './job-metrics.js';
import { LatencyRegistry, withLatency } from '../metrics/latency.js';
import { hdrHistogram } from '../metrics/hdr-histogram.js';
import type { JobMetrics } from './job-metrics.js';
import { SourceCoordinator } from './source-coordinator.js';
import { SubtaskPool, workerExecArgv } from './subtask-pool.js';
import { assignSlots, busyThreads, runSlots, sharesSlots } from './slot-sharing.js';
import { WorkerKiller } from './fault-injection.js';
import { commitInMaster, rollbackInMaster, sinksWithoutRollback } from './sink-commits.js';
import { checkEngineDirectories, initializeSinks } from './preflight.js';
import { directoryProblem } from '../directories.js';
import { watchJob } from './observed-run.js';
import type { ObservableRun } from './observed-run.js';
import { JobCancelledError } from './job-handle.js';
import type { JobHandle, JobResult } from './job-handle.js';
import { CollectedRecords } from './collected-records.js';
import { deployedSubtask, mail, watchSubtask } from './deployed-subtask.js';
import type { Deployed, WatchContext } from './deployed-subtask.js';
import type { AttemptRecords } from './collected-records.js';

/** How long cancelled subtasks get to end on their own before their threads are terminated, ms. */
export const cancelGraceMs = 3000;

/**
 * How long a failed attempt waits, after `cancelGraceMs`, for subtasks still loading their
 * modules, ms. Such a subtask sees the cancel first thing once loaded and ends at once;
 * terminating its thread before that can abort the whole process on Node 20 (see subtask-pool.ts).
 * Past this bound (a job module whose top-level code never settles) the thread is
 * terminated anyway.
 */
export const loadingGraceMs = 60_000;

/**
 * Runs the job module at `moduleUrl` (path or file URL; .ts or .js; default export made
 * with `defineJob`). Returns at once; the handle's `result` settles when the job ends.
 * Rejections: UsageError (bad path, module or option; `userError: true`),
 * UserFunctionError (a user function threw), SubtaskError, JobCancelledError.
 */
export function runJob(moduleUrl: string | URL, options: RunJobOptions = {}): JobHandle {
  return startJob(moduleUrl, options, 'api');
}

/**
 * `runJob` for a caller whose users know the options by another name: `sluice run` passes
 * `cli`, so that messages name its flags (`--checkpoint-dir`) instead of runJob's options.
 */
export function startJob(moduleUrl: string | URL, options: RunJobOptions, style: OptionStyle): JobHandle {
  // --resume continues the job of the latest run in the checkpoint directory.
  const resumed = options.resume === true ? jobToResume(options.checkpointDir) : undefined;
  const jobId = resumed ?? randomUUID();
  const start = performance.now();
  const submittedAt = Date.now();
  const run = new JobRun(jobId, start);
  // The job's history, its view for observers (REST, sluice list) and the web server.
  const watch = watchJob(run, moduleUrl, options, submittedAt);
  options = watch.options;
  const result = (async () => {
    const resolved = resolveOptions(options, style);
    checkEngineDirectories(resolved);
    return watch.serve(resolved, async () => {
      const url = resolveJobModule(moduleUrl);
      const initial = await initialRestore(jobId, resumed !== undefined, resolved);
      // Fixed here, once per job: a resumed job keeps the seed and start time of its first run.
      const recorded = resolved.resume ? readJobInfo(resolved.checkpointing!.dir, jobId) : undefined;
      const info: JobInfo = Object.freeze(recorded ?? { jobId, startTime: submittedAt, seed: randomInt(0, 2 ** 32) });
      // Compiled once, here: a TypeScript module's bundle, and the workers' twin of either kind (graph/compile-job.ts).
      const compiled = await compileJobModule(url).catch((error: unknown) => {
        throw new UsageError(`Job module ${fileURLToPath(url)} failed to compile: ${(error as Error).message}`, { cause: error });
      });
      const { plan, graph } = await loadJob(url, resolved.args, {
        defaultParallelism: resolved.parallelism,
        maxParallelism: resolved.maxParallelism,
        restoredMaxParallelism: initial?.meta.maxParallelism,
        parameters: resolved.params,
        info,
        importUrl: compiled.importUrl,
      });
      await initializeSinks(graph);
      // Workers load the engine's worker bundle and the job's twin importing it, when there is one.
      const worker = workerModule(compiled);
      return run.execute({ url, importUrl: worker?.importUrl ?? compiled.importUrl, taskFile: worker?.taskFile }, plan.fingerprint(), graph, resolved, initial, info);
    });
  })();
  return {
    jobId,
    result,
    observed: watch.observed,
    webUrl: watch.webUrl,
    metrics: () => run.metrics(),
    cancel: () => watch.observed.cancel(),
    savepoint: (targetDir) => run.savepoint(targetDir, false),
    stop: (targetDir) => run.savepoint(targetDir, true),
  };
}

/**
 * A restore that falls back past completed checkpoints (the newer ones are damaged): what
 * the sinks published after the restored point is taken back before the restore commits.
 */
interface Fallback {
  /** Undefined: the run restarts from its savepoint (`savepoint`) or from the beginning. */
  restoredCheckpointId: number | undefined;
  savepoint: string | undefined;
  /** The completed checkpoints it falls back past, ascending. */
  checkpointIds: number[];
  /** Sinks that cannot take back their output (accepted with allowDuplicatesOnFallback). */
  duplicates: string[];
}

/** One deployment of the job: its rings and subtasks, on the run's pool. */
interface Attempt {
  number: number;
  pool: SubtaskPool;
  deployed: Deployed[];
  coordinator: CheckpointCoordinator | undefined;
  failure: Error | undefined;
  failureWaiters: Array<() => void>;
  /** Sinks' last committables (jobs without a final checkpoint), committed when the whole job has finished. */
  finalCommits: Array<{ uid: string; committables: unknown[] }>;
  /** The source enumerators of this attempt, by graph node id of the source. */
  enumerators: Map<number, SourceCoordinator>;
  /** Collected records held back until their checkpoint completes: per sink, per epoch. */
  collected: AttemptRecords;
  /** The fault injection timer (--kill-worker-every). */
  killer?: NodeJS.Timeout;
}

/** The job module as the user named it (`url`, for messages) and what worker threads import (`importUrl`: its compiled bundle, or `url`). */
export interface JobModuleUrls {
  url: string;
  importUrl: string;
  /** The workers' task file: the engine's worker bundle (graph/compile-job.ts), or undefined for task/worker.js. */
  taskFile: string | undefined;
}

/** What every attempt of a job deploys: fixed for the life of the run. */
export interface JobSetup {
  moduleUrl: JobModuleUrls;
  fingerprint: string;
  /** The job's id, seed and start time (recorded in its checkpoint folder). */
  info: JobInfo;
  graph: JobGraph;
  options: ResolvedOptions;
  stateRoot: string | undefined;
  storage: CheckpointStorage | undefined;
  /** The savepoint the run started from: restored again while no checkpoint of this run exists. */
  savepoint: RestoreSource | undefined;
  /** Max parallelism by uid of the state the run started from (the graph adopted it). */
  restoredMaxParallelism: Record<string, number> | undefined;
}

class JobRun {
  /** The job graph once loaded (read by observers). */
  graph: JobGraph | undefined;
  /** Slots of the deployment, one worker thread each (read by observers). */
  slots = 0;
  private current: Attempt | undefined;
  private cancelled = false;
  /** Ends the restart delay in progress (cancel). */
  private endRestartDelay: (() => void) | undefined;
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

  constructor(
    readonly jobId: string,
    private readonly start: number,
  ) {
    this.ended = new Promise((resolve) => (this.markEnded = resolve));
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
    if (this.current !== undefined) this.failAttempt(this.current, new JobCancelledError(this.jobId));
    this.endRestartDelay?.();
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

  /** Ends the run's threads (after warm-ups in flight). */
  async destroyPool(): Promise<void> {
    const pool = this.pool;
    this.pool = undefined;
    await pool?.destroy();
  }

  private failAttempt(attempt: Attempt, error: Error): void {
    if (attempt.failure !== undefined) return;
    attempt.failure = error;
    attempt.coordinator?.stop(true);
    for (const d of attempt.deployed) mail(d, { type: 'cancel' });
    for (const w of attempt.failureWaiters.splice(0)) w();
    // A restart is likely: threads that died are replaced now, while the others cancel.
    const module = this.setup?.moduleUrl;
    if (module !== undefined && this.notRestartable(error) === undefined) {
      // piscina drops a dead thread from its list before it fails the thread's task, so a
      // death that failed the attempt has left `threads` already.
      const live = new Set(attempt.pool?.threads.map((w) => w.threadId));
      attempt.pool?.warm({ warmUp: true, moduleUrl: module.url, importUrl: module.importUrl }, busyThreads(attempt.deployed, live));
    }
  }

  /**
   * Runs attempts until one finishes: after a failure the restart strategy decides, and
   * the next attempt restores every subtask from the latest restorable checkpoint.
   */
  async execute(moduleUrl: JobModuleUrls, fingerprint: string, graph: JobGraph, options: ResolvedOptions, initial: RestoreSource | undefined, info: JobInfo): Promise<JobResult> {
    try {
      const result = await this.executeAttempts(moduleUrl, fingerprint, graph, options, initial, info);
      this.recordTerminalState(options, 'FINISHED', undefined);
      return result;
    } catch (error) {
      // A job refused before it ran (a usage mistake, a running twin) has no state to record.
      if (this.setup !== undefined) this.recordTerminalState(options, error instanceof JobCancelledError ? 'CANCELED' : 'FAILED', error as Error);
      throw error;
    } finally {
      await this.destroyPool();
      this.markEnded();
    }
  }

  /** Writes the job's terminal state into its checkpoint folder (best effort: reported, never fatal). */
  private recordTerminalState(options: ResolvedOptions, state: TerminalJobState, error: Error | undefined): void {
    this.recordStatus(options, {
      state,
      startedAt: this.startedAt,
      ...this.startedFrom(),
      endedAt: Date.now(),
      ...(this.stoppedWith === undefined ? {} : { savepoint: this.stoppedWith }),
      ...(error === undefined ? {} : { reason: error.message.split('\n')[0]! }),
    });
  }

  /** The savepoint this run started from, for the job's status: `--resume` starts there again while no checkpoint of the job completed. */
  private startedFrom(): { fromSavepoint?: string } {
    const path = this.setup?.savepoint?.savepointPath;
    return path === undefined ? {} : { fromSavepoint: path };
  }

  /** Writes `record` as the job's status in its checkpoint folder, if it has one (best effort: reported, never fatal). */
  private recordStatus(options: ResolvedOptions, record: JobStatusRecord): void {
    const config = options.checkpointing;
    if (config === undefined || this.setup?.storage === undefined) return;
    try {
      writeJobStatus(config.dir, this.jobId, record);
    } catch (e) {
      options.onEvent({ type: 'job-status-unrecorded', state: record.state, reason: (e as Error).message });
    }
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
    if (initial?.shared === true && initial.meta.planFingerprint !== fingerprint) {
      const n = optionNamer(options.optionStyle);
      throw new UsageError(
        `Cannot resume from checkpoint ${initial.meta.checkpointId} in ${config!.dir}: it was taken by a different job plan (operators, uids or parallelism changed); ` +
          `take a savepoint of the old job and start from it (${n('fromSavepoint')}), or start without ${n('resume')}`,
      );
    }
    const savepoint = initial?.shared === false ? initial : undefined;
    let restore = initial === undefined ? undefined : this.planRestore(initial, graph, options);
    // Before anything is written: a fallback that would duplicate output is refused here.
    let fallback = await this.fallback(graph, options, initial?.meta.checkpointId, undefined, initial?.fellBackPast ?? []);
    if (savepoint !== undefined) {
      const plan = restore!;
      options.onEvent({ type: 'restored-savepoint', path: savepoint.savepointPath!, checkpointId: plan.checkpointId, rescaled: plan.rescaled, dropped: plan.dropped });
    }
    // The control socket first: a job already running elsewhere is refused before any
    // folder is made (nothing to clean up then).
    const server = storage === undefined ? undefined : await ControlServer.listen(controlSocketPath(config!.dir, this.jobId), {
      savepoint: (target) => this.savepoint(target, false),
      stop: (target) => this.savepoint(target, true),
      ...this.observerHandlers,
    });
    let stateRoot: { path: string; temporary: boolean } | undefined;
    try {
      // Before any checkpoint: a --resume after a crash at any moment finds the job's seed and start time.
      if (config !== undefined) writeJobInfo(config.dir, info);
      stateRoot = this.stateRoot(options);
    } catch (error) {
      await server?.close();
      throw error;
    }
    const setup: JobSetup = { moduleUrl, fingerprint, info, graph, options, stateRoot: stateRoot?.path, storage, savepoint, restoredMaxParallelism: initial?.meta.maxParallelism };
    this.setup = setup;
    // Once no twin runs (the control socket): from here `--resume` picks this job first.
    this.recordStatus(options, { state: 'RUNNING', startedAt: this.startedAt, ...this.startedFrom() });
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
        const committed = await this.rollbackAndCommit(graph, options, restore, fallback).then(
          () => true,
          (e: unknown) => {
            error = e as Error;
            return false;
          },
        );
        if (committed) {
          const attempt = this.deploy(setup, number, restore, lastCheckpointId);
          if (restore !== undefined) options.onEvent({ type: 'restored', checkpointId: restore.checkpointId, attempt: number });
          error = await this.finish(attempt);
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
        const latest = storage === undefined ? undefined : await latestRestorable(storage, options);
        const from: RestoreSource | undefined =
          latest === undefined ? savepoint : { meta: latest, filesDir: storage!.sharedDir, shared: true, describe: `checkpoint ${latest.checkpointId}` };
        restore = from === undefined ? undefined : this.planRestore(from, graph, options);
        // Completed checkpoints newer than the one restored are damaged: their output is
        // published (a savepoint's id, or -1 from the beginning, is below every id of the run).
        const past = storage === undefined ? [] : storage.completedCheckpointIds().filter((id) => id > (from?.meta.checkpointId ?? -1));
        fallback = await this.fallback(graph, options, latest?.checkpointId, latest === undefined ? savepoint?.savepointPath : undefined, past);
      }
    } finally {
      await server?.close();
      if (stateRoot?.temporary === true) rmSync(stateRoot.path, { recursive: true, force: true });
    }
  }

  /**
   * The fallback of a restore to `restoredCheckpointId` (or to `savepoint`, or the
   * beginning) past the completed checkpoints `past`, or undefined when `past` is empty.
   * @throws UsageError when a two-phase sink cannot take back its output and duplicates
   *   are not allowed (`allowDuplicatesOnFallback`): one line naming the checkpoints and
   *   the option.
   */
  private async fallback(graph: JobGraph, options: ResolvedOptions, restoredCheckpointId: number | undefined, savepoint: string | undefined, past: readonly number[]): Promise<Fallback | undefined> {
    if (past.length === 0) return undefined;
    const checkpointIds = [...past].sort((a, b) => a - b);
    const duplicates = await sinksWithoutRollback(graph);
    if (duplicates.length > 0 && !options.allowDuplicatesOnFallback) {
      const n = optionNamer(options.optionStyle);
      const pastWhat = `checkpoint${checkpointIds.length === 1 ? '' : 's'} ${checkpointIds.join(', ')} (damaged)`;
      const to = restoredCheckpointId !== undefined ? `checkpoint ${restoredCheckpointId}` : savepoint !== undefined ? `savepoint ${savepoint}` : 'the beginning';
      const which = duplicates.length === 1 ? `sink ${duplicates[0]} has` : `sinks ${duplicates.join(', ')} have`;
      throw new UsageError(
        `Cannot fall back past ${pastWhat} of job ${this.jobId} to ${to}: ${which} no rollback() to take back what ${duplicates.length === 1 ? 'it' : 'they'} published after ${to}, ` +
          `so the replay would duplicate it; pass ${n('allowDuplicatesOnFallback')} to accept duplicates`,
      );
    }
    return { restoredCheckpointId, savepoint, checkpointIds, duplicates };
  }

  /**
   * Before an attempt deploys: on a fallback, the sinks (and the collect sinks' records in
   * this process) take back what was published after the restored point; then the
   * restored checkpoint's committables are committed. @throws a sink's error.
   */
  private async rollbackAndCommit(graph: JobGraph, options: ResolvedOptions, restore: RestorePlan | undefined, fallback: Fallback | undefined): Promise<void> {
    if (fallback !== undefined) {
      await rollbackInMaster(graph, restore?.checkpointId, fallback.checkpointIds, restore?.sinkWriterStates ?? new Map());
      this.collected.rollBackTo(fallback.restoredCheckpointId);
      const { restoredCheckpointId, savepoint, checkpointIds, duplicates } = fallback;
      options.onEvent({ type: 'fell-back', restoredCheckpointId, checkpointIds, duplicates, ...(savepoint === undefined ? {} : { savepoint }) });
    }
    if (restore !== undefined) await commitInMaster(graph, restore.commits);
  }

  private planRestore(source: RestoreSource, graph: JobGraph, options: ResolvedOptions): RestorePlan {
    return planRestore(source, graph, { stateBackend: options.stateBackend, allowNonRestoredState: options.allowNonRestoredState, optionStyle: options.optionStyle });
  }

  /** Waits for the attempt to end; undefined when every subtask finished, else the first failure. */
  private async finish(attempt: Attempt): Promise<Error | undefined> {
    const outcomes = attempt.deployed.map((d) => d.outcome!);
    const ended = Promise.allSettled(outcomes);
    const failed = new Promise<void>((resolve) => (attempt.failure !== undefined ? resolve() : attempt.failureWaiters.push(resolve)));
    await Promise.race([ended, failed]);
    if (attempt.failure !== undefined) {
      await settledWithin(ended, cancelGraceMs);
      // Threads are terminated only once loaded (subtask-pool.ts): wait for those loading.
      const loading = attempt.deployed.filter((d) => !d.ended && d.threadId === undefined).map((d) => d.outcome!);
      if (loading.length > 0) await settledWithin(Promise.allSettled(loading), loadingGraceMs);
    }
    attempt.coordinator?.stop(true);
    if (attempt.killer !== undefined) clearInterval(attempt.killer);
    await Promise.all([...attempt.enumerators.values()].map((e) => e.close()));
    if (attempt.deployed.some((d) => !d.ended && d.threadId === undefined)) {
      // Still loading after the grace (a module whose top-level code never settles): the
      // pool goes, as every thread of it did before threads were kept across attempts.
      await this.destroyPool();
    } else {
      // Loaded subtasks that ignored the cancel: their threads go; the others are kept, idle and warm.
      await attempt.pool.terminate(new Set(attempt.deployed.filter((d) => !d.ended).map((d) => d.threadId!)));
      await Promise.allSettled(attempt.deployed.map((d) => d.outcome!));
    }
    return attempt.failure;
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

  /** The lsm backend's (and heap snapshots') folder: `<stateDir>/<jobId>`, or a temporary one removed at the end. */
  private stateRoot(options: ResolvedOptions): { path: string; temporary: boolean } | undefined {
    // The heap backend needs a folder only to write snapshots or to stage restored files.
    if (options.stateBackend !== 'lsm' && options.checkpointing === undefined && options.fromSavepoint === undefined) return undefined;
    if (options.stateDir === undefined) return { path: mkdtempSync(join(tmpdir(), `sluicegate-${this.jobId}-`)), temporary: true };
    const path = join(options.stateDir, this.jobId);
    try {
      mkdirSync(path, { recursive: true });
    } catch (error) {
      throw new UsageError(`State directory ${options.stateDir} cannot be created (${(error as NodeJS.ErrnoException).code}): choose another ${optionName('stateDir', options.optionStyle)}`);
    }
    return { path, temporary: false };
  }

  private deploy(setup: JobSetup, number: number, restore: RestorePlan | undefined, lastCheckpointId: number): Attempt {
    if (this.cancelled) throw new JobCancelledError(this.jobId);
    const { fingerprint, graph, options, storage } = setup;
    const planned = planDeployments(this.jobId, setup, number, restore);
    const deployments = planned.map((p) => p.deployment);
    const slots = assignSlots(graph, deployments, sharesSlots(options.slotSharing, deployments.length));
    this.slots = slots.length;
    const slotOf = new Map(slots.flatMap((slot, s) => slot.subtasks.map((i) => [i, s] as const)));
    const attempt: Attempt = {
      number,
      pool: undefined as unknown as SubtaskPool,
      deployed: planned.map((p, i) => deployedSubtask(graph, p.deployment, p.port, slotOf.get(i)!)),
      coordinator: undefined,
      failure: undefined,
      failureWaiters: [],
      finalCommits: [],
      enumerators: new Map(),
      collected: this.collected.forAttempt(),
    };
    // Source enumerators first: a bad input fails here, before any thread starts.
    this.startEnumerators(attempt, graph, restore);
    // One pool for the run: a restart deploys onto the threads of the attempt before.
    this.pool ??= new SubtaskPool({ slots: slots.length, execArgv: workerExecArgv(process.execArgv), workerMemoryMb: options.workerMemoryMb, filename: setup.moduleUrl.taskFile });
    attempt.pool = this.pool;
    if (this.current !== undefined) this.earlier.fold(graph, this.metrics());
    this.current = attempt;
    const config = options.checkpointing;
    if (config !== undefined && storage !== undefined) {
      const byKey = new Map(attempt.deployed.map((d) => [d.key, d]));
      attempt.coordinator = new CheckpointCoordinator(
        config,
        storage,
        {
          jobId: this.jobId,
          planFingerprint: fingerprint,
          parallelism: Object.fromEntries(graph.nodes.map((n) => [n.uid, n.parallelism])),
          maxParallelism: Object.fromEntries(graph.nodes.map((n) => [n.uid, n.maxParallelism])),
          vertices: graph.vertices.map((v) => ({ uids: [v.head, ...v.nodes.filter((id) => id !== v.head)].map((id) => graph.nodes[id]!.uid) })),
          subtasks: attempt.deployed.map((d) => d.key),
          sources: attempt.deployed.filter((d) => d.source).map((d) => d.key),
        },
        {
          trigger: (checkpointId, timestamp, stop, subtasks) => {
            for (const key of subtasks) {
              const d = byKey.get(key);
              if (d !== undefined && !d.ended) mail(d, { type: 'trigger', checkpointId, timestamp, ...(stop ? { stop } : {}) });
            }
          },
          snapshotEnumerators: (checkpointId) => {
            const states: Record<string, unknown> = {};
            for (const e of attempt.enumerators.values()) states[e.node.uid] = e.snapshot(checkpointId);
            return states;
          },
          complete: (checkpointId, final) => {
            attempt.collected.checkpointCompleted(checkpointId);
            for (const e of attempt.enumerators.values()) e.notifyCheckpointComplete(checkpointId);
            for (const d of attempt.deployed) if (!d.ended) mail(d, { type: 'complete', checkpointId, ...(final ? { final } : {}) });
          },
          abort: (checkpointId) => {
            for (const d of attempt.deployed) if (!d.ended) mail(d, { type: 'abort', checkpointId });
          },
          fail: (error) => this.failAttempt(attempt, error),
          event: options.onEvent,
          stats: this.checkpointStats,
        },
        lastCheckpointId,
      );
    }
    const ran = runSlots(attempt.pool, slots, deployments);
    const watchContext: WatchContext = { jobId: this.jobId, options: setup.options, latency: this.latency, failAttempt: (error) => this.failAttempt(attempt, error) };
    deployments.forEach((d, i) => {
      attempt.deployed[i]!.outcome = watchSubtask(watchContext, attempt, d, attempt.deployed[i]!, ran[i]!);
    });
    attempt.coordinator?.start(this.lastTriggerAt);
    if (options.killWorkerEveryMs !== undefined) attempt.killer = this.killer.start(attempt, options);
    if (this.cancelled) this.failAttempt(attempt, new JobCancelledError(this.jobId));
    return attempt;
  }

  /**
   * One enumerator per source operator, restored from the restore plan's state for its
   * uid (or created fresh), started. @throws what `start` throws (UsageError for a bad input).
   */
  private startEnumerators(attempt: Attempt, graph: JobGraph, restore: RestorePlan | undefined): void {
    for (const node of graph.nodes) {
      if (node.plan.op.kind !== 'source') continue;
      const enumerator = new SourceCoordinator(node, {
        send: (subtaskIndex, message) => {
          const d = attempt.deployed.find((x) => x.sourceNode === node.id && x.subtaskIndex === subtaskIndex);
          if (d !== undefined && !d.ended) mail(d, message);
        },
        fail: (error) => this.failAttempt(attempt, error),
      });
      attempt.enumerators.set(node.id, enumerator);
      try {
        enumerator.start(restore?.enumerators.get(node.uid));
      } catch (error) {
        for (const e of attempt.enumerators.values()) void e.close();
        throw error;
      }
    }
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

/** Resolves when `promise` settles or after `ms`, whichever comes first (the timer does not hold the process). */
async function settledWithin(promise: Promise<unknown>, ms: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const expired = new Promise<void>((resolve) => (timer = setTimeout(resolve, ms).unref()));
  await Promise.race([promise.then(() => undefined, () => undefined), expired]);
  clearTimeout(timer);
}

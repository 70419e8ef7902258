/**
 * One attempt of a job: one deployment of every subtask, with its rings, on the run's pool
 * (Flink: an `ExecutionGraph` deployment, one `Execution` per subtask). Planned and grouped
 * into slots (deployment-plan.ts, slot-sharing.ts); its source enumerators and checkpoint
 * coordinator started; then run until every subtask has finished or the first failure,
 * which cancels every other subtask. The job master (job-master.ts) deploys one attempt
 * after another and decides, when one fails, whether the job restarts.
 */
import { CheckpointCoordinator } from './checkpoint-coordinator.js';
import type { CheckpointStatsTracker } from './checkpoint-stats.js';
import type { AttemptRecords } from './collected-records.js';
import { planDeployments } from './deployment-plan.js';
import { deployedSubtask, mail, watchSubtask } from './deployed-subtask.js';
import type { Deployed, WatchContext } from './deployed-subtask.js';
import type { WorkerKiller } from './fault-injection.js';
import type { JobModuleUrls, JobSetup } from './job-setup.js';
import type { RestorePlan } from './restore-plan.js';
import { assignSlots, busyThreads, runSlots, sharesSlots } from './slot-sharing.js';
import type { Slot } from './slot-sharing.js';
import { SourceCoordinator } from './source-coordinator.js';
import type { SubtaskPool } from './subtask-pool.js';
import type { LatencyRegistry } from '../metrics/latency.js';
import type { JobGraph } from '../graph/index.js';
import type { SubtaskDeployment } from '../task/index.js';

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

/** One deployment of the job: its rings and subtasks, on the run's pool. */
export interface Attempt {
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

/** An attempt planned, before it runs: the record (without its pool), its slots and its subtasks' deployments (in `attempt.deployed` order). */
export interface PlannedAttempt {
  attempt: Attempt;
  slots: Slot[];
  deployments: SubtaskDeployment[];
}

/** What an attempt takes from its run (job-master.ts `JobRun`), which outlives it. */
export interface AttemptRun {
  readonly jobId: string;
  readonly setup: JobSetup;
  /** Per-checkpoint statistics of every attempt (the REST API's in-progress counts and details). */
  readonly checkpointStats: CheckpointStatsTracker;
  /** The subtasks' latency histograms (latency tracking on). */
  readonly latency: LatencyRegistry;
  /** Fault injection (`killWorkerEveryMs`): one for the run, so its kill count spans attempts. */
  readonly killer: WorkerKiller;
  /** Coordinator clock ms of the latest checkpoint trigger of an earlier attempt of this run (the next attempt's first may come early). */
  readonly lastTriggerAt: number | undefined;
  /** Fails the attempt (the first failure cancels every other subtask). */
  fail(error: Error): void;
}

/**
 * Attempt `number` (0 first) of `setup`, restoring `restore` when given: its deployments
 * (deployment-plan.ts) grouped into slots, and its record, whose pool the caller sets.
 * `collected`: the attempt's share of the collect sinks' records.
 */
export function planAttempt(jobId: string, setup: JobSetup, number: number, restore: RestorePlan | undefined, collected: AttemptRecords): PlannedAttempt {
  const { graph, options } = setup;
  const planned = planDeployments(jobId, setup, number, restore);
  const deployments = planned.map((p) => p.deployment);
  const slots = assignSlots(graph, deployments, sharesSlots(options.slotSharing, deployments.length));
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
    collected,
  };
  return { attempt, slots, deployments };
}

/**
 * One enumerator per source operator, restored from the restore plan's state for its
 * uid (or created fresh), started; an enumerator's failure goes to `fail`. @throws what
 * `start` throws (UsageError for a bad input).
 */
export function startEnumerators(attempt: Attempt, graph: JobGraph, restore: RestorePlan | undefined, fail: (error: Error) => void): void {
  for (const node of graph.nodes) {
    if (node.plan.op.kind !== 'source') continue;
    const enumerator = new SourceCoordinator(node, {
      send: (subtaskIndex, message) => {
        const d = attempt.deployed.find((x) => x.sourceNode === node.id && x.subtaskIndex === subtaskIndex);
        if (d !== undefined && !d.ended) mail(d, message);
      },
      fail,
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

/**
 * Starts the planned attempt on its pool (set by the caller): its checkpoint coordinator
 * (with checkpointing; checkpoint ids go on after `lastCheckpointId`), every slot, the
 * watch of every subtask's port, and the fault injection timer when asked for.
 */
export function startAttempt({ attempt, slots, deployments }: PlannedAttempt, run: AttemptRun, lastCheckpointId: number): void {
  const { options } = run.setup;
  attempt.coordinator = checkpointCoordinator(attempt, run, lastCheckpointId);
  const ran = runSlots(attempt.pool, slots, deployments);
  const watchContext: WatchContext = { jobId: run.jobId, options, latency: run.latency, failAttempt: run.fail };
  deployments.forEach((d, i) => {
    attempt.deployed[i]!.outcome = watchSubtask(watchContext, attempt, d, attempt.deployed[i]!, ran[i]!);
  });
  attempt.coordinator?.start(run.lastTriggerAt);
  if (options.killWorkerEveryMs !== undefined) attempt.killer = run.killer.start(attempt, options);
}

/** The attempt's checkpoint coordinator, not started; undefined when the job does not checkpoint. */
function checkpointCoordinator(attempt: Attempt, run: AttemptRun, lastCheckpointId: number): CheckpointCoordinator | undefined {
  const { fingerprint, graph, options, storage } = run.setup;
  const config = options.checkpointing;
  if (config === undefined || storage === undefined) return undefined;
  const byKey = new Map(attempt.deployed.map((d) => [d.key, d]));
  return new CheckpointCoordinator(
    config,
    storage,
    {
      jobId: run.jobId,
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
      fail: run.fail,
      event: options.onEvent,
      stats: run.checkpointStats,
    },
    lastCheckpointId,
  );
}

/**
 * Fails `attempt` with `error`: stops its coordinator, mails every subtask `cancel` and
 * wakes `waitForEnd`. False, and nothing done, when it had failed already (the first
 * failure is the attempt's).
 */
export function failAttempt(attempt: Attempt, error: Error): boolean {
  if (attempt.failure !== undefined) return false;
  attempt.failure = error;
  attempt.coordinator?.stop(true);
  for (const d of attempt.deployed) mail(d, { type: 'cancel' });
  for (const w of attempt.failureWaiters.splice(0)) w();
  return true;
}

/** Replaces the failed attempt's threads that died with warm ones (loading `module`), while the others cancel: for a restart that is likely. */
export function warmReplacements(attempt: Attempt, module: JobModuleUrls): void {
  // piscina drops a dead thread from its list before it fails the thread's task, so a
  // death that failed the attempt has left `threads` already.
  const live = new Set(attempt.pool?.threads.map((w) => w.threadId));
  attempt.pool?.warm({ warmUp: true, moduleUrl: module.url, importUrl: module.importUrl }, busyThreads(attempt.deployed, live));
}

/**
 * Waits for the attempt to end; undefined when every subtask finished, else the first
 * failure. Threads of loaded subtasks that ignored the cancel are terminated; when a
 * subtask is still loading after the grace, `destroyPool` ends the run's pool instead.
 */
export async function waitForEnd(attempt: Attempt, destroyPool: () => Promise<void>): Promise<Error | undefined> {
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
    await destroyPool();
  } else {
    // Loaded subtasks that ignored the cancel: their threads go; the others are kept, idle and warm.
    await attempt.pool.terminate(new Set(attempt.deployed.filter((d) => !d.ended).map((d) => d.threadId!)));
    await Promise.allSettled(attempt.deployed.map((d) => d.outcome!));
  }
  return attempt.failure;
}

/** Resolves when `promise` settles or after `ms`, whichever comes first (the timer does not hold the process). */
async function settledWithin(promise: Promise<unknown>, ms: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const expired = new Promise<void>((resolve) => (timer = setTimeout(resolve, ms).unref()));
  await Promise.race([promise.then(() => undefined, () => undefined), expired]);
  clearTimeout(timer);
}

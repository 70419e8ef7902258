/**
 * What an attempt of a job restores, and what the job master does before the attempt
 * deploys: the restore plan (restore-plan.ts) of the run's starting point, or after a
 * failure of the latest restorable checkpoint; the fallback past completed checkpoints
 * newer than the one restored (they are damaged), refused when a sink cannot take back its
 * output; and, before deploying, the sinks' rollback of a fallback and the commit of what
 * the restored checkpoint prepared (sink-commits.ts).
 */
import type { CheckpointStorage } from '../checkpoint/index.js';
import { UsageError } from '../errors.js';
import type { JobGraph } from '../graph/index.js';
import { optionNamer } from '../option-names.js';
import type { CollectedRecords } from './collected-records.js';
import type { ResolvedOptions } from './options.js';
import { planRestore } from './restore-plan.js';
import type { RestorePlan, RestoreSource } from './restore-plan.js';
import { latestRestorable } from './restore-source.js';
import { commitInMaster, rollbackInMaster, sinksWithoutRollback } from './sink-commits.js';

/**
 * A restore that falls back past completed checkpoints (the newer ones are damaged): what
 * the sinks published after the restored point is taken back before the restore commits.
 */
export interface Fallback {
  /** Undefined: the run restarts from its savepoint (`savepoint`) or from the beginning. */
  restoredCheckpointId: number | undefined;
  savepoint: string | undefined;
  /** The completed checkpoints it falls back past, ascending. */
  checkpointIds: number[];
  /** Sinks that cannot take back their output (accepted with allowDuplicatesOnFallback). */
  duplicates: string[];
}

/** The restore plan of `source` for `graph`, with the options that shape it. @throws what `planRestore` throws. */
export function planAttemptRestore(source: RestoreSource, graph: JobGraph, options: ResolvedOptions): RestorePlan {
  return planRestore(source, graph, { stateBackend: options.stateBackend, allowNonRestoredState: options.allowNonRestoredState, optionStyle: options.optionStyle });
}

/**
 * The fallback of a restore of job `jobId` to `restoredCheckpointId` (or to `savepoint`, or the
 * beginning) past the completed checkpoints `past`, or undefined when `past` is empty.
 * @throws UsageError when a two-phase sink cannot take back its output and duplicates
 *   are not allowed (`allowDuplicatesOnFallback`): one line naming the checkpoints and
 *   the option.
 */
export async function planFallback(
  jobId: string,
  graph: JobGraph,
  options: ResolvedOptions,
  restoredCheckpointId: number | undefined,
  savepoint: string | undefined,
  past: readonly number[],
): Promise<Fallback | undefined> {
  if (past.length === 0) return undefined;
  const checkpointIds = [...past].sort((a, b) => a - b);
  const duplicates = await sinksWithoutRollback(graph);
  if (duplicates.length > 0 && !options.allowDuplicatesOnFallback) {
    const n = optionNamer(options.optionStyle);
    const pastWhat = `checkpoint${checkpointIds.length === 1 ? '' : 's'} ${checkpointIds.join(', ')} (damaged)`;
    const to = restoredCheckpointId !== undefined ? `checkpoint ${restoredCheckpointId}` : savepoint !== undefined ? `savepoint ${savepoint}` : 'the beginning';
    const which = duplicates.length === 1 ? `sink ${duplicates[0]} has` : `sinks ${duplicates.join(', ')} have`;
    throw new UsageError(
      `Cannot fall back past ${pastWhat} of job ${jobId} to ${to}: ${which} no rollback() to take back what ${duplicates.length === 1 ? 'it' : 'they'} published after ${to}, ` +
        `so the replay would duplicate it; pass ${n('allowDuplicatesOnFallback')} to accept duplicates`,
    );
  }
  return { restoredCheckpointId, savepoint, checkpointIds, duplicates };
}

/**
 * What the first attempt of job `jobId` restores: `initial` (the checkpoint `--resume`
 * continues, or a savepoint; undefined: nothing), with the fallback past the completed
 * checkpoints `initial.fellBackPast`. Before anything is written: a fallback that would
 * duplicate output is refused here. @throws UsageError (a checkpoint taken by another job
 * plan than `fingerprint`'s), what `planAttemptRestore` and `planFallback` throw.
 */
export async function restoreAtStart(
  jobId: string,
  initial: RestoreSource | undefined,
  fingerprint: string,
  graph: JobGraph,
  options: ResolvedOptions,
): Promise<{ restore: RestorePlan | undefined; fallback: Fallback | undefined }> {
  if (initial?.shared === true && initial.meta.planFingerprint !== fingerprint) {
    const n = optionNamer(options.optionStyle);
    throw new UsageError(
      `Cannot resume from checkpoint ${initial.meta.checkpointId} in ${options.checkpointing!.dir}: it was taken by a different job plan (operators, uids, parallelism, slot sharing groups or chaining changed); ` +
        `take a savepoint of the old job and start from it (${n('fromSavepoint')}), or start without ${n('resume')}`,
    );
  }
  const restore = initial === undefined ? undefined : planAttemptRestore(initial, graph, options);
  const fallback = await planFallback(jobId, graph, options, initial?.meta.checkpointId, undefined, initial?.fellBackPast ?? []);
  if (initial?.shared === false) {
    const plan = restore!;
    options.onEvent({ type: 'restored-savepoint', path: initial.savepointPath!, checkpointId: plan.checkpointId, rescaled: plan.rescaled, dropped: plan.dropped });
  }
  return { restore, fallback };
}

/**
 * What the attempt after a failure of job `jobId` restores: the latest restorable
 * checkpoint of `storage`, else the savepoint the run started from (`savepoint`), else
 * nothing (the beginning); with its fallback. @throws what `planAttemptRestore` and
 * `planFallback` throw.
 */
export async function restoreAfterFailure(
  jobId: string,
  storage: CheckpointStorage | undefined,
  savepoint: RestoreSource | undefined,
  graph: JobGraph,
  options: ResolvedOptions,
): Promise<{ restore: RestorePlan | undefined; fallback: Fallback | undefined }> {
  const latest = storage === undefined ? undefined : await latestRestorable(storage, options);
  const from: RestoreSource | undefined =
    latest === undefined ? savepoint : { meta: latest, filesDir: storage!.sharedDir, shared: true, describe: `checkpoint ${latest.checkpointId}` };
  const restore = from === undefined ? undefined : planAttemptRestore(from, graph, options);
  // Completed checkpoints newer than the one restored are damaged: their output is
  // published (a savepoint's id, or -1 from the beginning, is below every id of the run).
  const past = storage === undefined ? [] : storage.completedCheckpointIds().filter((id) => id > (from?.meta.checkpointId ?? -1));
  const fallback = await planFallback(jobId, graph, options, latest?.checkpointId, latest === undefined ? savepoint?.savepointPath : undefined, past);
  return { restore, fallback };
}

/**
 * Before an attempt deploys: on a fallback, the sinks (and the collect sinks' records in
 * this process, `collected`) take back what was published after the restored point; then
 * the restored checkpoint's committables are committed. @throws a sink's error.
 */
export async function rollbackAndCommit(
  graph: JobGraph,
  options: ResolvedOptions,
  collected: CollectedRecords,
  restore: RestorePlan | undefined,
  fallback: Fallback | undefined,
): Promise<void> {
  if (fallback !== undefined) {
    await rollbackInMaster(graph, restore?.checkpointId, fallback.checkpointIds, restore?.sinkWriterStates ?? new Map());
    collected.rollBackTo(fallback.restoredCheckpointId);
    const { restoredCheckpointId, savepoint, checkpointIds, duplicates } = fallback;
    options.onEvent({ type: 'fell-back', restoredCheckpointId, checkpointIds, duplicates, ...(savepoint === undefined ? {} : { savepoint }) });
  }
  if (restore !== undefined) await commitInMaster(graph, restore.commits);
}

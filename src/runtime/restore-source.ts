/**
 * Where a run's state comes from (Flink's `CheckpointCoordinator.restoreLatestCheckpointedState`
 * and savepoint restore settings): the job `--resume` continues, the latest restorable
 * checkpoint of a job (its segment files verified on every core), or a savepoint folder.
 */
import { resolve as resolvePath } from 'node:path';
import { CheckpointStorage, CorruptCheckpointError, loadSavepoint, readJobStatus, savepointSegmentFiles, verifySegmentsInParallel } from '../checkpoint/index.js';
import type { CheckpointMetadata } from '../checkpoint/index.js';
import { UsageError } from '../errors.js';
import { optionNamer } from '../option-names.js';
import type { ResolvedOptions } from './options.js';
import type { RestoreSource } from './restore-plan.js';

/**
 * The job `--resume` continues: the one of the latest run in `checkpointDir` (newest
 * start, end or completed checkpoint: `CheckpointStorage.jobsToResume`), whether or not
 * a checkpoint of it completed. Undefined when there is none (a new job starts) or the
 * directory cannot be listed (`resolveOptions` or the storage then names the mistake).
 */
export function jobToResume(checkpointDir: string | undefined): string | undefined {
  if (typeof checkpointDir !== 'string' || checkpointDir === '') return undefined;
  try {
    return CheckpointStorage.jobsToResume(checkpointDir)[0];
  } catch {
    return undefined;
  }
}

/**
 * The state a new run starts from: the latest restorable checkpoint (`resume`) or a
 * savepoint (`fromSavepoint`), loaded and verified before the job module is, so that its
 * max parallelism can be adopted. With `resume` and no completed checkpoint (a new
 * checkpoint directory, or a run killed before its first checkpoint completed) the job
 * starts from the beginning under the same id: undefined, as a fresh run, whose two-phase
 * sinks discard what the killed run left uncommitted. @throws UsageError (a FINISHED job,
 * checkpoints that all fail verification, not a savepoint, a damaged savepoint).
 */
export async function initialRestore(jobId: string, existing: boolean, options: ResolvedOptions): Promise<RestoreSource | undefined> {
  const config = options.checkpointing;
  const n = optionNamer(options.optionStyle);
  if (options.resume && config !== undefined) {
    // Before anything is written: a finished job's output is complete, a resume would replay.
    const status = readJobStatus(config.dir, jobId);
    if (status?.state === 'FINISHED') {
      const restart = status.savepoint === undefined ? `start it again without ${n('resume')}` : `start a new job from its savepoint with ${n('fromSavepoint')} ${status.savepoint}`;
      throw new UsageError(`Nothing to resume: job ${jobId} in ${config.dir} has FINISHED (at ${new Date(status.endedAt).toISOString()}); ${restart}`);
    }
    const storage = CheckpointStorage.open(config.dir, jobId);
    const completed = storage.completedCheckpointIds();
    if (completed.length === 0) {
      // The killed run started from a savepoint: it starts from there again, as a restart does.
      if (status?.fromSavepoint !== undefined) return loadSavepointSource(status.fromSavepoint);
      options.onEvent({ type: 'resumed-from-beginning', jobId, checkpointDir: config.dir, existing });
      return undefined;
    }
    const meta = await latestRestorable(storage, options);
    // Its completed checkpoints are all damaged: not every sink can take back what they
    // committed, so starting over could duplicate output.
    if (meta === undefined) {
      throw new UsageError(
        `Cannot resume job ${jobId} in ${config.dir}: its completed checkpoints (${completed.join(', ')}) are all damaged; start it again without ${n('resume')} to run it from the beginning`,
      );
    }
    const fellBackPast = completed.filter((id) => id > meta.checkpointId);
    return { meta, filesDir: storage.sharedDir, shared: true, describe: `checkpoint ${meta.checkpointId} of job ${jobId}`, fellBackPast };
  }
  if (options.fromSavepoint !== undefined) return loadSavepointSource(options.fromSavepoint);
  return undefined;
}

/** The savepoint folder `path`, verified, as a restore source. @throws UsageError (not a savepoint, damaged). */
export async function loadSavepointSource(path: string): Promise<RestoreSource> {
  try {
    const verified = await verifySegmentsInParallel(savepointSegmentFiles(path));
    const { meta, filesDir } = loadSavepoint(path, { verified });
    const savepointPath = resolvePath(path);
    return { meta, filesDir, shared: false, describe: `savepoint ${savepointPath}`, savepointPath };
  } catch (error) {
    if (error instanceof CorruptCheckpointError) throw new UsageError(`${(error as Error).message}; restore another savepoint or a retained checkpoint`, { cause: error });
    throw error;
  }
}

/**
 * The newest checkpoint of `storage` that verifies (`CheckpointStorage.latestRestorable`),
 * its segments verified on every core first; older ones, tried only when it is damaged,
 * are verified on the main thread.
 */
export async function latestRestorable(storage: CheckpointStorage, options: ResolvedOptions): Promise<CheckpointMetadata | undefined> {
  const verified = await verifySegmentsInParallel(storage.newestSegmentFiles());
  const checked = CheckpointStorage.open(storage.checkpointDir, storage.jobId, { verified });
  return checked.latestRestorable((checkpointId, reason) => options.onEvent({ type: 'checkpoint-skipped', checkpointId, reason }));
}

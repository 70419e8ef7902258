/**
 * A run's setup: what every attempt of a job deploys, fixed for the life of the run
 * (`JobSetup`), and what the run holds while its attempts run: the control socket (a job
 * already running elsewhere is refused there), the job's info and status records in its
 * checkpoint folder, and the state folder. The job master (job-master.ts) opens it once,
 * before the first attempt, and closes it when the run ends.
 */
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { writeJobInfo, writeJobStatus } from '../checkpoint/index.js';
import type { CheckpointStorage, JobStatusRecord } from '../checkpoint/index.js';
import { UsageError } from '../errors.js';
import type { JobGraph } from '../graph/index.js';
import type { JobInfo } from '../api/index.js';
import { optionName } from '../option-names.js';
import { ControlServer, controlSocketPath } from './control-socket.js';
import type { ControlHandlers } from './control-socket.js';
import type { ResolvedOptions } from './options.js';
import type { RestoreSource } from './restore-plan.js';

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

/** An open run: its setup, and `close`, which ends the control socket and removes a temporary state folder. */
export interface OpenRun {
  setup: JobSetup;
  close(): Promise<void>;
}

/**
 * Opens the run of job `jobId`: the control socket first (with a checkpoint directory), so
 * that a job already running elsewhere is refused before any folder is made (nothing to
 * clean up then); then the job's info record and the state folder.
 * @throws what `ControlServer.listen` throws (a running twin), UsageError (the state
 *   directory cannot be created), a file system error writing the job's info.
 */
export async function openRun(jobId: string, setup: Omit<JobSetup, 'stateRoot'>, handlers: ControlHandlers): Promise<OpenRun> {
  const { options, storage, info } = setup;
  const config = options.checkpointing;
  const server = storage === undefined ? undefined : await ControlServer.listen(controlSocketPath(config!.dir, jobId), handlers);
  let stateRoot: { path: string; temporary: boolean } | undefined;
  try {
    // Before any checkpoint: a --resume after a crash at any moment finds the job's seed and start time.
    if (config !== undefined) writeJobInfo(config.dir, info);
    stateRoot = stateFolder(jobId, options);
  } catch (error) {
    await server?.close();
    throw error;
  }
  return {
    setup: { ...setup, stateRoot: stateRoot?.path },
    close: async () => {
      await server?.close();
      if (stateRoot?.temporary === true) rmSync(stateRoot.path, { recursive: true, force: true });
    },
  };
}

/** The lsm backend's (and heap snapshots') folder: `<stateDir>/<jobId>`, or a temporary one removed at the end. */
function stateFolder(jobId: string, options: ResolvedOptions): { path: string; temporary: boolean } | undefined {
  // The heap backend needs a folder only to write snapshots or to stage restored files.
  if (options.stateBackend !== 'lsm' && options.checkpointing === undefined && options.fromSavepoint === undefined) return undefined;
  if (options.stateDir === undefined) return { path: mkdtempSync(join(tmpdir(), `sluicegate-${jobId}-`)), temporary: true };
  const path = join(options.stateDir, jobId);
  try {
    mkdirSync(path, { recursive: true });
  } catch (error) {
    throw new UsageError(`State directory ${options.stateDir} cannot be created (${(error as NodeJS.ErrnoException).code}): choose another ${optionName('stateDir', options.optionStyle)}`);
  }
  return { path, temporary: false };
}

/** The savepoint this run started from, for the job's status: `--resume` starts there again while no checkpoint of the job completed. */
export function startedFrom(setup: JobSetup): { fromSavepoint?: string } {
  const path = setup.savepoint?.savepointPath;
  return path === undefined ? {} : { fromSavepoint: path };
}

/** Writes `record` as the status of job `jobId` in its checkpoint folder, if it has one (best effort: reported, never fatal). */
export function recordStatus(jobId: string, setup: JobSetup, record: JobStatusRecord): void {
  const { options } = setup;
  const config = options.checkpointing;
  if (config === undefined || setup.storage === undefined) return;
  try {
    writeJobStatus(config.dir, jobId, record);
  } catch (e) {
    options.onEvent({ type: 'job-status-unrecorded', state: record.state, reason: (e as Error).message });
  }
}

/**
 * A job's last known state, recorded durably in its checkpoint folder as
 * `<dir>/<jobId>/job-status`: one JSON object, written with `DurableFs.writeDurably`
 * (temp file, fsync, rename, fsync of the folder). Flink: the `JobStatus` a job is in
 * (RUNNING, then FINISHED, CANCELED or FAILED), kept by the job store.
 *
 * A run writes RUNNING when it starts and its terminal state when it ends, so a job killed
 * with `kill -9` stays RUNNING. `--resume` reads it twice: to choose the job folder to
 * continue (the one with the newest activity: start, end or completed checkpoint), and to
 * refuse a FINISHED job (its output is complete, and resuming it would replay records).
 *
 * Format (UTF-8 JSON, one line):
 * `{"state":"RUNNING","startedAt":<epoch ms>,"fromSavepoint"?:<path>}` or
 * `{"state":"FINISHED"|"CANCELED"|"FAILED","startedAt"?:<epoch ms>,"fromSavepoint"?:<path>,"endedAt":<epoch ms>,"savepoint"?:<path>,"reason"?:<text>}`.
 * `fromSavepoint` names the savepoint the run started from: `--resume` of a job without a
 * completed checkpoint starts from it again (as a restart within the run does).
 */
import path from 'node:path';
import { DurableFs } from './durable-fs.js';
import type { FsCalls } from './durable-fs.js';

export const jobStatusFileName = 'job-status';

/** How a job ended. Flink: `JobStatus`. */
export type TerminalJobState = 'FINISHED' | 'CANCELED' | 'FAILED';

/** A run of the job started and has not recorded an end (it runs, or it was killed). */
export interface RunningJobRecord {
  state: 'RUNNING';
  /** Epoch ms. */
  startedAt: number;
  /** The savepoint the run started from (`--from-savepoint`), absolute. */
  fromSavepoint?: string;
}

/** How the job's last run ended. */
export interface TerminalJobRecord {
  state: TerminalJobState;
  /** Epoch ms the run started (absent in records of older versions). */
  startedAt?: number;
  /** The savepoint the run started from (`--from-savepoint`), absolute. */
  fromSavepoint?: string;
  /** Epoch ms. */
  endedAt: number;
  /** The savepoint a stopped job ended with. */
  savepoint?: string;
  /** The failure's first line (FAILED). */
  reason?: string;
}

export type JobStatusRecord = RunningJobRecord | TerminalJobRecord;

const terminalStates: readonly string[] = ['FINISHED', 'CANCELED', 'FAILED'];

/** Writes the record durably into `<checkpointDir>/<jobId>/`, replacing the previous one. */
export function writeJobStatus(checkpointDir: string, jobId: string, record: JobStatusRecord, fs?: FsCalls): void {
  const dfs = new DurableFs(fs);
  const jobDir = path.join(checkpointDir, jobId);
  dfs.mkdirp(jobDir);
  dfs.writeDurably(jobDir, jobStatusFileName, Buffer.from(`${JSON.stringify(record)}\n`, 'utf8'));
}

/**
 * The recorded state of a job, or undefined when it has none (no run recorded one: a
 * folder of an older version, or one made by hand). A file that does not parse is
 * reported as undefined too: it cannot be a completed write (those are atomic).
 */
export function readJobStatus(checkpointDir: string, jobId: string, fs?: FsCalls): JobStatusRecord | undefined {
  const dfs = new DurableFs(fs);
  const file = path.join(checkpointDir, jobId, jobStatusFileName);
  if (dfs.sizeOf(file) === undefined) return undefined;
  let record: Partial<Record<keyof TerminalJobRecord, unknown>> | null;
  try {
    record = JSON.parse(Buffer.from(dfs.read(file)).toString('utf8')) as typeof record;
  } catch {
    return undefined;
  }
  if (record === null || typeof record !== 'object') return undefined;
  if (record.fromSavepoint !== undefined && typeof record.fromSavepoint !== 'string') return undefined;
  if (record.state === 'RUNNING') return Number.isFinite(record.startedAt) ? (record as RunningJobRecord) : undefined;
  return terminalStates.includes(record.state as string) && Number.isFinite(record.endedAt) ? (record as TerminalJobRecord) : undefined;
}

/** The newest time the record names (start or end), epoch ms; -Infinity without a record. */
export function lastRecordedAt(record: JobStatusRecord | undefined): number {
  if (record === undefined) return -Infinity;
  return record.state === 'RUNNING' ? record.startedAt : Math.max(record.endedAt, record.startedAt ?? -Infinity);
}

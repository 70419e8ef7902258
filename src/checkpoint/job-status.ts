/**
 * A job's terminal state, recorded durably in its checkpoint folder as
 * `<dir>/<jobId>/job-status`: one JSON object, written with `DurableFs.writeDurably`
 * (temp file, fsync, rename, fsync of the folder). Flink: the `JobStatus` a job ends in
 * (FINISHED, CANCELED, FAILED), kept by the job store. `--resume` reads it: a FINISHED job
 * has nothing to resume (its output is complete), and resuming it would replay records.
 *
 * Format (UTF-8 JSON, one line): `{"state":"FINISHED","endedAt":<epoch ms>,"savepoint"?:<path>,"reason"?:<text>}`.
 */
import path from 'node:path';
import { DurableFs } from './durable-fs.js';
import type { FsCalls } from './durable-fs.js';

export const jobStatusFileName = 'job-status';

/** How a job ended. Flink: `JobStatus`. */
export type TerminalJobState = 'FINISHED' | 'CANCELED' | 'FAILED';

export interface JobStatusRecord {
  state: TerminalJobState;
  /** Epoch ms. */
  endedAt: number;
  /** The savepoint a stopped job ended with. */
  savepoint?: string;
  /** The failure's first line (FAILED). */
  reason?: string;
}

const states: readonly string[] = ['FINISHED', 'CANCELED', 'FAILED'];

/** Writes the record durably into `<checkpointDir>/<jobId>/`. */
export function writeJobStatus(checkpointDir: string, jobId: string, record: JobStatusRecord, fs?: FsCalls): void {
  const dfs = new DurableFs(fs);
  const jobDir = path.join(checkpointDir, jobId);
  dfs.mkdirp(jobDir);
  dfs.writeDurably(jobDir, jobStatusFileName, Buffer.from(`${JSON.stringify(record)}\n`, 'utf8'));
}

/**
 * The recorded terminal state of a job, or undefined while it has none (running, or
 * killed). A file that does not parse is reported as undefined too: it cannot be a
 * completed write (those are atomic), so the job did not reach a terminal state.
 */
export function readJobStatus(checkpointDir: string, jobId: string, fs?: FsCalls): JobStatusRecord | undefined {
  const dfs = new DurableFs(fs);
  const file = path.join(checkpointDir, jobId, jobStatusFileName);
  if (dfs.sizeOf(file) === undefined) return undefined;
  try {
    const record = JSON.parse(Buffer.from(dfs.read(file)).toString('utf8')) as JobStatusRecord;
    return states.includes(record?.state) && Number.isFinite(record.endedAt) ? record : undefined;
  } catch {
    return undefined;
  }
}

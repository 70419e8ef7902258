/**
 * A job's identity, recorded durably in its checkpoint folder as `<dir>/<jobId>/job-info`
 * when the job first starts, so that a `--resume` in a new process sees the same seed and
 * start time as the first run (and its subtasks the same as every subtask before). One
 * JSON object, written with `DurableFs.writeDurably` (temp file, fsync, rename, fsync of
 * the folder), never rewritten. Flink keeps a job's `ExecutionConfig` with its `JobGraph`
 * in the job graph store for the same reason.
 *
 * Format (UTF-8 JSON, one line): `{"jobId":<uuid>,"startTime":<epoch ms>,"seed":<0..2^32-1>}`.
 */
import path from 'node:path';
import type { JobInfo } from '../api/index.js';
import { DurableFs } from './durable-fs.js';
import type { FsCalls } from './durable-fs.js';
import { UsageError } from '../errors.js';

export const jobInfoFileName = 'job-info';

/** Writes `info` durably into `<checkpointDir>/<info.jobId>/` unless the file is there already. */
export function writeJobInfo(checkpointDir: string, info: JobInfo, fs?: FsCalls): void {
  const dfs = new DurableFs(fs);
  const jobDir = path.join(checkpointDir, info.jobId);
  if (dfs.sizeOf(path.join(jobDir, jobInfoFileName)) !== undefined) return;
  dfs.mkdirp(jobDir);
  const record: JobInfo = { jobId: info.jobId, startTime: info.startTime, seed: info.seed };
  dfs.writeDurably(jobDir, jobInfoFileName, Buffer.from(`${JSON.stringify(record)}\n`, 'utf8'));
}

/**
 * The recorded identity of job `jobId`, or undefined when it has none (a job folder from
 * before job info was recorded). @throws UsageError naming the file when it does not parse
 * or holds another job's id (writes are atomic, so only damage does that).
 */
export function readJobInfo(checkpointDir: string, jobId: string, fs?: FsCalls): JobInfo | undefined {
  const dfs = new DurableFs(fs);
  const file = path.join(checkpointDir, jobId, jobInfoFileName);
  if (dfs.sizeOf(file) === undefined) return undefined;
  let record: Partial<JobInfo> | null;
  try {
    record = JSON.parse(Buffer.from(dfs.read(file)).toString('utf8')) as Partial<JobInfo> | null;
  } catch (error) {
    throw damaged(file, (error as Error).message);
  }
  const { startTime, seed } = record ?? {};
  if (record?.jobId !== jobId || !Number.isSafeInteger(startTime) || !Number.isInteger(seed) || seed! < 0 || seed! > 0xffff_ffff) {
    throw damaged(file, `expected {"jobId":"${jobId}","startTime":<ms>,"seed":<0..2^32-1>}`);
  }
  return { jobId, startTime: startTime!, seed: seed! };
}

function damaged(file: string, reason: string): UsageError {
  return new UsageError(`Cannot resume: ${file} is damaged (${reason}); the job's seed and start time are lost, start it again without --resume`);
}

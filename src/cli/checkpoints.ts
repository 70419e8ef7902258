/** `sluice checkpoints <dir>`: the retained checkpoints of every job under a checkpoint directory. */
import { describeCheckpointDir } from '../checkpoint/index.js';
import type { JobCheckpoints } from '../checkpoint/index.js';

function bytes(n: number): string {
  if (n >= 2 ** 30) return `${(n / 2 ** 30).toFixed(2)} GiB`;
  if (n >= 2 ** 20) return `${(n / 2 ** 20).toFixed(1)} MiB`;
  if (n >= 2 ** 10) return `${(n / 2 ** 10).toFixed(1)} KiB`;
  return `${n} B`;
}

function table(rows: string[][]): string {
  const widths = rows[0]!.map((_, c) => Math.max(...rows.map((r) => r[c]!.length)));
  return rows.map((r) => r.map((cell, c) => (c === 0 ? cell.padEnd(widths[c]!) : cell.padStart(widths[c]!))).join('  ')).join('\n');
}

/** Parallelism by operator uid as `uid=p,...`, or one number when all agree. */
function parallelism(byUid: Record<string, number>): string {
  const values = [...new Set(Object.values(byUid))];
  return values.length === 1 ? String(values[0]) : Object.entries(byUid).map(([uid, p]) => `${uid}=${p}`).join(',');
}

/** What an invalid row is: `checkpoint 7`, `savepoint of checkpoint 7`, or `savepoint` (id unknown). */
function unusable(job: JobCheckpoints, checkpointId: number): string {
  if (job.savepoint === undefined) return `checkpoint ${checkpointId}`;
  return checkpointId >= 0 ? `savepoint of checkpoint ${checkpointId}` : 'savepoint';
}

/**
 * The text of `sluice checkpoints`: per job a table of its retained checkpoints, then one
 * block per savepoint (under the listed directory, or recorded by a job there), each
 * followed by the unusable ones and why.
 */
export function formatCheckpoints(jobs: readonly JobCheckpoints[]): string {
  if (jobs.length === 0) return 'No checkpoints.';
  const out: string[] = [];
  for (const job of jobs) {
    out.push(job.savepoint === undefined ? `Job ${job.jobId}` : `Savepoint ${job.savepoint} (job ${job.jobId})`);
    const rows = [['id', 'kind', 'completed', 'duration', 'sync', 'async', 'alignment', 'full size', 'incremental', 'parallelism']];
    for (const c of job.checkpoints) {
      const s = c.stats;
      rows.push([
        String(c.checkpointId),
        c.kind,
        new Date(c.completedAt).toISOString(),
        `${s.durationMs.toFixed(0)} ms`,
        `${s.syncMs.toFixed(1)} ms`,
        `${s.asyncMs.toFixed(0)} ms`,
        `${s.alignmentMs.toFixed(0)} ms`,
        bytes(s.fullSizeBytes),
        bytes(s.bytesWritten),
        parallelism(c.parallelism),
      ]);
    }
    if (job.checkpoints.length > 0) out.push(table(rows));
    for (const bad of job.invalid) out.push(`  ${unusable(job, bad.checkpointId)} is unusable: ${bad.reason}`);
  }
  return out.join('\n');
}

export function checkpointsJson(dir: string): JobCheckpoints[] {
  return describeCheckpointDir(dir);
}

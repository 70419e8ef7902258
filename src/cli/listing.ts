/** `sluice list`'s table: one row per running job, as `flink list` prints them. */
import type { JobListing } from '../runtime/index.js';

export function formatListing(jobs: readonly JobListing[], dir: string): string {
  if (jobs.length === 0) return `No running jobs in ${dir}`;
  const rows = [['job id', 'name', 'state', 'start time', 'parallelism', 'dashboard']];
  for (const j of jobs) rows.push([j.jobId, j.name, j.state, j.startTime === 0 ? '-' : new Date(j.startTime).toISOString(), String(j.parallelism), j.webUrl ?? '-']);
  const widths = rows[0]!.map((_, c) => Math.max(...rows.map((r) => r[c]!.length)));
  return rows.map((r) => r.map((cell, c) => cell.padEnd(widths[c]!)).join('  ').trimEnd()).join('\n');
}

/** The end-of-job summary of `sluice run`: a table per operator, or JSON with `--json`. */
import type { JobResult } from '../runtime/index.js';
import { operatorTotals } from '../metrics/rates.js';
import { formatRate } from './progress.js';
import type { LatencySummary } from '../metrics/index.js';

export interface JobSummary {
  jobId: string;
  status: string;
  wallTimeMs: number;
  /** `latency`: with latency tracking, the operator's marker latency, ms (metrics/latency.ts). */
  operators: Array<{ uid: string; name: string; parallelism: number; recordsIn: number; recordsOut: number; recordsPerSecond: number; latency?: LatencySummary }>;
  subtasks: JobResult['subtasks'];
  restarts: number;
  checkpoints: JobResult['checkpoints'];
  /** The savepoint folder the job was stopped with (`sluice stop`, SIGTERM with --savepoint-dir). */
  savepoint?: string;
}

/**
 * The seconds operator `uid` was active: from the first record of its vertex's subtasks
 * to their latest, so start-up (loading modules, deploying) and a finished tail do not
 * dilute its rate. The wall time when no record was seen.
 */
function activeSeconds(result: JobResult, uid: string): number {
  const subtasks = result.subtasks.filter((s) => s.operators.some((o) => o.uid === uid));
  const since = Math.min(...subtasks.map((s) => s.activeSince ?? Infinity));
  const until = Math.max(...subtasks.map((s) => s.activeUntil ?? -Infinity));
  const ms = Number.isFinite(since) && Number.isFinite(until) && until > since ? until - since : result.wallTimeMs;
  return Math.max(1e-3, ms / 1000);
}

/** Throughput of an operator: the larger of its records in and out (every attempt) over its active time. */
export function summarize(result: JobResult): JobSummary {
  return {
    jobId: result.jobId,
    status: result.status,
    wallTimeMs: Math.round(result.wallTimeMs),
    operators: result.operators.map((o) => {
      const totals = operatorTotals(o);
      return { ...o, recordsPerSecond: Math.round(Math.max(totals.recordsIn, totals.recordsOut) / activeSeconds(result, o.uid)) };
    }),
    subtasks: result.subtasks.map((s) => ({ ...s, backpressuredMs: Math.round(s.backpressuredMs), idleMs: Math.round(s.idleMs) })),
    restarts: result.restarts,
    checkpoints: result.checkpoints,
    ...(result.savepoint === undefined ? {} : { savepoint: result.savepoint }),
  };
}

export function formatSummary(summary: JobSummary): string {
  const rows = [['operator', 'parallelism', 'records in', 'records out', 'records/s']];
  for (const o of summary.operators) {
    rows.push([o.name, String(o.parallelism), String(o.recordsIn), String(o.recordsOut), formatRate(o.recordsPerSecond)]);
  }
  const widths = rows[0]!.map((_, c) => Math.max(...rows.map((r) => r[c]!.length)));
  const lines = rows.map((r) => r.map((cell, c) => (c === 0 ? cell.padEnd(widths[c]!) : cell.padStart(widths[c]!))).join('  '));
  const tail: string[] = [];
  const last = summary.checkpoints[summary.checkpoints.length - 1];
  if (last !== undefined) {
    const kib = (n: number): string => `${(n / 1024).toFixed(0)} KiB`;
    tail.push(
      `Checkpoints: ${summary.checkpoints.length} completed; the last, ${last.checkpointId}: ${last.durationMs.toFixed(0)} ms (sync ${last.syncMs.toFixed(1)} ms, async ${last.asyncMs.toFixed(0)} ms, alignment ${last.alignmentMs.toFixed(0)} ms), ${kib(last.bytesWritten)} written of ${kib(last.fullSizeBytes)} state`,
    );
  }
  tail.push(...formatLatency(summary.operators));
  if (summary.restarts > 0) tail.push(`Restarts: ${summary.restarts}`);
  if (summary.savepoint !== undefined) tail.push(`Stopped with savepoint ${summary.savepoint}`);
  return [`Job ${summary.jobId} ${summary.status} in ${(summary.wallTimeMs / 1000).toFixed(2)} s`, ...lines, ...tail].join('\n');
}

/** One line per operator that recorded latency markers: `Latency of "sink": p50 1.2 ms, ...`. */
function formatLatency(operators: JobSummary['operators']): string[] {
  const lines: string[] = [];
  for (const o of operators) {
    const l = o.latency;
    if (l === undefined) continue;
    const ms = (v: number): string => `${v.toFixed(v < 10 ? 2 : 0)} ms`;
    lines.push(`Latency of "${o.name}": p50 ${ms(l.p50)}, p95 ${ms(l.p95)}, p99 ${ms(l.p99)}, p99.9 ${ms(l.p999)}, max ${ms(l.max)} (${l.count} markers)`);
  }
  return lines;
}

/**
 * Small helpers for benchmark reports: summaries as `median [min-max]`, byte and rate
 * formats, Markdown tables, timed `runJob` calls with the process's CPU time, and a
 * seeded generator for workloads.
 * Used by bench/checkpoint.bench.ts; engine.bench.ts still has its own copies of most.
 */
import assert from 'node:assert/strict';
import { loadavg } from 'node:os';
import { performance } from 'node:perf_hooks';
import { startWorkersWithFullYoungGeneration } from '../src/index.js';
import type { JobHandle, JobResult } from '../src/index.js';

// Jobs run here as `sluice run` runs them: worker threads start with their full young
// generation (runtime/worker-young-generation.ts). The main thread's heap, where the plain
// loops run, is set up already and does not change.
startWorkersWithFullYoungGeneration();

/** xorshift32 in [0, 1), so every run and store sees the same workload from a seed. */
export function xorshift32(seed: number): () => number {
  let x = seed >>> 0 || 1;
  return () => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return (x >>> 0) / 4294967296;
  };
}

/** Median, minimum and maximum of some numbers. */
export interface Summary {
  median: number;
  min: number;
  max: number;
}

/** REQUIRES: at least one value. */
export function summarize(values: readonly number[]): Summary {
  assert.ok(values.length > 0, 'summarize() needs at least one value');
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  const median = sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
  return { median, min: sorted[0]!, max: sorted[sorted.length - 1]! };
}

/** `median [min-max]`, each through `format`. */
export function formatSummary(values: readonly number[], format: (n: number) => string): string {
  if (values.length === 0) return '-';
  const s = summarize(values);
  return `${format(s.median)} [${format(s.min)}-${format(s.max)}]`;
}

/** A formatter with a fixed number of decimals. */
export const fixed =
  (digits: number) =>
  (n: number): string =>
    n.toFixed(digits);

export function formatBytes(bytes: number): string {
  if (bytes >= 2 ** 20) return `${(bytes / 2 ** 20).toFixed(1)} MiB`;
  if (bytes >= 2 ** 10) return `${(bytes / 2 ** 10).toFixed(1)} KiB`;
  return `${bytes} B`;
}

/** Records per second, as `k/s` or `M/s`. */
export function formatRate(recordsPerS: number): string {
  return recordsPerS >= 1e6 ? `${(recordsPerS / 1e6).toFixed(2)} M/s` : `${(recordsPerS / 1e3).toFixed(1)} k/s`;
}

/** Prints a Markdown table with padded columns, after a blank line and its title. */
export function printTable(title: string, header: readonly string[], rows: readonly (readonly string[])[]): void {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: readonly string[]): string => `| ${cells.map((c, i) => c.padEnd(widths[i]!)).join(' | ')} |`;
  console.log(`\n${title}\n`);
  console.log(line(header));
  console.log(`|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`);
  for (const r of rows) console.log(line(r));
}

/** The 1, 5 and 15 minute load averages, e.g. `7.9 7.9 5.9`. */
export function loadAverage(): string {
  return loadavg()
    .map((l) => l.toFixed(1))
    .join(' ');
}

/** Wall time, ms, and CPU time of the whole process (user + system, every thread), ms. */
export interface Timing {
  wallMs: number;
  cpuMs: number;
}

/** Runs `work` and measures it (CPU time includes every worker thread of the process). */
export async function timed<T>(work: () => Promise<T>): Promise<Timing & { value: T }> {
  const cpuStart = process.cpuUsage();
  const start = performance.now();
  const value = await work();
  const wallMs = performance.now() - start;
  const cpu = process.cpuUsage(cpuStart);
  return { wallMs, cpuMs: (cpu.user + cpu.system) / 1000, value };
}

/**
 * `timed` for one job run (`start` starts it): wall time from the call to its result; CPU
 * until its worker threads have exited (`JobHandle.closed`, which the result does not wait
 * for), so that their teardown counts in the job's CPU and never runs into the next sample.
 * @throws what the job's result rejects with
 */
export async function timedJobRun(start: () => JobHandle): Promise<Timing & { value: JobResult }> {
  const cpuStart = process.cpuUsage();
  const begin = performance.now();
  const handle = start();
  const value = await handle.result;
  const wallMs = performance.now() - begin;
  await handle.closed;
  const cpu = process.cpuUsage(cpuStart);
  return { wallMs, cpuMs: (cpu.user + cpu.system) / 1000, value };
}

/** A named way to take one sample (e.g. one timed job run). */
export interface RoundVariant<S> {
  name: string;
  run: () => Promise<S>;
}

/**
 * Runs the `warmUp` variants once unmeasured, then `repetitions` rounds of every variant,
 * each round in an order rotated by one (so no variant always runs first, on a cold cache,
 * or right after the same neighbour). Progress goes to stdout on one line. Returns the
 * samples by variant name, in round order: index r of every list is round r, so ratios
 * can be taken within a round.
 */
export async function runRounds<S>(variants: readonly RoundVariant<S>[], repetitions: number, warmUp: readonly RoundVariant<S>[]): Promise<Map<string, S[]>> {
  assert.ok(variants.length > 0 && Number.isInteger(repetitions) && repetitions > 0, 'runRounds() needs variants and a positive round count');
  const samples = new Map<string, S[]>(variants.map((v) => [v.name, []]));
  assert.equal(samples.size, variants.length, 'variant names must differ');
  if (warmUp.length > 0) {
    process.stdout.write(`  warm-up (${warmUp.map((v) => v.name).join(', ')}) |`);
    for (const v of warmUp) await v.run();
  }
  for (let round = 0; round < repetitions; round++) {
    process.stdout.write(` round ${round + 1}/${repetitions}`);
    for (const [k] of variants.entries()) {
      const v = variants[(round + k) % variants.length]!;
      samples.get(v.name)!.push(await v.run());
    }
  }
  process.stdout.write('\n');
  return samples;
}

/** Rounds from SLUICEGATE_BENCH_REPS (1..100), or `fallback`. @throws RangeError for a bad value. */
export function repetitionsFromEnv(fallback: number): number {
  const text = process.env['SLUICEGATE_BENCH_REPS'];
  if (text === undefined || text === '') return fallback;
  const n = Number(text);
  if (!Number.isInteger(n) || n < 1 || n > 100) {
    throw new RangeError(`SLUICEGATE_BENCH_REPS must be an integer from 1 to 100, got ${JSON.stringify(text)}`);
  }
  return n;
}

/**
 * Runs `work` with SLUICEGATE_BATCH_CODEC=cbor-x (every batch written with cbor-x, as
 * before the flat encoding) or without it (the flat encoding where it applies), then
 * restores the variable. Worker threads copy the environment when they start, and a job's
 * threads start inside `runJob`, so a job run inside `work` uses the codec chosen here.
 */
export async function withBatchCodec<T>(codec: 'flat' | 'cbor-x', work: () => Promise<T>): Promise<T> {
  const before = process.env['SLUICEGATE_BATCH_CODEC'];
  if (codec === 'cbor-x') process.env['SLUICEGATE_BATCH_CODEC'] = 'cbor-x';
  else delete process.env['SLUICEGATE_BATCH_CODEC'];
  try {
    return await work();
  } finally {
    if (before === undefined) delete process.env['SLUICEGATE_BATCH_CODEC'];
    else process.env['SLUICEGATE_BATCH_CODEC'] = before;
  }
}

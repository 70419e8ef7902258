/**
 * Latency tracking benchmark: what latency markers every 200 ms cost a keyed job's
 * throughput (issue 12's goal: at most 3 % slower than without), and the latency they
 * measure.
 *
 * The job is bench/time.bench.ts's plain variant (bench/jobs/event-time.ts `--mode plain`):
 * `fromGenerator` of `recordCount` records `{ k, t }` at parallelism 2, keyBy(k) to a
 * rolling count in heap ValueState, then a sink that drops everything. Two variants, the
 * same input: `latencyTrackingIntervalMs` 0 (off), 200, and 1 (an upper bound of the 200 ms
 * variant's cost: the same code with 200 times the markers).
 *
 * Method (as time.bench.ts; the machine is small and shared, so only ratios measured side
 * by side mean much): one unmeasured warm-up run of each variant, then `repetitions`
 * rounds, each running both in an order rotated from round to round; ratios are taken
 * within a round, then summarized as median [min-max]. A measurement, never a test:
 * nothing asserts on speed, only on the work done (every record reaches the sink; the
 * tracked runs hold latency histograms, the others none).
 *
 *   node dist/bench/latency.bench.js       (SLUICEGATE_BENCH_REPS=n to change rounds)
 */
import assert from 'node:assert/strict';
import { availableParallelism, cpus } from 'node:os';
import { performance } from 'node:perf_hooks';
import { pathToFileURL } from 'node:url';
import { runJob } from '../src/index.js';
import type { JobResult } from '../src/index.js';
import { fixed, formatRate, formatSummary, loadAverage, printTable, repetitionsFromEnv, runRounds, summarize, timedJobRun } from './report.js';
import type { RoundVariant, Timing } from './report.js';

/**
 * Rounds (5 take about 2 minutes on 2 cores at load 15); records per run (2M run 1.5-10
 * s a variant, 8-50 marker intervals); distinct keys; parallelism of source and count;
 * the marker interval, ms.
 */
const setup = { repetitionsDefault: 5, recordCount: 2_000_000, keys: 10_000, parallelism: 2, intervalMs: 200 } as const;
const { recordCount, keys, parallelism, intervalMs } = setup;
const jobModule = new URL('./jobs/event-time.js', import.meta.url);

/** One timed run and its result. */
type Sample = Timing & { job: JobResult };

const off = 'latency tracking off';
const on = `markers every ${intervalMs} ms`;
/**
 * Markers every 1 ms: 200 times the issue's rate. Its cost bounds the 200 ms variant's from
 * above (the per-turn due check is the same; only the markers' number grows), with a
 * signal that stands out of the machine's noise.
 */
const stressIntervalMs = 1;
const stress = `markers every ${stressIntervalMs} ms (bound)`;

function variant(name: string, latencyTrackingIntervalMs: number): RoundVariant<Sample> {
  const args = ['--mode', 'plain', '--count', String(recordCount), '--keys', String(keys), '--sources', String(parallelism)];
  return {
    name,
    run: async () => {
      const { value, ...timing } = await timedJobRun(() => runJob(jobModule, { parallelism, stateBackend: 'hashmap', latencyTrackingIntervalMs, args }));
      return { ...timing, job: value };
    },
  };
}

function sink(job: JobResult): JobResult['operators'][number] {
  const op = job.operators.find((o) => o.name === 'Discard');
  assert.ok(op !== undefined, 'the benchmark job has no "Discard" operator');
  return op;
}

export async function main(): Promise<void> {
  const repetitions = repetitionsFromEnv(setup.repetitionsDefault);
  const cpu = cpus()[0]?.model ?? 'unknown CPU';
  console.log(`# Latency tracking benchmark (node ${process.version}, ${availableParallelism()} cores, ${cpu}; load average ${loadAverage()})`);
  console.log(`\n${recordCount} records, ${keys} keys, parallelism ${parallelism}, heap state, ${repetitions} rounds`);
  const started = performance.now();
  const variants = [variant(off, 0), variant(on, intervalMs), variant(stress, stressIntervalMs)];
  const samples = await runRounds(variants, repetitions, variants);
  const base = samples.get(off)!;
  const rows = [off, on, stress].map((name) => {
    const list = samples.get(name)!;
    for (const s of list) {
      assert.equal(sink(s.job).recordsIn, recordCount, `${name}: the sink got ${sink(s.job).recordsIn} records`);
      if (name === off) assert.equal(s.job.operators.filter((o) => o.latency !== undefined).length, 0, 'latency without tracking');
      else assert.ok((sink(s.job).latency?.count ?? 0) > 0, `${name}: the sink recorded no marker`);
    }
    const wall = list.map((s) => s.wallMs);
    const ratio = (field: keyof Timing): string => (name === off ? '1' : formatSummary(list.map((s, i) => s[field] / base[i]![field]), fixed(3)));
    const latency = list.map((s) => sink(s.job).latency);
    const percentile = (key: 'p50' | 'p99'): string => (name === off ? '' : formatSummary(latency.map((l) => l![key]), fixed(2)));
    return [
      name,
      formatSummary(wall, fixed(0)),
      formatSummary(list.map((s) => s.cpuMs), fixed(0)),
      formatRate(recordCount / (summarize(wall).median / 1000)),
      ratio('wallMs'),
      ratio('cpuMs'),
      name === off ? '' : String(summarize(latency.map((l) => l!.count)).median),
      percentile('p50'),
      percentile('p99'),
    ];
  });
  printTable(
    `Keyed rolling count, ${recordCount} records (ratios per round, then median [min-max]; records/s from the median wall time; latency at the sink, ms)`,
    ['variant', 'wall ms', 'CPU ms', 'records/s', 'wall / off', 'CPU / off', 'markers', 'p50 ms', 'p99 ms'],
    rows,
  );
  const seconds = ((performance.now() - started) / 1000).toFixed(0);
  console.log(`\nLatency tracking benchmark took ${seconds} s (load average at the end ${loadAverage()})`);
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main().catch((error: unknown) => {
    console.error(error);
    process.exitCode = 1;
  });
}

/**
 * Nexmark q1 event-to-output latency through a keyed shuffle (src/benchmark/nexmark/latency.ts)
 * at half of its maximum throughput, parallelism 2 (a source and a q1 subtask per core):
 *
 *   1. the maximum: an unlimited run of `maxEvents` events, events / wall time (start-up
 *      included, so the maximum is underestimated and "half" is a little below half);
 *   2. a run at half that rate (the source's rate limiter) for `measureSeconds`: each
 *      sink subtask's HDR histogram (after 1 s of warm-up) is merged; p50, p99, p99.9, max.
 *
 * One run, not rounds: the machine is shared, so read the figures with the load printed.
 *
 *   node dist/bench/nexmark-latency.bench.js   (SLUICEGATE_LATENCY_RATE=<events/s> skips step 1 and uses that
 *   rate; SLUICEGATE_BUFFER_TIMEOUT=<ms> sets the buffer timeout, default the engine's 5 ms)
 */
import { pathToFileURL } from 'node:url';
import { performance } from 'node:perf_hooks';
import { runJob } from '../src/index.js';
import { collectLatencyReports, mergeLatencyReports } from '../src/benchmark/nexmark/latency.js';
import type { LatencyReport } from '../src/benchmark/nexmark/latency.js';
import { formatRate, loadAverage, printTable } from './report.js';

const parallelism = 2;
const maxEvents = 3_000_000;
const measureSeconds = 12;
/** Longest wait for the sinks' reports once a job ended, ms. */
const reportTimeoutMs = 10_000;
const jobModule = new URL('../src/benchmark/nexmark/job.js', import.meta.url);

/** Runs the latency job; resolves with its wall time and the sinks' reports. */
async function run(events: number, rate: number | undefined, name: string): Promise<{ wallMs: number; reports: LatencyReport[] }> {
  const collector = collectLatencyReports(name, parallelism);
  const args = ['--query', 'q1', '--events', String(events), '--latency', name, '--seed', '1', ...(rate === undefined ? [] : ['--rate', String(rate)])];
  const start = performance.now();
  const timeout = process.env['SLUICEGATE_BUFFER_TIMEOUT'];
  const handle = runJob(jobModule, { args, parallelism, stateBackend: 'hashmap', ...(timeout === undefined ? {} : { bufferTimeoutMs: Number(timeout) }) });
  await handle.result;
  await handle.closed;
  const wallMs = performance.now() - start;
  await collector.settled(reportTimeoutMs);
  collector.close();
  const reports = collector.reports;
  if (reports.length !== parallelism) throw new Error(`${reports.length} of ${parallelism} latency sinks reported`);
  return { wallMs, reports };
}

export async function main(): Promise<void> {
  console.log(`Nexmark q1 latency through keyBy(auction), parallelism ${parallelism}; load ${loadAverage()}`);
  const fixedRate = process.env['SLUICEGATE_LATENCY_RATE'];
  let maxRate = NaN;
  if (fixedRate === undefined) {
    const max = await run(maxEvents, undefined, `nexmark-latency-max-${process.pid}`);
    maxRate = maxEvents / (max.wallMs / 1000);
  } else if (!(Number(fixedRate) >= 1)) {
    throw new RangeError(`SLUICEGATE_LATENCY_RATE must be a number of events/s >= 1, got "${fixedRate}"`);
  }
  const rate = fixedRate === undefined ? Math.floor(maxRate / 2) : Math.floor(Number(fixedRate));
  const measured = await run(rate * measureSeconds, rate, `nexmark-latency-half-${process.pid}`);
  const { histogram, count } = mergeLatencyReports(measured.reports);
  if (histogram === undefined) throw new Error('no latency recorded (the run was shorter than the warm-up)');
  const ms = (percentile: number): string => (histogram.getValueAtPercentile(percentile) / 1000).toFixed(2);
  printTable(
    'Event-to-output latency, ms (HDR histogram, after 1 s of warm-up per sink subtask)',
    ['max events/s (unlimited run)', 'rate (half)', 'records', 'recorded', 'p50', 'p99', 'p99.9', 'max'],
    [[Number.isNaN(maxRate) ? '-' : formatRate(maxRate), formatRate(rate), String(count), String(histogram.totalCount), ms(50), ms(99), ms(99.9), (histogram.maxValue / 1000).toFixed(2)]],
  );
  console.log(`load after: ${loadAverage()}`);
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main().catch((error: unknown) => {
    console.error(error);
    process.exitCode = 1;
  });
}

/**
 * Runs one Nexmark query in the engine and measures it, as the Nexmark benchmark reports
 * (nexmark/nexmark `GUIDE_V1.md`: events, time, cores, throughput per core): events/s over
 * the job's wall time, and events/s per core used = events / CPU seconds of the whole
 * process. `process.cpuUsage()` is the process's (getrusage RUSAGE_SELF): every thread,
 * the main thread's job master and every subtask's worker thread alike. Wall and CPU time
 * include the job's start-up (about 0.2-0.4 s of wall time here); CPU time also the exit
 * of its worker threads, which the result does not wait for (`JobHandle.closed`).
 */
import { performance } from 'node:perf_hooks';
import { startJob } from '../../runtime/index.js';
import type { JobResult } from '../../runtime/index.js';
import type { QueryName } from './queries.js';

export interface NexmarkBenchOptions {
  query: QueryName;
  /** Events to generate over all subtasks. */
  events: number;
  parallelism: number;
  /** Wall-clock limit, events/s over all subtasks; none by default. */
  rate?: number;
  seed?: number;
}

export interface NexmarkBenchResult {
  query: QueryName;
  events: number;
  parallelism: number;
  /** Records the query emitted (into the discarding sink). */
  outputRecords: number;
  wallTimeMs: number;
  /** CPU time of the process over the run, ms (user + system, every thread). */
  cpuTimeMs: number;
  eventsPerSecond: number;
  /** CPU time / wall time: the cores the run kept busy on average. */
  coresUsed: number;
  eventsPerSecondPerCore: number;
}

const jobModule = new URL('./job.js', import.meta.url);

/** Runs `options.query` to its end; rejects as the job does (a failed subtask, a bad option). */
export async function runNexmarkBench(options: NexmarkBenchOptions): Promise<NexmarkBenchResult> {
  const args = ['--query', options.query, '--events', String(options.events)];
  if (options.rate !== undefined) args.push('--rate', String(options.rate));
  if (options.seed !== undefined) args.push('--seed', String(options.seed));
  const cpuStart = process.cpuUsage();
  const start = performance.now();
  const handle = startJob(jobModule, { args, parallelism: options.parallelism, stateBackend: 'hashmap' }, 'cli');
  const result: JobResult = await handle.result;
  const wallTimeMs = performance.now() - start;
  await handle.closed;
  const cpu = process.cpuUsage(cpuStart);
  const cpuTimeMs = (cpu.user + cpu.system) / 1000;
  const sink = result.operators.find((o) => o.name === 'Blackhole');
  return {
    query: options.query,
    events: options.events,
    parallelism: options.parallelism,
    outputRecords: sink?.recordsIn ?? 0,
    wallTimeMs,
    cpuTimeMs,
    eventsPerSecond: options.events / (wallTimeMs / 1000),
    coresUsed: cpuTimeMs / wallTimeMs,
    eventsPerSecondPerCore: options.events / (cpuTimeMs / 1000),
  };
}

/**
 * Event-time benchmark: what timestamps, watermarks and event-time timers cost a keyed
 * job's throughput (the goal: watermarks every 200 ms at most 5 % slower than none).
 *
 * One job (bench/jobs/event-time.ts), the same input in every variant: `fromGenerator` of
 * `recordCount` small records `{ k, t }` at parallelism 2, keyBy(k) over `keys` keys to a
 * KeyedProcessFunction keeping a rolling count in ValueState on the heap, then a sink that
 * drops everything. Variants:
 *
 *   1. plain: no timestamps, no watermarks (RECORDS frames);
 *   2. watermarks: `assignTimestampsAndWatermarks(forBoundedOutOfOrderness(1000)
 *      .withTimestampAssigner(r => r.t))` before the keyBy, watermarks every 200 ms (the
 *      default): TIMESTAMPED_RECORDS frames, WATERMARK frames, the valve downstream;
 *   3. timers: as 2, plus an event-time timer per key and second of event time (which
 *      fire as the watermark passes them, each emitting the key's count).
 *
 * With SLUICEGATE_BENCH_TIME_BREAKDOWN=1, two more variants split the cost of 2 into its
 * parts: `map` (as 1, plus a chained map(r => r): one more chained operator) and `stamped`
 * (`noWatermarks().withTimestampAssigner(r => r.t)`: timestamps assigned and shipped in
 * TIMESTAMPED_RECORDS frames, no watermark generated).
 *
 * Method (as engine.bench.ts; the machine is small and shared, so only ratios measured
 * side by side mean much): one unmeasured warm-up run of every variant, then
 * `repetitions` rounds, each running every variant once in an order rotated from round to
 * round; ratios are taken within a round, then summarized as median [min-max]. Wall times
 * run from the `runJob` call to its result (job loading and thread start-up included);
 * CPU times are the whole process's, every thread ("cores used" = CPU / wall). A
 * measurement, never a test: nothing asserts on speed, only on the work done (every record
 * reaches the sink; timers fire in variant 3 only).
 *
 *   node dist/bench/time.bench.js          (SLUICEGATE_BENCH_REPS=n to change rounds,
 *                                           SLUICEGATE_BENCH_TIME_BREAKDOWN=1 for the breakdown)
 */
import assert from 'node:assert/strict';
import { availableParallelism, cpus } from 'node:os';
import { performance } from 'node:perf_hooks';
import { pathToFileURL } from 'node:url';
import { runJob } from '../src/index.js';
import type { JobResult } from '../src/index.js';
import type { EventTimeMode } from './jobs/event-time.js';
import { fixed, formatRate, formatSummary, loadAverage, printTable, repetitionsFromEnv, runRounds, summarize, timedJobRun } from './report.js';
import type { RoundVariant, Timing } from './report.js';

/** Rounds; 5 take about 2 minutes on 2 busy cores. */
const repetitionsDefault = 5;
/** Records per run: 4M run 3-6 s a variant, long enough for 15-30 watermark intervals. */
const recordCount = 4_000_000;
/** Distinct keys (record i has key i % keys). */
const keys = 10_000;
/** Parallelism of the source and the keyed operator (the machine's 2 cores). */
const parallelism = 2;

const eventTimeModule = new URL('./jobs/event-time.js', import.meta.url);

interface Sample extends Timing {
  job: JobResult;
}

const variantNames: Record<EventTimeMode, string> = {
  plain: '1. no timestamps, no watermarks',
  map: 'as 1, plus a chained map(r => r)',
  stamped: 'as 1, plus timestamps (no watermarks)',
  watermarks: '2. timestamps, watermarks every 200 ms',
  timers: '3. as 2, plus a timer per key and second',
};

function variant(mode: EventTimeMode): RoundVariant<Sample> {
  const args = ['--mode', mode, '--count', String(recordCount), '--keys', String(keys), '--sources', String(parallelism)];
  return {
    name: variantNames[mode],
    run: async () => {
      const { value, ...timing } = await timedJobRun(() => runJob(eventTimeModule, { parallelism, stateBackend: 'hashmap', args }));
      return { ...timing, job: value };
    },
  };
}

/** Records the sink received: every input record's count, plus one per timer fired. */
function sinkRecords(job: JobResult): number {
  const sink = job.operators.find((o) => o.name === 'Discard');
  assert.ok(sink !== undefined, 'the event-time job has no "Discard" operator');
  return sink.recordsIn;
}

function ratios(a: readonly Sample[], b: readonly Sample[], field: keyof Timing): number[] {
  assert.equal(a.length, b.length);
  return a.map((s, i) => s[field] / b[i]![field]);
}

export async function main(): Promise<void> {
  const repetitions = repetitionsFromEnv(repetitionsDefault);
  const cpu = cpus()[0]?.model ?? 'unknown CPU';
  console.log(`# Event-time benchmark (node ${process.version}, ${availableParallelism()} cores, ${cpu}; load average ${loadAverage()})`);
  console.log(`\n${recordCount} records, ${keys} keys, parallelism ${parallelism}, heap state, ${repetitions} rounds`);
  const started = performance.now();
  const breakdown = process.env.SLUICEGATE_BENCH_TIME_BREAKDOWN === '1';
  const modes: EventTimeMode[] = breakdown ? ['plain', 'map', 'stamped', 'watermarks', 'timers'] : ['plain', 'watermarks', 'timers'];
  const variants = modes.map(variant);
  const samples = await runRounds(variants, repetitions, variants);
  const plain = samples.get(variantNames.plain)!;
  const rows = modes.map((mode) => {
    const list = samples.get(variantNames[mode])!;
    const fired = list.map((s) => sinkRecords(s.job) - recordCount);
    for (const f of fired) {
      if (mode === 'timers') assert.ok(f > 0, `${variantNames[mode]}: no timer fired`);
      else assert.equal(f, 0, `${variantNames[mode]}: the sink got ${f} records more than the input`);
    }
    const wall = list.map((s) => s.wallMs);
    const cpuMs = list.map((s) => s.cpuMs);
    const same = mode === 'plain';
    return [
      variantNames[mode],
      formatSummary(wall, fixed(0)),
      formatSummary(cpuMs, fixed(0)),
      formatSummary(list.map((s) => s.cpuMs / s.wallMs), fixed(2)),
      formatRate(recordCount / (summarize(wall).median / 1000)),
      same ? '1' : formatSummary(ratios(list, plain, 'wallMs'), fixed(3)),
      same ? '1' : formatSummary(ratios(list, plain, 'cpuMs'), fixed(3)),
      String(summarize(fired).median),
    ];
  });
  printTable(
    `Keyed rolling count, ${recordCount} records (ratios per round, then median [min-max]; records/s from the median wall time)`,
    ['variant', 'wall ms', 'CPU ms', 'cores used', 'records/s', 'wall / 1', 'CPU / 1', 'timers fired'],
    rows,
  );
  const seconds = ((performance.now() - started) / 1000).toFixed(0);
  console.log(`\nEvent-time benchmark took ${seconds} s (load average at the end ${loadAverage()})`);
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main().catch((error: unknown) => {
    console.error(error);
    process.exitCode = 1;
  });
}

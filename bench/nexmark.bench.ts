/**
 * Nexmark q0, q1, q2 in the engine against Flink's published figures per core
 * (nexmark/nexmark GUIDE_V1.md: q0 155.02K, q1 157.94K, q2 175.21K events/s per core, 8
 * single-slot TaskManagers), and against a plain loop in one thread that generates the
 * same events and runs q1's filter and map inline (what the generator alone costs).
 *
 * Each variant runs `events` events at parallelism 2 (src/benchmark/nexmark/run.ts: events
 * / CPU seconds of the whole process, every thread). Method as the other benchmarks here:
 * `repetitions` rounds in rotated order, median [min-max]; the machine is small and
 * shared, so the ratios within a round mean more than the absolute figures.
 *
 *   node dist/bench/nexmark.bench.js   (SLUICEGATE_BENCH_REPS=n rounds, SLUICEGATE_NEXMARK_EVENTS=n events)
 */
import { availableParallelism, cpus } from 'node:os';
import { pathToFileURL } from 'node:url';
import { flinkEventsPerSecondPerCore } from '../src/cli/bench.js';
import { NexmarkGenerator } from '../src/connectors/nexmark/index.js';
import { runNexmarkBench } from '../src/benchmark/nexmark/run.js';
import type { QueryName } from '../src/benchmark/nexmark/queries.js';
import { benchmarkEventRate } from '../src/benchmark/nexmark/job.js';
import { fixed, formatRate, formatSummary, loadAverage, printTable, repetitionsFromEnv, runRounds, timed } from './report.js';

const events = Number(process.env['SLUICEGATE_NEXMARK_EVENTS'] ?? 10_000_000);
const parallelism = 2;
const seed = 7;

interface Sample {
  perCore: number;
  perSecond: number;
  cores: number;
  cpuMs: number;
}

/** q1 inline over the generator, one thread: the events/s per core of generating alone. */
async function plainLoop(): Promise<Sample> {
  const t = await timed(async () => {
    const generator = new NexmarkGenerator({ seed, baseTimeMs: Date.now(), firstEventRate: benchmarkEventRate });
    let out = 0;
    let sum = 0;
    for (let i = 0; i < events; i++) {
      const bid = generator.event(i).bid;
      if (bid === null) continue;
      const row = { auction: bid.auction, bidder: bid.bidder, price: (bid.price * 908) / 1000, dateTime: bid.dateTime, extra: bid.extra };
      sum += row.price;
      out++;
    }
    return out + (sum > 0 ? 0 : 1);
  });
  return { perCore: events / (t.cpuMs / 1000), perSecond: events / (t.wallMs / 1000), cores: t.cpuMs / t.wallMs, cpuMs: t.cpuMs };
}

async function engine(query: QueryName): Promise<Sample> {
  const r = await runNexmarkBench({ query, events, parallelism, seed });
  return { perCore: r.eventsPerSecondPerCore, perSecond: r.eventsPerSecond, cores: r.coresUsed, cpuMs: r.cpuTimeMs };
}

const queries: QueryName[] = ['q0', 'q1', 'q2'];

export async function main(): Promise<void> {
  const repetitions = repetitionsFromEnv(1);
  console.log(`Nexmark: ${events} events per run, parallelism ${parallelism}, ${repetitions} round(s); ${availableParallelism()} cores (${cpus()[0]?.model ?? '?'}), load ${loadAverage()}`);
  const samples = await runRounds(
    [...queries.map((q) => ({ name: q, run: () => engine(q) })), { name: 'plain loop', run: plainLoop }],
    repetitions,
    [],
  );
  const rows = [...queries, 'plain loop' as const].map((name) => {
    const s = samples.get(name)!;
    const flink = name === 'plain loop' ? undefined : flinkEventsPerSecondPerCore[name];
    return [
      name,
      formatSummary(s.map((x) => x.perCore), formatRate),
      flink === undefined ? '-' : formatRate(flink),
      flink === undefined ? '-' : formatSummary(s.map((x) => x.perCore / flink), fixed(2)),
      formatSummary(s.map((x) => x.perSecond), formatRate),
      formatSummary(s.map((x) => x.cores), fixed(2)),
      formatSummary(s.map((x) => x.cpuMs / 1000), fixed(1)),
    ];
  });
  printTable('Events/s per core (events / CPU seconds of the process)', ['query', 'events/s per core', 'Flink per core', 'ratio to Flink', 'events/s', 'cores used', 'CPU s'], rows);
  console.log(`load after: ${loadAverage()}`);
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main().catch((error: unknown) => {
    console.error(error);
    process.exitCode = 1;
  });
}

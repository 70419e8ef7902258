/**
 * `sluice bench nexmark --query q1 --events 10000000 -p 2`: runs a Nexmark query with the
 * built-in generator and a discarding sink and prints events/s, events/s per core used
 * and CPU time (src/benchmark/nexmark/run.ts says how they are measured); `--json` prints
 * the figures as JSON. Flink's published figures per core are printed beside them
 * (nexmark/nexmark GUIDE_V1.md: 8 single-slot TaskManagers).
 */
import { InvalidArgumentError, Option } from 'commander';
import type { Command } from 'commander';
import { queryNames, runNexmarkBench } from '../benchmark/index.js';
import type { NexmarkBenchResult, QueryName } from '../benchmark/index.js';
import { formatRate } from './progress.js';

/** Flink's events/s per core (nexmark/nexmark GUIDE_V1.md, "Throughput/Cores"). */
export const flinkEventsPerSecondPerCore: Record<QueryName, number> = { q0: 155_020, q1: 157_940, q2: 175_210 };

function integerAtLeast(name: string, min: number): (value: string) => number {
  return (value: string) => {
    const n = Number(value);
    if (!/^\d+$/.test(value.trim()) || !Number.isSafeInteger(n) || n < min) throw new InvalidArgumentError(`${name} must be an integer >= ${min}, got "${value}"`);
    return n;
  };
}

/** The figures of one run, one per line. */
export function formatNexmarkResult(r: NexmarkBenchResult): string {
  const flink = flinkEventsPerSecondPerCore[r.query];
  return [
    `Nexmark ${r.query}: ${r.events} events at parallelism ${r.parallelism}, ${r.outputRecords} records out`,
    `wall time          ${(r.wallTimeMs / 1000).toFixed(2)} s`,
    `CPU time           ${(r.cpuTimeMs / 1000).toFixed(2)} s (${r.coresUsed.toFixed(2)} cores on average)`,
    `events/s           ${formatRate(r.eventsPerSecond)}`,
    `events/s per core  ${formatRate(r.eventsPerSecondPerCore)} (Flink: ${formatRate(flink)}, ratio ${(r.eventsPerSecondPerCore / flink).toFixed(2)})`,
  ].join('\n');
}

/** Adds `bench nexmark` to the program. */
export function addBenchCommand(program: Command, out: (text: string) => void, setExit: (code: number) => void): void {
  // program.command (not addCommand) so that the subcommands inherit exitOverride and the output settings.
  const bench = program.command('bench').description('run a built-in benchmark');
  bench
    .command('nexmark')
    .description('run a Nexmark query (q0 pass through, q1 currency conversion, q2 selection) over generated events into a discarding sink; prints events/s, events/s per core used and CPU time')
    .addOption(new Option('--query <q>', 'the query').choices([...queryNames]).default('q0'))
    .addOption(new Option('--events <n>', 'events to generate').argParser(integerAtLeast('--events', 1)).default(10_000_000))
    .addOption(new Option('-p, --parallelism <n>', 'parallelism of the source and the query').argParser(integerAtLeast('--parallelism', 1)).default(2))
    .addOption(new Option('--rate <events/s>', 'limit the events emitted per second, over all subtasks (default: as fast as possible)').argParser(integerAtLeast('--rate', 1)))
    .addOption(new Option('--seed <n>', 'seed of the generator (default: a random one per job)').argParser(integerAtLeast('--seed', 0)))
    .option('--json', 'print the figures as JSON')
    .action(async (flags: { query: QueryName; events: number; parallelism: number; rate?: number; seed?: number; json?: boolean }) => {
      const result = await runNexmarkBench({
        query: flags.query,
        events: flags.events,
        parallelism: flags.parallelism,
        ...(flags.rate === undefined ? {} : { rate: flags.rate }),
        ...(flags.seed === undefined ? {} : { seed: flags.seed }),
      });
      out(flags.json === true ? `${JSON.stringify(result, null, 2)}\n` : `${formatNexmarkResult(result)}\n`);
      setExit(0);
    });
}

/**
 * The Nexmark job module of `sluice bench nexmark` (and of the tests that check it):
 * the Nexmark source, a query, and a sink that discards (Flink's `blackhole` connector,
 * as the Nexmark SQL's sink tables) or, with `--output`, JSON lines.
 *
 *   args: --query q0|q1|q2|events  --events <n>  [--seed <int>] [--base-time <epoch ms>]
 *         [--rate <events/s>] [--event-rate <events/s>] [--out-of-order-group-size <n>]
 *         [--output <dir> | --latency <channel>]
 *
 * `events` writes the generated events themselves. `--latency` runs q1 through a keyed
 * shuffle into a sink that measures event-to-output latency (latency.ts). `--rate` limits how fast events are
 * emitted (wall clock, over all subtasks); `--event-rate` sets the event-time spacing
 * (Nexmark's `first-event.rate`, default 10,000,000 as the benchmark's TPS). Without
 * `--seed` / `--base-time` the job's seed and start time are used (the same in every
 * subtask and restart). Timestamps and watermarks: as the Nexmark DDL, `dateTime` with a
 * watermark 4 s behind (`WatermarkStrategy.forBoundedOutOfOrderness(4000)`).
 */
import { parseArgs } from 'node:util';
import { defineJob } from '../../api/index.js';
import { NexmarkSource } from '../../connectors/nexmark/source.js';
import type { NexmarkEvent } from '../../connectors/nexmark/model.js';
import { UsageError } from '../../errors.js';
import { WatermarkStrategy } from '../../time/index.js';
import { q1LatencyPipeline } from './latency.js';
import { queries, queryNames } from './queries.js';
import type { QueryName } from './queries.js';

/** Nexmark's benchmark runs generate event time at 10M events/s (`TPS` in nexmark.conf). */
export const benchmarkEventRate = 10_000_000;
/** The Nexmark DDL's watermark delay, ms (`dateTime - INTERVAL '4' SECOND`). */
export const watermarkDelayMs = 4000;

function integer(name: string, text: string | undefined, min: number): number | undefined {
  if (text === undefined) return undefined;
  const value = Number(text);
  if (!/^-?\d+$/.test(text) || !Number.isSafeInteger(value) || value < min) {
    throw new UsageError(`nexmark job: --${name} must be an integer >= ${min}, got "${text}"`);
  }
  return value;
}

export default defineJob((env, args) => {
  const { values } = parseArgs({
    args: [...args],
    options: {
      query: { type: 'string' },
      events: { type: 'string' },
      seed: { type: 'string' },
      'base-time': { type: 'string' },
      rate: { type: 'string' },
      'event-rate': { type: 'string' },
      'out-of-order-group-size': { type: 'string' },
      output: { type: 'string' },
      latency: { type: 'string' },
    },
    strict: true,
  });
  const query = values.query ?? 'q0';
  if (query !== 'events' && !(queryNames as readonly string[]).includes(query)) {
    throw new UsageError(`nexmark job: --query must be one of ${queryNames.join(', ')}, events; got "${query}"`);
  }
  const info = env.getJobInfo();
  const rate = integer('rate', values.rate, 1);
  const groupSize = integer('out-of-order-group-size', values['out-of-order-group-size'], 1);
  const source = new NexmarkSource({
    events: integer('events', values.events, 0) ?? Infinity,
    seed: integer('seed', values.seed, 0) ?? info.seed,
    baseTimeMs: integer('base-time', values['base-time'], 0) ?? info.startTime,
    firstEventRate: integer('event-rate', values['event-rate'], 1) ?? benchmarkEventRate,
    ...(groupSize === undefined ? {} : { outOfOrderGroupSize: groupSize }),
    ...(rate === undefined ? {} : { eventsPerSecond: rate }),
  });
  const events = env.fromSource<NexmarkEvent>(source, WatermarkStrategy.forBoundedOutOfOrderness(watermarkDelayMs), 'Nexmark Source').uid('nexmark-source');
  if (values.latency !== undefined) {
    if (query !== 'q1') throw new UsageError(`nexmark job: --latency measures q1 only, got --query ${query}`);
    q1LatencyPipeline(events, values.latency);
    return;
  }
  const out = query === 'events' ? events : queries[query as QueryName](events);
  if (values.output !== undefined) out.writeAsJsonLines(values.output).name('JSON lines');
  else out.addSink(() => undefined).name('Blackhole');
});

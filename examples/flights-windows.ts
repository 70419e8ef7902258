/**
 * Event-time windows on real data: the flights of the `vega-datasets` npm package (`date`:
 * departure time, `delay`: arrival delay in minutes, distance, origin, destination). Per
 * origin airport, the number of flights and their mean delay of each hour, with
 * `TumblingEventTimeWindows.of(Time.hours(1))` and an AggregateFunction (one
 * `[flights, delay sum]` accumulator per origin and hour, not the flights themselves).
 *
 * Out of order: the flights-*.json files are sorted by departure time, and a real feed is
 * not. Here each flight is reported 0 to `--report-lag` minutes (default 90) after it
 * departs (a lag fixed per flight by a hash of its place in the file), and the job reads
 * the reports in report order. A flight thus comes at most that many minutes behind the
 * latest departure read before it: with the default, 2,181 of the 5,000 flights of
 * flights-5k.json come behind a later one read before them, by up to 88 minutes.
 *
 * - The watermark trails the latest departure by `--out-of-orderness` minutes (default
 *   90: it covers the lag, so no flight is late and every hour fires once, when the
 *   watermark passes its end).
 * - `--lateness` minutes (default 0) of allowed lateness: a flight behind the watermark
 *   but within it updates its hour (a new line, firing 2, 3, ...).
 * - Flights later still go to a side output (`sideOutputLateData`) instead of being dropped.
 *
 *   npx sluice run -p 2 examples/flights-windows.ts --input node_modules/vega-datasets/data/flights-20k.json --output out/flights-windows
 *
 * writes `out/flights-windows/hourly/part-*` (`origin<TAB>hour<TAB>flights<TAB>mean
 * delay<TAB>firing`, hours in UTC) and `out/flights-windows/late/part-*`
 * (`origin<TAB>date<TAB>delay` of each flight too late for its hour). To see late data,
 * let the watermark trail by less than the lag, and read slowly enough for watermarks to
 * come between the flights (they come every `--watermark-interval` ms of processing time):
 *
 *   ... --out-of-orderness 0 --lateness 20 --flights-per-second 2000 --watermark-interval 2
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { OutputTag, Time, TumblingEventTimeWindows, WatermarkStrategy, defineJob } from 'sluicegate';
import type { AggregateFunction, Collector, ProcessWindowContext, ProcessWindowFunction, TimeWindow } from 'sluicegate';
import { flightTime } from './flights-hourly.js';
import type { Flight } from './flights-hourly.js';

export type { Flight } from './flights-hourly.js';

/** The minutes after its departure that flight `index` (its place in the file) is reported: 0..maxLagMinutes. */
export function reportLagMinutes(index: number, maxLagMinutes: number): number {
  let h = Math.imul(index + 1, 0x9e3779b1);
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  return (h >>> 0) % (maxLagMinutes + 1);
}

/** The flights in the order they are reported: by departure + report lag, ties in file order. */
export function reportOrder(flights: readonly Flight[], maxLagMinutes: number): Flight[] {
  return flights
    .map((flight, i) => ({ flight, i, at: flightTime(flight.date) + Time.minutes(reportLagMinutes(i, maxLagMinutes)) }))
    .sort((a, b) => a.at - b.at || a.i - b.i)
    .map((r) => r.flight);
}

/** Flights and delay sum of one origin and hour; `merge` lets the same function serve merging windows. */
export const countAndDelay: AggregateFunction<Flight, [number, number], [number, number]> = {
  createAccumulator: () => [0, 0],
  add: (flight, [flights, delay]) => [flights + 1, delay + flight.delay],
  getResult: (acc) => acc,
  merge: (a, b) => [a[0] + b[0], a[1] + b[1]],
};

const iso = (ms: number): string => new Date(ms).toISOString().slice(0, 16).replace('T', ' ');

/**
 * Formats an hour's aggregate as `origin<TAB>hour<TAB>flights<TAB>mean delay<TAB>firing`.
 * The firing number (1 when the watermark passes the hour, then one more for every late
 * flight within the allowed lateness) is per-window state, cleared with the window.
 */
export class HourlyLine implements ProcessWindowFunction<[number, number], string, string, TimeWindow> {
  private static readonly firings = { name: 'firings', defaultValue: 0 };

  process(origin: string, ctx: ProcessWindowContext<TimeWindow>, results: [number, number][], out: Collector<string>): void {
    const [flights, delay] = results[0]!;
    const firings = ctx.windowState().getState<number>(HourlyLine.firings);
    const firing = firings.value()! + 1;
    firings.update(firing);
    out.collect(`${origin}\t${iso(ctx.window.getStart())}\t${flights}\t${(delay / flights).toFixed(1)}\t${firing}`);
  }

  clear(ctx: ProcessWindowContext<TimeWindow>): void {
    ctx.windowState().getState<number>(HourlyLine.firings).clear();
  }
}

/** Flights that came after their hour's allowed lateness. */
export const lateFlights = new OutputTag<Flight>('late-flights');

function wholeArg(name: string, value: string, min = 0): number {
  const n = Number(value);
  if (!/^\d+$/.test(value) || n < min) throw new Error(`flights-windows: --${name} must be a whole number >= ${min}, got "${value}"`);
  return n;
}

export default defineJob((env, args) => {
  const { values } = parseArgs({
    args: [...args],
    options: {
      input: { type: 'string' },
      output: { type: 'string' },
      'report-lag': { type: 'string', default: '90' },
      'out-of-orderness': { type: 'string', default: '90' },
      lateness: { type: 'string', default: '0' },
      'flights-per-second': { type: 'string' },
      'watermark-interval': { type: 'string' },
    },
    strict: true,
  });
  if (values.input === undefined || values.output === undefined) {
    throw new Error('flights-windows needs --input <flights-*.json of vega-datasets> and --output <directory>');
  }
  const rate = values['flights-per-second'];
  const interval = values['watermark-interval'];
  if (interval !== undefined) env.getConfig().setAutoWatermarkInterval(wholeArg('watermark-interval', interval, 1));
  // Every thread reads the same file and orders it the same way: the plan is the same everywhere.
  const flights = reportOrder(JSON.parse(readFileSync(values.input, 'utf8')) as Flight[], wholeArg('report-lag', values['report-lag']));
  const hourly = env
    .fromGenerator((i) => flights[i]!, flights.length, rate === undefined ? {} : { recordsPerSecond: wholeArg('flights-per-second', rate, 1) })
    .name('Flight reports')
    .assignTimestampsAndWatermarks(
      WatermarkStrategy.forBoundedOutOfOrderness<Flight>(Time.minutes(wholeArg('out-of-orderness', values['out-of-orderness']))).withTimestampAssigner((f) => flightTime(f.date)),
    )
    .keyBy((f: Flight) => f.origin)
    .window(TumblingEventTimeWindows.of(Time.hours(1)))
    .allowedLateness(Time.minutes(wholeArg('lateness', values.lateness)))
    .sideOutputLateData(lateFlights)
    .aggregate(countAndDelay, new HourlyLine())
    .name('Hourly per origin')
    .uid('hourly');
  hourly.writeAsText(join(values.output, 'hourly')).name('Hourly');
  hourly
    .getSideOutput(lateFlights)
    .map((f) => `${f.origin}\t${f.date}\t${f.delay}`)
    .writeAsText(join(values.output, 'late'))
    .name('Late flights');
});

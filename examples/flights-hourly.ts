/**
 * Event time on real data: the flights of the `vega-datasets` npm package (date, delay,
 * distance, origin, destination), per origin airport:
 * - the number of flights and their mean delay of each hour, emitted when the watermark
 *   passes the end of the hour (an event-time timer per origin and hour);
 * - an alert on a side output when an origin has had no flight for more than
 *   `--silent-hours` hours of event time (a timer at each flight's time + that gap).
 *
 * The flights are read in parallel (two subtasks read two halves of the file, so event
 * time arrives out of order across subtasks) with watermarks an hour behind the largest
 * time seen. At the end of the input the maximum watermark fires the last hours.
 *
 *   npx sluice run -p 2 examples/flights-hourly.ts --input node_modules/vega-datasets/data/flights-20k.json --output out/flights
 *
 * writes `out/flights/hourly/part-*` (`origin<TAB>hour<TAB>flights<TAB>mean delay`) and
 * `out/flights/silent/part-*` (`origin<TAB>silent since<TAB>noticed at`), hours in UTC.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { OutputTag, WatermarkStrategy, defineJob } from 'sluicegate';
import type { Collector, KeyedContext, KeyedProcessFunction, MapState, OnTimerContext, RuntimeContext } from 'sluicegate';

export interface Flight {
  date: string;
  delay: number;
  distance: number;
  origin: string;
  destination: string;
}

export const hourMs = 3_600_000;

/** "2001/01/13 14:56" as ms since the epoch, in UTC. @throws Error naming a date of another shape. */
export function flightTime(date: string): number {
  const m = /^(\d{4})\/(\d{2})\/(\d{2}) (\d{2}):(\d{2})$/.exec(date);
  if (m === null) throw new Error(`A flight date must look like 2001/01/13 14:56, got ${JSON.stringify(date)}`);
  return Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3]), Number(m[4]), Number(m[5]));
}

const iso = (ms: number): string => new Date(ms).toISOString().slice(0, 16).replace('T', ' ');

/** Alerts for origins without flights for longer than the gap. */
export const silentOrigins = new OutputTag<string>('silent-origins');

/**
 * Per origin: hourly counts and mean delays when the hour is over; silence alerts.
 *
 * A silence timer is set at each flight's time + the gap. When it fires (the watermark
 * passed it, so every flight up to it has been seen), the origin was silent if no flight
 * came after that one and up to the timer. At the end of the input (the maximum watermark
 * fires every timer left) an origin with no later flight at all is the end of the data,
 * not silence. Timers fire in timestamp order, so flights older than the one checked are
 * dropped from state as they are checked.
 */
export class HourlyFlights implements KeyedProcessFunction<string, Flight, string> {
  private hours!: MapState<number, [number, number]>;
  /** The origin's flight times not yet checked for silence after them. */
  private flights!: MapState<number, true>;

  constructor(private readonly silentMs: number) {}

  open(ctx: RuntimeContext): void {
    this.hours = ctx.getMapState<number, [number, number]>({ name: 'hours' });
    this.flights = ctx.getMapState<number, true>({ name: 'flights' });
  }

  processElement(flight: Flight, ctx: KeyedContext<string>): void {
    const t = ctx.timestamp()!;
    const hour = Math.floor(t / hourMs) * hourMs;
    const [count, delay] = this.hours.get(hour) ?? [0, 0];
    this.hours.put(hour, [count + 1, delay + flight.delay]);
    // The hour is over when the watermark passes its last millisecond.
    ctx.timerService().registerEventTimeTimer(hour + hourMs - 1);
    this.flights.put(t, true);
    ctx.timerService().registerEventTimeTimer(t + this.silentMs);
  }

  onTimer(timestamp: number, ctx: OnTimerContext<string>, out: Collector<string>): void {
    const hour = timestamp + 1 - hourMs;
    const totals = this.hours.get(hour);
    if (totals !== undefined) {
      out.collect(`${ctx.getCurrentKey()}\t${iso(hour)}\t${totals[0]}\t${(totals[1] / totals[0]).toFixed(1)}`);
      this.hours.remove(hour);
    }
    const since = timestamp - this.silentMs;
    if (!this.flights.contains(since)) return;
    const later = [...this.flights.keys()].filter((f) => f > since);
    const endOfData = ctx.timerService().currentWatermark() === Infinity;
    if (later.every((f) => f > timestamp) && (later.length > 0 || !endOfData)) {
      ctx.output(silentOrigins, `${ctx.getCurrentKey()}\t${iso(since)}\t${iso(timestamp)}`);
    }
    for (const f of this.flights.keys()) if (f <= since) this.flights.remove(f);
  }
}

export default defineJob((env, args) => {
  const { values } = parseArgs({
    args: [...args],
    options: { input: { type: 'string' }, output: { type: 'string' }, 'silent-hours': { type: 'string', default: '48' } },
    strict: true,
  });
  if (values.input === undefined || values.output === undefined) {
    throw new Error('flights-hourly needs --input <flights-*.json of vega-datasets> and --output <directory>');
  }
  const silentHours = Number(values['silent-hours']);
  if (!Number.isInteger(silentHours) || silentHours < 1) throw new Error(`--silent-hours must be a whole number of hours >= 1, got ${values['silent-hours']}`);
  // Every thread reads the same file: the plan is the same everywhere.
  const flights = JSON.parse(readFileSync(values.input, 'utf8')) as Flight[];
  const hourly = env
    .fromGenerator((i) => flights[i]!, flights.length)
    .name('Flights')
    .assignTimestampsAndWatermarks(WatermarkStrategy.forBoundedOutOfOrderness<Flight>(hourMs).withTimestampAssigner((f) => flightTime(f.date)))
    .keyBy((f: Flight) => f.origin)
    .process(new HourlyFlights(silentHours * hourMs))
    .name('Hourly per origin')
    .uid('hourly');
  hourly.writeAsText(join(values.output, 'hourly')).name('Hourly');
  hourly.getSideOutput(silentOrigins).writeAsText(join(values.output, 'silent')).name('Silent origins');
});

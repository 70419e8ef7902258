// examples/flights-windows.ts on real data (vega-datasets flights-5k.json) against a plain
// computation over the same file: per origin and hour, the flights and their mean delay.
// With a watermark bound that covers the report lag, each hour fires once with exactly
// those figures. With a watermark right behind the latest departure, allowed lateness and
// watermarks coming between the flights, some flights are late: then each hour's last
// firing plus its flights on the late side output make up the plain figures, and every
// flight on the side output could be late (its hour's cleanup time is at or below the
// highest watermark possible when it was read).
import t from 'tap';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { runJob } from '../../src/index.js';
import { flightTime, hourMs } from '../../examples/flights-hourly.js';
import { reportLagMinutes, reportOrder } from '../../examples/flights-windows.js';
import type { Flight } from '../../examples/flights-windows.js';
import { committedLines } from '../helpers/at-most-once.js';
import { tempDir } from '../helpers/checkpoints.js';

const dataset = (name: string): string => fileURLToPath(new URL(`../data/${name}`, import.meta.resolve('vega-datasets')));
const input = dataset('flights-5k.json');
/** The example, compiled (dist/examples/flights-windows.js). */
const job = new URL('../../examples/flights-windows.js', import.meta.url);
const flights = JSON.parse(readFileSync(input, 'utf8')) as Flight[];
const minute = 60_000;

const iso = (ms: number): string => new Date(ms).toISOString().slice(0, 16).replace('T', ' ');
const hourOf = (f: Flight): number => Math.floor(flightTime(f.date) / hourMs) * hourMs;
const windowKey = (f: Flight): string => `${f.origin}\t${iso(hourOf(f))}`;
const flightKey = (f: Flight): string => `${f.origin}\t${f.date}\t${f.delay}`;

/** Per `origin<TAB>hour`: [flights, delay sum] of `of`. */
function hourly(of: readonly Flight[]): Map<string, [number, number]> {
  const hours = new Map<string, [number, number]>();
  for (const f of of) {
    const [n, d] = hours.get(windowKey(f)) ?? [0, 0];
    hours.set(windowKey(f), [n + 1, d + f.delay]);
  }
  return hours;
}

const line = (key: string, [n, d]: [number, number], firing: number): string => `${key}\t${n}\t${(d / n).toFixed(1)}\t${firing}`;

function run(t: Parameters<typeof tempDir>[0], args: string[], from: URL = job, file = input) {
  const output = tempDir(t, 'flights-windows');
  return runJob(from, { parallelism: 2, args: ['--input', file, '--output', output, ...args] }).result.then(() => ({
    hourly: committedLines(join(output, 'hourly')),
    late: committedLines(join(output, 'late')),
  }));
}

t.test('the report order is out of order by at most the report lag, and a reordering of the file', async (t) => {
  const reported = reportOrder(flights, 90);
  t.same(reported.map(flightKey).sort(), flights.map(flightKey).sort(), 'every flight once');
  let latest = -Infinity;
  let behind = 0;
  let mostBehind = 0;
  for (const f of reported) {
    const ms = flightTime(f.date);
    if (ms < latest) behind++;
    mostBehind = Math.max(mostBehind, latest - ms);
    latest = Math.max(latest, ms);
  }
  t.ok(behind > flights.length / 10, `${behind} flights come behind a later one`);
  t.ok(mostBehind <= 90 * minute, `by up to ${mostBehind / minute} minutes`);
  t.ok(flights.every((_, i) => reportLagMinutes(i, 90) >= 0 && reportLagMinutes(i, 90) <= 90), 'report lags are 0..90 minutes');
});

t.test('with a watermark bound that covers the report lag, each hour fires once with the plain figures', async (t) => {
  const out = await run(t, []);
  const expected = [...hourly(flights)].map(([key, acc]) => line(key, acc, 1)).sort();
  t.same(out.hourly.sort(), expected, `${expected.length} origin-hours, one firing each`);
  t.same(out.late, [], 'no flight is late');
});

t.test('the TypeScript source runs as the README shows it (tsx gives it its own copy of sluicegate)', async (t) => {
  const source = new URL('../../../examples/flights-windows.ts', import.meta.url);
  const small = dataset('flights-2k.json');
  const out = await run(t, [], source, small);
  const expected = [...hourly(JSON.parse(readFileSync(small, 'utf8')) as Flight[])].map(([key, acc]) => line(key, acc, 1)).sort();
  t.same(out.hourly.sort(), expected, `${expected.length} origin-hours: its WatermarkStrategy and OutputTag are the engine's`);
});

t.test('late flights: the last firing of each hour plus its flights on the side output make up the plain figures', async (t) => {
  const boundMinutes = 0;
  const latenessMinutes = 20;
  const out = await run(t, ['--out-of-orderness', String(boundMinutes), '--lateness', String(latenessMinutes), '--flights-per-second', '2000', '--watermark-interval', '2']);

  // The side output holds flights of the file, each at most once.
  const remaining = new Map<string, Flight[]>();
  for (const f of flights) (remaining.get(flightKey(f)) ?? remaining.set(flightKey(f), []).get(flightKey(f))!).push(f);
  const late: Flight[] = [];
  const unknown: string[] = [];
  for (const l of out.late) {
    const f = remaining.get(l)?.pop();
    if (f === undefined) unknown.push(l);
    else late.push(f);
  }
  t.same(unknown, [], 'every late line is a flight of the file, once');

  // Each late flight could be late: the watermark when it was read was at most the latest
  // departure read before it - bound - 1, and its hour's cleanup time must be at or below that.
  // (Equal flights count with the latest of their reads.)
  const latestBefore = new Map<string, number>();
  let latest = -Infinity;
  for (const f of reportOrder(flights, 90)) {
    latestBefore.set(flightKey(f), Math.max(latest, latestBefore.get(flightKey(f)) ?? -Infinity));
    latest = Math.max(latest, flightTime(f.date));
  }
  const impossible = late.filter((f) => hourOf(f) + hourMs - 1 + latenessMinutes * minute > latestBefore.get(flightKey(f))! - boundMinutes * minute - 1);
  t.same(impossible.map(flightKey), [], 'no flight on the side output was within its allowed lateness');

  // Firings of each hour are numbered 1..n, and the last holds every flight not late.
  const lastFirings = new Map<string, string>();
  const firings = new Map<string, number[]>();
  for (const l of out.hourly) {
    const [origin, hour, , , firing] = l.split('\t');
    const key = `${origin}\t${hour}`;
    (firings.get(key) ?? firings.set(key, []).get(key)!).push(Number(firing));
    if (Number(firing) > Number(lastFirings.get(key)?.split('\t')[4] ?? 0)) lastFirings.set(key, l);
  }
  t.same(
    [...firings].filter(([, fs]) => fs.sort((a, b) => a - b).some((f, i) => f !== i + 1)),
    [],
    'each hour fires 1, 2, ..., n: once on time, then once per late flight within the lateness',
  );
  const lateSet = new Set(late);
  const onTime = hourly(flights.filter((f) => !lateSet.has(f)));
  const expected = [...onTime].map(([key, acc]) => line(key, acc, firings.get(key)?.length ?? 0)).sort();
  t.same([...lastFirings.values()].sort(), expected, `${expected.length} origin-hours: the last firing counts every flight but the ${late.length} late ones`);
  const allLate = [...hourly(late).keys()].filter((k) => !onTime.has(k));
  t.same(allLate.filter((k) => firings.has(k)), [], 'an hour whose flights were all late never fired');

  const updates = [...firings.values()].filter((fs) => fs.length > 1).length;
  t.comment(`${late.length} late flights, ${updates} hours updated by flights within the lateness`);
  // Most origin-hours have one flight, so a flight within the lateness mostly fires its hour
  // for the first time: how many hours fire again depends on when watermarks came.
  t.ok(late.length > 0, 'some flights came after their hour was cleaned up (watermarks came between the flights)');
});

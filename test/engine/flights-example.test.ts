// examples/flights-hourly.ts on real data (vega-datasets flights-5k.json) against a plain
// computation of the same thing: per origin and hour, the flights and mean delay; the
// silence alerts where an origin's next flight came more than the gap later.
import t from 'tap';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { runJob } from '../../src/index.js';
import { flightTime, hourMs } from '../../examples/flights-hourly.js';
import type { Flight } from '../../examples/flights-hourly.js';
import { tempDir } from '../helpers/checkpoints.js';

const input = fileURLToPath(new URL('../data/flights-5k.json', import.meta.resolve('vega-datasets')));
const job = new URL('../../examples/flights-hourly.js', import.meta.url);

function lines(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir)
    .filter((n) => !n.startsWith('.'))
    .flatMap((name) => readFileSync(join(dir, name), 'utf8').split('\n').filter((l) => l !== ''));
}

const iso = (ms: number): string => new Date(ms).toISOString().slice(0, 16).replace('T', ' ');

t.test('hourly counts and silence alerts equal a plain computation over the flights', async (t) => {
  const flights = JSON.parse(readFileSync(input, 'utf8')) as Flight[];
  const silentHours = 24;
  const hours = new Map<string, [number, number]>();
  const times = new Map<string, number[]>();
  for (const f of flights) {
    const ms = flightTime(f.date);
    const hour = Math.floor(ms / hourMs) * hourMs;
    const k = `${f.origin}\t${iso(hour)}`;
    const [c, d] = hours.get(k) ?? [0, 0];
    hours.set(k, [c + 1, d + f.delay]);
    (times.get(f.origin) ?? times.set(f.origin, []).get(f.origin)!).push(ms);
  }
  const hourly = [...hours].map(([k, [c, d]]) => `${k}\t${c}\t${(d / c).toFixed(1)}`).sort();
  // An alert for every gap of more than the silence between two flights of an origin. After
  // an origin's last flight there may be one more, but only if event time went on past
  // its silence before the input ended (the watermark trails the largest time by an hour):
  // whether it fires before the end depends on when periodic watermarks were emitted.
  const alerts: string[] = [];
  const mayAlert = new Set<string>();
  const latest = Math.max(...flights.map((f) => flightTime(f.date)));
  const gap = silentHours * hourMs;
  for (const [origin, ts] of times) {
    const sorted = [...new Set(ts)].sort((a, b) => a - b);
    for (let i = 0; i + 1 < sorted.length; i++) {
      if (sorted[i + 1]! > sorted[i]! + gap) alerts.push(`${origin}\t${iso(sorted[i]!)}\t${iso(sorted[i]! + gap)}`);
    }
    const last = sorted.at(-1)!;
    if (last + gap <= latest - hourMs - 1) mayAlert.add(`${origin}\t${iso(last)}\t${iso(last + gap)}`);
  }
  const output = tempDir(t, 'flights');
  await runJob(job, { parallelism: 2, args: ['--input', input, '--output', output, '--silent-hours', String(silentHours)] }).result;
  t.same(lines(join(output, 'hourly')).sort(), hourly, `${hourly.length} origin-hours`);
  const got = lines(join(output, 'silent'));
  t.same(alerts.filter((a) => !got.includes(a)), [], `every one of the ${alerts.length} gaps alerted`);
  t.same(got.filter((a) => !alerts.includes(a) && !mayAlert.has(a)), [], 'no other alert but silences after a last flight that event time passed');
  t.equal(new Set(got).size, got.length, 'each alert once');
  t.ok(alerts.length > 0, 'the data has silent stretches');
});

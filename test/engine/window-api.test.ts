// The window API end to end through runJob, as a user meets it: the seeds' windowed word
// count (timeWindow + sum), countWindow with and without slide (Flink's GlobalWindows with
// count trigger and evictor), windowAll at parallelism 1 behind a parallel stream, and the
// field aggregations (min, max, minBy, maxBy, sum) per window.
import t from 'tap';
import { runJob } from '../../src/index.js';
import type { RunJobOptions } from '../../src/index.js';
import type { Reading } from '../jobs/window-api.js';

const job = new URL('../jobs/window-api.js', import.meta.url);

async function run(scenario: string, params: unknown, options: RunJobOptions = {}): Promise<unknown[]> {
  const result = await runJob(job, { parallelism: 2, ...options, args: [scenario, JSON.stringify(params)] }).result;
  return result.collected.collect ?? [];
}

const sorted = (xs: unknown[]) => xs.map((x) => JSON.stringify(x)).sort();

t.test('the seeds\' program: flatMap(split).keyBy(word).timeWindow(Time.seconds(5)).sum(1)', async (t) => {
  const lines = [
    { t: 0, text: 'to be or' },
    { t: 1000, text: 'not to be' },
    { t: 6000, text: 'to' },
    { t: 12_000, text: 'be be' },
  ];
  const out = await run('word-count', { lines });
  t.same(sorted(out), sorted([['to', 2], ['be', 2], ['or', 1], ['not', 1], ['to', 1], ['be', 2]]));
});

t.test('countWindow(3) fires every 3 elements of a key and purges; countWindow(4, 2) the last 4 every 2', async (t) => {
  const readings: Reading[] = [];
  for (let i = 1; i <= 7; i++) readings.push({ sensor: 's1', t: i, value: i }, { sensor: 's2', t: i, value: 10 * i });
  const tumbling = await run('count-window', { readings, size: 3 }, { parallelism: 1 });
  t.same(sorted(tumbling), sorted([['s1', [1, 2, 3]], ['s1', [4, 5, 6]], ['s2', [10, 20, 30]], ['s2', [40, 50, 60]]]), 'the 7th element waits for two more');
  const sliding = await run('count-window', { readings, size: 4, slide: 2 }, { parallelism: 1 });
  t.same(
    sorted(sliding),
    sorted([
      ['s1', [1, 2]], ['s1', [1, 2, 3, 4]], ['s1', [3, 4, 5, 6]],
      ['s2', [10, 20]], ['s2', [10, 20, 30, 40]], ['s2', [30, 40, 50, 60]],
    ]),
  );
  await t.rejects(run('count-window', { readings, size: 0 }), /countWindow\(\) size must be an integer >= 1.*got 0/, 'countWindow(0) is refused by name');
});

t.test('windowAll runs in one subtask behind a parallel stream and sees every record', async (t) => {
  const readings: Reading[] = Array.from({ length: 50 }, (_, i) => ({ sensor: `s${i % 3}`, t: i, value: i }));
  const out = await run('window-all', { readings, size: 10 });
  const want = [0, 10, 20, 30, 40].map((start) => [start, 10, Array.from({ length: 10 }, (_, j) => start + j).reduce((a, b) => a + b, 0)]);
  t.same(sorted(out), sorted(want));
});

t.test('min, max, minBy, maxBy and sum of a field per window, as Flink computes them', async (t) => {
  const readings: Reading[] = [
    { sensor: 'x', t: 1, value: 5 },
    { sensor: 'x', t: 2, value: 3 },
    { sensor: 'x', t: 3, value: 8 },
    { sensor: 'x', t: 4, value: 3 },
    { sensor: 'x', t: 12, value: 1 },
  ];
  const out = await run('field-aggregations', { readings, size: 10 }, { parallelism: 1 });
  t.same(
    sorted(out),
    sorted([
      // min/max/sum: the first record with the field replaced; minBy/maxBy: the record holding it (the first of equals).
      ['min', 'x', 1, 3], ['max', 'x', 1, 8], ['minBy', 'x', 2, 3], ['maxBy', 'x', 3, 8], ['sum', 'x', 1, 19],
      ['min', 'x', 12, 1], ['max', 'x', 12, 1], ['minBy', 'x', 12, 1], ['maxBy', 'x', 12, 1], ['sum', 'x', 12, 1],
    ]),
  );
});

t.test('late data: within the allowed lateness it fires the window again; later, it goes to the side output, or is dropped and counted', async (t) => {
  // Window [0, 10), lateness 5: t=12 moves the watermark to 12 (fires 1 + 2 = 3), t=4 is
  // late but within the lateness (fires again: 7), t=16 passes the cleanup time 14, t=5 is
  // too late.
  const readings: Reading[] = [
    { sensor: 's', t: 1, value: 1 },
    { sensor: 's', t: 2, value: 2 },
    { sensor: 's', t: 12, value: 10 },
    { sensor: 's', t: 4, value: 4 },
    { sensor: 's', t: 16, value: 20 },
    { sensor: 's', t: 5, value: 100 },
  ];
  const params = { readings, size: 10, lateness: 5 };
  const sideOutput = await runJob(job, { parallelism: 1, args: ['late-data', JSON.stringify({ ...params, sideOutput: true })] }).result;
  t.same(sorted(sideOutput.collected.collect!), sorted([['sum', 1, 3], ['sum', 1, 7], ['sum', 12, 30], ['late', 5, 100]]));
  t.equal(sideOutput.operators.find((o) => o.uid === 'window')?.numLateRecordsDropped, 0, 'nothing dropped with a side output');
  const dropped = await runJob(job, { parallelism: 1, args: ['late-data', JSON.stringify({ ...params, sideOutput: false })] }).result;
  t.same(sorted(dropped.collected.collect!), sorted([['sum', 1, 3], ['sum', 1, 7], ['sum', 12, 30]]));
  t.equal(dropped.operators.find((o) => o.uid === 'window')?.numLateRecordsDropped, 1, 'numLateRecordsDropped in the job\'s metrics');
});

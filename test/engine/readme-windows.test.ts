// The README's "Windows" example is real code: it is the text of test/jobs/readme-windows.ts
// from its first import on (checked here), and its per-sensor and all-sensor minute means
// equal a plain computation over readings up to 3 s out of order (within its 5 s bound).
import t from 'tap';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { runJob } from '../../src/index.js';
import { committedLines } from '../helpers/at-most-once.js';
import { tempDir } from '../helpers/checkpoints.js';

const job = new URL('../jobs/readme-windows.js', import.meta.url);

t.test('the README shows the job module verbatim', async (t) => {
  const readme = readFileSync(new URL('../../../README.md', import.meta.url), 'utf8');
  const module = readFileSync(new URL('../../../test/jobs/readme-windows.ts', import.meta.url), 'utf8');
  const start = module.search(/^import /m);
  t.ok(start > 0, 'the module has imports after its header comment');
  const shown = module.slice(start).replaceAll("'../../src/index.js'", "'sluicegate'").trim();
  t.ok(readme.includes(shown), 'README "Windows" holds the example as tested');
});

t.test('minute means per sensor and over all sensors equal a plain computation', async (t) => {
  const dir = tempDir(t, 'readme-windows');
  const base = Date.UTC(2026, 0, 1, 12, 0, 0);
  // 900 readings of 3 sensors 1.7 s apart (25 minutes), every other one 3 s early.
  const readings = Array.from({ length: 900 }, (_, i) => ({ sensor: `s${i % 3}`, at: base + i * 1700 - (i % 2) * 3000, value: (i * 37) % 101 }));
  writeFileSync(join(dir, 'readings.jsonl'), readings.map((r) => JSON.stringify(r)).join('\n') + '\n');
  const result = await runJob(job, { parallelism: 2, args: [join(dir, 'readings.jsonl'), join(dir, 'out')] }).result;

  const minute = (at: number): number => Math.floor(at / 60_000) * 60_000;
  const sums = new Map<string, [number, number]>();
  const add = (k: string, v: number): void => {
    const [n, s] = sums.get(k) ?? [0, 0];
    sums.set(k, [n + 1, s + v]);
  };
  for (const r of readings) {
    add(`${r.sensor}\t${minute(r.at)}`, r.value);
    add(`*\t${minute(r.at)}`, r.value);
  }
  const lines = (all: boolean): string[] =>
    [...sums]
      .filter(([k]) => k.startsWith('*') === all)
      .map(([k, [n, s]]) => `${all ? k.slice(2) : k}\t${s / n}`)
      .sort();
  t.same(committedLines(join(dir, 'out', 'per-sensor')).sort(), lines(false), 'per sensor and minute');
  t.same(committedLines(join(dir, 'out', 'all')).sort(), lines(true), 'per minute over all sensors (windowAll)');
  t.same(committedLines(join(dir, 'out', 'too-late')), [], 'no reading later than the bound');
  t.equal(result.operators.reduce((n, op) => n + op.numLateRecordsDropped, 0), 0, 'none dropped');
});

// The sluice command: exit codes and one-line messages for user mistakes, help text.
import t from 'tap';
import { spawnSync } from 'node:child_process';
import { bin, cli, scenarios } from '../helpers/cli.js';

t.test('user mistakes exit 2 with one line naming the value and the fix', async (t) => {
  const cases: Array<[string[], RegExp]> = [
    [['run', '/nope/job.ts'], /^sluice: Job module \/nope\/job.ts does not exist: check the path\n$/],
    [['run', '--parallelism', '0', scenarios], /--parallelism must be an integer from 1 to 32768, got "0"/],
    [['run', '--bogus', scenarios], /unknown option '--bogus'/],
    [['run', '--state-backend', 'rocks', scenarios], /Allowed choices are lsm, hashmap/],
    [['run', new URL('../jobs/no-default.js', import.meta.url).pathname], /has no default export made with defineJob\(\): add `export default defineJob/],
    [['run', scenarios, 'text', JSON.stringify({ input: '/nope/corpus' })], /^sluice: Input \/nope\/corpus does not exist: check the input path\n$/],
  ];
  for (const [argv, message] of cases) {
    const { code, err } = await cli(argv);
    t.equal(code, 2, `exit 2 for ${argv.join(' ')}`);
    t.match(err, message);
    t.notMatch(err, /\n\s+at /, 'no stack trace');
  }
});

t.test('a failing user function exits 1 and shows the original stack', async (t) => {
  const { code, err } = await cli(['run', '-p', '2', scenarios, 'fail-map', JSON.stringify({ n: 100, failAt: 42 })]);
  t.equal(code, 1);
  t.match(err, /job failed: Operator "Exploding map" \(uid map-1\) failed in subtask 1\/2 on record 42/);
  t.match(err, /Caused by: RangeError: boom at 42\n\s+at /);
});

t.test('--json prints the summary with per-operator counts; job arguments pass through', async (t) => {
  const { code, out } = await cli(['run', '-p', '1', '--json', '--buffer-timeout', '0', scenarios, 'reduce', JSON.stringify({ words: ['a', 'b', 'a'] })]);
  t.equal(code, 0);
  const summary = JSON.parse(out) as { status: string; operators: { name: string; recordsIn: number; recordsOut: number }[] };
  t.equal(summary.status, 'FINISHED');
  t.same(summary.operators.map((o) => [o.name, o.recordsIn, o.recordsOut]), [
    ['Collection Source', 0, 3],
    ['Map', 3, 3],
    ['Reduce', 3, 3],
    ['Collect', 3, 0],
  ]);
});

t.test('the installed bin runs, documents its options, and exits 2 on a bad option', async (t) => {
  const help = spawnSync(process.execPath, [bin, 'run', '--help'], { encoding: 'utf8' });
  t.equal(help.status, 0);
  for (const option of ['--parallelism', '--buffer-timeout', '--batch-size', '--ring-size', '--json', '--state-backend', '--memtable-size', '--param <key=value>', '--typecheck']) t.match(help.stdout, option);
  const bad = spawnSync(process.execPath, [bin, 'run', '--parallelism', 'many', scenarios], { encoding: 'utf8' });
  t.equal(bad.status, 2);
  t.match(bad.stderr, /--parallelism must be an integer/);
});

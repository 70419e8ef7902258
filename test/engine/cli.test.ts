// The sluice command: exit codes and one-line messages for user mistakes (engine options
// named as sluice run flags), help text, and engine options given after the job module.
import t from 'tap';
import { spawnSync } from 'node:child_process';
import { bin, cli, scenarios } from '../helpers/cli.js';
import { createProgram } from '../../src/cli/main.js';
import { cliFlags } from '../../src/option-names.js';
import { runJob } from '../../src/index.js';

t.test('user mistakes exit 2 with one line naming the value and the fix', async (t) => {
  const cases: Array<[string[], RegExp]> = [
    [['run', '/nope/job.ts'], /^sluice: Job module \/nope\/job.ts does not exist: check the path\n$/],
    [['run', '--parallelism', '0', scenarios], /--parallelism must be an integer from 1 to 32768, got "0"/],
    [['run', '--bogus', scenarios], /unknown option '--bogus'/],
    [['run', '--state-backend', 'rocks', scenarios], /Allowed choices are lsm, hashmap/],
    [['run', new URL('../jobs/no-default.js', import.meta.url).pathname], /has no default export made with defineJob\(\): add `export default defineJob/],
    [['run', scenarios, 'text', JSON.stringify({ input: '/nope/corpus' })], /^sluice: Input \/nope\/corpus does not exist: check the job's input path\n$/],
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

t.test('engine option mistakes name the sluice run flags from the CLI, the runJob options from runJob (issue 13, item 12)', async (t) => {
  const job = [scenarios, 'reduce', JSON.stringify({ words: ['a'] })];
  const cases: Array<[string[], string]> = [
    [['--checkpoint-interval', '100'], 'sluice: --checkpoint-interval needs --checkpoint-dir: where checkpoints are written'],
    [['--ring-size', '5000'], 'sluice: --ring-size must be a power of two, got 5000 (try 4096)'],
    [['--resume'], 'sluice: --resume needs --checkpoint-dir: the checkpoint directory of the job to resume'],
    [['--savepoint-dir', '/tmp/sp'], 'sluice: --savepoint-dir needs --checkpoint-dir: savepoints are taken through checkpoint storage (with or without --checkpoint-interval)'],
    [['--allow-non-restored-state'], 'sluice: --allow-non-restored-state only applies with --from-savepoint'],
  ];
  for (const [flags, line] of cases) {
    const { code, err } = await cli(['run', ...flags, ...job]);
    t.equal(code, 2, `exit 2 for ${flags.join(' ')}`);
    t.equal(err, `${line}\n`, 'one line');
  }
  const api = await runJob(scenarios, { args: job.slice(1), checkpointIntervalMs: 100 }).result.catch((e: Error) => e);
  t.equal(String(api), 'UsageError: checkpointIntervalMs needs checkpointDir: where checkpoints are written');
  const ring = await runJob(scenarios, { args: job.slice(1), ringSizeBytes: 5000 }).result.catch((e: Error) => e);
  t.equal(String(ring), 'UsageError: ringSizeBytes must be a power of two, got 5000 (try 4096)');
});

t.test('every runJob option named in messages is a flag of sluice run', async (t) => {
  const run = createProgram({ out: () => {}, err: () => {} }, () => {}).commands.find((c) => c.name() === 'run')!;
  const longs = new Set(run.options.map((o) => o.long));
  for (const [name, flag] of Object.entries(cliFlags)) t.ok(longs.has(flag), `${name}: ${flag}`);
});

t.test('an engine option after the job module goes to the job, with one warning line (issue 13, item 11)', async (t) => {
  const job = [scenarios, 'reduce', JSON.stringify({ words: ['a', 'b', 'a'] })];
  const late = await cli(['run', '-p', '1', '--json', ...job, '--parallelism', '4', '--input', 'x']);
  t.equal(late.code, 0, 'the job runs');
  t.equal(
    late.err.split('\n')[0],
    'sluice: warning: --parallelism after the job module goes to the job, not to the engine: engine options come before the job module (sluice run [engine options] <job> [job arguments])',
  );
  t.same((JSON.parse(late.out) as { operators: { parallelism: number }[] }).operators.map((o) => o.parallelism), [1, 1, 1, 1], 'the engine did not get it');
  // The warning comes before the job module is loaded (a missing one here: no job runs).
  const two = await cli(['run', '/nope/job.js', '--checkpoint-dir=/tmp/nowhere', '--parallelism', '4', '-p', '3', '--parallelism']);
  t.same(two.err.split('\n'), [
    'sluice: warning: --checkpoint-dir, --parallelism after the job module go to the job, not to the engine: engine options come before the job module (sluice run [engine options] <job> [job arguments])',
    'sluice: Job module /nope/job.js does not exist: check the path',
    '',
  ]);
  const none = await cli(['run', '/nope/job.js', '--input', 'x', '-p', '3', '--parallelism-hint', '2']);
  t.equal(none.err, 'sluice: Job module /nope/job.js does not exist: check the path\n', 'job arguments that are no engine option, and short options, pass silently');
  const help = spawnSync(process.execPath, [bin, 'run', '--help'], { encoding: 'utf8' });
  t.match(help.stdout, 'Usage: sluice run [engine options] <job> [job arguments...]');
  t.match(help.stdout.replace(/\s+/g, ' '), 'Engine options come before the job module: everything after it goes to the job, engine options too');
});

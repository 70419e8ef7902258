// Job parameters and job info (issue 13, item 2): a value computed in defineJob is computed
// again in every worker, so the supported way to hand values to every subtask is job
// parameters fixed in the main thread (runJob's params, sluice run --param) and a job
// seed and start time fixed once per job. Every subtask, and defineJob in every worker,
// must see the same values, also after a killed worker's restart.
import t from 'tap';
import type { Test } from 'tap';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { ParameterTool, UsageError, runJob } from '../../src/index.js';
import { tempDir } from '../helpers/checkpoints.js';
import { cli } from '../helpers/cli.js';
import type { Seen } from '../jobs/job-parameters.js';

const job = new URL('../jobs/job-parameters.js', import.meta.url).pathname;

/** Every record saw the same parameters and info as the first, in its context and in defineJob. */
function assertAgreement(t: Test, seen: Seen[], params: Record<string, string>): void {
  const first = seen[0]!;
  t.same(first.params, params, 'ctx.getJobParameters() holds the parameters given');
  t.same(first.defined.params, params, 'env.getJobParameters() in defineJob holds them too');
  t.same(first.defined.info, first.info, 'env.getJobInfo() in defineJob equals ctx.getJobInfo()');
  const differing = seen.filter((s) => JSON.stringify([s.params, s.info, s.defined]) !== JSON.stringify([first.params, first.info, first.defined]));
  t.same(differing.slice(0, 3), [], 'every subtask saw the same parameters, seed and start time');
}

/** The seed of the first test's job: another job draws another. */
let firstSeed: number | undefined;

t.test('at parallelism 2, every subtask and defineJob in every worker see the same job parameters, seed and start time', async (t) => {
  const before = Date.now();
  const params = { records: '200', threshold: '0.25', 'with=equals': 'a=b' };
  const result = await runJob(job, { parallelism: 2, args: ['collect'], params }).result;
  const seen = result.collected.seen as Seen[];
  t.equal(seen.length, 200, 'fromSequence(1, records) read its size from a job parameter');
  t.same(new Set(seen.map((s) => s.subtask)), new Set([0, 1]), 'both map subtasks ran');
  t.equal(new Set(seen.map((s) => s.thread)).size, 2, 'in two worker threads');
  assertAgreement(t, seen, params);
  const { info } = seen[0]!;
  t.equal(info.jobId, result.jobId, 'the job id');
  t.ok(info.startTime >= before && info.startTime <= Date.now(), 'the start time is when runJob was called, epoch ms');
  t.ok(Number.isInteger(info.seed) && info.seed >= 0 && info.seed < 2 ** 32, 'the seed is a 32-bit unsigned integer');
  firstSeed = info.seed;
});

t.test('a killed worker is restarted with the same job parameters, seed and start time', async (t) => {
  const marker = join(tempDir(t, 'params-kill'), 'died');
  const params = { records: '3000', dieAt: '2200', marker };
  const result = await runJob(job, {
    parallelism: 2,
    args: ['collect'],
    params,
    checkpointDir: tempDir(t, 'params-ck'),
    checkpointIntervalMs: 50,
    restartStrategy: 'fixed-delay:attempts=3,delay=10ms',
  }).result;
  t.equal(result.restarts, 1, 'one restart after the worker died');
  const seen = result.collected.seen as Seen[];
  t.same(seen.map((s) => s.record).sort((a, b) => a - b), Array.from({ length: 3000 }, (_, i) => i + 1), 'every record exactly once');
  t.ok(seen.some((s) => s.record === 2200), 'the record the worker died at came from the restarted attempt');
  assertAgreement(t, seen, params);
});

t.test('sluice run --param hands parameters to every subtask; a missing one fails with exit 2 and one line', async (t) => {
  const reports = tempDir(t, 'params-cli');
  const ok = await cli(['run', '-p', '2', '--param', 'records=50', '--param', 'rate=100000', '--param', `reports=${reports}`, '--param', 'empty=', '--no-progress', job, 'report']);
  t.equal(ok.code, 0, ok.err);
  const seen = readdirSync(reports).map((f) => JSON.parse(readFileSync(join(reports, f), 'utf8')) as Seen);
  t.same(seen.map((s) => s.subtask).sort(), [0, 1], 'both map subtasks reported');
  assertAgreement(t, seen, { records: '50', rate: '100000', reports, empty: '' });
  t.not(seen[0]!.info.seed, firstSeed, 'another job draws another seed');
  const missing = await cli(['run', '-p', '2', '--no-progress', job, 'collect']);
  t.equal(missing.code, 2);
  t.equal(missing.err.split('\n')[0], 'sluice: Job parameter "records" is missing: pass it with --param records=<value> (runJob: params: { "records": \'...\' })');
});

t.test('a parameter a user function asks for and nobody gave fails the job at once (exit 2), not restarted', async (t) => {
  const result = await cli(['run', '-p', '2', '--no-progress', '--checkpoint-dir', tempDir(t, 'params-missing'), '--checkpoint-interval', '50', '--restart-strategy', 'fixed-delay:attempts=100,delay=10ms', job, 'missing-in-function']);
  t.equal(result.code, 2);
  t.equal(result.err.split('\n')[0], 'sluice: Job parameter "offset" is missing: pass it with --param offset=<value> (runJob: params: { "offset": \'...\' })');
  t.notMatch(result.err, /restarting/, 'not restarted');
});

t.test('a bad --param is refused with one line and exit 2', async (t) => {
  for (const [argv, first] of [
    [['--param', 'records'], `error: option '--param <key=value>' argument 'records' is invalid. --param takes key=value (e.g. --param threshold=10), got "records"`],
    [['--param', '=5'], `error: option '--param <key=value>' argument '=5' is invalid. --param takes key=value (e.g. --param threshold=10), got "=5"`],
    [['--param', 'a=1', '--param', 'a=2'], `error: option '--param <key=value>' argument 'a=2' is invalid. --param a is given twice ("1" and "2"): give each job parameter once`],
  ] as const) {
    const result = await cli(['run', ...argv, job, 'collect']);
    t.equal(result.code, 2, argv.join(' '));
    t.equal(result.err.split('\n')[0], first);
  }
});

t.test('runJob refuses params that are not strings, naming the key', async (t) => {
  const cases: Array<[unknown, string]> = [
    [{ records: 50 }, 'params.records must be a string, got number 50: job parameters are strings (read numbers with getNumber())'],
    [['records=50'], 'params must be an object of string values, e.g. { threshold: \'10\' }, got an array'],
    [{ '': 'x' }, 'params has an empty key: every job parameter needs a name'],
  ];
  for (const [params, message] of cases) {
    const error = await runJob(job, { args: ['collect'], params: params as Record<string, string> }).result.catch((e: unknown) => e);
    t.type(error, UsageError);
    t.equal((error as Error).message, message);
  }
});

t.test('ParameterTool reads strings, numbers, integers and booleans as Flink does, and refuses bad values', async (t) => {
  const p = ParameterTool.fromMap({ n: '12', x: '-0.5', flag: 'TRUE', off: 'false', word: 'fast', empty: '' });
  t.equal(p.get('word'), 'fast');
  t.equal(p.get('none'), undefined);
  t.equal(p.get('none', 'dflt'), 'dflt');
  t.equal(p.get('empty', 'dflt'), '', 'an empty value is given');
  t.ok(p.has('empty'));
  t.notOk(p.has('toString'), 'no inherited keys');
  t.equal(p.getNumber('x'), -0.5);
  t.equal(p.getNumber('none', 7), 7);
  t.equal(p.getInt('n'), 12);
  t.equal(p.getBoolean('flag'), true);
  t.equal(p.getBoolean('off'), false);
  t.equal(p.getBoolean('none', true), true);
  t.equal(p.getNumberOfParameters(), 6);
  t.ok(Object.isFrozen(p.toMap()), 'toMap() is frozen');
  t.throws(() => ((p.toMap() as Record<string, string>).n = '13'), TypeError);
  t.throws(() => p.getNumber('word'), new UsageError('Job parameter "word" must be a number, got "fast": pass e.g. --param word=10'));
  t.throws(() => p.getNumber('empty'), new UsageError('Job parameter "empty" must be a number, got "": pass e.g. --param empty=10'));
  t.throws(() => p.getInt('x'), new UsageError('Job parameter "x" must be an integer, got "-0.5": pass e.g. --param x=10'));
  t.throws(() => p.getBoolean('word'), new UsageError('Job parameter "word" must be true or false, got "fast"'));
  t.throws(() => p.getRequired('none'), UsageError);
  t.throws(() => ParameterTool.fromMap({ n: 1 } as unknown as Record<string, string>), new TypeError('ParameterTool.fromMap(): the value of "n" must be a string, got number'));
});

// `sluice savepoint` and `sluice stop` against fake control servers (exit codes, output,
// --target, --job), the new `sluice run` flags and the stop-with-savepoint summary, and
// one real `sluice run` asked for a savepoint, then stopped by SIGTERM with --savepoint-dir.
import t, { type Test } from 'tap';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { formatSummary, summarize } from '../../src/cli/summary.js';
import { ControlServer, controlSocketPath, type ControlHandlers } from '../../src/runtime/index.js';
import type { JobResult } from '../../src/runtime/index.js';
import { tempDir, waitFor } from '../helpers/checkpoints.js';
import { bin, cli, scenarios } from '../helpers/cli.js';

/** A fake running job `jobId` under `checkpointDir`: its handlers answer `<target or /sp-default>/<command>-<jobId>`. */
async function fakeJob(t: Test, checkpointDir: string, jobId: string, handlers?: Partial<ControlHandlers>): Promise<[string, string | undefined][]> {
  const calls: [string, string | undefined][] = [];
  const answer = (command: string) => async (target: string | undefined) => {
    calls.push([command, target]);
    return path.join(target ?? '/sp-default', `${command}-${jobId}`);
  };
  const server = await ControlServer.listen(controlSocketPath(checkpointDir, jobId), { savepoint: answer('savepoint'), stop: answer('stop'), ...handlers });
  t.teardown(() => server.close());
  return calls;
}

t.test('sluice savepoint prints the savepoint folder as one line; --target is resolved against the cwd', async (t) => {
  const ck = tempDir(t, 'cli-sp');
  const calls = await fakeJob(t, ck, 'job-1');
  t.same(await cli(['savepoint', ck]), { code: 0, out: '/sp-default/savepoint-job-1\n', err: '' });
  t.same(await cli(['savepoint', ck, '--target', 'some/rel']), { code: 0, out: `${path.resolve('some/rel', 'savepoint-job-1')}\n`, err: '' });
  t.same(await cli(['savepoint', path.join(ck, 'job-1'), '--target', '/abs']), { code: 0, out: '/abs/savepoint-job-1\n', err: '' }, 'the job folder works too');
  t.same(calls, [
    ['savepoint', undefined],
    ['savepoint', path.resolve('some/rel')],
    ['savepoint', '/abs'],
  ]);
});

t.test('sluice stop sends stop; --job chooses among several running jobs', async (t) => {
  const ck = tempDir(t, 'cli-sp');
  const callsA = await fakeJob(t, ck, 'job-a');
  const callsB = await fakeJob(t, ck, 'job-b');
  t.same(await cli(['stop', ck, '--job', 'job-b', '--target', '/t']), { code: 0, out: '/t/stop-job-b\n', err: '' });
  t.same(await cli(['savepoint', '--job', 'job-a', ck]), { code: 0, out: '/sp-default/savepoint-job-a\n', err: '' });
  t.same(callsA, [['savepoint', undefined]]);
  t.same(callsB, [['stop', '/t']]);
  const several = await cli(['stop', ck]);
  t.equal(several.code, 2);
  t.equal(several.err, `sluice: Several jobs are running in ${ck}: job-a, job-b; pass --job <id> to choose one\n`);
  t.equal(several.out, '');
});

t.test('usage mistakes exit 2 with one line; the job refusing or failing exits 1 with its message', async (t) => {
  const ck = tempDir(t, 'cli-sp');
  const none = await cli(['savepoint', ck]);
  t.same(none, { code: 2, out: '', err: `sluice: No running job in ${ck}: no control socket answers (is \`sluice run\` running with --checkpoint-dir ${ck}?)\n` });
  const missing = await cli(['stop', path.join(ck, 'nope')]);
  t.equal(missing.code, 2);
  t.match(missing.err, /^sluice: Checkpoint directory .*nope does not exist or is not a directory/);
  const noArg = await cli(['savepoint']);
  t.equal(noArg.code, 2);
  t.match(noArg.err, /missing required argument 'checkpoint-dir'[\s\S]*\(run "sluice savepoint --help" for the options\)/);
  const noValue = await cli(['stop', ck, '--job']);
  t.equal(noValue.code, 2);
  t.match(noValue.err, /option '--job <id>' argument missing/);

  await fakeJob(t, ck, 'job-1', {
    savepoint: () => Promise.reject(new Error('No savepoint target: pass --target, or start the job with --savepoint-dir')),
    stop: () => Promise.reject(new Error('checkpoint 4 expired before completing')),
  });
  t.same(await cli(['savepoint', ck]), { code: 1, out: '', err: 'sluice: savepoint failed: No savepoint target: pass --target, or start the job with --savepoint-dir\n' });
  t.same(await cli(['stop', ck]), { code: 1, out: '', err: 'sluice: stop with savepoint failed: checkpoint 4 expired before completing\n' });
});

t.test('help texts name the commands, their options and the Flink analogues', async (t) => {
  const top = await cli(['--help']);
  t.equal(top.code, 0);
  for (const command of ['run', 'savepoint', 'stop', 'checkpoints']) t.match(top.out, new RegExp(`\\n  ${command} `));
  const savepoint = await cli(['savepoint', '--help']);
  t.match(savepoint.out, /flink savepoint/);
  t.match(savepoint.out, /--target <dir>/);
  t.match(savepoint.out, /--job <id>/);
  t.match((await cli(['stop', '--help'])).out, /flink stop/);
  const run = await cli(['run', '--help']);
  for (const flag of [/--savepoint-dir <dir>/, /--from-savepoint <path>/, /--allow-non-restored-state/, /SIGTERM stops the job with a savepoint/, /flink run -s/]) t.match(run.out, flag);
});

t.test('--allow-non-restored-state without --from-savepoint is a usage mistake', async (t) => {
  const r = await cli(['run', '--allow-non-restored-state', scenarios, 'reduce', JSON.stringify({ words: ['a'] })]);
  t.equal(r.code, 2);
  t.match(r.err, /only applies with .*--from-savepoint/);
});

t.test('the summary names the savepoint a job was stopped with, in text and JSON', async (t) => {
  const result: JobResult = {
    jobId: 'job-s',
    status: 'FINISHED',
    wallTimeMs: 1500,
    elapsedMs: 1500,
    collected: {},
    operators: [{ uid: 'src', name: 'Source', parallelism: 1, recordsIn: 0, recordsOut: 10, earlierAttempts: { recordsIn: 0, recordsOut: 0, bytesIn: 0, bytesOut: 0 } }] as JobResult['operators'],
    subtasks: [],
    checkpoints: [],
    restarts: 0,
  };
  t.notMatch(formatSummary(summarize(result)), /savepoint/);
  t.notOk('savepoint' in summarize(result), 'no savepoint key without one');
  const stopped = summarize({ ...result, savepoint: '/sp/savepoint-job-s-3-abcdef' });
  t.equal(stopped.savepoint, '/sp/savepoint-job-s-3-abcdef');
  t.equal(JSON.parse(JSON.stringify(stopped)).savepoint, '/sp/savepoint-job-s-3-abcdef');
  t.match(formatSummary(stopped), /\nStopped with savepoint \/sp\/savepoint-job-s-3-abcdef$/);
});

t.test('a real sluice run: sluice savepoint while it runs, SIGTERM stops it with a savepoint into --savepoint-dir', async (t) => {
  const root = tempDir(t, 'cli-sp-run');
  const ck = path.join(root, 'ck');
  const sp = path.join(root, 'sp');
  // An input far too long to finish: the job ends only by the stop.
  const child = spawn(process.execPath, [bin, 'run', '-p', '1', '--no-progress', '--checkpoint-dir', ck, '--savepoint-dir', sp, scenarios, 'backpressure', JSON.stringify({ n: 1e12, spin: 500 })], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stderr.on('data', (d) => (stderr += d));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  t.teardown(() => void child.kill('SIGKILL'));
  const socketOf = (): string | undefined => (fs.existsSync(ck) ? fs.readdirSync(ck).map((j) => path.join(ck, j, 'control.sock')).find((p) => fs.existsSync(p)) : undefined);
  t.ok(await waitFor(() => socketOf() !== undefined, 60_000), `the job opened its control socket (stderr: ${stderr})`);

  const taken = await cli(['savepoint', ck]);
  t.equal(taken.code, 0, `sluice savepoint: ${taken.err}`);
  const savepoint = taken.out.trim();
  t.equal(path.dirname(savepoint), sp, 'written into --savepoint-dir');
  t.ok(fs.existsSync(path.join(savepoint, '_metadata')), 'a complete savepoint folder');

  child.kill('SIGTERM');
  t.equal(await exited, 0, `the stopped job exits 0 (stderr: ${stderr})`);
  const stoppedWith = /\nStopped with savepoint (\S+)\n/.exec(stderr)?.[1];
  t.ok(stoppedWith !== undefined && fs.existsSync(path.join(stoppedWith, '_metadata')), 'the summary names the final savepoint');
  t.match(stderr, 'SIGTERM: stopping the job with a savepoint');
  t.notOk(socketOf(), 'the control socket is gone with the job');

  const listed = await cli(['checkpoints', ck]);
  t.equal(listed.code, 0);
  t.match(listed.out, `Savepoint ${savepoint} (job `);
  t.match(listed.out, `Savepoint ${stoppedWith} (job `);
});

t.test('sluice run --from-savepoint of a folder that is no savepoint exits 2 with one line naming it', async (t) => {
  const empty = tempDir(t, 'cli-not-a-savepoint');
  const res = await cli(['run', '--no-progress', '--from-savepoint', empty, scenarios, 'reduce', JSON.stringify({ words: ['a'] })]);
  t.equal(res.code, 2);
  t.match(res.err, new RegExp(`^sluice: ${empty.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} is not a savepoint folder \\(it holds neither _metadata nor files/\\)`));
  t.equal(res.err.trim().split('\n').length, 1, 'one line, no stack trace');
  const both = await cli(['run', '--no-progress', '--resume', '--checkpoint-dir', empty, '--from-savepoint', empty, scenarios, 'reduce', '{}']);
  t.equal(both.code, 2);
  t.equal(both.err, 'sluice: give --resume (continue the latest job in the checkpoint directory) or --from-savepoint (start a new job from a savepoint), not both\n');
});

// Event-time timers through failures, end to end without coverage: timers live in keyed
// state, so after killed workers, a kill -9 of the process with --resume, and a savepoint
// restored at another parallelism (both backends), exactly the timers of each key fire,
// once, into a two-phase sink.
import t from 'tap';
import { spawn } from 'node:child_process';
import { runJob } from '../../src/index.js';
import { bin } from '../helpers/cli.js';
import { tempDir, waitFor } from '../helpers/checkpoints.js';
import { committedLines, exactlyOnce } from '../helpers/two-phase.js';

const timeJob = new URL('../jobs/time.js', import.meta.url);

/** Committed lines of a two-phase sink, as `key<TAB>timestamp`. */
function firings(dir: string): string[] {
  return committedLines(dir).map((l) => l.split('\t').slice(0, 2).join('\t'));
}

function expected(n: number, keys: number, delay: number): string[] {
  return Array.from({ length: n }, (_, i) => `k${i % keys}\t${i + delay}`).sort();
}

t.test('killed workers during checkpoints every 50 ms: every timer fires exactly once', async (t) => {
  const output = tempDir(t, 'timers-kill-out');
  const n = 40_000;
  const params = { n, keys: 97, delay: 5, rate: 10_000, outOfOrder: 3, output };
  const result = await runJob(timeJob, {
    parallelism: 2,
    args: ['generated-timers', JSON.stringify(params)],
    checkpointDir: tempDir(t, 'timers-kill-ck'),
    checkpointIntervalMs: 50,
    killWorkerEveryMs: 1500,
    restartStrategy: 'fixed-delay:attempts=1000,delay=20ms',
  }).result;
  t.ok(result.restarts >= 1, `${result.restarts} restarts`);
  t.same(exactlyOnce(firings(output), expected(n, 97, 5)).slice(0, 5), []);
});

t.test('kill -9 of the process, then --resume: every timer fires exactly once', async (t) => {
  const output = tempDir(t, 'timers-k9-out');
  const checkpointDir = tempDir(t, 'timers-k9-ck');
  const n = 30_000;
  const args = ['run', '-p', '2', '--checkpoint-dir', checkpointDir, '--checkpoint-interval', '100', '--no-progress'];
  const job = [new URL(timeJob).pathname, 'generated-timers', JSON.stringify({ n, keys: 13, delay: 7, rate: 6000, output })];
  const first = spawn(process.execPath, [bin, ...args, ...job], { stdio: 'ignore' });
  t.ok(await waitFor(() => firings(output).length > 1000, 60_000), 'the first run committed some firings');
  first.kill('SIGKILL');
  await new Promise((resolve) => first.on('exit', resolve));
  t.ok(firings(output).length < n, 'killed in the middle');
  const resumed = spawn(process.execPath, [bin, ...args, '--resume', ...job], { stdio: 'ignore' });
  const code = await new Promise<number | null>((resolve) => resumed.on('exit', resolve));
  t.equal(code, 0, 'the resumed run finishes');
  t.same(exactlyOnce(firings(output), expected(n, 13, 7)).slice(0, 5), []);
});

t.test('stop with a savepoint at parallelism 2, restore at 3 and at 1: timers redistributed by key group, each fires once (both backends)', async (t) => {
  for (const stateBackend of ['hashmap', 'lsm'] as const) {
    for (const parallelism of [3, 1]) {
      const output = tempDir(t, 'timers-sp-out');
      const n = 20_000;
      const params = { n, keys: 41, delay: 3, rate: 8000, output };
      const handle = runJob(timeJob, { parallelism: 2, stateBackend, args: ['generated-timers', JSON.stringify(params)], checkpointDir: tempDir(t, 'timers-sp-ck') });
      t.ok(await waitFor(() => firings(output).length > 0 || (handle.metrics().operators.find((o) => o.uid === 'timers')?.recordsIn ?? 0) > 4000, 60_000), 'under way');
      const savepoint = await handle.stop(tempDir(t, 'timers-sp'));
      await handle.result;
      const before = firings(output).length;
      t.ok(before < n, `${stateBackend}: stopped in the middle (${before} firings)`);
      await runJob(timeJob, { parallelism, stateBackend, fromSavepoint: savepoint, args: ['generated-timers', JSON.stringify(params)] }).result;
      t.same(exactlyOnce(firings(output), expected(n, 41, 3)).slice(0, 5), [], `${stateBackend}: p2 -> p${parallelism}`);
    }
  }
});

t.test('side outputs under checkpoints and killed workers: main and side output each exactly once in two-phase sinks', async (t) => {
  const good = tempDir(t, 'side-kill-good');
  const bad = tempDir(t, 'side-kill-bad');
  const n = 30_000;
  const result = await runJob(timeJob, {
    parallelism: 2,
    args: ['side-outputs-exactly-once', JSON.stringify({ n, badEvery: 10, rate: 8000, good, bad })],
    checkpointDir: tempDir(t, 'side-kill-ck'),
    checkpointIntervalMs: 50,
    killWorkerEveryMs: 1500,
    restartStrategy: 'fixed-delay:attempts=1000,delay=20ms',
  }).result;
  t.ok(result.restarts >= 1, `${result.restarts} restarts`);
  const all = Array.from({ length: n }, (_, i) => i);
  t.same(exactlyOnce(firings(good), all.filter((i) => i % 10 !== 0).map(String)).slice(0, 5), [], 'main output');
  t.same(exactlyOnce(firings(bad), all.filter((i) => i % 10 === 0).map((i) => `rejected ${-i - 1}`)).slice(0, 5), [], 'side output');
});

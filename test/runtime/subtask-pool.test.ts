// No thread of an attempt is terminated while it loads modules (runtime/subtask-pool.ts):
// on Node 20 that can abort the whole process (issue 13, item 6; native-notes §7).
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { BroadcastChannel } from 'node:worker_threads';
import t from 'tap';
import { waitAsyncOnWord } from '../../src/channel/wait.js';
import { JobCancelledError, runJob } from '../../src/index.js';
import { cancelGraceMs } from '../../src/runtime/index.js';
import { SubtaskPool, workerExecArgv } from '../../src/runtime/subtask-pool.js';
import type { SlotDeployment } from '../../src/task/index.js';

const sleepTask = new URL('../helpers/sleep-task.js', import.meta.url).href;
const slowLoadJob = new URL('../jobs/slow-load.js', import.meta.url).pathname;

t.test('a thread that dies is not replaced: destroying the pool later finds no thread loading the task file', async (t) => {
  const subtasks = 3;
  const pool = new SubtaskPool({ slots: subtasks, execArgv: [], workerMemoryMb: undefined, filename: sleepTask });
  t.teardown(() => pool.destroy());
  const started = new Int32Array(new SharedArrayBuffer(4));
  const runs = Array.from({ length: subtasks }, () => pool.run({ started, ms: 2000, subtasks: [] } as unknown as SlotDeployment).then((id) => id, (e: Error) => e));
  // Every task runs at once, each in its own thread.
  for (let seen = Atomics.load(started, 0); seen < subtasks; seen = Atomics.load(started, 0)) await waitAsyncOnWord(started, 0, seen, 5000);
  t.equal(pool.threads.length, subtasks, 'one thread per task');
  const victim = pool.threads[0]!;
  await victim.terminate();
  // piscina decides on a replacement in the same exit handler that fails the victim's task.
  const outcomes = await Promise.all(runs);
  t.equal(outcomes.filter((o) => o instanceof Error).length, 1, "the victim's task failed");
  t.equal(outcomes.filter((o) => typeof o === 'number').length, subtasks - 1, 'the others finished');
  t.equal(pool.threads.length, subtasks - 1, 'no thread was started in place of the dead one');
  // warm() replaces it, with one task that only loads; the live threads are kept.
  const kept = pool.threads.map((w) => w.threadId);
  pool.warm({ warmUp: true, moduleUrl: sleepTask, importUrl: sleepTask }, 0);
  pool.warm({ warmUp: true, moduleUrl: sleepTask, importUrl: sleepTask }, 0);
  t.equal(pool.warmUps, subtasks, 'one warm-up per thread not busy (two idle, one missing), however often warm() is called');
  t.equal(pool.threads.length, subtasks, 'the pool is whole again');
  t.same(pool.threads.map((w) => w.threadId).filter((id) => kept.includes(id)), kept, 'the live threads are the same threads');
  // The next attempt's tasks run on these threads: no new one starts.
  const again = await Promise.all(Array.from({ length: subtasks }, () => pool.run({ started, ms: 50, subtasks: [] } as unknown as SlotDeployment)));
  const live = pool.threads.map((w) => w.threadId);
  t.same(again.filter((id) => !live.includes(id as number)), [], 'the next tasks ran on the kept and the warmed threads');
  t.equal(pool.threads.length, subtasks, 'and started none');
  await pool.terminate(new Set([kept[0]!]));
  t.notOk(pool.threads.some((w) => w.threadId === kept[0]), 'terminate() ends the thread it names');
});

t.test('a job cancelled while its subtasks load their modules waits for them to load before it terminates their threads', async (t) => {
  const loaded = mkdtempSync(join(tmpdir(), 'sluice-loaded-'));
  const loading = mkdtempSync(join(tmpdir(), 'sluice-loading-'));
  t.teardown(() => rmSync(loaded, { recursive: true, force: true }));
  t.teardown(() => rmSync(loading, { recursive: true, force: true }));
  // Loading takes longer than the cancel grace: before the fix the pool was destroyed mid-load.
  const loadMs = cancelGraceMs + 1500;
  process.env['SLUICE_TEST_LOAD_MS'] = String(loadMs);
  process.env['SLUICE_TEST_LOADED_DIR'] = loaded;
  process.env['SLUICE_TEST_LOADING_DIR'] = loading;
  t.teardown(() => {
    delete process.env['SLUICE_TEST_LOAD_MS'];
    delete process.env['SLUICE_TEST_LOADED_DIR'];
    delete process.env['SLUICE_TEST_LOADING_DIR'];
  });
  const handle = runJob(slowLoadJob, { parallelism: 2 });
  // Cancelled once both subtasks' threads are evaluating the job module (the main thread
  // may take a while before: it compiles the workers' twin of the job).
  for (const until = Date.now() + 60_000; readdirSync(loading).length < 2; ) {
    if (Date.now() > until) throw new Error('the subtasks did not start loading the job module within 60 s');
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  handle.cancel();
  const start = performance.now();
  await t.rejects(handle.result, JobCancelledError);
  t.ok(performance.now() - start >= loadMs - 1000, `the job ended after its subtasks loaded (${(performance.now() - start).toFixed(0)} ms)`);
  t.equal(readdirSync(loaded).length, 2, 'both subtasks finished loading their modules: no thread was terminated mid-load');
});

// bench/jobs/startup.ts: an endless keyed sum whose 2 sink subtasks each post their thread
// id on a BroadcastChannel at their first record, in every attempt. Its compiled twin
// (workers load the engine's modules) and the TypeScript source (workers load the engine's
// worker bundle, graph/compile-job.ts).
for (const job of [fileURLToPath(new URL('../../bench/jobs/startup.js', import.meta.url)), fileURLToPath(new URL('../../../bench/jobs/startup.ts', import.meta.url))]) {
  t.test(`a restart deploys onto the threads of the failed attempt: only a killed thread is new (${basename(job)})`, async (t) => {
    const channel = new BroadcastChannel('sluicegate-bench-startup');
    t.teardown(() => channel.close());
    const sinkThreads: number[] = [];
    channel.onmessage = (e) => sinkThreads.push((e as unknown as { data: { threadId: number } }).data.threadId);
    const ck = mkdtempSync(join(tmpdir(), 'sluice-reuse-'));
    t.teardown(() => rmSync(ck, { recursive: true, force: true }));
    let kills = 0;
    const kills3 = new Promise<void>((resolve) => {
      const handle = runJob(job, {
        parallelism: 2,
        checkpointDir: ck,
        checkpointIntervalMs: 100,
        restartStrategy: 'fixed-delay:attempts=1000,delay=0',
        killWorkerEveryMs: 700,
        onEvent: (e) => {
          if (e.type === 'restored' && ++kills === 3) resolve();
        },
      });
      t.teardown(async () => {
        handle.cancel();
        await handle.result.catch(() => undefined);
      });
    });
    await kills3;
    // The run's threads are at most its 4 subtasks' (2 slots with slot sharing) plus one per
    // kill; a sink subtask may land on any of them (a source's before). Wait for more first records than that allows.
    const subtasks = 4;
    const deadline = Date.now() + 60_000;
    while (sinkThreads.length <= subtasks + kills && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    const distinct = new Set(sinkThreads).size;
    t.ok(sinkThreads.length > distinct, `sink subtasks of later attempts ran on threads of earlier ones (${sinkThreads.length} first records on ${distinct} threads)`);
    t.ok(distinct <= subtasks + kills, `at most one new thread per kill: ${distinct} sink threads over ${kills + 1} attempts (without reuse up to ${2 * (kills + 1)})`);
  });
}

t.test("workers run with the main thread's flags minus loader hooks and the V8 flags a worker refuses", async (t) => {
  t.same(
    workerExecArgv(['--enable-source-maps', '--import', 'tsx', '--max-old-space-size=4096', '--no-turbo-inlining', '--stack-size', '2000', '--require=x.cjs', '--max-semi-space-size=64']),
    ['--enable-source-maps'],
    'V8 flags (with = or a separate value) and hooks are left out; Node options stay',
  );
  t.same(workerExecArgv([]), []);
  t.same(workerExecArgv(['--enable-source-maps', '--no-warnings']), ['--enable-source-maps', '--no-warnings'], 'flags a worker accepts are kept');
  // Given a refused flag anyway, the pool refuses it at once (piscina would throw inside run()).
  t.throws(() => new SubtaskPool({ slots: 1, execArgv: ['--enable-source-maps', '--no-turbo-inlining'], workerMemoryMb: undefined, filename: sleepTask }), /Worker threads refuse the flags --no-turbo-inlining: pass execArgv through workerExecArgv/);
});

t.test('sluice run under node with V8 flags runs the job (workers have the flags already)', async (t) => {
  const out = mkdtempSync(join(tmpdir(), 'v8-flags-'));
  t.teardown(() => rmSync(out, { recursive: true, force: true }));
  const bin = fileURLToPath(new URL('../../src/cli/bin.js', import.meta.url));
  const pacedCounts = fileURLToPath(new URL('../jobs/paced-counts.js', import.meta.url));
  const run = spawnSync(process.execPath, ['--max-old-space-size=2048', '--stack-size=1500', '--no-turbo-inlining', bin, 'run', '-p', '2', pacedCounts, '--count', '1000', '--keys', '4', '--output', out], { encoding: 'utf8', timeout: 60_000 });
  t.equal(run.status, 0, `exit 0 (stderr: ${run.stderr.slice(0, 500)})`);
  const lines = readdirSync(out)
    .filter((f) => !f.startsWith('.'))
    .flatMap((f) => readFileSync(join(out, f), 'utf8').split('\n').filter((l) => l !== ''));
  t.equal(lines.length, 1000, 'every record reached the sink');
  t.same(lines.filter((l) => l.startsWith('0\t')).length, 250);
});

// Fault injection (`killWorkerEveryMs`, `killWorkerLimit`, `killWorkerAfterCheckpoint`): a
// limit stops the kills after that many over the whole run, and the job then finishes with
// exactly-once output; the limit is refused without a kill period, or out of range; kills
// after a checkpoint come only in attempts that completed one, so every restart restores.
import t from 'tap';
import type { Test } from 'tap';
import { JobCancelledError, runJob } from '../../src/index.js';
import type { JobEvent, JobResult, RunJobOptions } from '../../src/index.js';
import { main } from '../../src/cli/main.js';
import { tempDir } from '../helpers/checkpoints.js';
import { pacedCountsJob, pacedCountsProblems } from '../helpers/paced-counts.js';

const count = 40_000;

/** 2 s of paced records (40,000 over 8 keys) at parallelism 2 with `options`' fault injection; the events, result and output folder. */
async function pacedRunWithKills(t: Test, options: RunJobOptions): Promise<{ events: JobEvent[]; result: JobResult; out: string }> {
  const events: JobEvent[] = [];
  const out = tempDir(t, 'fi-out');
  const result = await runJob(pacedCountsJob, {
    parallelism: 2,
    checkpointDir: tempDir(t, 'fi-ck'),
    restartStrategy: 'fixed-delay:attempts=100,delay=10ms',
    onEvent: (e) => events.push(e),
    args: ['--count', String(count), '--keys', '8', '--output', out, '--rate', '20000'],
    ...options,
  }).result;
  return { events, result, out };
}

t.test('killWorkerLimit: kills every 40 ms stop after 3, then the job finishes exactly once', async (t) => {
  // Without the limit the killer would fire dozens of times in the 2 s of records.
  const { events, result, out } = await pacedRunWithKills(t, { checkpointIntervalMs: 50, killWorkerEveryMs: 40, killWorkerLimit: 3 });
  const kills = events.filter((e) => e.type === 'worker-killed').length;
  t.equal(kills, 3, 'exactly 3 workers killed');
  t.equal(result.restarts, 3, 'one restart per kill');
  t.same(pacedCountsProblems(out, count, 8), [], 'every count exactly once');
});

t.test('killWorkerLimit without killWorkerEveryMs, or below 1, is refused naming the options', async (t) => {
  const alone = await runJob(pacedCountsJob, { killWorkerLimit: 2 }).result.catch((e: unknown) => e);
  t.match(alone, { name: 'UsageError', message: 'killWorkerLimit needs killWorkerEveryMs: it limits how many workers fault injection kills' });
  const zero = await runJob(pacedCountsJob, { killWorkerEveryMs: 100, killWorkerLimit: 0 }).result.catch((e: unknown) => e);
  t.match(zero, { name: 'UsageError', message: 'killWorkerLimit must be an integer from 1 to 1000000, got 0' });
  const err: string[] = [];
  t.equal(await main(['run', '--kill-worker-limit', '2', pacedCountsJob], { out: () => {}, err: (s) => err.push(s) }), 2, 'the CLI exits 2');
  t.match(err.join(''), '--kill-worker-limit needs --kill-worker-every', 'the flags are named');
});

t.test('killWorkerAfterCheckpoint: kills every 10 ms wait for a completed checkpoint in each attempt; every restart restores one', async (t) => {
  // Checkpoints every 150 ms against kills every 10 ms: by the clock alone almost every
  // kill would come before the attempt's first checkpoint.
  const { events, result, out } = await pacedRunWithKills(t, { checkpointIntervalMs: 150, killWorkerEveryMs: 10, killWorkerAfterCheckpoint: true, killWorkerLimit: 4 });
  t.equal(events.filter((e) => e.type === 'worker-killed').length, 4, 'exactly 4 workers killed');
  t.equal(result.restarts, 4, 'one restart per kill');
  // Each kill follows a checkpoint completed since the attempt began (the previous
  // "restored", or the run's start), and each restart restores the newest one.
  let completedInAttempt: number | undefined;
  const problems: string[] = [];
  for (const e of events) {
    if (e.type === 'checkpoint-completed') completedInAttempt = e.checkpointId;
    else if (e.type === 'worker-killed' && completedInAttempt === undefined) problems.push('a kill before any checkpoint of its attempt');
    else if (e.type === 'restored') {
      if (e.checkpointId !== completedInAttempt) problems.push(`restored ${e.checkpointId}, the newest completed was ${completedInAttempt}`);
      completedInAttempt = undefined;
    }
  }
  t.same(problems, [], 'kills only after a checkpoint of the attempt; each restart restored the newest');
  t.equal(events.filter((e) => e.type === 'restored').length, 4, 'every restart restored a checkpoint');
  t.same(pacedCountsProblems(out, count, 8), [], 'every count exactly once');
});

t.test('killWorkerAfterCheckpoint without a kill period or checkpoints is refused naming the options', async (t) => {
  const alone = await runJob(pacedCountsJob, { killWorkerAfterCheckpoint: true }).result.catch((e: unknown) => e);
  t.match(alone, { name: 'UsageError', message: 'killWorkerAfterCheckpoint needs killWorkerEveryMs: it delays the kills of fault injection' });
  const noCheckpoints = await runJob(pacedCountsJob, { killWorkerEveryMs: 100, killWorkerAfterCheckpoint: true }).result.catch((e: unknown) => e);
  t.match(noCheckpoints, { name: 'UsageError', message: 'killWorkerAfterCheckpoint needs checkpointIntervalMs: kills wait for a completed checkpoint' });
  const err: string[] = [];
  t.equal(await main(['run', '--kill-worker-every', '100', '--kill-worker-after-checkpoint', pacedCountsJob], { out: () => {}, err: (s) => err.push(s) }), 2, 'the CLI exits 2');
  t.match(err.join(''), '--kill-worker-after-checkpoint needs --checkpoint-interval', 'the flags are named');
});

t.test('a job cancelled while it restarts ends cancelled at once, with the failure as the cause', async (t) => {
  for (const when of ['worker-killed', 'restarting'] as const) {
    // An hour's restart delay: the cancel must end it, not wait it out.
    let handle: ReturnType<typeof runJob> | undefined;
    const events: JobEvent[] = [];
    handle = runJob(pacedCountsJob, {
      parallelism: 2,
      checkpointDir: tempDir(t, 'fi-cancel-ck'),
      checkpointIntervalMs: 50,
      killWorkerEveryMs: 40,
      restartStrategy: 'fixed-delay:attempts=100,delay=60m',
      onEvent: (e) => {
        events.push(e);
        if (e.type === when) handle?.cancel();
      },
      args: ['--count', '1000000', '--keys', '8', '--output', tempDir(t, 'fi-cancel-out'), '--rate', '20000'],
    });
    const started = performance.now();
    const error = await handle.result.then(
      () => undefined,
      (e: unknown) => e as Error,
    );
    t.type(error, JobCancelledError, `cancelled on "${when}": a JobCancelledError (${String(error)})`);
    t.ok(performance.now() - started < 300_000, `cancelled on "${when}": the hour's restart delay was not waited out`);
    if (when === 'restarting') t.match((error as Error).cause, { name: 'SubtaskError' }, 'its cause is the failure the job was restarting from');
    t.equal(events.filter((e) => e.type === 'restarting').length, when === 'restarting' ? 1 : 0, 'no further attempt started');
  }
});

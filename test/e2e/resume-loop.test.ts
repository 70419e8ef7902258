// The supervisor pattern of the README (issue 13, item 5): `sluice run --resume` with the
// same arguments after every kill -9, as systemd Restart=always or a shell loop runs it.
// Kills land at seeded random moments, the first one before any checkpoint completed, so
// the second run finds nothing to restore and starts over; the last run finishes, and
// the output must hold every running count exactly once (the reference is computed here).
import t from 'tap';
import { readdirSync } from 'node:fs';
import { readJobStatus } from '../../src/checkpoint/index.js';
import { completedCheckpoints, tempDir, waitFor } from '../helpers/checkpoints.js';
import { spawnSluice } from '../helpers/cli.js';
import { hiddenParts, pacedCountsJob, pacedCountsProblems } from '../helpers/paced-counts.js';
import { seededRandom, testSeed } from '../helpers/random.js';

t.test('kill -9 at random moments, each followed by the same `sluice run --resume`: the output is exactly once', async (t) => {
  const seed = testSeed(1305);
  const random = seededRandom(seed);
  t.comment(`seed ${seed} (replay with SLUICE_SEED=${seed})`);
  const ck = tempDir(t, 'loop-ck');
  const out = tempDir(t, 'loop-out');
  // 2 s of input at 6000 records per second: more than the killed runs get through.
  const count = 12_000;
  const keys = 11;
  const argv = ['run', '--resume', '-p', '2', '--checkpoint-dir', ck, '--checkpoint-interval', '200', '--no-progress', pacedCountsJob];
  const jobArgs = ['--count', `${count}`, '--keys', `${keys}`, '--rate', '6000', '--output', out];

  /** When the job's current run recorded its start (job-status RUNNING), or 0. */
  const runningSince = (): number => {
    const [jobId] = readdirSync(ck);
    const status = jobId === undefined ? undefined : readJobStatus(ck, jobId);
    return status?.state === 'RUNNING' ? status.startedAt : 0;
  };
  let lastStart = 0;
  // A run killed between a checkpoint's chk-<n> folder and its _metadata leaves chk-<n>
  // without it, which the next run reports first ("checkpoint n is unusable, trying an
  // older one: chk-n/_metadata is missing"); what it resumes from comes next.
  const resumeLine = (stderr: string): string | undefined => stderr.split('\n').find((line) => !/^sluice: checkpoint \d+ is unusable, trying an older one: chk-\d+\/_metadata is missing/.test(line));
  /** What a run says it resumes from, by what the runs before left. */
  const expectedResumeLine = (): RegExp => {
    if (lastStart === 0) return /^sluice: no job to resume in .*: starting job [0-9a-f-]{36} from the beginning$/;
    if (completedCheckpoints(ck).length === 0) return /^sluice: job [0-9a-f-]{36} has no completed checkpoint in .*: starting it from the beginning \(/;
    return /^sluice: restored from checkpoint \d+$/;
  };
  // Kill moments: within 100 ms of the start (before the workers have loaded, so before any
  // checkpoint can complete); anywhere in the 1.2 s after the start; up to 0.4 s after the
  // run's first checkpoint (so the last run surely restores one).
  const moments = ['start', 'any', 'after-checkpoint'] as const;
  for (const [i, moment] of moments.entries()) {
    const expected = expectedResumeLine();
    const run = spawnSluice(t, [...argv, ...jobArgs]);
    t.ok(await waitFor(() => runningSince() > lastStart, 30_000, 5), `run ${i + 1} started`);
    lastStart = runningSince();
    const retained = completedCheckpoints(ck).at(-1) ?? 0;
    if (moment === 'after-checkpoint') t.ok(await waitFor(() => (completedCheckpoints(ck).at(-1) ?? 0) > retained, 30_000, 5), `run ${i + 1} completed a checkpoint`);
    const delayMs = moment === 'start' ? Math.floor(random() * 100) : moment === 'any' ? 300 + Math.floor(random() * 900) : Math.floor(random() * 400);
    await new Promise((resolve) => setTimeout(resolve, delayMs));
    run.kill();
    t.equal(await run.exit, null, `run ${i + 1} killed ${delayMs} ms after its ${moment === 'after-checkpoint' ? 'first checkpoint' : 'start'}; checkpoints now: ${completedCheckpoints(ck).join(', ') || 'none'}`);
    if (moment === 'start') t.same(completedCheckpoints(ck), [], 'the first kill came before any checkpoint completed');
    t.match(resumeLine(run.err()), expected, `run ${i + 1} says what it resumed from`);
  }
  const expected = expectedResumeLine();
  const last = spawnSluice(t, [...argv, ...jobArgs]);
  t.equal(await last.exit, 0, `the last run finishes (${last.err().slice(-300)})`);
  t.match(resumeLine(last.err()), expected);
  const [jobId, ...others] = readdirSync(ck);
  t.same(others, [], 'one job folder: every run continued the same job');
  t.equal(readJobStatus(ck, jobId!)?.state, 'FINISHED');
  t.same(hiddenParts(out), [], 'no in-progress or pending part left');
  t.same(pacedCountsProblems(out, count, keys), [], `every running count exactly once (seed ${seed})`);
});

// Checkpoints, recovery and exactly-once, end to end on the word count:
// - the whole process killed with SIGKILL, then `sluice run --resume`: output exactly once;
// - a corrupt latest checkpoint: refused with a message, the previous one is used, and
//   what the file sink published after it is taken back (exactly once; issue 13, item 7).
import t from 'tap';
import { spawn, spawnSync } from 'node:child_process';
import { readdirSync, truncateSync } from 'node:fs';
import { join } from 'node:path';
import { completedCheckpoints, tempDir, waitFor } from '../helpers/checkpoints.js';
import { multipliedCorpus, readWordCountOutput, referenceCounts, wordcountJobJs as wordcountJob, wrongWords } from '../helpers/wordcount.js';

const bin = new URL('../../src/cli/bin.js', import.meta.url).pathname;
/** The word count on this tree's engine and file sink (examples/ import the installed package). */
const fallbackJob = new URL('../jobs/fallback-wordcount.js', import.meta.url).pathname;

t.test('kill -9 of the whole process, then --resume: the output holds every count exactly once', async (t) => {
  const input = multipliedCorpus(1, (fn) => t.teardown(fn));
  const out = tempDir(t, 'resume-out');
  const ck = tempDir(t, 'resume-ck');
  const args = ['run', '-p', '2', '--checkpoint-dir', ck, '--checkpoint-interval', '100', '--no-progress', wordcountJob, '--input', input, '--output', out];
  const child = spawn(process.execPath, [bin, ...args], { stdio: 'ignore' });
  const exited = new Promise((resolve) => child.once('exit', resolve));
  t.ok(await waitFor(() => completedCheckpoints(ck).length > 0 && completedCheckpoints(ck)[0]! >= 3, 60_000), 'three checkpoints completed');
  child.kill('SIGKILL');
  await exited;
  const reference = referenceCounts(input);
  const total = [...reference.values()].reduce((a, b) => a + b, 0);
  t.ok(readWordCountOutput(out).lines < total, 'killed in the middle: the output was incomplete');
  const resumed = spawnSync(process.execPath, [bin, ...args.slice(0, 1), '--resume', ...args.slice(1)], { encoding: 'utf8', timeout: 180_000 });
  t.equal(resumed.status, 0, `the resumed run exits 0 (${resumed.stderr.slice(-300)})`);
  t.match(resumed.stderr, /restored from checkpoint \d+/);
  const output = readWordCountOutput(out);
  t.same(wrongWords(output, reference, true).slice(0, 5), [], 'every count 1..n exactly once across both runs');
  t.equal(output.lines, total);

  // `sluice checkpoints` lists the retained checkpoint with its figures.
  const listed = spawnSync(process.execPath, [bin, 'checkpoints', ck], { encoding: 'utf8' });
  t.equal(listed.status, 0);
  t.match(listed.stdout, /^Job [0-9a-f-]{36}\nid +kind +completed +duration +sync +async +alignment +full size +incremental +parallelism\n\d+ +checkpoint +\d{4}-/);
  const json = spawnSync(process.execPath, [bin, 'checkpoints', '--json', ck], { encoding: 'utf8' });
  const jobs = JSON.parse(json.stdout) as { jobId: string; checkpoints: { checkpointId: number; stats: { fullSizeBytes: number } }[] }[];
  t.equal(jobs.length, 1);
  t.equal(jobs[0]!.checkpoints.length, 1, 'one retained checkpoint (--retained-checkpoints 1)');
  t.ok(jobs[0]!.checkpoints[0]!.stats.fullSizeBytes > 0, 'it holds keyed state');
});

t.test('a corrupt latest checkpoint is refused with a message and the previous one is used', async (t) => {
  const input = multipliedCorpus(1, (fn) => t.teardown(fn));
  const out = tempDir(t, 'corrupt-out');
  const ck = tempDir(t, 'corrupt-ck');
  const args = ['run', '-p', '2', '--checkpoint-dir', ck, '--checkpoint-interval', '100', '--retained-checkpoints', '3', '--no-progress', fallbackJob, '--input', input, '--output', out];
  const child = spawn(process.execPath, [bin, ...args], { stdio: 'ignore' });
  const exited = new Promise((resolve) => child.once('exit', resolve));
  t.ok(await waitFor(() => completedCheckpoints(ck).length >= 3, 60_000), 'three retained checkpoints');
  child.kill('SIGKILL');
  await exited;
  const ids = completedCheckpoints(ck);
  const latest = ids[ids.length - 1]!;
  const job = readdirSync(ck)[0]!;
  truncateSync(join(ck, job, `chk-${latest}`, '_metadata'), 10);
  const resumed = spawnSync(process.execPath, [bin, ...args.slice(0, 1), '--resume', ...args.slice(1)], { encoding: 'utf8', timeout: 180_000 });
  t.equal(resumed.status, 0, `the resumed run exits 0 (${resumed.stderr.slice(-300)})`);
  t.match(resumed.stderr, new RegExp(`checkpoint ${latest} is unusable, trying an older one: .*_metadata`));
  const restored = /restored from checkpoint (\d+)/.exec(resumed.stderr);
  t.ok(restored !== null && Number(restored[1]) < latest, `restored from ${restored?.[1]}, older than the corrupt ${latest}`);
  // The parts published after the restored checkpoint were taken back before the replay.
  t.match(resumed.stderr, new RegExp(`falling back past checkpoints? [0-9, ]*${latest} to checkpoint ${restored![1]}: the sinks took back what they published after it`));
  t.same(wrongWords(readWordCountOutput(out), referenceCounts(input), true).slice(0, 5), [], 'every count 1..n exactly once');
});

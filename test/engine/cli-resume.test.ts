// `sluice run --resume` without a completed checkpoint (issue 13, item 5): it starts the job
// from the beginning, under the id of the killed run, after its sinks discard what that run
// left uncommitted; a FINISHED job is still refused, and damaged checkpoints too. The loop
// of kill -9 and --resume through real processes: test/e2e/resume-loop.test.ts.
import t from 'tap';
import { mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { CheckpointStorage, readJobStatus, writeJobStatus } from '../../src/checkpoint/index.js';
import { runJob } from '../../src/index.js';
import { tempDir, waitFor } from '../helpers/checkpoints.js';
import { cli } from '../helpers/cli.js';
import { hiddenParts, pacedCountsJob, pacedCountsProblems } from '../helpers/paced-counts.js';

const count = 3000;
const keys = 7;

/** The arguments of the paced counts job writing into `out`. */
const jobArgs = (out: string): string[] => ['--count', `${count}`, '--keys', `${keys}`, '--output', out];

/** `sluice run --resume` of the paced counts into `out`, checkpoints in `ck`. */
function resume(ck: string, out: string, extra: string[] = []): Promise<{ code: number; out: string; err: string }> {
  return cli(['run', '--resume', '-p', '2', '--checkpoint-dir', ck, '--checkpoint-interval', '100', '--no-progress', ...extra, pacedCountsJob, ...jobArgs(out)]);
}

const firstLine = (text: string): string => text.split('\n')[0]!;

t.test('--resume with nothing to resume starts the job from the beginning; once FINISHED it is refused', async (t) => {
  const ck = tempDir(t, 'resume-new-ck');
  const out = tempDir(t, 'resume-new-out');
  const first = await resume(ck, out);
  t.equal(first.code, 0, first.err);
  const [jobId] = readdirSync(ck);
  t.equal(firstLine(first.err), `sluice: no job to resume in ${ck}: starting job ${jobId} from the beginning`);
  t.same(pacedCountsProblems(out, count, keys), [], 'every running count exactly once');
  t.equal(readJobStatus(ck, jobId!)?.state, 'FINISHED');

  const again = await resume(ck, out);
  t.equal(again.code, 2);
  t.match(firstLine(again.err), new RegExp(`^sluice: Nothing to resume: job ${jobId} in ${ck} has FINISHED \\(at \\d{4}-\\d\\d-\\d\\dT[\\d:.]+Z\\); start it again without --resume$`));
  t.equal(again.err.split('\n').length, 2, 'one line');
  t.same(readdirSync(ck), [jobId], 'no new job folder');
});

t.test('--resume of a job killed before its first checkpoint: the same job starts over, its uncommitted parts discarded', async (t) => {
  const ck = tempDir(t, 'resume-early-ck');
  const out = tempDir(t, 'resume-early-out');
  // An older job that finished, and the killed one: started later, no completed checkpoint
  // (chk-1 was in flight), an in-progress and a pending part left in the output.
  CheckpointStorage.open(ck, 'finished-job');
  writeJobStatus(ck, 'finished-job', { state: 'FINISHED', startedAt: Date.now() - 60_000, endedAt: Date.now() - 50_000 });
  const killed = CheckpointStorage.open(ck, 'killed-job');
  writeJobStatus(ck, 'killed-job', { state: 'RUNNING', startedAt: Date.now() - 10_000 });
  mkdirSync(join(killed.jobDir, 'chk-1'));
  writeFileSync(join(out, '.part-0-0.inprogress'), '0\t1\n0\t2\n');
  writeFileSync(join(out, '.part-1-0.pending'), '1\t1\n');

  const { code, err, out: json } = await resume(ck, out, ['--json']);
  t.equal(code, 0, err);
  t.equal(firstLine(err), `sluice: job killed-job has no completed checkpoint in ${ck}: starting it from the beginning (its sinks discard what the earlier run did not commit)`);
  t.equal((JSON.parse(json) as { jobId: string }).jobId, 'killed-job', 'the killed job goes on, not the finished one nor a new one');
  t.same(hiddenParts(out), [], 'no hidden part left');
  t.same(pacedCountsProblems(out, count, keys), [], 'every running count exactly once: the killed run left nothing visible');
  t.equal(readJobStatus(ck, 'killed-job')?.state, 'FINISHED');
  t.same(readdirSync(ck).sort(), ['finished-job', 'killed-job']);
  t.notOk(killed.completedCheckpointIds().includes(1), 'checkpoint ids go on after the one in flight');
});

t.test('--resume of a job started from a savepoint and killed before its first checkpoint starts from that savepoint again', async (t) => {
  const out = tempDir(t, 'resume-sp-out');
  // A first job, stopped with a savepoint part way through its input.
  const first = runJob(pacedCountsJob, { parallelism: 2, checkpointDir: tempDir(t, 'resume-sp-ck1'), args: [...jobArgs(out), '--rate', '3000'] });
  t.ok(await waitFor(() => first.metrics().operators.some((o) => o.recordsOut > 0), 30_000), 'the first job runs');
  const savepoint = await first.stop(tempDir(t, 'resume-sp'));
  t.ok(pacedCountsProblems(out, count, keys).length > 0, 'its output is partial');
  // The killed run of a second job started from that savepoint: RUNNING, no checkpoint, a pending part left.
  const ck = tempDir(t, 'resume-sp-ck2');
  CheckpointStorage.open(ck, 'from-savepoint');
  writeJobStatus(ck, 'from-savepoint', { state: 'RUNNING', startedAt: Date.now(), fromSavepoint: savepoint });
  writeFileSync(join(out, '.part-0-99.pending'), '0\t1\n');
  const { code, err } = await resume(ck, out);
  t.equal(code, 0, err);
  t.equal(firstLine(err).replace(/\(checkpoint \d+\)$/, '(checkpoint n)'), `sluice: restored from savepoint ${savepoint} (checkpoint n)`);
  t.same(hiddenParts(out), []);
  t.same(pacedCountsProblems(out, count, keys), [], 'every running count exactly once across the savepoint');
  t.equal(readJobStatus(ck, 'from-savepoint')?.state, 'FINISHED');
});

t.test('--resume refuses a job whose completed checkpoints are all damaged', async (t) => {
  const ck = tempDir(t, 'resume-damaged-ck');
  const out = tempDir(t, 'resume-damaged-out');
  const damaged = CheckpointStorage.open(ck, 'damaged-job');
  mkdirSync(join(damaged.jobDir, 'chk-3'));
  writeFileSync(join(damaged.jobDir, 'chk-3', '_metadata'), 'not a checkpoint');
  const { code, err } = await resume(ck, out);
  t.equal(code, 2);
  const lines = err.split('\n');
  t.match(lines[0], /^sluice: checkpoint 3 is unusable, trying an older one: chk-3\/_metadata /);
  t.equal(lines[1], `sluice: Cannot resume job damaged-job in ${ck}: its completed checkpoints (3) are all damaged; start it again without --resume to run it from the beginning`);
  t.equal(lines.length, 3, 'two lines');
  t.same(readdirSync(out), [], 'nothing written');
});

// The job seed and start time are fixed once per job (issue 13, item 2): a `sluice run
// --resume` in a new process after kill -9 gives every subtask the seed and start time of
// the first run, read from the job's `job-info` file in its checkpoint folder.
import t from 'tap';
import { spawn, spawnSync } from 'node:child_process';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { completedCheckpoints, tempDir, waitFor } from '../helpers/checkpoints.js';
import { bin } from '../helpers/cli.js';
import type { Seen } from '../jobs/job-parameters.js';

const job = new URL('../jobs/job-parameters.js', import.meta.url).pathname;

t.test('kill -9, then --resume: every subtask of both runs sees the same seed and start time, and the --param values', async (t) => {
  const ck = tempDir(t, 'info-ck');
  const reports = tempDir(t, 'info-reports');
  const params = { records: '2500', rate: '1000', reports };
  const paramArgs = Object.entries(params).flatMap(([k, v]) => ['--param', `${k}=${v}`]);
  const args = ['run', '-p', '2', '--checkpoint-dir', ck, '--checkpoint-interval', '100', '--no-progress', ...paramArgs, job, 'report'];
  const child = spawn(process.execPath, [bin, ...args], { stdio: 'ignore' });
  const exited = new Promise((resolve) => child.once('exit', resolve));
  t.ok(await waitFor(() => completedCheckpoints(ck).length > 0, 30_000), 'a checkpoint completed');
  child.kill('SIGKILL');
  await exited;
  const first = readdirSync(reports);
  t.equal(first.length, 2, 'both map subtasks of the first run reported');

  const resumed = spawnSync(process.execPath, [bin, 'run', '--resume', ...args.slice(1)], { encoding: 'utf8', timeout: 60_000 });
  t.equal(resumed.status, 0, `the resumed run exits 0 (${resumed.stderr.slice(-300)})`);
  t.match(resumed.stderr, /restored from checkpoint \d+/);

  const seen = readdirSync(reports).map((f) => ({ pid: f.split('-')[0], ...(JSON.parse(readFileSync(join(reports, f), 'utf8')) as Seen) }));
  t.equal(new Set(seen.map((s) => s.pid)).size, 2, 'reports from two processes');
  t.equal(seen.length, 4, 'two subtasks each');
  for (const s of seen) {
    t.same(s.params, params, `process ${s.pid} subtask ${s.subtask}: the --param values`);
    t.same(s.info, seen[0]!.info, `process ${s.pid} subtask ${s.subtask}: the same job id, seed and start time`);
    t.same(s.defined.info, seen[0]!.info, `process ${s.pid} subtask ${s.subtask}: defineJob saw them too`);
  }
  const [jobId] = readdirSync(ck);
  t.same(JSON.parse(readFileSync(join(ck, jobId!, 'job-info'), 'utf8')), seen[0]!.info, 'recorded in <checkpoint-dir>/<job>/job-info');
});

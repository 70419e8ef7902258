// Ctrl-C of `sluice run`, as a user meets it: the job is cancelled (state CANCELED in its
// checkpoint folder), the process exits 130 with one line (not "job failed"), the output
// holds no in-progress or pending file, and `--resume` goes on from the last checkpoint.
import t from 'tap';
import { spawn } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { readJobStatus } from '../../src/checkpoint/index.js';
import { bin } from '../helpers/cli.js';
import { tempDir, waitFor } from '../helpers/checkpoints.js';

const streams = new URL('../jobs/streams.js', import.meta.url).pathname;

function start(args: string[]) {
  const child = spawn(process.execPath, [bin, 'run', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let err = '';
  child.stderr.on('data', (d: Buffer) => (err += d.toString()));
  const exit = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return { child, exit, err: () => err };
}

t.test('SIGINT cancels: exit 130, one line, state CANCELED, no hidden part files', async (t) => {
  const output = tempDir(t, 'sigint-out');
  const checkpointDir = tempDir(t, 'sigint-ck');
  const job = start(['-p', '2', '--checkpoint-dir', checkpointDir, '--checkpoint-interval', '100', streams, 'unbounded-generator', JSON.stringify({ output, rate: 20_000 })]);
  t.ok(await waitFor(() => readdirSync(output).some((n) => /^part-/.test(n)), 60_000), 'parts committed while it runs');
  job.child.kill('SIGINT');
  t.equal(await job.exit, 130, 'exit 130 (128 + SIGINT)');
  const lines = job.err().trim().split('\n');
  t.match(lines.at(-1), /^sluice: job [0-9a-f-]{36} cancelled \(state CANCELED\); continue it with --resume --checkpoint-dir /);
  t.notMatch(job.err(), /job failed/);
  t.same(readdirSync(output).filter((n) => n.startsWith('.')), [], 'no in-progress or pending file');
  const jobId = readdirSync(checkpointDir)[0]!;
  t.equal(readJobStatus(checkpointDir, jobId)?.state, 'CANCELED');
});

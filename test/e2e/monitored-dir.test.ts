// A monitored directory through the `sluice` command: the whole process killed with
// SIGKILL while files arrive (one written slowly), more files written while it is down,
// then `sluice run --resume`, stopped with SIGTERM (a savepoint): every line of every file
// in the two-phase text sink exactly once.
import t from 'tap';
import { spawn } from 'node:child_process';
import { appendFileSync, existsSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { completedCheckpoints, tempDir, waitFor } from '../helpers/checkpoints.js';

const bin = new URL('../../src/cli/bin.js', import.meta.url).pathname;
const job = new URL('../jobs/formats.js', import.meta.url).pathname;

function committed(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir)
    .filter((n) => n.startsWith('part-'))
    .flatMap((n) => readFileSync(join(dir, n), 'utf8').split('\n').filter((l) => l !== ''));
}

t.test('kill -9 of `sluice run` on a monitored directory, files written meanwhile, then --resume and SIGTERM: every line exactly once', async (t) => {
  const input = tempDir(t, 'e2e-mon-in');
  const output = tempDir(t, 'e2e-mon-out');
  const ck = tempDir(t, 'e2e-mon-ck');
  const sp = tempDir(t, 'e2e-mon-sp');
  const expected: string[] = [];
  let fileCount = 0;
  /** A new file of `n` lines, at once or in 10 appends 20 ms apart (lines cut in half). */
  const writeFile = async (n: number, slowly: boolean): Promise<void> => {
    const name = `f${fileCount++}`;
    const lines = Array.from({ length: n }, (_, i) => `${name}:${i}`);
    expected.push(...lines);
    const text = lines.map((l) => `${l}\n`).join('');
    if (!slowly) return writeFileSync(join(input, `${name}.txt`), text);
    for (let k = 0; k < 10; k++) {
      appendFileSync(join(input, `${name}.txt`), text.slice(Math.floor((text.length * k) / 10), Math.floor((text.length * (k + 1)) / 10)));
      await sleep(20);
    }
  };
  const params = JSON.stringify({ input, output, intervalMs: 40, pauseMs: 1, pauseEvery: 10 });
  const args = ['-p', '2', '--checkpoint-dir', ck, '--checkpoint-interval', '100', '--no-progress'];
  const first = spawn(process.execPath, [bin, 'run', ...args, job, 'monitored', params], { stdio: 'ignore' });
  const firstExit = new Promise((resolve) => first.once('exit', resolve));
  for (let i = 0; i < 6; i++) await writeFile(4000, i % 2 === 1);
  t.ok(await waitFor(() => completedCheckpoints(ck).length > 0 && completedCheckpoints(ck)[0]! >= 3 && committed(output).length > 0, 60_000), 'checkpoints completed, output committed');
  await writeFile(4000, true);
  first.kill('SIGKILL');
  await firstExit;
  const atKill = committed(output).length;
  t.ok(atKill < expected.length, `killed in the middle: ${atKill} of ${expected.length} lines committed`);

  // Written while no job runs: the resumed job must find them.
  await writeFile(3000, false);
  writeFileSync(join(input, '.ignored.txt'), 'hidden\n');

  let stderr = '';
  const resumed = spawn(process.execPath, [bin, 'run', ...args, '--resume', '--savepoint-dir', sp, job, 'monitored', params], { stdio: ['ignore', 'ignore', 'pipe'] });
  resumed.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const resumedExit = new Promise<number | null>((resolve) => resumed.once('exit', resolve));
  await writeFile(2000, true);
  t.ok(await waitFor(() => committed(output).length >= expected.length, 90_000), `all ${expected.length} lines committed after the resume`);
  await sleep(200); // a few more listings: nothing more may come
  resumed.kill('SIGTERM'); // with --savepoint-dir: stop with a savepoint
  t.equal(await resumedExit, 0, `the resumed run stops with exit 0 (${stderr.slice(-300)})`);
  t.match(stderr, /restored from checkpoint \d+/);

  const output2 = committed(output);
  const counts = new Map<string, number>();
  for (const l of output2) counts.set(l, (counts.get(l) ?? 0) + 1);
  t.same(
    [...counts].filter(([, n]) => n > 1).slice(0, 5),
    [],
    'no line twice',
  );
  t.same(
    expected.filter((l) => !counts.has(l)).slice(0, 5),
    [],
    'no line missing',
  );
  t.equal(output2.length, expected.length, 'no fragment, nothing hidden');
  t.ok(
    readdirSync(sp).some((n) => n.startsWith('savepoint-')),
    'SIGTERM took a savepoint',
  );
});

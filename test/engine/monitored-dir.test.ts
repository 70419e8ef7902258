// A monitored directory (readTextFile with monitorIntervalMs) end to end through runJob,
// into the two-phase text sink: files written while the job runs, one of them slowly in
// appends that cut lines in half across several listings; hidden files; killed workers;
// stop with a savepoint and a restart from it. Every line of every visible file must be in
// the output exactly once, and no fragment of a line.
//
// These tests wait for real listings (the enumerator's timer in this process): intervals
// are small, and the slow writer appends from this process's event loop every 10 ms, so
// between two listings (40 ms apart) there is always an append.
import t from 'tap';
import type { Test } from 'tap';
import { appendFileSync, existsSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { runJob, JobCancelledError } from '../../src/index.js';
import type { JobEvent, RunJobOptions } from '../../src/index.js';
import { tempDir, waitFor } from '../helpers/checkpoints.js';

const job = new URL('../jobs/formats.js', import.meta.url);
const intervalMs = 40;

function run(params: Record<string, unknown>, options: RunJobOptions) {
  return runJob(job, { parallelism: 2, ...options, args: ['monitored', JSON.stringify({ intervalMs, ...params })] });
}

/** Lines of the committed part files of `dir`. */
function committed(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir)
    .filter((n) => n.startsWith('part-'))
    .flatMap((n) => readFileSync(join(dir, n), 'utf8').split('\n').filter((l) => l !== ''));
}

/** `count` distinct lines of file `name`. */
const linesOf = (name: string, count: number, from = 0): string[] => Array.from({ length: count }, (_, i) => `${name}:${from + i}:${'x'.repeat((from + i) % 17)}`);

/** Writes `lines` to `path` in `chunks` appends `delayMs` apart, cutting lines mid-way. Returns the ms it took. */
async function writeSlowly(path: string, lines: readonly string[], chunks: number, delayMs: number): Promise<number> {
  const text = lines.map((l) => `${l}\n`).join('');
  const started = Date.now();
  writeFileSync(path, '');
  for (let k = 0; k < chunks; k++) {
    // Chunk boundaries at fixed fractions of the text: most fall inside a line.
    appendFileSync(path, text.slice(Math.floor((text.length * k) / chunks), Math.floor((text.length * (k + 1)) / chunks)));
    await sleep(delayMs);
  }
  return Date.now() - started;
}

/** The lines seen more than once, missing, or not expected at all. */
function compare(output: readonly string[], expected: readonly string[]): { twice: string[]; missing: string[]; unexpected: string[] } {
  const counts = new Map<string, number>();
  for (const l of output) counts.set(l, (counts.get(l) ?? 0) + 1);
  const want = new Set(expected);
  return {
    twice: [...counts].filter(([, n]) => n > 1).map(([l]) => l),
    missing: expected.filter((l) => !counts.has(l)),
    unexpected: [...counts.keys()].filter((l) => !want.has(l)),
  };
}

/** `k1: 1024-1499 (476)` per file, for failure messages. */
function summarize(lines: readonly string[]): string {
  const byFile = new Map<string, number[]>();
  for (const l of lines) {
    const [file, index] = l.split(':');
    byFile.set(file!, [...(byFile.get(file!) ?? []), Number(index)]);
  }
  return [...byFile].map(([f, xs]) => `${f}: ${Math.min(...xs)}-${Math.max(...xs)} (${xs.length})`).join(', ');
}

function checkExactlyOnce(t: Test, output: readonly string[], expected: readonly string[], what: string): void {
  const { twice, missing, unexpected } = compare(output, expected);
  t.same(twice.slice(0, 5), [], `${what}: no line twice`);
  t.same(missing.slice(0, 5), [], `${what}: no line missing${missing.length > 0 ? ` (${summarize(missing)})` : ''}`);
  t.same(unexpected.slice(0, 5), [], `${what}: no fragment of a line, nothing from a hidden file`);
  t.equal(output.length, expected.length, `${what}: ${expected.length} lines`);
}

t.test('files written while the job runs are read once, complete: a slow writer across listings, hidden files skipped; stop, then restart from the savepoint at another parallelism', async (t) => {
  const input = tempDir(t, 'mon-in');
  const output = tempDir(t, 'mon-out');
  const checkpointDir = tempDir(t, 'mon-ck');
  const expected: string[] = [];
  const add = (name: string, lines: string[]): void => {
    writeFileSync(join(input, name), lines.map((l) => `${l}\n`).join(''));
    expected.push(...lines);
  };
  add('a.txt', linesOf('a', 2000));
  const handle = run({ input, output }, { checkpointDir, checkpointIntervalMs: 50 });
  t.ok(await waitFor(() => committed(output).length === 2000, 120_000), 'the file there at the start is read');

  add('b.txt', linesOf('b', 3000));
  writeFileSync(join(input, '.hidden.txt'), 'hidden-1\nhidden-2\n');
  writeFileSync(join(input, '_inprogress.txt'), 'hidden-3\n');
  const slow = linesOf('slow', 1500);
  const writeMs = await writeSlowly(join(input, 'slow.txt'), slow, 40, 10);
  expected.push(...slow);
  t.ok(writeMs > 4 * intervalMs, `the slow file grew for ${writeMs} ms: over ${Math.floor(writeMs / intervalMs)} listings`);
  t.ok(await waitFor(() => committed(output).length >= expected.length, 120_000), 'every file read');
  const savepoint = await handle.stop(tempDir(t, 'mon-sp'));
  const result = await handle.result;
  t.equal(result.savepoint, savepoint);
  checkExactlyOnce(t, committed(output), expected, 'first run');

  // Restart from the savepoint at parallelism 3: the files taken before are not read again; new ones are.
  add('c.txt', linesOf('c', 1000));
  const resumed = run({ input, output }, { parallelism: 3, checkpointDir, checkpointIntervalMs: 50, fromSavepoint: savepoint });
  t.ok(await waitFor(() => committed(output).length >= expected.length, 120_000), 'the file added while the job was stopped is read');
  const slow2 = linesOf('slow', 700, 1500);
  await writeSlowly(join(input, 'slow2.txt'), slow2, 20, 10);
  expected.push(...slow2);
  t.ok(await waitFor(() => committed(output).length >= expected.length, 120_000));
  await sleep(4 * intervalMs); // a few more listings: nothing more may come
  resumed.cancel();
  await t.rejects(resumed.result, JobCancelledError);
  checkExactlyOnce(t, committed(output), expected, 'both runs');
});

t.test('killed workers (every 2 s) while files arrive: every line exactly once', async (t) => {
  const input = tempDir(t, 'kill-in');
  const output = tempDir(t, 'kill-out');
  const events: JobEvent[] = [];
  const handle = run(
    { input, output, pauseMs: 1, pauseEvery: 10 },
    {
      checkpointDir: tempDir(t, 'kill-ck'),
      checkpointIntervalMs: 50,
      killWorkerEveryMs: 2000,
      restartStrategy: 'fixed-delay:attempts=1000,delay=20ms',
      onEvent: (e) => events.push(e),
    },
  );
  const expected: string[] = [];
  const restores = (): number => events.filter((e) => e.type === 'restored').length;
  // New files until the job has been restored from checkpoints twice (and at least 6 files).
  const until = Date.now() + 120_000;
  for (let k = 0; (k < 6 || restores() < 2) && Date.now() < until; k++) {
    const lines = linesOf(`k${k}`, 3000);
    if (k % 3 === 2) await writeSlowly(join(input, `k${k}.txt`), lines, 10, 10);
    else writeFileSync(join(input, `k${k}.txt`), lines.map((l) => `${l}\n`).join(''));
    expected.push(...lines);
    await sleep(300);
  }
  t.ok(restores() >= 2, `${restores()} restores from checkpoints`);
  t.ok(await waitFor(() => committed(output).length >= expected.length, 120_000), `${expected.length} lines committed`);
  await sleep(4 * intervalMs);
  handle.cancel();
  await t.rejects(handle.result, JobCancelledError);
  checkExactlyOnce(t, committed(output), expected, 'through killed workers');
});

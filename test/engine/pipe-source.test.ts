// Standard input and FIFOs through the CLI, as a user would: `cat file | sluice run ...`,
// `sluice run ... < file`, a FIFO made with mkfifo and written by another process,
// readJsonLines('-'); Ctrl-C while nobody has opened the FIFO yet; and a worker that dies
// while reading standard input (at-most-once: what it had read is lost, the rest is read).
import t, { type Test } from 'tap';
import { execFileSync, spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { existsSync, readdirSync, readlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { checkAtMostOnce, committedLines, idLines } from '../helpers/at-most-once.js';
import { completedCheckpoints, tempDir, waitFor } from '../helpers/checkpoints.js';
import { bin } from '../helpers/cli.js';
import { mixedLineEnds, randomLines, seededRandom, testSeed } from '../helpers/random.js';

const job = new URL('../jobs/byte-streams.js', import.meta.url).pathname;

interface Exit {
  code: number | null;
  out: string;
  err: string;
}

/** Runs a shell command line; `$SLUICE` is `node <bin>`. Resolves when it exits. */
function shell(command: string, stdin: 'ignore' | 'pipe' = 'ignore'): { child: ChildProcess; exit: Promise<Exit> } {
  const child = spawn('sh', ['-c', command], { stdio: [stdin, 'pipe', 'pipe'], env: { ...process.env, SLUICE: `${process.execPath} ${bin}` } });
  let out = '';
  let err = '';
  child.stdout!.setEncoding('utf8').on('data', (d: string) => (out += d));
  child.stderr!.setEncoding('utf8').on('data', (d: string) => (err += d));
  const exit = new Promise<Exit>((resolve) => child.on('close', (code) => resolve({ code, out, err })));
  return { child, exit };
}

const quote = (s: string) => `'${s.replaceAll("'", "'\\''")}'`;
const printJob = (params: object) => `$SLUICE run --parallelism 1 ${job} pipe-print ${quote(JSON.stringify(params))}`;

/** A text of 20000 seeded random lines (multi-byte, empty, CRLF) in a file, and the lines a reader must give. */
function inputFile(t: Test, name: string): { file: string; lines: string[]; seed: number } {
  const seed = testSeed(0x9195);
  const lines = randomLines(seededRandom(seed), 20_000);
  const file = join(tempDir(t, name), 'input.txt');
  writeFileSync(file, mixedLineEnds(lines));
  return { file, lines, seed };
}

/** True when process `pid` has `path` open (Linux /proc). */
function holdsOpen(pid: number, path: string): boolean {
  try {
    return readdirSync(`/proc/${pid}/fd`).some((fd) => {
      try {
        return readlinkSync(`/proc/${pid}/fd/${fd}`) === path;
      } catch {
        return false;
      }
    });
  } catch {
    return false;
  }
}

const printed = (lines: string[]) => lines.map((l) => `${l}\n`).join('');

t.test('cat file | sluice run: readTextFile("-") gives every line of standard input exactly', async (t) => {
  const { file, lines, seed } = inputFile(t, 'stdin-cat');
  const { code, out, err } = await shell(`cat ${quote(file)} | ${printJob({})}`).exit;
  t.equal(code, 0, err);
  t.ok(out === printed(lines), `stdout is every line, in order (seed ${seed}; ${out.length} chars)`);
  t.match(err, /Text File Source\s+1\s+0\s+20000/, 'the summary counts 20000 lines read');
});

t.test('sluice run < file: standard input redirected from a file', async (t) => {
  const { file, lines, seed } = inputFile(t, 'stdin-redirect');
  const { code, out, err } = await shell(`${printJob({})} < ${quote(file)}`).exit;
  t.equal(code, 0, err);
  t.ok(out === printed(lines), `stdout is every line, in order (seed ${seed})`);
});

t.test('a FIFO made with mkfifo, written by another process in two bursts, is read as a stream (not as an empty file)', async (t) => {
  const { file, lines } = inputFile(t, 'fifo');
  const fifo = join(tempDir(t, 'fifo-dir'), 'lines.fifo');
  execFileSync('mkfifo', [fifo]);
  const reader = shell(printJob({ path: fifo }));
  // The job opens the FIFO and waits for a writer; the writer pauses mid-file.
  const writer = shell(`{ head -c 100000 ${quote(file)}; sleep 0.3; tail -c +100001 ${quote(file)}; } > ${quote(fifo)}`);
  t.equal((await writer.exit).code, 0);
  const { code, out, err } = await reader.exit;
  t.equal(code, 0, err);
  t.ok(out === printed(lines), 'stdout is every line, in order: a line cut by the pause is whole');
});

t.test('cat file.jsonl | readJsonLines("-"): one record per JSON line, blank lines skipped', async (t) => {
  const records = Array.from({ length: 5000 }, (_, i) => ({ id: i, text: `w€rd ${i % 13}` }));
  const text = records.map((r, i) => JSON.stringify(r) + (i % 100 === 0 ? '\n\n' : '\n')).join('');
  const file = join(tempDir(t, 'jsonl'), 'in.jsonl');
  writeFileSync(file, text);
  const { code, out, err } = await shell(`cat ${quote(file)} | $SLUICE run --parallelism 1 ${job} pipe-json-print '{}'`).exit;
  t.equal(code, 0, err);
  t.ok(out === printed(records.map((r) => `${r.id}:${r.text}`)), 'every record, in order');
});

t.test('Ctrl-C while the FIFO has no writer yet cancels the job and exits', async (t) => {
  const fifo = join(tempDir(t, 'fifo-cancel'), 'never-written.fifo');
  execFileSync('mkfifo', [fifo]);
  const { child, exit } = shell(`exec ${printJob({ path: fifo })}`);
  // The reader holds the FIFO open, waiting for a writer. (It used to wait inside open(),
  // on a thread-pool thread that nothing could end: the job never finished cancelling.)
  t.ok(await waitFor(() => holdsOpen(child.pid!, fifo), 30_000), 'the reader opened the FIFO without waiting for a writer');
  child.kill('SIGINT');
  let exited: Exit | undefined;
  void exit.then((e) => (exited = e));
  // The cancel grace is 3 s; a reader whose open() blocks a thread-pool thread never lets the worker end.
  t.ok(await waitFor(() => exited !== undefined, 15_000), 'sluice exited');
  if (exited === undefined) {
    child.kill('SIGKILL');
    return;
  }
  t.equal(exited.code, 130, exited.err);
  t.match(exited.err, /cancelled \(state CANCELED\)/);
});

t.test('a worker that dies while reading standard input: the restored reader reads on from the pipe; what the dead one had read after the last checkpoint is lost', async (t) => {
  // Standard input is not replayable: lines the dead worker took from the pipe after the
  // last completed checkpoint are gone (at-most-once); lines still in the pipe are read by
  // the restored reader; the exactly-once file sink commits nothing twice.
  const output = tempDir(t, 'stdin-die-out');
  const checkpointDir = tempDir(t, 'stdin-die-ck');
  const marker = join(tempDir(t, 'stdin-die-marker'), 'died');
  const params = JSON.stringify({ output, exitAt: 450, marker });
  const { child, exit } = shell(`cat | $SLUICE run --parallelism 1 --checkpoint-dir ${checkpointDir} --checkpoint-interval 50 ${job} pipe-to-file ${quote(params)}`, 'pipe');
  const send = (from: number, to: number) => child.stdin!.write(idLines(from, to).join('\n') + '\n');
  send(0, 300);
  t.ok(await waitFor(() => committedLines(output).includes('299'), 30_000), 'the first 300 lines are committed');
  send(300, 600);
  t.ok(await waitFor(() => existsSync(marker), 30_000), 'the worker died at line 450');
  const checkpointsAtDeath = completedCheckpoints(checkpointDir).at(-1) ?? 0;
  t.ok(await waitFor(() => (completedCheckpoints(checkpointDir).at(-1) ?? 0) >= checkpointsAtDeath + 2, 30_000), 'the restored job checkpoints');
  send(600, 900);
  child.stdin!.end();
  const { code, err } = await exit;
  t.equal(code, 0, err);
  t.match(err, /restarting \(attempt 1\)/, 'one restart');
  const lost = checkAtMostOnce(t, committedLines(output).map(Number), 300, 450, 600);
  t.ok(lost >= 1, `${lost} lines lost`);
  t.equal(committedLines(output).at(-1), '899', 'read to the end of standard input');
});

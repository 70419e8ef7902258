// A restore that falls back past a damaged newest checkpoint, end to end through
// `sluice run`: kill -9 at a seeded random moment, one byte flipped in the newest
// checkpoint (its _metadata, or a segment only it references), then `--resume`.
// - The file sink takes back the parts it published after the checkpoint restored: the
//   output holds every count exactly once (before the fix: tens of thousands of duplicates).
// - A user two-phase sink without rollback(): the resume is refused with one line naming
//   the checkpoint and --allow-duplicates-on-fallback; with that option it proceeds.
// Replay a failure with SLUICE_SEED=<seed printed>.
import t from 'tap';
import type { Test } from 'tap';
import { spawn, spawnSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { CheckpointStorage } from '../../src/checkpoint/index.js';
import { referencedFiles } from '../../src/checkpoint/metadata.js';
import { completedCheckpoints, flipByte, tempDir, waitFor } from '../helpers/checkpoints.js';
import { seededRandom, testSeed } from '../helpers/random.js';
import { countsOf, multipliedCorpus, readWordCountOutput, referenceCounts, wrongWords } from '../helpers/wordcount.js';

const bin = new URL('../../src/cli/bin.js', import.meta.url).pathname;
/** test/jobs/fallback-wordcount.ts, built: this worktree's engine and file sink. */
const job = new URL('../jobs/fallback-wordcount.js', import.meta.url).pathname;
/** Speeches of the corpus to count (about 220,000 words): a few seconds a run. */
const speeches = 35;

/**
 * Runs the job until `atLeast` checkpoints completed plus `extraMs`, then kill -9.
 * Returns the completed checkpoint ids at the kill.
 */
async function runAndKill(t: Test, args: string[], ck: string, atLeast: number, extraMs: number): Promise<number[]> {
  const child = spawn(process.execPath, [bin, ...args], { stdio: 'ignore' });
  const exited = new Promise((resolve) => child.once('exit', resolve));
  t.teardown(() => void child.kill('SIGKILL'));
  t.ok(await waitFor(() => completedCheckpoints(ck).length >= atLeast, 60_000), `${atLeast} checkpoints completed`);
  await new Promise((resolve) => setTimeout(resolve, extraMs));
  child.kill('SIGKILL');
  await exited;
  return completedCheckpoints(ck);
}

/** Damages the newest checkpoint of the one job in `ck`: a byte of its _metadata, or of a segment only it references. Returns what was damaged. */
function damageNewest(ck: string, where: 'metadata' | 'segment', random: () => number): string {
  const jobId = readdirSync(ck)[0]!;
  const storage = CheckpointStorage.open(ck, jobId);
  const ids = storage.list().valid.map((c) => c.checkpointId);
  const newest = ids.at(-1)!;
  if (where === 'metadata') {
    const file = join(ck, jobId, `chk-${newest}`, '_metadata');
    flipByte(file, Math.floor(random() * readFileSync(file).length));
    return file;
  }
  const older = new Set(ids.slice(0, -1).flatMap((id) => referencedFiles(storage.load(id)).map((r) => r.name)));
  const own = referencedFiles(storage.load(newest)).filter((r) => r.name.endsWith('.seg') && !older.has(r.name));
  if (own.length === 0) return damageNewest(ck, 'metadata', random); // nothing new since the previous checkpoint
  const ref = own[Math.floor(random() * own.length)]!;
  flipByte(join(storage.sharedDir, ref.name), Math.floor(random() * ref.sizeBytes));
  return ref.name;
}

/** The word count's arguments into `sinks` (test/jobs/fallback-wordcount.ts) with fresh folders. */
function setUp(t: Test, sinks: string): { args: string[]; input: string; out: string; ck: string } {
  const input = multipliedCorpus(1, (fn) => t.teardown(fn), speeches);
  const out = tempDir(t, 'fallback-out');
  const ck = tempDir(t, 'fallback-ck');
  const args = ['run', '-p', '2', '--checkpoint-dir', ck, '--checkpoint-interval', '100', '--retained-checkpoints', '3', '--no-progress', job];
  return { args: [...args, '--input', input, '--output', out, '--sink', sinks], input, out, ck };
}

/**
 * The run into `sinks`, killed with kill -9 after 2 or 3 completed checkpoints and up to
 * 100 ms (seeded), its newest checkpoint then damaged at `where`.
 */
async function killAndDamage(t: Test, seed: number, sinks: string, where: 'metadata' | 'segment') {
  t.comment(`seed ${seed} (replay: SLUICE_SEED=${seed})`);
  const random = seededRandom(seed);
  const run = setUp(t, sinks);
  const ids = await runAndKill(t, run.args, run.ck, 2 + Math.floor(random() * 2), Math.floor(random() * 100));
  t.comment(`killed after checkpoints ${ids.join(', ')}; damaged ${damageNewest(run.ck, where, random)}`);
  return { ...run, seed, ids };
}

/** `sluice run --resume [extra] ...` of the run `args` describes. */
const resume = (args: string[], extra: string[] = []) =>
  spawnSync(process.execPath, [bin, args[0]!, '--resume', ...extra, ...args.slice(1)], { encoding: 'utf8', timeout: 120_000 });

/** The checks on the part files: every count exactly once. */
function checkPartFiles(t: Test, out: string, input: string, seed: number): void {
  const reference = referenceCounts(input);
  const output = readWordCountOutput(out);
  t.same(wrongWords(output, reference, true).slice(0, 5), [], `part files: every count 1..n exactly once (seed ${seed})`);
  t.equal(output.lines, [...reference.values()].reduce((a, b) => a + b, 0), `part files: no line twice (seed ${seed})`);
}

t.test("kill -9, a byte flipped in a segment only the newest checkpoint has, --resume: the file sink's output is exactly once", async (t) => {
  const { seed, args, input, out, ck, ids } = await killAndDamage(t, testSeed(7002), 'text', 'segment');
  const resumed = resume(args);
  t.equal(resumed.status, 0, `the resumed run exits 0 (${resumed.stderr.slice(-400)})`);
  t.match(resumed.stderr, new RegExp(`checkpoint ${ids.at(-1)} is unusable, trying an older one`));
  const restored = Number(/restored from checkpoint (\d+)/.exec(resumed.stderr)?.[1]);
  t.ok(restored < ids.at(-1)!, `restored from ${restored}, older than the damaged ${ids.at(-1)}`);
  t.match(resumed.stderr, new RegExp(`sluice: falling back past checkpoints? [0-9, ]*${ids.at(-1)} to checkpoint ${restored}: the sinks took back what they published after it\n`));
  checkPartFiles(t, out, input, seed);
});

/** (word, count) pairs of the ledger sink's committed files (JSON strings `word\tcount`). */
function ledgerOutput(dir: string): ReturnType<typeof readWordCountOutput> {
  const committed = join(dir, 'committed');
  const lines = readdirSync(committed).flatMap((name) => readFileSync(join(committed, name), 'utf8').split('\n').filter((l) => l !== ''));
  const pairs = lines.map((l) => (JSON.parse(l) as string).split('\t')).map(([w, c]) => [w!, Number(c)] as const);
  return { parts: [], counts: countsOf(pairs), lines: lines.length, malformed: 0 };
}

t.test("kill -9, a byte flipped in the newest _metadata, a user sink without rollback(): --resume is refused in one line; with --allow-duplicates-on-fallback it proceeds and the file sink's output is exactly once", async (t) => {
  const { seed, args, input, out, ck, ids } = await killAndDamage(t, testSeed(7001), 'text,ledger', 'metadata');
  const [previous, newest] = [ids.at(-2)!, ids.at(-1)!];
  const jobId = readdirSync(ck)[0]!;
  const refused = resume(args);
  t.equal(refused.status, 2, 'exit 2: a mistake no restart fixes');
  const lines = refused.stderr.split('\n').filter((l) => l !== '');
  // The skipped checkpoint is reported first (which file is damaged), then the refusal.
  t.match(lines[0], new RegExp(`^sluice: checkpoint ${newest} is unusable, trying an older one: chk-${newest}/_metadata `));
  t.equal(
    lines[1],
    `sluice: Cannot fall back past checkpoint ${newest} (damaged) of job ${jobId} to checkpoint ${previous}: sink "Ledger" (uid ledger) has no rollback() to take back what it published after checkpoint ${previous}, so the replay would duplicate it; pass --allow-duplicates-on-fallback to accept duplicates`,
  );
  t.equal(lines.length, 2, 'nothing else');

  const accepted = resume(args, ['--allow-duplicates-on-fallback']);
  t.equal(accepted.status, 0, `with the option it proceeds (${accepted.stderr.slice(-400)})`);
  t.match(
    accepted.stderr,
    `sluice: falling back past checkpoint ${newest} to checkpoint ${previous}: the sinks took back what they published after it; "Ledger" (uid ledger) could not, and will hold duplicates (--allow-duplicates-on-fallback)\n`,
  );
  checkPartFiles(t, out, input, seed);
  t.same(wrongWords(ledgerOutput(out), referenceCounts(input), false).slice(0, 5), [], 'ledger: every count 1..n at least once');
});

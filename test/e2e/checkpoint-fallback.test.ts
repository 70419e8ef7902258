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

for (const [where, fallbackSeed] of [['metadata', 7001], ['segment', 7002]] as const) {
  t.test(`kill -9, a byte flipped in the newest checkpoint's ${where}, --resume: the file sink's output is exactly once`, async (t) => {
    const seed = testSeed(fallbackSeed);
    t.comment(`seed ${seed} (replay: SLUICE_SEED=${seed})`);
    const random = seededRandom(seed);
    const input = multipliedCorpus(1, (fn) => t.teardown(fn), speeches);
    const out = tempDir(t, 'fallback-out');
    const ck = tempDir(t, 'fallback-ck');
    const args = ['run', '-p', '2', '--checkpoint-dir', ck, '--checkpoint-interval', '100', '--retained-checkpoints', '3', '--no-progress', job, '--input', input, '--output', out];
    const ids = await runAndKill(t, args, ck, 2 + Math.floor(random() * 2), Math.floor(random() * 100));
    const damaged = damageNewest(ck, where, random);
    t.comment(`killed after checkpoints ${ids.join(', ')}; damaged ${damaged}`);
    const reference = referenceCounts(input);
    const total = [...reference.values()].reduce((a, b) => a + b, 0);
    t.ok(readWordCountOutput(out).lines < total, 'killed in the middle: the output was incomplete');
    const resumed = spawnSync(process.execPath, [bin, args[0]!, '--resume', ...args.slice(1)], { encoding: 'utf8', timeout: 120_000 });
    t.equal(resumed.status, 0, `the resumed run exits 0 (${resumed.stderr.slice(-400)})`);
    t.match(resumed.stderr, new RegExp(`checkpoint ${ids.at(-1)} is unusable, trying an older one`));
    const restored = Number(/restored from checkpoint (\d+)/.exec(resumed.stderr)?.[1]);
    t.ok(restored < ids.at(-1)!, `restored from ${restored}, older than the damaged ${ids.at(-1)}`);
    t.match(resumed.stderr, new RegExp(`sluice: falling back past checkpoints? [0-9, ]*${ids.at(-1)} to checkpoint ${restored}: the sinks took back what they published after it\n`));
    const output = readWordCountOutput(out);
    t.same(wrongWords(output, reference, true).slice(0, 5), [], `every count 1..n exactly once (seed ${seed})`);
    t.equal(output.lines, total, `no line twice (seed ${seed})`);
  });
}

/** (word, count) pairs of the ledger sink's committed files (JSON strings `word\tcount`). */
function ledgerOutput(dir: string): ReturnType<typeof readWordCountOutput> {
  const committed = join(dir, 'committed');
  const lines = readdirSync(committed).flatMap((name) => readFileSync(join(committed, name), 'utf8').split('\n').filter((l) => l !== ''));
  const pairs = lines.map((l) => (JSON.parse(l) as string).split('\t')).map(([w, c]) => [w!, Number(c)] as const);
  return { parts: [], counts: countsOf(pairs), lines: lines.length, malformed: 0 };
}

t.test('a user sink without rollback(): the fallback is refused in one line, and proceeds with --allow-duplicates-on-fallback', async (t) => {
  const seed = testSeed(7003);
  t.comment(`seed ${seed} (replay: SLUICE_SEED=${seed})`);
  const random = seededRandom(seed);
  const input = multipliedCorpus(1, (fn) => t.teardown(fn), speeches);
  const out = tempDir(t, 'fallback-ledger');
  const ck = tempDir(t, 'fallback-ledger-ck');
  const args = ['run', '-p', '2', '--checkpoint-dir', ck, '--checkpoint-interval', '100', '--retained-checkpoints', '3', '--no-progress', job, '--input', input, '--output', out, '--sink', 'ledger'];
  const ids = await runAndKill(t, args, ck, 2, Math.floor(random() * 100));
  damageNewest(ck, 'metadata', random);
  const newest = ids.at(-1)!;
  const previous = ids.at(-2)!;
  const jobId = readdirSync(ck)[0]!;
  const refused = spawnSync(process.execPath, [bin, args[0]!, '--resume', ...args.slice(1)], { encoding: 'utf8', timeout: 60_000 });
  t.equal(refused.status, 2, 'exit 2: a mistake no restart fixes');
  const lines = refused.stderr.split('\n').filter((l) => l !== '');
  // The skipped checkpoint is reported first (which file is damaged), then the refusal.
  t.match(lines[0], new RegExp(`^sluice: checkpoint ${newest} is unusable, trying an older one: chk-${newest}/_metadata `));
  t.equal(
    lines[1],
    `sluice: Cannot fall back past checkpoint ${newest} (damaged) of job ${jobId} to checkpoint ${previous}: sink "Ledger" (uid ledger) has no rollback() to take back what it published after checkpoint ${previous}, so the replay would duplicate it; pass --allow-duplicates-on-fallback to accept duplicates`,
  );
  t.equal(lines.length, 2, 'nothing else');

  const accepted = spawnSync(process.execPath, [bin, args[0]!, '--resume', '--allow-duplicates-on-fallback', ...args.slice(1)], { encoding: 'utf8', timeout: 120_000 });
  t.equal(accepted.status, 0, `with the option it proceeds (${accepted.stderr.slice(-400)})`);
  t.match(accepted.stderr, `sluice: falling back past checkpoint ${newest} to checkpoint ${previous}: the sinks took back what they published after it; "Ledger" (uid ledger) could not, and will hold duplicates (--allow-duplicates-on-fallback)\n`);
  t.same(wrongWords(ledgerOutput(out), referenceCounts(input), false).slice(0, 5), [], 'every count 1..n at least once');
});

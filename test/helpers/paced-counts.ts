// Shared by the resume tests: the job module test/jobs/paced-counts.ts and its output check.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

/** test/jobs/paced-counts.ts, built. */
export const pacedCountsJob = new URL('../jobs/paced-counts.js', import.meta.url).pathname;

/** Hidden part files (in-progress or pending) in `dir`. */
export function hiddenParts(dir: string): string[] {
  return readdirSync(dir).filter((name) => name.startsWith('.part-'));
}

/**
 * What is wrong with the visible part files of `dir` against the reference: for every key
 * k < keys, the lines `k\t1` .. `k\tn_k` exactly once each (n_k: the numbers below `count`
 * that are k modulo `keys`), and nothing else. At most `limit` problems, [] when exact.
 */
export function pacedCountsProblems(dir: string, count: number, keys: number, limit = 5): string[] {
  const seen = new Map<string, number>();
  for (const name of readdirSync(dir).filter((n) => /^part-\d+-\d+$/.test(n))) {
    for (const line of readFileSync(join(dir, name), 'utf8').split('\n')) {
      if (line !== '') seen.set(line, (seen.get(line) ?? 0) + 1);
    }
  }
  const problems: string[] = [];
  for (let k = 0; k < keys; k++) {
    const n = Math.floor(count / keys) + (k < count % keys ? 1 : 0);
    for (let c = 1; c <= n; c++) {
      const line = `${k}\t${c}`;
      const times = seen.get(line) ?? 0;
      if (times !== 1) problems.push(`"${line}" written ${times} times`);
      seen.delete(line);
    }
  }
  for (const [line, times] of seen) problems.push(`"${line}" written ${times} times, not in the reference`);
  return problems.slice(0, limit);
}

// Shared by the exactly-once tests: what a two-phase file sink committed, and a check of
// it against a reference (each wanted line exactly once).
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';

/** Committed lines of the two-phase file sink writing to `dir` (files named with a leading dot are in progress). */
export function committedLines(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir)
    .filter((n) => !n.startsWith('.'))
    .flatMap((name) => readFileSync(join(dir, name), 'utf8').split('\n').filter((l) => l !== ''));
}

/**
 * Problems with `got` against every line of `want` exactly once: `twice <line>`,
 * `missing <line>` and, with `strict`, `unexpected <line>` for lines not wanted.
 */
export function exactlyOnce(got: readonly string[], want: readonly string[], strict = false): string[] {
  const counts = new Map<string, number>();
  for (const g of got) counts.set(g, (counts.get(g) ?? 0) + 1);
  const twice = [...counts].filter(([, c]) => c > 1).map(([k]) => `twice ${k}`);
  const missing = want.filter((w) => !counts.has(w)).map((w) => `missing ${w}`);
  const wanted = strict ? new Set(want) : undefined;
  const unexpected = wanted === undefined ? [] : [...counts.keys()].filter((g) => !wanted.has(g)).map((g) => `unexpected ${g}`);
  return [...twice, ...missing, ...unexpected];
}

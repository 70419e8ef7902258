// Checks for the output of a job whose source cannot replay (a socket, a pipe) after a
// worker died while reading: at-most-once, so lines may be lost but none may come twice.
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Test } from 'tap';

/** Committed lines of a writeAsText output (visible part files, in part order). */
export function committedLines(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir)
    .filter((n) => /^part-\d+-\d+$/.test(n))
    .sort((a, b) => Number(a.split('-')[2]) - Number(b.split('-')[2]))
    .flatMap((n) => readFileSync(join(dir, n), 'utf8').split('\n').filter((l) => l !== ''));
}

/** The ids from..to-1 as lines. */
export function idLines(from: number, to: number): string[] {
  return Array.from({ length: to - from }, (_, i) => String(from + i));
}

/**
 * Ids 0..`safeEnd`-1 were committed by a checkpoint before the worker died at `diedAt`;
 * ids from `resumedFrom` on were sent after the restored job was reading. Checks: no id
 * twice and all in order; every safe and every resumed id present; of those in between,
 * only a prefix (read before the last checkpoint) and a suffix after `diedAt` (still
 * unread when the worker died, read by the restored reader). Returns how many of the
 * in-between ids were lost.
 */
export function checkAtMostOnce(t: Test, ids: number[], safeEnd: number, diedAt: number, resumedFrom: number): number {
  t.ok(ids.every((id, i) => i === 0 || id > ids[i - 1]!), 'committed in order, none twice');
  const kept = new Set(ids);
  t.same(idLines(0, safeEnd).filter((id) => !kept.has(Number(id))), [], `all of 0..${safeEnd - 1} (committed before the death)`);
  t.same(idLines(resumedFrom, ids[ids.length - 1]! + 1).filter((id) => !kept.has(Number(id))), [], `all from ${resumedFrom} on (sent to the restored reader)`);
  const middle = ids.filter((id) => id >= safeEnd && id < resumedFrom);
  const prefix = middle.filter((id) => id < diedAt);
  const suffix = middle.filter((id) => id > diedAt);
  t.same(prefix, idLines(safeEnd, safeEnd + prefix.length).map(Number), `${prefix.length} read before the last checkpoint: a prefix`);
  t.same(suffix, idLines(resumedFrom - suffix.length, resumedFrom).map(Number), `${suffix.length} not yet read when the worker died: a suffix`);
  t.ok(!kept.has(diedAt), `the line the worker died at (${diedAt}) is lost`);
  return resumedFrom - safeEnd - middle.length;
}

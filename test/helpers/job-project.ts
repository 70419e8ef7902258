// A throwaway job project for tests of how job modules load (graph/compile-job.ts): a
// folder of the given files inside this repository's dist/, so that `sluicegate` (the
// package's self-reference) and its packages (cbor-x) resolve as they do for a user's
// project, removed when the test ends.
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { recordFile } from '../../src/graph/build-cache.js';

/** The repository's root (this file is dist/test/helpers/job-project.js). */
export const repoRoot = fileURLToPath(new URL('../../../', import.meta.url));

/**
 * Writes `files` (path relative to the folder -> text) into a new folder under dist/
 * named `tmp-<prefix>-*`; returns the folder's path. The folder is removed at teardown.
 */
export function jobProject(t: { teardown(fn: () => void): void }, prefix: string, files: Record<string, string>): string {
  const dir = mkdtempSync(join(repoRoot, 'dist', `tmp-${prefix}-`));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  for (const [name, text] of Object.entries(files)) {
    mkdirSync(dirname(join(dir, name)), { recursive: true });
    writeFileSync(join(dir, name), text);
  }
  return dir;
}

/**
 * Source text of a function `callerFiles(): string[]` for a job module: the files of the
 * current stack's frames, as raw call sites name them (not source-mapped), so a job can
 * tell which files run it (the engine's worker bundle, a twin in the job cache).
 */
export const callerFilesSource = `function callerFiles() {
  const prepare = Error.prepareStackTrace;
  Error.prepareStackTrace = (_error, sites) => sites.map((s) => s.getFileName() ?? '');
  try { return new Error().stack; } finally { Error.prepareStackTrace = prepare; }
}
`;

/**
 * Points the build record of the job module at `job` (a path; graph/build-cache.ts, in
 * `cacheDir`) at copies, made in `dir`, of the job-cache files its outcome names (every
 * `importUrl`): a later compile that returns a copy's URL used the record and built
 * nothing. The record's other facts, the files it checks among them, are kept. Returns
 * the copies' file URLs, in the order the outcome names them.
 */
export function standInsForRecord(cacheDir: string, job: string, dir: string): string[] {
  const file = recordFile(cacheDir, job);
  const record = JSON.parse(readFileSync(file, 'utf8')) as { outcome: unknown };
  const copies: string[] = [];
  const swap = (value: unknown): unknown => {
    if (value === null || typeof value !== 'object') return value;
    return Object.fromEntries(
      Object.entries(value).map(([key, inner]) => {
        if (key !== 'importUrl' || typeof inner !== 'string' || !inner.startsWith(pathToFileURL(cacheDir).href)) return [key, swap(inner)];
        const copy = join(dir, `stand-in-${copies.length}.mjs`);
        copyFileSync(fileURLToPath(inner), copy);
        copies.push(pathToFileURL(copy).href);
        return [key, copies[copies.length - 1]];
      }),
    );
  };
  writeFileSync(file, JSON.stringify({ ...record, outcome: swap(record.outcome) }));
  return copies;
}

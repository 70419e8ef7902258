// A throwaway job project for tests of how job modules load (graph/compile-job.ts): a
// folder of the given files inside this repository's dist/, so that `sluicegate` (the
// package's self-reference) and its packages (cbor-x) resolve as they do for a user's
// project, removed when the test ends.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

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

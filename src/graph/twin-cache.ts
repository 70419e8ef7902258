/**
 * What a JavaScript job's last twin build found (graph/job-bundle.ts), remembered so that
 * the next run of the unchanged job skips esbuild: starting esbuild's service and building
 * took 170-280 ms in a fresh process at load 8 (30-80 ms once it runs), about what the twin
 * saves its workers. As make and tsc's incremental builds do, the record lists what the
 * build read, and a run uses it only when all of it is still so:
 * - every bundled file (the job's own ES modules and JSON) has the same content (SHA-256);
 * - every file the twin imports (packages, the engine's entry) still exists;
 * - for each of those files, the nearest package.json is the same file with the same
 *   content (its "type" says whether a `.js` is CommonJS; a package's says what it
 *   depends on and what its "exports" resolve to);
 * - the engine's public entry and worker bundle have the modification times they had;
 * - the twin file is still in the job cache.
 * Not noticed: a new file that would now win a resolution (an `index.js` added where a
 * bare folder import resolved elsewhere; a package installed nearer the job than the one
 * resolved). Records live next to the bundles, one per job module path and engine install:
 * `<tmpdir>/sluicegate-<user>/jobs/twin-<sha256 of both paths>.json`.
 */
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { isDeepStrictEqual } from 'node:util';
import type { WorkerModule } from './job-bundle.js';
import { engineEntry, workerBundle } from './job-file-loaders.js';

/** The remembered build of one job module (see above). */
interface TwinRecord {
  /** Bundled files: path -> SHA-256 of their content. */
  bundled: Record<string, string>;
  /** Imported files (kept out of the bundle). */
  imported: string[];
  /** Nearest package.json of each file above: its path -> SHA-256, or '' for none. */
  packageJsons: Record<string, string>;
  /** Modification times (ms) of the engine's entry and worker bundle. */
  engine: [number, number];
  worker: WorkerModule | { none: string };
}

/** The twin remembered for the job module at `path`, if every fact it rests on holds; else undefined. */
export function rememberedTwin(cacheDir: string, path: string): WorkerModule | { none: string } | undefined {
  let record: TwinRecord;
  try {
    record = JSON.parse(readFileSync(recordFile(cacheDir, path), 'utf8')) as TwinRecord;
  } catch {
    return undefined;
  }
  try {
    const holds =
      isDeepStrictEqual(record.engine, engineTimes()) &&
      Object.entries(record.bundled).every(([file, digest]) => sha256(readFileSync(file)) === digest) &&
      record.imported.every((file) => existsSync(file)) &&
      isDeepStrictEqual(packageJsonsOf([...Object.keys(record.bundled), ...record.imported]), record.packageJsons) &&
      (!('importUrl' in record.worker) || existsSync(fileURLToPath(record.worker.importUrl)));
    return holds ? record.worker : undefined;
  } catch {
    return undefined; // a bundled file is gone: build again
  }
}

/** Remembers the twin built for `path` from `bundled` and `imported` files (absolute paths). */
export function rememberTwin(cacheDir: string, path: string, bundled: string[], imported: string[], worker: WorkerModule | { none: string }): void {
  const record: TwinRecord = {
    bundled: Object.fromEntries(bundled.map((file) => [file, sha256(readFileSync(file))])),
    imported,
    packageJsons: packageJsonsOf([...bundled, ...imported]),
    engine: engineTimes(),
    worker,
  };
  const file = recordFile(cacheDir, path);
  const temporary = `${file}.${process.pid}.tmp`;
  writeFileSync(temporary, JSON.stringify(record));
  renameSync(temporary, file);
}

/** The record of the job module at `path` for this engine (another install of the engine keeps its own). */
export function recordFile(cacheDir: string, path: string): string {
  return join(cacheDir, `twin-${sha256(`${engineEntry}\0${path}`).slice(0, 24)}.json`);
}

function sha256(data: string | Buffer): string {
  return createHash('sha256').update(data).digest('hex');
}

function engineTimes(): [number, number] {
  return [statSync(engineEntry).mtimeMs, existsSync(workerBundle) ? statSync(workerBundle).mtimeMs : 0];
}

/** The nearest package.json of each file's folder: path -> SHA-256 of its content ('' under the key of the file for none). */
function packageJsonsOf(files: string[]): Record<string, string> {
  const found: Record<string, string> = {};
  for (const file of files) {
    for (let dir = dirname(file); ; dir = dirname(dir)) {
      const candidate = join(dir, 'package.json');
      if (candidate in found) break;
      if (existsSync(candidate)) {
        found[candidate] = sha256(readFileSync(candidate));
        break;
      }
      if (dirname(dir) === dir) {
        found[file] = '';
        break;
      }
    }
  }
  return found;
}

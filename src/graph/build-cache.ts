/**
 * The job build cache: what the last esbuild build of a job module made (graph/job-bundle.ts:
 * a TypeScript job's main-thread bundle and workers' twin, or its fallback to tsx; a
 * JavaScript job's twin), remembered so that the next run of the unchanged job skips
 * esbuild: starting esbuild's service and building took 170-280 ms in a fresh process at
 * load 8 (30-80 ms once it runs), about what the twin saves its workers. As make and tsc's
 * incremental builds do, the record lists what the build read, and a run uses it only
 * when all of it is still so:
 * - every bundled file (the job's TypeScript and JSON files; a JavaScript job's own ES
 *   modules) has the same content (SHA-256);
 * - for each bundled file, its nearest tsconfig.json (emit options) and its nearest
 *   tsconfig.json or jsconfig.json (the resolver's `paths`) are the same files with the
 *   same content, and so is every config they `extends` (graph/tsconfig-files.ts);
 * - every file the bundle imports (packages, the engine's entry) still exists;
 * - for each bundled or imported file, the nearest package.json is the same file with the
 *   same content (its "type" says whether a `.js` is CommonJS; a package's says what it
 *   depends on and what its "exports" resolve to);
 * - the engine's public entry and worker bundle have the modification times they had;
 * - every file the build wrote to the job cache (bundle, twin) is still there.
 * Not noticed: a new file that would now win a resolution (an `index.js` added where a
 * bare folder import resolved elsewhere, an `x.js` beside the `x.ts` that `./x.js` found;
 * a package installed nearer the job than the one resolved). A build that fails (a syntax
 * error) is not remembered: the next run builds and reports it again. Records live next
 * to the bundles, one per job module path and engine install:
 * `<tmpdir>/sluicegate-<user>/jobs/build-<sha256 of both paths>.json`.
 */
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { isDeepStrictEqual } from 'node:util';
import { engineEntry, workerBundle } from './job-file-loaders.js';
import { extendedConfigs, nearestConfig } from './tsconfig-files.js';

/** What one build read (absolute paths): the files in the bundle, and the files it imports. */
export interface BuildInputs {
  bundled: string[];
  imported: string[];
}

/** The remembered build of one job module (see above). */
interface BuildRecord {
  /** Bundled files: path -> SHA-256 of their content. */
  bundled: Record<string, string>;
  /** Imported files (kept out of the bundle). */
  imported: string[];
  /** Nearest package.json of each file above: its path -> SHA-256, or '' (under the file's path) for none. */
  packageJsons: Record<string, string>;
  /** Nearest tsconfig of each bundled file and the configs it extends: path -> SHA-256, or '' (under the file's path) for none. */
  tsconfigs: Record<string, string>;
  /** Modification times (ms) of the engine's entry and worker bundle. */
  engine: [number, number];
  /** Files the build wrote to the job cache (absolute paths). */
  outputs: string[];
  /** What the caller made of the build (JSON). */
  outcome: unknown;
}

/**
 * The outcome remembered for the job module at `path` (as given to `rememberBuild` for the
 * same path), if every fact it rests on holds; else undefined.
 */
export function rememberedBuild<T>(cacheDir: string, path: string): T | undefined {
  let record: BuildRecord;
  try {
    record = JSON.parse(readFileSync(recordFile(cacheDir, path), 'utf8')) as BuildRecord;
  } catch {
    return undefined;
  }
  try {
    const bundled = Object.keys(record.bundled);
    const holds =
      isDeepStrictEqual(record.engine, engineTimes()) &&
      record.outputs.every((file) => existsSync(file)) &&
      Object.entries(record.bundled).every(([file, digest]) => sha256(readFileSync(file)) === digest) &&
      record.imported.every((file) => existsSync(file)) &&
      isDeepStrictEqual(packageJsonsOf([...bundled, ...record.imported]), record.packageJsons) &&
      isDeepStrictEqual(tsconfigsOf(bundled), record.tsconfigs);
    return holds ? (record.outcome as T) : undefined;
  } catch {
    return undefined; // a bundled file is gone, or a record of another shape: build again
  }
}

/**
 * Remembers `outcome` (JSON-serialisable) for the job module at `path`, built from `inputs`
 * into `outputs` (files in the job cache, absolute paths).
 */
export function rememberBuild(cacheDir: string, path: string, inputs: BuildInputs, outputs: string[], outcome: unknown): void {
  const record: BuildRecord = {
    bundled: Object.fromEntries(inputs.bundled.map((file) => [file, sha256(readFileSync(file))])),
    imported: inputs.imported,
    packageJsons: packageJsonsOf([...inputs.bundled, ...inputs.imported]),
    tsconfigs: tsconfigsOf(inputs.bundled),
    engine: engineTimes(),
    outputs,
    outcome,
  };
  const file = recordFile(cacheDir, path);
  const temporary = `${file}.${process.pid}.tmp`;
  writeFileSync(temporary, JSON.stringify(record));
  renameSync(temporary, file);
}

/** The record of the job module at `path` for this engine (another install of the engine keeps its own). */
export function recordFile(cacheDir: string, path: string): string {
  return join(cacheDir, `build-${sha256(`${engineEntry}\0${path}`).slice(0, 24)}.json`);
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

/**
 * The configs each file's build reads (graph/tsconfig-files.ts: its emit tsconfig.json and
 * its resolver's tsconfig or jsconfig, and what they extend): path -> SHA-256 of its
 * content ('' under the key of the file for none).
 */
function tsconfigsOf(files: string[]): Record<string, string> {
  const found: Record<string, string> = {};
  for (const file of files) {
    const configs = new Set([nearestConfig(dirname(file), ['tsconfig.json']), nearestConfig(dirname(file))]);
    configs.delete(undefined);
    if (configs.size === 0) found[file] = '';
    for (const config of configs) {
      if (config === undefined || config in found) continue;
      for (const each of [config, ...extendedConfigs(config)]) found[each] = sha256(readFileSync(each));
    }
  }
  return found;
}

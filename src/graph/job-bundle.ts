/**
 * The esbuild bundle of a job module (graph/compile-job.ts decides when one is made, and
 * graph/job-file-loaders.ts which files it holds), its workers' twin, and the cache both
 * are written to.
 *
 * A bundle is written, content-addressed, to `<tmpdir>/sluicegate-<user>/jobs/` (a cache,
 * as tsx keeps one): runs of the same job share the file; nothing is deleted. Inline
 * source maps point stack traces at the job's own files. What a build made is remembered
 * there too (graph/build-cache.ts), so a run of an unchanged job starts no esbuild
 * (`typeScriptJob`, `javaScriptTwin`).
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir, userInfo } from 'node:os';
import { join, resolve as resolvePath } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { EngineImports, engineEntry, engineEntryPlaceholder, fileScopedImportMeta, jobFiles, workerBundle } from './job-file-loaders.js';
import { rememberBuild, rememberedBuild } from './build-cache.js';
import type { JobLanguage } from './job-file-loaders.js';

/** What worker threads load for a bundled job: the engine's worker bundle as their task file, and the job's twin. */
export interface WorkerModule {
  /** File URL of dist/src/task/worker.bundle.js. */
  taskFile: string;
  /** File URL of the twin of the job's bundle that imports the engine from `taskFile`. */
  importUrl: string;
}

/** One bundle of a job, before the engine's URL is put in (`twin`, `mainThreadUrl`). */
export interface JobBundle {
  /** The bundle's code, importing the engine's public entry as `engineEntryPlaceholder`. */
  code: string;
  /** Why the bundle does not run the job exactly as Node would (see job-file-loaders.ts); undefined when it does. */
  cannotBundle: string | undefined;
  /** Why workers cannot load the engine's worker bundle with it; undefined when they can. */
  blocker: string | undefined;
  /** The files in the bundle, and those it imports (absolute paths). */
  bundled: string[];
  imported: string[];
}

/**
 * Bundles the job module at `path` (a file path) in the manner of `language`.
 * @throws Error with esbuild's first message (file:line:column) for a module that does not parse or resolve
 */
export async function bundleJob(path: string, language: JobLanguage): Promise<JobBundle> {
  const { build } = await import('esbuild');
  let cannotBundle: string | undefined;
  const engine = new EngineImports();
  const result = await build({
    entryPoints: [path],
    bundle: true,
    write: false,
    // Where the bundle is written: the source map names the job's files relative to it.
    outdir: jobCache(),
    format: 'esm',
    platform: 'node',
    target: 'node20',
    // Node's resolution: "exports" with the import/node/default conditions, else "main".
    mainFields: ['main'],
    // The main thread runs a JavaScript job's own files, not this bundle: functions and
    // classes keep their names in workers (registerType() carries a class by its name).
    keepNames: language === 'javascript',
    sourcemap: 'inline',
    sourcesContent: false,
    metafile: true,
    logLevel: 'silent',
    plugins: [
      jobFiles(language, engine),
      fileScopedImportMeta((reason) => {
        cannotBundle ??= reason;
      }),
    ],
  }).catch((error: unknown) => {
    const first = (error as { errors?: Array<{ text: string; location?: { file: string; line: number; column: number } | null }> }).errors?.[0];
    if (first === undefined) throw error;
    const where = first.location === undefined || first.location === null ? '' : `${resolvePath(first.location.file)}:${first.location.line}:${first.location.column}: `;
    throw new Error(`${where}${first.text}`, { cause: error });
  });
  // The metafile names the bundled files relative to the working directory.
  const bundled = Object.keys(result.metafile.inputs).map((file) => resolvePath(file));
  return { code: result.outputFiles[0]!.text, cannotBundle, blocker: engine.blocker, bundled, imported: [...new Set(engine.imported)] };
}

/** A TypeScript job's build: the main thread's bundle (file URL) and its workers' twin, or why it falls back to tsx. */
export type TypeScriptBuild = { importUrl: string; worker: WorkerModule | { none: string } } | { cannotBundle: string };

/**
 * The build of the TypeScript job module at `path`: remembered from an earlier run when
 * nothing it was built from changed (graph/build-cache.ts), else bundled with esbuild.
 * The fallback to tsx is remembered too: it follows from the bundled files' text alone.
 * @throws Error with esbuild's first message (file:line:column) for a module that does not parse or resolve (not remembered)
 */
export async function typeScriptJob(path: string): Promise<TypeScriptBuild> {
  const remembered = rememberedBuild<TypeScriptBuild>(jobCache(), path);
  if (remembered !== undefined) return remembered;
  const bundle = await bundleJob(path, 'typescript');
  if (bundle.cannotBundle !== undefined) return remember(path, bundle, { cannotBundle: bundle.cannotBundle }, []);
  const built = { importUrl: mainThreadUrl(bundle), worker: twin(bundle) };
  return remember(path, bundle, built, [built.importUrl, ...('importUrl' in built.worker ? [built.worker.importUrl] : [])]);
}

/**
 * The workers' twin of the JavaScript job module at `path` (an ES module): remembered from
 * an earlier run when nothing it was built from changed (graph/build-cache.ts), else built
 * with esbuild; `{ none }` with esbuild's message for a module it cannot bundle (not remembered).
 */
export async function javaScriptTwin(path: string): Promise<WorkerModule | { none: string }> {
  const remembered = rememberedBuild<WorkerModule | { none: string }>(jobCache(), path);
  if (remembered !== undefined) return remembered;
  let bundle: JobBundle;
  try {
    bundle = await bundleJob(path, 'javascript');
  } catch (error) {
    return { none: `esbuild cannot bundle it: ${(error as Error).message}` };
  }
  const worker = twin(bundle);
  return remember(path, bundle, worker, 'importUrl' in worker ? [worker.importUrl] : []);
}

/** Records `outcome` of the build of `path` from `bundle`, written to the job cache as `written` (file URLs); returns `outcome`. */
function remember<T>(path: string, bundle: JobBundle, outcome: T, written: string[]): T {
  const cache = jobCache();
  mkdirSync(cache, { recursive: true, mode: 0o700 });
  rememberBuild(cache, path, bundle, written.map((url) => fileURLToPath(url)), outcome);
  return outcome;
}

/** Writes the bundle for the main thread (importing the engine's public entry); returns its file URL. */
export function mainThreadUrl(bundle: JobBundle): string {
  return writeBundle(bundle.code.replaceAll(engineEntryPlaceholder, pathToFileURL(engineEntry).href));
}

/**
 * Writes the workers' twin of the bundle (importing the engine's worker bundle), when they
 * can load it: else why not (a blocker, or a worker bundle missing or older than the engine).
 */
export function twin(bundle: JobBundle): WorkerModule | { none: string } {
  const reason = bundle.cannotBundle ?? bundle.blocker ?? workerBundleProblem();
  if (reason !== undefined) return { none: reason };
  const taskFile = pathToFileURL(workerBundle).href;
  return { taskFile, importUrl: writeBundle(bundle.code.replaceAll(engineEntryPlaceholder, taskFile)) };
}

/**
 * Why the worker bundle at `bundle` (a path) cannot stand for the engine whose public
 * entry is `entry`: missing, or older (tsc alone rebuilt the engine: the bundle would be
 * another engine than the main thread's). Undefined when it can.
 */
export function workerBundleProblem(bundle = workerBundle, entry = engineEntry): string | undefined {
  if (!existsSync(bundle)) return `${bundle} is missing (npm run build makes it)`;
  if (statSync(bundle).mtimeMs < statSync(entry).mtimeMs) return `${bundle} is older than ${entry} (tsc alone rebuilt the engine: npm run build bundles it again)`;
  return undefined;
}

/** Writes a bundle to the job cache; returns its file URL. */
function writeBundle(code: string): string {
  const digest = createHash('sha256').update(code).digest('hex').slice(0, 24);
  const dir = jobCache();
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const file = join(dir, `job-${digest}.mjs`);
  // Content-addressed: an existing file holds these very bytes. Written whole, then renamed,
  // so a concurrent run never imports half a file.
  const temporary = `${file}.${process.pid}.tmp`;
  writeFileSync(temporary, code);
  renameSync(temporary, file);
  return pathToFileURL(file).href;
}

/** The folder of compiled jobs and their build records: `<tmpdir>/sluicegate-<user>/jobs`. */
export function jobCache(): string {
  return join(tmpdir(), `sluicegate-${safeUserName()}`, 'jobs');
}

function safeUserName(): string {
  try {
    return userInfo().username.replace(/[^A-Za-z0-9_.-]/g, '_');
  } catch {
    return String(process.getuid?.() ?? 'user');
  }
}

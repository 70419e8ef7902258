/**
 * The esbuild bundle of a job module (graph/compile-job.ts decides when one is made, and
 * graph/job-file-loaders.ts which files it holds), its workers' twin, and the cache both
 * are written to.
 *
 * A bundle is written, content-addressed, to `<tmpdir>/sluicegate-<user>/jobs/` (a cache,
 * as tsx keeps one): runs of the same job share the file; nothing is deleted. Inline
 * source maps point stack traces at the job's own files.
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir, userInfo } from 'node:os';
import { join, resolve as resolvePath } from 'node:path';
import { pathToFileURL } from 'node:url';
import { EngineImports, engineEntry, engineEntryPlaceholder, fileScopedImportMeta, jobFiles, typeScriptFile, workerBundle } from './job-file-loaders.js';
import { rememberTwin, rememberedTwin } from './twin-cache.js';
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

/**
 * The workers' twin of the JavaScript job module at `path` (an ES module): remembered from
 * an earlier run when nothing it was built from changed (graph/twin-cache.ts), else built
 * with esbuild; `{ none }` with esbuild's message for a module it cannot bundle.
 */
export async function javaScriptTwin(path: string): Promise<WorkerModule | { none: string }> {
  const cache = jobCache();
  const remembered = rememberedTwin(cache, path);
  if (remembered !== undefined) return remembered;
  let bundle: JobBundle;
  try {
    bundle = await bundleJob(path, 'javascript');
  } catch (error) {
    return { none: `esbuild cannot bundle it: ${(error as Error).message}` };
  }
  const worker = twin(bundle);
  // A TypeScript file's emit also depends on its tsconfig.json, which the record does not keep.
  if (!bundle.bundled.some((file) => typeScriptFile.test(file))) {
    mkdirSync(cache, { recursive: true, mode: 0o700 });
    rememberTwin(cache, path, bundle.bundled, bundle.imported, worker);
  }
  return worker;
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

/** The folder of compiled jobs. */
function jobCache(): string {
  return join(tmpdir(), `sluicegate-${safeUserName()}`, 'jobs');
}

function safeUserName(): string {
  try {
    return userInfo().username.replace(/[^A-Za-z0-9_.-]/g, '_');
  } catch {
    return String(process.getuid?.() ?? 'user');
  }
}

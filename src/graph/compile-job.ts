/**
 * Decides how the main thread and the worker threads import a job module (issue 11: start-up).
 *
 * A TypeScript module (`.ts`/`.mts`/`.cts`/`.tsx`) is compiled once, in the main thread,
 * into one JavaScript file that the main thread and every worker import with a plain
 * `import()` (a `.ts` job took 1.1-2.2 s to its first record when each worker registered
 * tsx's module hooks, which on Node 20 run in a hooks thread of their own, and compiled
 * every file of the job again). The file is an esbuild bundle (graph/job-bundle.ts) of the
 * job's TypeScript and JSON files only (graph/job-file-loaders.ts): packages, the job's
 * JavaScript files and the engine stay imports by absolute file URL (a job inside this
 * repository that imports `../../src/index.js`, or maps `sluicegate` to it by tsconfig
 * `paths`, imports the engine's compiled twin in dist/: one engine per thread, not two);
 * each file is compiled with the emit options of its nearest tsconfig.json and keeps its
 * own `import.meta.url`/`.filename`/`.dirname`. What a bundle cannot carry exactly falls
 * back to tsx (`'tsx'`): `import.meta.resolve`, and an `import()` whose specifier is not a
 * string literal.
 *
 * A JavaScript module (`.js`/`.mjs`) is imported as is by the main thread (`'javascript'`):
 * the user sees their own module.
 *
 * Worker threads of either kind load a twin when they can (`worker`): a bundle of the job
 * importing the engine from its worker bundle (dist/src/task/worker.bundle.js, one file:
 * scripts/bundle-worker.mjs), which is then also the thread's task file, so the thread
 * holds one engine and loads one file for it instead of ~200 modules. A TypeScript job's
 * twin is its bundle with the engine's URL swapped; a JavaScript job's twin is a bundle of
 * its own ES module files (those of its project: not node_modules packages, which stay
 * imports), with functions and classes keeping their names. The twin needs every import of
 * the engine to reach it through its public entry (dist/src/index.js or `sluicegate`), so
 * it is not made (`{ none: reason }`, and workers import what the main thread does) when
 * the job imports a deeper engine file, a package that depends on the engine (either could
 * load the engine's modules: a second engine in the thread), a JavaScript file of a
 * TypeScript job's project, or a CommonJS file (a `.cjs`, or a `.js` without
 * `"type": "module"`); nor for what a bundle cannot carry (above); nor when the worker
 * bundle is missing or older than the engine. A JavaScript job that esbuild cannot bundle
 * gets no twin either: the main thread's import reports Node's own error.
 *
 * What a build made (a TypeScript job's bundle and twin, or its fallback to tsx; a
 * JavaScript job's twin) is remembered, and esbuild not started, while everything it was
 * built from is unchanged: the bundled files, their tsconfig and package.json files, the
 * imported files, the engine's build, the files written to the job cache
 * (graph/build-cache.ts). `compileMs` is then the check's 1-5 ms.
 */
import { fileURLToPath } from 'node:url';
import { javaScriptTwin, typeScriptJob } from './job-bundle.js';
import type { WorkerModule } from './job-bundle.js';
import { commonJsReason, typeScriptFile } from './job-file-loaders.js';

export type { WorkerModule } from './job-bundle.js';

/** How a job module is imported: its compiled bundle, as is (JavaScript), or through tsx; `compileMs` is the main thread's wall time to bundle, or to find the remembered bundle. */
export type CompiledJob =
  | { kind: 'bundle'; importUrl: string; compileMs: number; worker: WorkerModule | { none: string } }
  | { kind: 'javascript'; importUrl: string; compileMs: number; worker: WorkerModule | { none: string } }
  | { kind: 'tsx'; importUrl: string; reason: string };

/**
 * The module to import for the job module at `url` (a file URL), in the main thread and
 * in workers (see above).
 * @throws Error with esbuild's first message (file:line:column) for a TypeScript module that does not parse
 */
export async function compileJobModule(url: string): Promise<CompiledJob> {
  const path = fileURLToPath(url);
  const started = performance.now();
  if (!typeScriptFile.test(path)) {
    const commonJs = commonJsReason(path);
    const worker = commonJs !== undefined ? { none: commonJs } : await javaScriptTwin(path);
    return { kind: 'javascript', importUrl: url, compileMs: performance.now() - started, worker };
  }
  const built = await typeScriptJob(path);
  if ('cannotBundle' in built) return { kind: 'tsx', importUrl: url, reason: built.cannotBundle };
  return { kind: 'bundle', importUrl: built.importUrl, compileMs: performance.now() - started, worker: built.worker };
}

/** What worker threads load for `compiled`: the engine's worker bundle and the job's twin, or undefined for what the main thread imports. */
export function workerModule(compiled: CompiledJob): WorkerModule | undefined {
  return compiled.kind !== 'tsx' && 'taskFile' in compiled.worker ? compiled.worker : undefined;
}

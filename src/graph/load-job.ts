/**
 * Loads a job module and builds its plan and job graph. Runs in the main thread (to plan
 * and deploy) and in every worker (to find its subtask's functions), which is why plans
 * must be deterministic.
 *
 * JavaScript modules load through `import()`. A TypeScript job module is compiled once by
 * the main thread (compile-job.ts) and everyone imports the bundle (`importUrl`); without
 * one (a module a bundle cannot carry) it loads through tsx's `tsImport` (works inside
 * worker threads on Node 20, where `--import tsx` is not inherited).
 */
import { existsSync, statSync } from 'node:fs';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { StreamExecutionEnvironment, isJobDefinition } from '../api/index.js';
import type { JobInfo, JobScope, Plan } from '../api/index.js';
import { UsageError } from '../errors.js';
import { buildJobGraph } from './job-graph.js';
import type { JobGraph } from './job-graph.js';

export interface LoadedJob {
  plan: Plan;
  graph: JobGraph;
  /** The job parameters and info as `defineJob` saw them, for the subtasks' runtime contexts. */
  job: JobScope;
}

/** A file path or URL -> a file URL string. @throws UsageError when the file is missing. */
export function resolveJobModule(pathOrUrl: string | URL): string {
  const url = pathOrUrl instanceof URL ? pathOrUrl : /^[a-z]+:/i.test(pathOrUrl) && !/^[a-z]:[\\/]/i.test(pathOrUrl) ? new URL(pathOrUrl) : pathToFileURL(pathOrUrl);
  if (url.protocol !== 'file:') throw new UsageError(`Job module ${url.href} is not a file: pass a path to a .ts or .js file`);
  const path = fileURLToPath(url);
  if (!existsSync(path)) throw new UsageError(`Job module ${path} does not exist: check the path`);
  if (!statSync(path).isFile()) throw new UsageError(`Job module ${path} is not a file: pass a .ts or .js file`);
  return url.href;
}

/** Imports a job module: through tsx for TypeScript, else `import()` (a compiled bundle, a .js module). */
export async function importJobModule(url: string): Promise<Record<string, unknown>> {
  if (/\.(c|m)?tsx?$/.test(new URL(url).pathname)) {
    const { tsImport } = await import('tsx/esm/api');
    return (await tsImport(url, import.meta.url)) as Record<string, unknown>;
  }
  return (await import(url)) as Record<string, unknown>;
}

/**
 * Imports the module at `url`, runs its `defineJob` builder with `args` (its environment
 * holds `options.parameters` and `options.info`, fixed by the main thread), and builds the
 * job graph. @throws UsageError for a module without a defineJob default export or a builder
 * that throws (the message names the module and the fix).
 */
export async function loadJob(
  url: string,
  args: readonly string[],
  options: {
    defaultParallelism: number;
    maxParallelism?: number | undefined;
    restoredMaxParallelism?: Record<string, number> | undefined;
    parameters: Readonly<Record<string, string>>;
    info: JobInfo;
    /** What to import instead of `url`: its compiled bundle (compile-job.ts). Messages still name `url`. */
    importUrl?: string | undefined;
  },
): Promise<LoadedJob> {
  const path = fileURLToPath(url);
  let module: Record<string, unknown>;
  // A compiled bundle carries inline source maps: stack traces then name the job's own
  // files and lines (tsx, which it replaces, turned them on too).
  if (options.importUrl !== undefined && options.importUrl !== url) process.setSourceMapsEnabled(true);
  try {
    module = await importJobModule(options.importUrl ?? url);
  } catch (error) {
    throw new UsageError(`Job module ${path} failed to load: ${(error as Error).message ?? String(error)}`, { cause: error });
  }
  // tsImport of a CommonJS-looking module wraps exports once more in `default`.
  let definition = module.default;
  if (!isJobDefinition(definition) && definition !== null && typeof definition === 'object') {
    definition = (definition as Record<string, unknown>).default;
  }
  if (!isJobDefinition(definition)) {
    throw new UsageError(
      `Job module ${path} has no default export made with defineJob(): add \`export default defineJob((env, args) => { ... })\``,
    );
  }
  const env = new StreamExecutionEnvironment(options.defaultParallelism, { parameters: options.parameters, info: options.info });
  if (options.maxParallelism !== undefined) env.setMaxParallelism(options.maxParallelism);
  try {
    definition.build(env, args);
  } catch (error) {
    if (error instanceof UsageError) throw error;
    throw new UsageError(`Job module ${path} failed while defining the job: ${(error as Error).message ?? String(error)}`, { cause: error });
  }
  let graph: JobGraph;
  try {
    graph = buildJobGraph(env.plan, {
      defaultParallelism: env.getParallelism(),
      maxParallelism: env.getMaxParallelism(),
      restoredMaxParallelism: options.restoredMaxParallelism,
    });
  } catch (error) {
    throw new UsageError(`Job module ${path} defines a job that cannot run: ${(error as Error).message}`, { cause: error });
  }
  return { plan: env.plan, graph, job: env.jobScope() };
}

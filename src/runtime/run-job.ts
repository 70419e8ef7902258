/**
 * The engine's entry to a job: `runJob` (and `startJob`, which `sluice run` uses) loads
 * the job module (compiled once; graph/compile-job.ts), builds the job graph, finds the
 * state the job starts from (restore-source.ts) and fixes its id, seed and start time;
 * then the job master (job-master.ts `JobRun`) runs it, watched by the observers
 * (observed-run.ts). Flink: the client's job submission and the `Dispatcher`.
 */
import { randomInt, randomUUID } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { readJobInfo } from '../checkpoint/index.js';
import { UsageError } from '../errors.js';
import { compileJobModule, loadJob, resolveJobModule, workerModule } from '../graph/index.js';
import type { JobInfo } from '../api/index.js';
import type { OptionStyle } from '../option-names.js';
import type { JobHandle } from './job-handle.js';
import type { ThreadLease } from './mini-cluster.js';
import { JobRun } from './job-master.js';
import { resolveOptions } from './options.js';
import type { RunJobOptions } from './options.js';
import { watchJob } from './observed-run.js';
import { checkEngineDirectories, initializeSinks } from './preflight.js';
import { initialRestore, jobToResume } from './restore-source.js';

/**
 * Runs the job module at `moduleUrl` (path or file URL; .ts or .js; default export made
 * with `defineJob`). Returns at once; the handle's `result` settles when the job ends.
 * Rejections: UsageError (bad path, module or option; `userError: true`),
 * UserFunctionError (a user function threw), SubtaskError, JobCancelledError.
 */
export function runJob(moduleUrl: string | URL, options: RunJobOptions = {}): JobHandle {
  return startJob(moduleUrl, options, 'api');
}

/**
 * `runJob` for a caller whose users know the options by another name: `sluice run` passes
 * `cli`, so that messages name its flags (`--checkpoint-dir`) instead of runJob's options.
 * `leaseThreads`: a MiniCluster's threads to run on (mini-cluster.ts), else the job starts its own.
 */
export function startJob(moduleUrl: string | URL, options: RunJobOptions, style: OptionStyle, leaseThreads?: () => Promise<ThreadLease>): JobHandle {
  // --resume continues the job of the latest run in the checkpoint directory.
  const resumed = options.resume === true ? jobToResume(options.checkpointDir) : undefined;
  const jobId = resumed ?? randomUUID();
  const start = performance.now();
  const submittedAt = Date.now();
  const run = new JobRun(jobId, start, leaseThreads);
  // The job's history, its view for observers (REST, sluice list) and the web server.
  const watch = watchJob(run, moduleUrl, options, submittedAt);
  options = watch.options;
  const result = (async () => {
    const resolved = resolveOptions(options, style);
    checkEngineDirectories(resolved);
    return watch.serve(resolved, async () => {
      const url = resolveJobModule(moduleUrl);
      const initial = await initialRestore(jobId, resumed !== undefined, resolved);
      // Fixed here, once per job: a resumed job keeps the seed and start time of its first run.
      const recorded = resolved.resume ? readJobInfo(resolved.checkpointing!.dir, jobId) : undefined;
      const info: JobInfo = Object.freeze(recorded ?? { jobId, startTime: submittedAt, seed: randomInt(0, 2 ** 32) });
      // Compiled once, here: a TypeScript module's bundle, and the workers' twin of either kind (graph/compile-job.ts).
      const compiled = await compileJobModule(url).catch((error: unknown) => {
        throw new UsageError(`Job module ${fileURLToPath(url)} failed to compile: ${(error as Error).message}`, { cause: error });
      });
      const { plan, graph } = await loadJob(url, resolved.args, {
        defaultParallelism: resolved.parallelism,
        maxParallelism: resolved.maxParallelism,
        restoredMaxParallelism: initial?.meta.maxParallelism,
        parameters: resolved.params,
        info,
        importUrl: compiled.importUrl,
      });
      await initializeSinks(graph);
      // Workers load the engine's worker bundle and the job's twin importing it, when there is one.
      const worker = workerModule(compiled);
      return run.execute({ url, importUrl: worker?.importUrl ?? compiled.importUrl, taskFile: worker?.taskFile }, plan.fingerprint(), graph, resolved, initial, info);
    });
  })();
  // A job that fails before it runs gives its place in a MiniCluster's queue back.
  void result.catch(() => run.abandonThreads());
  return {
    jobId,
    result,
    closed: result.then(
      () => run.closed(),
      () => run.closed(),
    ),
    observed: watch.observed,
    webUrl: watch.webUrl,
    metrics: () => run.metrics(),
    cancel: () => watch.observed.cancel(),
    savepoint: (targetDir) => run.savepoint(targetDir, false),
    stop: (targetDir) => run.savepoint(targetDir, true),
  };
}

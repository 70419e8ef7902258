/**
 * How `startJob` lets a job be watched: its history (every engine event passes through
 * `JobHistory.record` on the way to the user's `onEvent`), its `ObservedJob` view, and
 * the web server when `webPort` is set, open for the life of the job: started before the
 * job module loads (a port in use fails at once), closed when the job has ended (after
 * its final state is known, so the event streams end with it).
 */
import fs from 'node:fs';
import path from 'node:path';
import { UsageError } from '../errors.js';
import type { JobGraph } from '../graph/index.js';
import { JobHistory } from '../metrics/job-history.js';
import type { ObservedJob } from '../metrics/index.js';
import { webTokenFileName } from '../web/token.js';
import type { WebServer } from '../web/index.js';
import { optionNamer } from '../option-names.js';
import type { JobMetrics } from './job-metrics.js';
import type { CheckpointStatsTracker } from './checkpoint-stats.js';
import { connectRunning } from './control-socket.js';
import type { ControlHandlers } from './control-socket.js';
import type { ResolvedOptions, RunJobOptions } from './options.js';

/** What the job master offers to observers. */
export interface ObservableRun {
  readonly jobId: string;
  /** The control socket's extra commands, set here. */
  observerHandlers: Pick<ControlHandlers, 'info' | 'cancel'>;
  readonly graph: JobGraph | undefined;
  /** Slots of the deployment (one worker thread each); 0 before the first. */
  readonly slots: number;
  readonly attemptNumber: number | undefined;
  readonly checkpointStats: CheckpointStatsTracker;
  metrics(): JobMetrics;
  savepoint(targetDir: string | undefined, stop: boolean): Promise<string>;
  cancel(): void;
}

/** What `startJob` uses: the options to run with, the observers' view, and `serve` to run the job with the web server. */
export interface JobWatch {
  /** The caller's options with an `onEvent` that records into the job's history first. */
  options: RunJobOptions;
  observed: ObservedJob;
  /** The web server's URL once it listens. */
  webUrl(): string | undefined;
  /** Runs the job (`body`) as `runObserved` does. */
  serve<T>(resolved: ResolvedOptions, body: () => Promise<T>): Promise<T>;
}

/** Sets up the watching of `run` (see the file comment); also gives the control socket `info` and `cancel`. */
export function watchJob(run: ObservableRun, moduleUrl: string | URL, options: RunJobOptions, submittedAt: number): JobWatch {
  const history = new JobHistory(submittedAt);
  const observed = observe(run, moduleUrl, history, options.checkpointDir);
  let webUrl: string | undefined;
  run.observerHandlers = controlHandlersOf(observed, () => webUrl);
  return {
    options: recordingEvents(options, history),
    observed,
    webUrl: () => webUrl,
    serve: (resolved, body) =>
      runObserved(
        observed,
        resolved,
        () => run.attemptNumber,
        (e) => (e as Error | undefined)?.name === 'JobCancelledError',
        (url) => (webUrl = url),
        body,
      ),
  };
}

/** `options` with an `onEvent` that records into `history` first. */
export function recordingEvents(options: RunJobOptions, history: JobHistory): RunJobOptions {
  const user = options.onEvent;
  return {
    ...options,
    onEvent: (event) => {
      history.record(event);
      user?.(event);
    },
  };
}

/** The observers' view of `run`; `checkpointDir` from the options as given (resolved later). */
export function observe(run: ObservableRun, moduleUrl: string | URL, history: JobHistory, checkpointDir: string | undefined): ObservedJob {
  const file = typeof moduleUrl === 'string' ? moduleUrl : moduleUrl.pathname;
  return {
    jobId: run.jobId,
    name: path.basename(file).replace(/\.[cm]?[jt]s$/, ''),
    history,
    jobDir: typeof checkpointDir === 'string' && checkpointDir !== '' ? path.resolve(checkpointDir, run.jobId) : undefined,
    metrics: () => run.metrics(),
    checkpointStats: run.checkpointStats,
    state: () => history.state(run.attemptNumber),
    graph: () => run.graph,
    slots: () => run.slots,
    savepoint: (target) => run.savepoint(target, false),
    stop: (target) => run.savepoint(target, true),
    cancel: () => {
      history.cancelling();
      run.cancel();
    },
  };
}

/** The control socket's `info` (`sluice list`) and `cancel` (`sluice cancel`) of `job`. */
export function controlHandlersOf(job: ObservedJob, webUrl: () => string | undefined): Pick<ControlHandlers, 'info' | 'cancel'> {
  return {
    info: () => {
      const url = webUrl();
      return {
        jobId: job.jobId,
        name: job.name,
        state: job.state(),
        startTime: job.history.startTime,
        parallelism: Math.max(0, ...(job.graph()?.vertices.map((v) => v.parallelism) ?? [])),
        ...(url === undefined ? {} : { webUrl: url }),
      };
    },
    cancel: () => {
      job.cancel();
      return job.state();
    },
  };
}

/**
 * Refuses to start when the job already runs in another process (its control socket in
 * `jobDir` answers: a second `--resume` of a running job), before the web server writes
 * its token there: the running twin's token file must stay. The control socket refuses
 * the twin too, but only after the job module has loaded. @throws UsageError.
 */
export async function refuseTwin(jobDir: string): Promise<void> {
  if (!fs.existsSync(jobDir)) return;
  const running = await connectRunning(jobDir, undefined);
  for (const r of running) r.socket.destroy();
  if (running.length > 0) {
    throw new UsageError(`Job ${path.basename(jobDir)} is already running in another process (its control socket in ${jobDir} answers); stop that process or use another checkpoint directory`);
  }
}

/**
 * Runs `body` (the job) with the web server open when `options.web` is set; records the
 * job's end in `history` either way. `onServing` gets the server's URL once it listens.
 * @throws UsageError (port in use, address not local) before `body` runs; what `body` throws.
 */
export async function runObserved<T>(
  job: ObservedJob,
  options: ResolvedOptions,
  attempt: () => number | undefined,
  isCancel: (error: unknown) => boolean,
  onServing: (url: string) => void,
  body: () => Promise<T>,
): Promise<T> {
  let web: WebServer | undefined;
  if (options.web !== undefined) {
    if (job.jobDir !== undefined) await refuseTwin(job.jobDir);
    const n = optionNamer(options.optionStyle);
    // Loaded only when a web port is asked for: fastify and prom-client cost every other
    // run 150-200 ms of start-up (native-notes §7).
    const { builtDashboardDir, startWebServer } = await import('../web/index.js');
    const dashboard = builtDashboardDir();
    web = await startWebServer(job, { ...options.web, ...(dashboard === undefined ? {} : { staticDir: dashboard }), names: { port: n('webPort'), host: n('webHost') } });
    onServing(web.url);
    const tokenFile = web.token === undefined || options.web.allowActions ? undefined : path.join(job.jobDir!, webTokenFileName);
    options.onEvent({ type: 'web-serving', jobId: job.jobId, url: web.url, ...(tokenFile === undefined ? {} : { tokenFile }) });
  }
  try {
    const result = await body();
    job.history.end(undefined, false, attempt());
    return result;
  } catch (error) {
    job.history.end(error as Error, isCancel(error), attempt());
    throw error;
  } finally {
    await web?.close();
  }
}

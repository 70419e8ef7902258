/**
 * How `startJob` lets a job be watched: its history (every engine event passes through
 * `JobHistory.record` on the way to the user's `onEvent`), its `ObservedJob` view, and
 * the web server when `webPort` is set, open for the life of the job: started before the
 * job module loads (a port in use fails at once), closed when the job has ended (after
 * its final state is known, so the event streams end with it).
 */
import path from 'node:path';
import type { JobGraph } from '../graph/index.js';
import { JobHistory } from '../metrics/index.js';
import type { ObservedJob } from '../metrics/index.js';
import { startWebServer, webTokenFileName } from '../web/index.js';
import type { WebServer } from '../web/index.js';
import { optionNamer } from '../option-names.js';
import type { JobMetrics } from './job-metrics.js';
import type { ControlHandlers } from './control-socket.js';
import type { ResolvedOptions, RunJobOptions } from './options.js';

/** What the job master offers to observers. */
export interface ObservableRun {
  readonly jobId: string;
  readonly jobGraph: JobGraph | undefined;
  readonly attemptNumber: number | undefined;
  metrics(): JobMetrics;
  savepoint(targetDir: string | undefined, stop: boolean): Promise<string>;
  cancel(): void;
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
    state: () => history.state(run.attemptNumber),
    graph: () => run.jobGraph,
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
    const n = optionNamer(options.optionStyle);
    web = await startWebServer(job, { ...options.web, names: { port: n('webPort'), host: n('webHost') } });
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

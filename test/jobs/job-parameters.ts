// Job module for the job parameter and job info tests (test/engine/job-parameters.test.ts,
// test/e2e/job-info-resume.test.ts). Every subtask of the map reports what it sees: the
// job parameters and info from its runtime context, and the values `defineJob` read from
// the environment (captured in the map's closure, so computed again in every worker).
// args[0] names the scenario:
// - `collect`: records 1..records (a job parameter: the plan depends on it), each with what
//   its subtask saw, into collect('seen'). With the parameter `dieAt`, the worker thread of
//   the map that meets that record exits once (a marker file, the parameter `marker`, says
//   it happened), as under --kill-worker-every.
// - `report`: a slow generator (records at `rate` per second); each map subtask writes what
//   it saw in `open` to `<reports>/<pid>-<subtask>.json` (the parameter `reports`).
// - `missing-in-function`: a map asks for a parameter nobody gave.
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { threadId } from 'node:worker_threads';
import { defineJob } from '../../src/index.js';
import type { JobInfo, RuntimeContext } from '../../src/index.js';

/** What one subtask saw. */
export interface Seen {
  record: number;
  subtask: number;
  thread: number;
  params: Record<string, string>;
  info: JobInfo;
  /** What `defineJob` read from `env` in this subtask's worker. */
  defined: { params: Record<string, string>; info: JobInfo };
}

class Observe {
  private ctx!: RuntimeContext;
  constructor(
    private readonly defined: Seen['defined'],
    private readonly onOpen: (seen: Omit<Seen, 'record'>) => void = () => {},
  ) {}
  open(ctx: RuntimeContext): void {
    this.ctx = ctx;
    this.onOpen(this.seen(0));
  }
  private seen(record: number): Seen {
    return { record, subtask: this.ctx.subtaskIndex, thread: threadId, params: { ...this.ctx.getJobParameters().toMap() }, info: { ...this.ctx.getJobInfo() }, defined: this.defined };
  }
  map(record: number): Seen {
    const params = this.ctx.getJobParameters();
    if (params.has('dieAt') && record === params.getInt('dieAt') && !existsSync(params.getRequired('marker'))) {
      writeFileSync(params.getRequired('marker'), '');
      process.exit(1); // in a worker thread: ends this thread only
    }
    return this.seen(record);
  }
}

export default defineJob((env, args) => {
  const params = env.getJobParameters();
  const defined = { params: { ...params.toMap() }, info: { ...env.getJobInfo() } };
  switch (args[0]) {
    case 'collect':
      env.fromSequence(1, params.getInt('records')).uid('numbers').map(new Observe(defined)).uid('observe').name('Observe').collect('seen');
      return;
    case 'report': {
      const reports = params.getRequired('reports');
      const write = (seen: Omit<Seen, 'record'>): void => writeFileSync(join(reports, `${process.pid}-${seen.subtask}.json`), JSON.stringify(seen));
      env
        .fromGenerator((i) => i, params.getInt('records'), { recordsPerSecond: params.getNumber('rate') })
        .uid('numbers')
        .map(new Observe(defined, write))
        .uid('observe')
        .addSink(() => {});
      return;
    }
    case 'missing-in-function':
      env.fromSequence(1, 10).map((x: number) => x + Number(env.getJobParameters().getRequired('offset'))).name('Offset').collect();
      return;
    default:
      throw new Error(`unknown scenario ${args[0]}`);
  }
});

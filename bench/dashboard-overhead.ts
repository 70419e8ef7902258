/**
 * Throughput with the dashboard open (and /metrics scraped every second) against without a
 * web server, side by side: paced counts without a rate limit (a generator, a keyed running
 * sum behind a HASH shuffle, a file sink), parallelism 2, checkpoints every second; runs
 * alternate (without, with, without, ...) so the machine's load hits both alike. Throughput
 * is the sink's records over its subtasks' active span (first record to last), so start-up
 * and the browser's launch are not counted.
 *
 * On a shared machine the throughput ratio swings with other load, so each run also
 * records CPU time in its steady state, which other load changes far less: from
 * `settleMs` after the start, and at least a second after the page is drawn (Chromium's
 * start of a renderer, the page load and the web server's lazy import are one-off costs),
 * to the job's end, the
 * CPU of the job process (all its threads), of its main thread (where the web server runs;
 * /proc/self/task/<pid>/stat) and of every Chromium process (/proc/<pid>/stat, summed).
 * The observers' cost is Chromium's CPU plus the main thread's CPU beyond the median of
 * the runs without, per second. A job that keeps every core busy loses that share of the
 * machine (cores x 1000 ms/s) to watching it: the slowdown it would see without other load.
 *
 *   npm run build && node dist/bench/dashboard-overhead.js [records=3000000] [pairs=3] [refresh-interval-ms=3000]
 *
 * The dashboard refreshes every `refresh-interval-ms` (`webRefreshIntervalMs`; 3000 is
 * Flink's default `web.refresh-interval`).
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { execFileSync } from 'node:child_process';
import { chromium } from 'playwright-core';
import type { Browser } from 'playwright-core';
import { runJob } from '../src/index.js';
import type { JobResult } from '../src/index.js';

const records = Number(process.argv[2] ?? 3_000_000);
const pairs = Number(process.argv[3] ?? 3);
const refreshIntervalMs = Number(process.argv[4] ?? 3000);
const job = new URL('../test/jobs/paced-counts.js', import.meta.url).pathname;
const msPerTick = 1000 / Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim());

/** Sink records per second over the sink subtasks' active span. */
function sinkRate(result: JobResult): number {
  const sinkVertex = Math.max(...result.subtasks.map((s) => s.vertexId));
  const sinks = result.subtasks.filter((s) => s.vertexId === sinkVertex);
  const since = Math.min(...sinks.map((s) => s.activeSince ?? Infinity));
  const until = Math.max(...sinks.map((s) => s.activeUntil ?? 0));
  const count = sinks.reduce((a, s) => a + s.recordsIn, 0);
  return count / ((until - since) / 1000);
}

/** utime + stime of a /proc stat line, ms (fields 14 and 15, after the command in parentheses). */
function statCpuMs(file: string): number {
  try {
    const text = fs.readFileSync(file, 'utf8');
    const fields = text.slice(text.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) * msPerTick;
  } catch {
    return 0; // the process ended meanwhile
  }
}

/** CPU ms of every Chromium process so far (those alive now). */
function chromiumCpuMs(): number {
  let sum = 0;
  for (const pid of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(pid)) continue;
    let comm: string;
    try {
      comm = fs.readFileSync(`/proc/${pid}/comm`, 'utf8');
    } catch {
      continue;
    }
    if (/^(chromium|chrome)/.test(comm)) sum += statCpuMs(`/proc/${pid}/stat`);
  }
  return sum;
}

/** One run's sink rate, and its CPU over the steady window (see the file comment). */
interface Run {
  rate: number;
  /** The steady window, ms. */
  wallMs: number;
  processCpuMs: number;
  mainThreadCpuMs: number;
  chromiumCpuMs: number;
}

/** Start of the steady window after the job's start, ms (with the dashboard: at least 1 s after it is drawn). */
const settleMs = 3000;

interface Counters {
  at: number;
  process: number;
  main: number;
  chromium: number;
}

function counters(): Counters {
  const cpu = process.cpuUsage();
  return { at: performance.now(), process: (cpu.user + cpu.system) / 1000, main: statCpuMs(`/proc/self/task/${process.pid}/stat`), chromium: chromiumCpuMs() };
}

async function once(browser: Browser | undefined): Promise<Run> {
  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'sluice-dash-overhead-'));
  try {
    const t0 = performance.now();
    const handle = runJob(job, {
      parallelism: 2,
      checkpointDir: path.join(work, 'ck'),
      checkpointIntervalMs: 1000,
      ...(browser === undefined ? {} : { webPort: 0, webRefreshIntervalMs: refreshIntervalMs }),
      args: ['--count', String(records), '--keys', '1024', '--output', path.join(work, 'out')],
    });
    let scraper: NodeJS.Timeout | undefined;
    let page: Awaited<ReturnType<Browser['newPage']>> | undefined;
    if (browser !== undefined) {
      const deadline = Date.now() + 30_000;
      while (handle.webUrl() === undefined && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 20));
      const url = handle.webUrl()!;
      page = await browser.newPage();
      await page.goto(url);
      scraper = setInterval(() => void fetch(`${url}/metrics`).then((r) => r.text()).catch(() => {}), 1000);
    }
    // The window starts settleMs after the start, and at least a second after the page is drawn.
    let start = t0 + settleMs;
    if (page !== undefined) {
      await page.locator('svg.job-graph').waitFor({ timeout: 60_000 });
      start = Math.max(start, performance.now() + 1000);
    }
    await new Promise((resolve) => setTimeout(resolve, Math.max(0, start - performance.now())));
    const from = counters();
    const result = await handle.result;
    const to = counters();
    if (to.at - from.at < 5000) console.warn(`the steady window was only ${(to.at - from.at).toFixed(0)} ms: use more records`);
    const run: Run = {
      rate: sinkRate(result),
      wallMs: to.at - from.at,
      processCpuMs: to.process - from.process,
      mainThreadCpuMs: to.main - from.main,
      chromiumCpuMs: to.chromium - from.chromium,
    };
    clearInterval(scraper);
    await page?.close();
    return run;
  } finally {
    fs.rmSync(work, { recursive: true, force: true });
  }
}

const browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'] });
console.log(`dashboard-overhead: ${records} records, ${pairs} pairs, the dashboard refreshing every ${refreshIntervalMs} ms, /metrics scraped every 1000 ms`);
const without: Run[] = [];
const withDashboard: Run[] = [];
const perSecond = (ms: number, r: Run): string => `${((ms / r.wallMs) * 1000).toFixed(0)} ms/s`;
try {
  for (let i = 0; i < pairs; i++) {
    without.push(await once(undefined));
    withDashboard.push(await once(browser));
    const [a, b] = [without[i]!, withDashboard[i]!];
    console.log(
      `pair ${i + 1} (load ${os.loadavg()[0]!.toFixed(1)}): without ${a.rate.toFixed(0)} records/s (job CPU ${perSecond(a.processCpuMs, a)}, main thread ${perSecond(a.mainThreadCpuMs, a)}, Chromium idle ${perSecond(a.chromiumCpuMs, a)}); ` +
        `with the dashboard open ${b.rate.toFixed(0)} records/s (job CPU ${perSecond(b.processCpuMs, b)}, main thread ${perSecond(b.mainThreadCpuMs, b)}, Chromium ${perSecond(b.chromiumCpuMs, b)})`,
    );
  }
} finally {
  await browser.close();
}
const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const ratio = median(withDashboard.map((r) => r.rate)) / median(without.map((r) => r.rate));
const rate = (ms: number, r: Run): number => (ms / r.wallMs) * 1000; // CPU ms per second
const mainWithout = median(without.map((r) => rate(r.mainThreadCpuMs, r)));
const observers = withDashboard.map((r) => rate(r.chromiumCpuMs, r) + rate(r.mainThreadCpuMs, r) - mainWithout);
const cores = os.availableParallelism();
const range = (xs: number[], f: (x: number) => string): string => `${f(median(xs))} [${f(Math.min(...xs))}-${f(Math.max(...xs))}]`;
console.log(`throughput, median: without ${median(without.map((r) => r.rate)).toFixed(0)}, with ${median(withDashboard.map((r) => r.rate)).toFixed(0)} records/s; with/without ${ratio.toFixed(3)}`);
console.log(
  `steady CPU per second: the job without ${range(without.map((r) => rate(r.processCpuMs, r)), (x) => x.toFixed(0))} ms/s (main thread ${mainWithout.toFixed(1)}); ` +
    `Chromium ${range(withDashboard.map((r) => rate(r.chromiumCpuMs, r)), (x) => x.toFixed(1))} ms/s, the main thread's extra ${range(withDashboard.map((r) => rate(r.mainThreadCpuMs, r) - mainWithout), (x) => x.toFixed(1))} ms/s; ` +
    `the observers ${range(observers, (x) => x.toFixed(1))} ms/s = ${range(observers, (x) => ((x / (cores * 1000)) * 100).toFixed(2))} % of ${cores} cores`,
);

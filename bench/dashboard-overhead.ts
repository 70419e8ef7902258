/**
 * Throughput with the dashboard open (and /metrics scraped every second) against without a
 * web server, side by side: paced counts without a rate limit (a generator, a keyed running
 * sum behind a HASH shuffle, a file sink), parallelism 2, checkpoints every second; runs
 * alternate (without, with, without, ...) so the machine's load hits both alike. Throughput
 * is the sink's records over its subtasks' active span (first record to last), so start-up
 * and the browser's launch are not counted.
 *
 *   npm run build && node dist/bench/dashboard-overhead.js [records=3000000] [pairs=3]
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { chromium } from 'playwright-core';
import type { Browser } from 'playwright-core';
import { runJob } from '../src/index.js';
import type { JobResult } from '../src/index.js';

const records = Number(process.argv[2] ?? 3_000_000);
const pairs = Number(process.argv[3] ?? 3);
const job = new URL('../test/jobs/paced-counts.js', import.meta.url).pathname;

/** Sink records per second over the sink subtasks' active span. */
function sinkRate(result: JobResult): number {
  const sinkVertex = Math.max(...result.subtasks.map((s) => s.vertexId));
  const sinks = result.subtasks.filter((s) => s.vertexId === sinkVertex);
  const since = Math.min(...sinks.map((s) => s.activeSince ?? Infinity));
  const until = Math.max(...sinks.map((s) => s.activeUntil ?? 0));
  const count = sinks.reduce((a, s) => a + s.recordsIn, 0);
  return count / ((until - since) / 1000);
}

async function once(browser: Browser | undefined): Promise<number> {
  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'sluice-dash-overhead-'));
  try {
    const handle = runJob(job, {
      parallelism: 2,
      checkpointDir: path.join(work, 'ck'),
      checkpointIntervalMs: 1000,
      ...(browser === undefined ? {} : { webPort: 0 }),
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
    const result = await handle.result;
    clearInterval(scraper);
    await page?.close();
    return sinkRate(result);
  } finally {
    fs.rmSync(work, { recursive: true, force: true });
  }
}

const browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: ['--headless', '--no-sandbox'] });
const without: number[] = [];
const withDashboard: number[] = [];
try {
  for (let i = 0; i < pairs; i++) {
    without.push(await once(undefined));
    withDashboard.push(await once(browser));
    console.log(`pair ${i + 1}: without ${without[i]!.toFixed(0)} records/s, with the dashboard open ${withDashboard[i]!.toFixed(0)} records/s`);
  }
} finally {
  await browser.close();
}
const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const ratio = median(withDashboard) / median(without);
console.log(`median: without ${median(without).toFixed(0)}, with ${median(withDashboard).toFixed(0)} records/s; with/without ${ratio.toFixed(3)} (${((1 - ratio) * 100).toFixed(1)} % slower)`);

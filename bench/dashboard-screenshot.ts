/**
 * Takes docs/dashboard.png: the dashboard of a running job (paced counts: a generator at
 * 20,000 records/s, a keyed running sum behind a HASH shuffle, a file sink; parallelism 2,
 * checkpoints every second), in headless Debian Chromium (`apt-get install chromium`)
 * driven by playwright-core, once eight checkpoints have completed and the charts hold
 * a few seconds of rates. Then cancels the job.
 *
 *   npm run build && node dist/bench/dashboard-screenshot.js [output.png]
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';
import { runJob } from '../src/index.js';

declare const document: { querySelectorAll(selector: string): ArrayLike<unknown> };

const root = fileURLToPath(new URL('../..', import.meta.url));
const out = path.resolve(process.argv[2] ?? path.join(root, 'docs', 'dashboard.png'));
const chromiumPath = '/usr/bin/chromium';
if (!fs.existsSync(chromiumPath)) {
  console.error(`${chromiumPath} is missing: apt-get install chromium`);
  process.exit(2);
}
const work = fs.mkdtempSync(path.join(os.tmpdir(), 'sluice-dashboard-shot-'));
const job = new URL('../test/jobs/paced-counts.js', import.meta.url).pathname;
const handle = runJob(job, {
  parallelism: 2,
  checkpointDir: path.join(work, 'ck'),
  checkpointIntervalMs: 1000,
  webPort: 0,
  webAllowActions: true,
  args: ['--count', '1000000000', '--keys', '64', '--output', path.join(work, 'out'), '--rate', '20000'],
});
handle.result.catch(() => {});
const browser = await chromium.launch({ executablePath: chromiumPath, args: ['--headless', '--no-sandbox'] });
try {
  const deadline = Date.now() + 30_000;
  while (handle.webUrl() === undefined && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 50));
  const url = handle.webUrl();
  if (url === undefined) throw new Error('the job did not serve its dashboard within 30 s');
  const page = await browser.newPage({ viewport: { width: 1400, height: 1150 } });
  await page.goto(url);
  await page.waitForFunction(() => document.querySelectorAll('#checkpoints tr.checkpoint.completed').length >= 8, undefined, { timeout: 90_000 });
  await page.locator('#checkpoints tr.checkpoint.completed').first().click();
  await page.locator('#checkpoint-details dl').waitFor({ timeout: 10_000 });
  await page.screenshot({ path: out, fullPage: true });
  console.log(`dashboard screenshot: ${out}`);
} finally {
  await browser.close();
  handle.cancel();
  await handle.result.catch(() => {});
  fs.rmSync(work, { recursive: true, force: true });
}

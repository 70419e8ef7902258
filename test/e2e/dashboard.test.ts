// The web dashboard in a real browser (headless Chromium from Debian, driven by
// playwright-core) against a real running job: paced counts (a generator, a keyed running
// sum behind a HASH shuffle, a file sink) with checkpoints, run in this process with a web
// server on a free port. The page must show every vertex of /jobs/:id/plan and every edge
// named by its partitioner, rates above 0, a completed checkpoint, per-subtask rows and a
// chart per vertex, with no script error and no Content-Security-Policy violation; its
// cancel button must cancel the job (runJob rejects with JobCancelledError). A job whose
// actions are not allowed gets disabled buttons and a note. On a failure the page's
// screenshot is saved in a temporary folder and its path printed.
import t, { type Test } from 'tap';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { chromium } from 'playwright-core';
import type { Browser, Page } from 'playwright-core';
import { runJob } from '../../src/index.js';
import type { JobHandle } from '../../src/index.js';
import { JobCancelledError } from '../../src/runtime/index.js';
import { tempDir } from '../helpers/checkpoints.js';
import { request, servedUrl } from '../helpers/http.js';
import { pacedCountsJob } from '../helpers/paced-counts.js';

// The functions given to page.waitForFunction run in the page; the tests compile without DOM types.
interface PageElement {
  getAttribute(name: string): string | null;
  readonly children: ArrayLike<{ textContent: string | null }>;
}
declare const document: {
  querySelectorAll(selector: string): ArrayLike<PageElement> & Iterable<PageElement>;
  getElementById(id: string): { textContent: string | null } | null;
};

const chromiumPath = '/usr/bin/chromium';
/** Deadline of each wait on the page (the 2-core machine is shared). */
const waitMs = 60_000;

/** Starts paced counts with a web server on a free port; resolves with its URL once it serves. */
async function startServedJob(t: Test, options: Record<string, unknown>): Promise<{ handle: JobHandle; url: string }> {
  const handle = runJob(pacedCountsJob, {
    parallelism: 2,
    webPort: 0,
    args: ['--count', '1000000000', '--keys', '16', '--output', tempDir(t, 'dash-out'), '--rate', '20000'],
    ...options,
  });
  return { handle, url: await servedUrl(t, handle) };
}

/** Opens a page that records script errors and CSP violations; on a failure of `body` saves a screenshot and prints its path. */
async function withPage(t: Test, browser: Browser, name: string, body: (page: Page, problems: string[]) => Promise<void>): Promise<void> {
  const page = await browser.newPage({ viewport: { width: 1400, height: 1000 } });
  const problems: string[] = [];
  page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
  page.on('console', (m) => {
    if (m.type() === 'error' || /Content Security Policy/i.test(m.text())) problems.push(`console ${m.type()}: ${m.text()}`);
  });
  const screenshot = async (): Promise<void> => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sluice-dashboard-failure-'));
    const shot = path.join(dir, `${name}.png`);
    await page.screenshot({ path: shot, fullPage: true }).catch(() => {});
    console.error(`dashboard test ${name} failed; screenshot: ${shot}`);
    t.comment(`screenshot of the failed page: ${shot}`);
  };
  try {
    await body(page, problems);
    if (!t.passing()) await screenshot(); // an assertion failed without throwing
  } catch (error) {
    await screenshot();
    throw error;
  } finally {
    await page.close();
  }
}

t.test('the dashboard of a running job: graph, rates, checkpoints, cancel', async (t) => {
  if (!fs.existsSync(chromiumPath)) {
    t.fail(`${chromiumPath} is missing: apt-get install chromium (the dashboard test drives Debian's Chromium)`);
    return;
  }
  const browser = await chromium.launch({ executablePath: chromiumPath, args: ['--headless', '--no-sandbox'] });
  t.teardown(() => browser.close());

  await t.test('actions allowed', async (t) => {
    const { handle, url } = await startServedJob(t, { checkpointDir: tempDir(t, 'dash-ck'), checkpointIntervalMs: 500, webAllowActions: true, latencyTrackingIntervalMs: 50 });
    await withPage(t, browser, 'actions-allowed', async (page, problems) => {
      const root = await request(`${url}/`);
      t.match(root.headers['content-type'], /^text\/html/, '/ serves the dashboard');
      t.match(root.headers['content-security-policy'], /default-src 'self'/, 'with a self-only Content-Security-Policy');
      t.notMatch(root.text, /https?:\/\//, 'the page names no other host');
      await page.goto(url);

      let plan = await request(`${url}/jobs/${handle.jobId}/plan`);
      const planDeadline = Date.now() + waitMs;
      while (plan.status !== 200 && Date.now() < planDeadline) {
        await page.waitForResponse((r) => r.url().endsWith('/plan'), { timeout: waitMs }); // the page retries on each event until the module has loaded
        plan = await request(`${url}/jobs/${handle.jobId}/plan`);
      }
      const nodes = plan.json.plan.nodes as Array<{ id: string; description: string; parallelism: number; inputs?: Array<{ id: string; ship_strategy: string }> }>;
      t.ok(nodes.length >= 2, `the plan has ${nodes.length} vertices`);

      // The graph shows every vertex (by id and name) and every edge (by partitioner).
      await page.waitForFunction((n) => document.querySelectorAll('svg.job-graph g.vertex').length === n, nodes.length, { timeout: waitMs });
      const shown = await page.$$eval('svg.job-graph g.vertex', (gs) => gs.map((g) => ({ id: g.getAttribute('data-vertex-id'), name: g.getAttribute('data-name') })));
      t.same(
        shown.sort((a, b) => a.id!.localeCompare(b.id!)),
        nodes.map((n) => ({ id: n.id, name: n.description })).sort((a, b) => a.id.localeCompare(b.id)),
        'one box per vertex of /plan, with its name',
      );
      const edges = await page.$$eval('svg.job-graph g.edge', (gs) => gs.map((g) => `${g.getAttribute('data-from')}>${g.getAttribute('data-to')}:${g.querySelector('text')?.textContent}`));
      const planEdges = nodes.flatMap((n) => (n.inputs ?? []).map((i) => `${i.id}>${n.id}:${i.ship_strategy}`));
      t.same(edges.sort(), planEdges.sort(), 'one arrow per edge, labelled with its partitioner');
      t.ok(planEdges.some((e) => e.endsWith(':HASH')), 'the keyed shuffle is shown as HASH');

      // Rates rise above 0 on every vertex, and each box is coloured by its backpressure level.
      await page.waitForFunction(
        () => [...document.querySelectorAll('svg.job-graph g.vertex')].every((g) => Number(g.getAttribute('data-records-in-rate')) + Number(g.getAttribute('data-records-out-rate')) > 0),
        undefined,
        { timeout: waitMs },
      );
      const levels = await page.$$eval('svg.job-graph g.vertex', (gs) => gs.map((g) => g.getAttribute('class')));
      t.ok(levels.every((c) => /\bbp-(ok|low|high)\b/.test(c ?? '')), `every vertex coloured by backpressure (${levels.join(', ')})`);
      const rateText = await page.locator('svg.job-graph g.vertex text.rate').first().textContent();
      t.match(rateText, /out [1-9][\d,]*\/s/, `the source's box shows its rate: ${rateText}`);

      // A chart per vertex, the subtask table of the selected vertex, a completed checkpoint with details.
      await page.waitForFunction((n) => document.querySelectorAll('#charts .chart canvas').length === n, nodes.length, { timeout: waitMs });
      await page.waitForFunction((n) => document.querySelectorAll('#subtasks table.subtasks tbody tr').length === n, nodes[0]!.parallelism, { timeout: waitMs });
      // The operators of a vertex behind the shuffle, with latency-marker percentiles.
      const behind = nodes.find((n) => (n.inputs ?? []).length > 0)!;
      await page.selectOption('#vertex-select', behind.id);
      await page.waitForFunction(() => [...document.querySelectorAll('#subtasks table.operators tbody tr')].some((tr) => /\d ms/.test(tr.children[5]?.textContent ?? '')), undefined, { timeout: waitMs });
      const latencyRow = await page.$$eval('#subtasks table.operators tbody tr', (trs) => trs.map((tr) => [...tr.children].map((td) => td.textContent)));
      t.ok(latencyRow.length >= 1 && latencyRow.every((r) => /^[\d.,]+ ms$/.test(r[5] ?? '') && /^[\d,]+$/.test(r[10] ?? '')), `operators behind the shuffle show latency p50 and a marker count: ${JSON.stringify(latencyRow[0])}`);
      const row = page.locator('#checkpoints tr.checkpoint.completed').first();
      await row.waitFor({ timeout: waitMs });
      await row.click();
      await page.locator('#checkpoint-details dl').waitFor({ timeout: waitMs });
      t.match(await page.locator('#checkpoint-details').textContent(), /end to end.*ms.*full size/s, 'a checkpoint row opens its details');
      await page.locator('#checkpoint-details table.checkpoint-tasks tbody tr').first().waitFor({ timeout: waitMs });
      const acks = await page.$$eval('#checkpoint-details table.checkpoint-tasks tbody tr', (trs) => trs.map((tr) => tr.children[1]?.textContent));
      t.same(acks, nodes.map((n) => `${n.parallelism} / ${n.parallelism}`), `each vertex's subtasks acknowledged the completed checkpoint: ${JSON.stringify(acks)}`);
      t.match(await page.locator('#exceptions').textContent(), /restarts: 0/, 'restarts are shown');

      t.same(problems, [], 'no script error and no CSP violation while the job runs');
      // The cancel button cancels the job.
      const cancel = page.locator('#cancel-button');
      t.equal(await cancel.isEnabled(), true, 'the cancel button is enabled when actions are allowed');
      await cancel.click();
      // The deadline's timer must not outlive the race: a pending 60 s timer kept the test's process alive for a minute.
      let deadline: NodeJS.Timeout | undefined;
      const outcome = await Promise.race([handle.result.then(() => 'finished', (e: unknown) => e), new Promise((resolve) => (deadline = setTimeout(() => resolve('timeout'), waitMs)))]);
      clearTimeout(deadline);
      t.ok(outcome instanceof JobCancelledError, `runJob rejects with JobCancelledError (got ${String(outcome)})`);
      await page.waitForFunction(() => document.getElementById('job-state')?.textContent === 'CANCELED', undefined, { timeout: waitMs });
      t.equal(await cancel.isDisabled(), true, 'the buttons are disabled once the job has ended');
      // Once the job has ended its server closes: requests in flight may be refused or reset,
      // or answered 503 by a server that is closing (fastify's return503OnClosing).
      t.same(
        problems.filter((p) => !/Failed to load resource: (net::ERR_CONNECTION_(REFUSED|RESET)|the server responded with a status of 503)/.test(p)),
        [],
        'no script error and no CSP violation after the cancel',
      );
    });
  });

  await t.test('actions through the pasted token: a wrong one is refused, the right one takes a savepoint', async (t) => {
    const ck = tempDir(t, 'dash-token-ck');
    const { handle, url } = await startServedJob(t, { checkpointDir: ck, checkpointIntervalMs: 500 });
    await withPage(t, browser, 'token', async (page, problems) => {
      await page.goto(url);
      const token = page.locator('#token-input');
      await token.waitFor({ timeout: waitMs });
      const savepoint = page.locator('#savepoint-button');
      t.equal(await savepoint.isDisabled(), true, 'disabled until a token is pasted');
      await token.fill('0'.repeat(64));
      await savepoint.click();
      await page.waitForFunction(() => /refused: the bearer token is wrong/.test(document.getElementById('action-status')?.textContent ?? ''), undefined, { timeout: waitMs });
      await token.fill(fs.readFileSync(path.join(ck, handle.jobId, 'web-token'), 'utf8').trim());
      await page.locator('#savepoint-dir').fill(tempDir(t, 'dash-savepoints'));
      await savepoint.click();
      await page.waitForFunction(() => /^savepoint at \//.test(document.getElementById('action-status')?.textContent ?? ''), undefined, { timeout: waitMs });
      const location = (await page.locator('#action-status').textContent())!.replace(/^savepoint at /, '');
      t.ok(fs.existsSync(path.join(location, '_metadata')), `the savepoint ${location} was written`);
      // The browser logs the refused request (401) as a failed resource load; nothing else.
      t.same(problems.filter((p) => !/status of 401/.test(p)), [], 'no script error and no CSP violation');
    });
  });

  await t.test('actions not allowed: buttons disabled with a note', async (t) => {
    const { url } = await startServedJob(t, {});
    await withPage(t, browser, 'read-only', async (page, problems) => {
      await page.goto(url);
      await page.locator('#actions-note').waitFor({ timeout: waitMs });
      t.match(await page.locator('#actions-note').textContent(), /--web-allow-actions/, 'the note says how to allow actions');
      t.equal(await page.locator('#cancel-button').isDisabled(), true, 'cancel is disabled');
      t.equal(await page.locator('#savepoint-button').isDisabled(), true, 'savepoint is disabled');
      t.same(problems, [], 'no script error and no CSP violation');
    });
  });
});

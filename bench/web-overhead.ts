// Throughput with the REST API served and scraped every second (GET /metrics and
// GET /jobs/:id, an event stream open) against without, runs alternating side by side.
//   node dist/bench/web-overhead.js [runs=3] [records=3000000]
import http from 'node:http';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runJob } from '../src/index.js';

const job = new URL('../test/jobs/paced-counts.js', import.meta.url).pathname;
const runs = Number(process.argv[2] ?? 3);
const records = Number(process.argv[3] ?? 3_000_000);

function get(url: string): Promise<void> {
  return new Promise((resolve) => {
    http.get(url, (res) => {
      res.resume();
      res.on('end', () => resolve());
    }).on('error', () => resolve());
  });
}

async function once(web: boolean): Promise<number> {
  const out = mkdtempSync(join(tmpdir(), 'web-bench-'));
  const handle = runJob(job, { parallelism: 2, stateBackend: 'hashmap', ...(web ? { webPort: 0, webAllowActions: true } : {}), args: ['--count', String(records), '--keys', '64', '--output', out] });
  let scraper: NodeJS.Timeout | undefined;
  let stream: http.ClientRequest | undefined;
  if (web) {
    scraper = setInterval(() => {
      const url = handle.webUrl();
      if (url === undefined) return;
      stream ??= http.get(`${url}/jobs/${handle.jobId}/events`, (res) => res.resume());
      void get(`${url}/metrics`);
      void get(`${url}/jobs/${handle.jobId}`);
    }, 1000);
  }
  const result = await handle.result;
  if (scraper !== undefined) clearInterval(scraper);
  stream?.destroy();
  rmSync(out, { recursive: true, force: true });
  const source = result.subtasks.filter((s) => s.operators.some((o) => o.uid === 'numbers'));
  const since = Math.min(...source.map((s) => s.activeSince!));
  const until = Math.max(...result.subtasks.map((s) => s.activeUntil!));
  return records / ((until - since) / 1000);
}

const without: number[] = [];
const withWeb: number[] = [];
for (let i = 0; i < runs; i++) {
  without.push(await once(false));
  withWeb.push(await once(true));
}
const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
console.log(`records/s without web: ${without.map((x) => x.toFixed(0)).join(', ')} (median ${median(without).toFixed(0)})`);
console.log(`records/s with web, scraped each second: ${withWeb.map((x) => x.toFixed(0)).join(', ')} (median ${median(withWeb).toFixed(0)})`);
console.log(`ratio with/without (medians): ${(median(withWeb) / median(without)).toFixed(3)}`);

/**
 * The CPU-heavy map's references outside the engine (bench/engine.bench.ts, section
 * cpu-map): the work calibrated to a target time per record, and run by a plain loop, by
 * bare worker threads, and by a piscina pool fed batches from the main thread. Each
 * returns the sampled results (`isSampled`) in record order, which the section compares
 * with the engine's, so every variant provably does the same work.
 */
import assert from 'node:assert/strict';
import { performance } from 'node:perf_hooks';
import { Worker } from 'node:worker_threads';
import { Piscina } from 'piscina';
import { heavy, isSampled } from './jobs/heavy.js';
import type { HeavyBatch, HeavyBatchResult } from './jobs/heavy-piscina-worker.js';

/** Hash rounds that take `targetUs` microseconds in this thread, from the fastest of several trials. */
export function calibrateIterations(targetUs: number): { iterations: number; nsPerIteration: number } {
  assert.ok(targetUs > 0, `calibrateIterations() needs a positive target, got ${targetUs}`);
  const trialIterations = 1000;
  const trialRecords = 2000;
  let sink = 0;
  for (let i = 0; i < trialRecords; i++) sink ^= heavy(i, trialIterations); // JIT warm-up
  let best = Number.POSITIVE_INFINITY;
  for (let trial = 0; trial < 7; trial++) {
    const start = performance.now();
    for (let i = 0; i < trialRecords; i++) sink ^= heavy(i, trialIterations);
    best = Math.min(best, performance.now() - start);
  }
  assert.ok(sink !== 0.5); // keeps `sink` alive
  const nsPerIteration = (best * 1e6) / (trialIterations * trialRecords);
  return { iterations: Math.max(1, Math.round((targetUs * 1000) / nsPerIteration)), nsPerIteration };
}

/** Records 1..count through `heavy` in this thread: the sampled results. */
export function plainLoop(count: number, iterations: number): number[] {
  const sampled: number[] = [];
  for (let x = 1; x <= count; x++) {
    const h = heavy(x, iterations);
    if (isSampled(h)) sampled.push(h);
  }
  return sampled;
}

/**
 * Records 1..count split into `threads` ranges, each on a bare worker thread started for
 * the run (no engine, no pool): what the machine allows right now. The workers get the
 * compiled source of `heavy` and `isSampled`, so they run the very same code.
 */
export async function plainThreads(threads: number, count: number, iterations: number): Promise<number[]> {
  const source = `
    const { parentPort, workerData } = require('node:worker_threads');
    const heavy = ${heavy.toString()};
    const isSampled = ${isSampled.toString()};
    const sampled = [];
    for (let x = workerData.from; x <= workerData.to; x++) {
      const h = heavy(x, workerData.iterations);
      if (isSampled(h)) sampled.push(h);
    }
    parentPort.postMessage(sampled);`;
  const per = Math.ceil(count / threads);
  const runs = Array.from({ length: threads }, (_, t) => {
    const workerData = { from: t * per + 1, to: Math.min(count, (t + 1) * per), iterations };
    return new Promise<number[]>((resolve, reject) => {
      const worker = new Worker(source, { eval: true, workerData });
      worker.once('message', resolve);
      worker.once('error', reject);
      worker.once('exit', (code) => (code === 0 ? undefined : reject(new Error(`plain worker exited with code ${code}`))));
    });
  });
  return (await Promise.all(runs)).flat();
}

/**
 * Records 1..count mapped by a piscina pool of `threads` threads, made for the run and
 * destroyed after it (as the engine starts its threads in each run): the main thread
 * submits every batch of `batchSize` records at once (piscina queues them) and collects
 * the results in submission order. Checks that every record was mapped.
 */
export async function piscinaMap(threads: number, batchSize: number, count: number, iterations: number): Promise<number[]> {
  assert.ok(threads >= 1 && batchSize >= 1, `piscinaMap() needs threads >= 1 and batchSize >= 1, got ${threads}, ${batchSize}`);
  const pool = new Piscina<HeavyBatch, HeavyBatchResult>({
    filename: new URL('./jobs/heavy-piscina-worker.js', import.meta.url).href,
    minThreads: threads,
    maxThreads: threads,
  });
  try {
    const runs: Promise<HeavyBatchResult>[] = [];
    for (let from = 1; from <= count; from += batchSize) {
      const records: number[] = [];
      for (let x = from; x < from + batchSize && x <= count; x++) records.push(x);
      runs.push(pool.run({ records, iterations }));
    }
    const results = await Promise.all(runs);
    const mapped = results.reduce((sum, r) => sum + r.mapped, 0);
    assert.equal(mapped, count, `piscina mapped ${mapped} records of ${count}`);
    return results.flatMap((r) => r.sampled);
  } finally {
    await pool.destroy();
  }
}

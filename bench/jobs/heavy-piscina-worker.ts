/**
 * piscina worker of the CPU-heavy map's reference (bench/engine.bench.ts, section cpu-map):
 * a task is one batch of records; the worker maps each through `heavy` and returns how many
 * it mapped and the sampled results (`isSampled`), as a user of piscina would hand results
 * back to the main thread.
 */
import { heavy, isSampled } from './heavy.js';

/** One batch: records (integers) and the hash rounds per record. */
export interface HeavyBatch {
  records: number[];
  iterations: number;
}

/** What a batch gave: records mapped and the sampled results, in record order. */
export interface HeavyBatchResult {
  mapped: number;
  sampled: number[];
}

export default function mapBatch(batch: HeavyBatch): HeavyBatchResult {
  const sampled: number[] = [];
  for (const x of batch.records) {
    const h = heavy(x, batch.iterations);
    if (isSampled(h)) sampled.push(h);
  }
  return { mapped: batch.records.length, sampled };
}

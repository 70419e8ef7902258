/**
 * Benchmark job: a sliding-window average per key (bench/windows.bench.ts, section 3).
 * `fromGenerator` -> timestamps (bounded out-of-orderness) -> keyBy -> sliding event-time
 * window -> aggregate (with merge, so the sliced operator can take it) -> collect.
 *
 *   args: <records> <keys> <size ms> <slide ms> <disorder ms>
 *
 * Record i has event time about i ms (up to `disorder` ms earlier), a key and a value from
 * a hash of i: the same workload in the main thread and every worker.
 */
import { SlidingEventTimeWindows, WatermarkStrategy, defineJob } from '../../src/index.js';
import type { AggregateFunction } from '../../src/index.js';
import { fmix32 } from '../../src/state/key-group.js';

interface Reading {
  key: string;
  t: number;
  v: number;
}

/** murmur3's 32-bit finalizer: a well-mixed hash of `x`. */
function mix(x: number): number {
  return fmix32(x | 0);
}

const average: AggregateFunction<Reading, { sum: number; count: number }, number> = {
  createAccumulator: () => ({ sum: 0, count: 0 }),
  add: (r, acc) => ({ sum: acc.sum + r.v, count: acc.count + 1 }),
  getResult: (acc) => acc.sum / acc.count,
  merge: (a, b) => ({ sum: a.sum + b.sum, count: a.count + b.count }),
};

export default defineJob((env, args) => {
  const [records, keys, size, slide, disorder] = args.map(Number) as [number, number, number, number, number];
  env
    .fromGenerator((i): Reading => ({ key: `key-${mix(i) % keys}`, t: Math.max(0, i - (mix(i + 0x9e3779b9) % disorder)), v: mix(i ^ 0x5bd1e995) % 100 }), records)
    .assignTimestampsAndWatermarks(WatermarkStrategy.forBoundedOutOfOrderness<Reading>(disorder).withTimestampAssigner((r) => r.t))
    .keyBy((r) => r.key)
    .window(SlidingEventTimeWindows.of(size, slide))
    .aggregate(average)
    .collect();
});

// Built-in benchmarks: Nexmark's queries q0-q2 (`sluice bench nexmark`). The job module
// (nexmark/job.ts) is loaded by URL in every subtask, not through this entry.
export { runNexmarkBench } from './nexmark/run.js';
export type { NexmarkBenchOptions, NexmarkBenchResult } from './nexmark/run.js';
export { q0, q1, q2, queries, queryNames } from './nexmark/queries.js';
export type { AuctionPriceRow, BidRow, QueryName } from './nexmark/queries.js';
export { mergeLatencyReports, q1LatencyPipeline, warmUpMs } from './nexmark/latency.js';
export type { LatencyReport } from './nexmark/latency.js';

/**
 * sluicegate: a stateful stream processing engine for Node.js, after Apache Flink.
 * Public entry: the DataStream API to define jobs, and `runJob` to run them.
 */
export * from './api/index.js';
export { runJob, JobCancelledError, SubtaskError } from './runtime/index.js';
export type { CompletedCheckpoint, JobEvent, JobHandle, JobMetrics, JobResult, OperatorStats, RestartStrategyConfig, RunJobOptions, SubtaskStats } from './runtime/index.js';
export { UsageError, UserFunctionError } from './errors.js';
export type { UserFunctionFailure } from './errors.js';
export type * from './state/api.js';
export { assignToKeyGroup, defaultMaxParallelism, keyGroupRangeForSubtask, operatorIndexForKeyGroup } from './state/key-group.js';

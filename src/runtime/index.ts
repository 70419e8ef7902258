export { JobCancelledError, SubtaskError, cancelGraceMs, runJob } from './job-master.js';
export type { JobHandle, JobMetrics, JobResult, OperatorStats, SubtaskStats } from './job-master.js';
export { defaults, resolveOptions } from './options.js';
export type { CheckpointConfig, JobEvent, ResolvedOptions, RunJobOptions } from './options.js';
export { CheckpointFailureError } from './checkpoint-coordinator.js';
export type { CompletedCheckpoint } from './checkpoint-coordinator.js';
export { parseRestartStrategy } from './restart-strategy.js';
export type { RestartStrategyConfig } from './restart-strategy.js';
export * from './control-socket.js';

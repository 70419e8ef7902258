export { JobCancelledError, SubtaskError, cancelGraceMs, runJob } from './job-master.js';
export type { JobHandle, JobMetrics, JobResult, OperatorStats, SubtaskStats } from './job-master.js';
export { defaults, resolveOptions } from './options.js';
export type { ResolvedOptions, RunJobOptions } from './options.js';

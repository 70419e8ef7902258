/** Public entry of checkpoint storage (src/checkpoint/): layout, metadata format, retention, savepoints. */
export {
  CheckpointStorage,
  describeCheckpointDir,
  type CheckpointSummary,
  type CheckpointStorageOptions,
  type InvalidCheckpoint,
  type JobCheckpoints,
} from './storage.js';
export { CorruptSavepointError, loadSavepoint, savepointSegmentFiles, writeSavepoint } from './savepoint.js';
export { verifySegmentsInParallel } from './parallel-verify.js';
export type { CheckpointMetadata, CheckpointStats, KeyedStateHandle, SharedFileRef, SubtaskState } from './metadata.js';
export { CorruptCheckpointError } from './errors.js';
export type { FsCalls } from './durable-fs.js';
export { jobStatusFileName, readJobStatus, writeJobStatus } from './job-status.js';
export type { JobStatusRecord, RunningJobRecord, TerminalJobRecord, TerminalJobState } from './job-status.js';
export { jobInfoFileName, readJobInfo, writeJobInfo } from './job-info.js';

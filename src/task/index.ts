export { metricsBytes, metricsSlot } from './deployment.js';
export type { EngineOptions, InputChannel, MasterMessage, OutputChannel, SlotDeployment, SubtaskCheckpointStats, SubtaskDeployment, SubtaskMessage, SubtaskRestore, WarmUp } from './deployment.js';
export type { CheckpointMode } from './barrier-handler.js';
export { TaskFailure } from './operators.js';
export { sinkWriterStateList } from './sink-operator.js';
export type { CheckpointCommittables } from './sink-operator.js';

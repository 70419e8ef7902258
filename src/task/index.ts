export { metricsBytes, metricsSlot } from './deployment.js';
export type { EngineOptions, InputChannel, MasterMessage, OutputChannel, SubtaskDeployment, SubtaskMessage } from './deployment.js';
export { TaskFailure } from './operators.js';

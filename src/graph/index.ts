export { buildJobGraph, describeJobGraph } from './job-graph.js';
export type { ChainedOutput, ChannelSpec, GraphNode, JobEdge, JobGraph, JobGraphOptions, JobVertex } from './job-graph.js';
export { importJobModule, loadJob, resolveJobModule } from './load-job.js';
export type { LoadedJob } from './load-job.js';
export { compileJobModule, workerModule } from './compile-job.js';
export type { CompiledJob, WorkerModule } from './compile-job.js';

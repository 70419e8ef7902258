/**
 * A running job as its observers see it (the REST API, the Prometheus export, the control
 * socket's `info`): read-only figures, its history, and the three actions an owner may
 * take. Built by `startJob` over the job master; nothing here touches records.
 */
import type { JobGraph } from '../graph/index.js';
import type { CheckpointStatsTracker, JobMetrics } from '../runtime/index.js';
import type { JobHistory, JobState } from './job-history.js';

export interface ObservedJob {
  readonly jobId: string;
  /** The job's name: its module's file name without extension (Flink: the job name). */
  readonly name: string;
  readonly history: JobHistory;
  /** Current figures (see `JobHandle.metrics`). */
  metrics(): JobMetrics;
  /** Checkpoints in flight and the latest ended ones with every subtask's ack (Flink's `CheckpointStatsTracker`). */
  readonly checkpointStats: Pick<CheckpointStatsTracker, 'inProgress' | 'get'>;
  state(): JobState;
  /** The job graph once the job module is loaded. */
  graph(): JobGraph | undefined;
  /** The job's task slots, one worker thread each (runtime/slot-sharing.ts); 0 before the first deployment. Flink: `slots-total`. */
  slots(): number;
  /** `<checkpointDir>/<jobId>` when the job runs with a checkpoint directory. */
  readonly jobDir: string | undefined;
  /** Flink's `flink savepoint`: see `JobHandle.savepoint`. */
  savepoint(targetDir?: string): Promise<string>;
  /** Flink's `flink stop`: see `JobHandle.stop`. */
  stop(targetDir?: string): Promise<string>;
  /** Flink's `flink cancel`: the job ends CANCELED. */
  cancel(): void;
}

/**
 * Per-checkpoint statistics for observers, as Flink's `CheckpointStatsTracker`: the
 * checkpoints in flight (which subtasks have acknowledged) and, for the latest completed
 * or failed ones, every subtask's acknowledgement (its time, sizes and sync / async /
 * alignment durations). Read by the REST API (`GET /jobs/:id/checkpoints` counts
 * `in_progress`; `GET /jobs/:id/checkpoints/details/:checkpointId` and
 * `.../subtasks/:vertexId`) and the dashboard.
 *
 * One tracker per job, fed by every attempt's `CheckpointCoordinator`; it keeps the
 * latest `historySize` ended checkpoints (Flink's `web.checkpoints.history`, default 10),
 * so its memory does not grow with the job's age. Nothing here touches records.
 */
import type { SubtaskCheckpointStats } from '../task/index.js';

/** One subtask's acknowledgement of a checkpoint. */
export interface SubtaskAck {
  vertex: number;
  subtaskIndex: number;
  /** Epoch ms when the job master received the ack. */
  ackTimestamp: number;
  stats: SubtaskCheckpointStats;
}

/** A checkpoint as the tracker knows it (Flink's `AbstractCheckpointStats`). */
export interface TrackedCheckpoint {
  checkpointId: number;
  status: 'IN_PROGRESS' | 'COMPLETED' | 'FAILED';
  /** A savepoint (`sluice savepoint`, stop-with-savepoint) rather than a periodic checkpoint. */
  isSavepoint: boolean;
  /** Epoch ms of the trigger. */
  triggerTimestamp: number;
  /** Epoch ms of the completion or failure; undefined in flight. */
  endTimestamp?: number;
  /** Subtasks that must acknowledge. */
  numSubtasks: number;
  /** The acks so far, in arrival order. */
  acks: SubtaskAck[];
  /** Why it failed. */
  failure?: string;
}

/** Flink's default `web.checkpoints.history`. */
export const checkpointHistoryDefault = 10;

export class CheckpointStatsTracker {
  private readonly inFlight = new Map<number, TrackedCheckpoint>();
  /** Ended checkpoints, oldest first, at most `historySize`. */
  private readonly ended: TrackedCheckpoint[] = [];

  constructor(
    private readonly historySize = checkpointHistoryDefault,
    private readonly now: () => number = Date.now,
  ) {}

  /** Checkpoint `checkpointId` was triggered at `triggerTimestamp` (epoch ms); `numSubtasks` must ack. */
  triggered(checkpointId: number, triggerTimestamp: number, isSavepoint: boolean, numSubtasks: number): void {
    this.inFlight.set(checkpointId, { checkpointId, status: 'IN_PROGRESS', isSavepoint, triggerTimestamp, numSubtasks, acks: [] });
  }

  /** Subtask `subtaskIndex` of vertex `vertex` acknowledged. Unknown ids (aborted meanwhile) are ignored. */
  acknowledged(checkpointId: number, vertex: number, subtaskIndex: number, stats: SubtaskCheckpointStats): void {
    const c = this.inFlight.get(checkpointId);
    if (c === undefined) return;
    const ack = { vertex, subtaskIndex, ackTimestamp: this.now(), stats };
    const i = c.acks.findIndex((a) => a.vertex === vertex && a.subtaskIndex === subtaskIndex);
    if (i === -1) c.acks.push(ack);
    else c.acks[i] = ack; // acked again (the coordinator keeps the latest too)
  }

  completed(checkpointId: number): void {
    this.end(checkpointId, 'COMPLETED', undefined);
  }

  failed(checkpointId: number, reason: string): void {
    this.end(checkpointId, 'FAILED', reason);
  }

  /** The checkpoints in flight, oldest first. */
  inProgress(): TrackedCheckpoint[] {
    return [...this.inFlight.values()];
  }

  /** Checkpoint `checkpointId` in flight or among the latest ended ones; undefined when not kept. */
  get(checkpointId: number): TrackedCheckpoint | undefined {
    return this.inFlight.get(checkpointId) ?? this.ended.find((c) => c.checkpointId === checkpointId);
  }

  private end(checkpointId: number, status: 'COMPLETED' | 'FAILED', failure: string | undefined): void {
    const c = this.inFlight.get(checkpointId);
    if (c === undefined) return;
    this.inFlight.delete(checkpointId);
    c.status = status;
    c.endTimestamp = this.now();
    if (failure !== undefined) c.failure = failure;
    this.ended.push(c);
    if (this.ended.length > this.historySize) this.ended.splice(0, this.ended.length - this.historySize);
  }
}

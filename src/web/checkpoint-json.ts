/**
 * The checkpoint routes' bodies in Flink's shapes: `CheckpointingStatistics` (GET
 * /jobs/:jobId/checkpoints), `CheckpointStatistics` with its `tasks` (GET
 * .../checkpoints/details/:checkpointId) and `TaskCheckpointStatisticsWithSubtaskDetails`
 * (GET .../checkpoints/details/:checkpointId/subtasks/:vertexId). Sizes are bytes,
 * durations ms, timestamps epoch ms.
 *
 * Sources: the completed checkpoints of every attempt (`JobMetrics.checkpoints`), the
 * job's history (failed checkpoints, savepoints, the latest restore) and the tracker
 * (runtime/checkpoint-stats.ts: checkpoints in flight and every subtask's ack of the
 * latest ten). Flink's unaligned-checkpoint figures (`processed_data`, `persisted_data`,
 * `alignment_buffered`) are 0: checkpoints here are aligned and buffer nothing. Flink's
 * `start_delay` (trigger to the first barrier at a subtask) is not measured and is left out.
 */
import type { JobGraph } from '../graph/index.js';
import type { JobMetrics, SubtaskAck, TrackedCheckpoint } from '../runtime/index.js';
import type { ObservedJob } from '../metrics/index.js';
import { vertexIdOf } from './vertex-ids.js';

/** Flink's `StatsSummaryDto` over `values` (all 0 when empty). */
export function statsSummary(values: readonly number[]): Record<'min' | 'max' | 'avg' | 'p50' | 'p90' | 'p95' | 'p99' | 'p999', number> {
  if (values.length === 0) return { min: 0, max: 0, avg: 0, p50: 0, p90: 0, p95: 0, p99: 0, p999: 0 };
  const sorted = [...values].sort((a, b) => a - b);
  const q = (p: number): number => sorted[Math.min(sorted.length - 1, Math.ceil(p * sorted.length) - 1)]!;
  return { min: sorted[0]!, max: sorted[sorted.length - 1]!, avg: Math.round(sorted.reduce((a, b) => a + b, 0) / sorted.length), p50: q(0.5), p90: q(0.9), p95: q(0.95), p99: q(0.99), p999: q(0.999) };
}

const unaligned = { alignment_buffered: 0, processed_data: 0, persisted_data: 0 } as const;

/** `GET /jobs/:jobId/checkpoints`: Flink's `CheckpointingStatistics`, history newest first. */
export function checkpointsJson(job: ObservedJob, metrics: JobMetrics): Record<string, unknown> {
  const completed = metrics.checkpoints ?? [];
  const subtasks = job.graph()?.subtaskCount ?? 0;
  const savepoints = new Map(job.history.savepoints.map((s) => [s.checkpointId, s]));
  const history = completed
    .map((c) => {
      const savepoint = savepoints.get(c.checkpointId);
      return {
        className: '.CompletedCheckpointStatistics',
        id: c.checkpointId,
        status: 'COMPLETED',
        is_savepoint: savepoint !== undefined,
        checkpoint_type: savepoint === undefined ? 'CHECKPOINT' : 'SAVEPOINT',
        trigger_timestamp: Math.round(c.completedAt - c.durationMs),
        latest_ack_timestamp: c.completedAt,
        checkpointed_size: c.bytesWritten,
        state_size: c.fullSizeBytes,
        end_to_end_duration: Math.round(c.durationMs),
        sync_duration: Math.round(c.syncMs),
        async_duration: Math.round(c.asyncMs),
        alignment_duration: Math.round(c.alignmentMs),
        ...unaligned,
        num_subtasks: subtasks,
        num_acknowledged_subtasks: subtasks,
        external_path: savepoint?.path ?? null,
        discarded: false,
      };
    })
    .reverse();
  const inProgress = job.checkpointStats.inProgress().map((c) => ({
    className: '.PendingCheckpointStatistics',
    id: c.checkpointId,
    status: 'IN_PROGRESS',
    is_savepoint: c.isSavepoint,
    checkpoint_type: c.isSavepoint ? 'SAVEPOINT' : 'CHECKPOINT',
    ...totals(c, c.acks),
  }));
  const failed = job.history.failedCheckpoints.map((f) => ({
    className: '.FailedCheckpointStatistics',
    id: f.checkpointId,
    status: 'FAILED',
    is_savepoint: false,
    checkpoint_type: 'CHECKPOINT',
    failure_timestamp: f.timestamp,
    failure_message: f.reason,
  }));
  const restore = job.history.restore;
  const latestSavepoint = history.find((h) => h.is_savepoint);
  return {
    counts: {
      restored: restore === undefined ? 0 : 1,
      total: completed.length + job.history.numberOfFailedCheckpoints + inProgress.length,
      in_progress: inProgress.length,
      completed: completed.length,
      failed: job.history.numberOfFailedCheckpoints,
    },
    summary: {
      checkpointed_size: statsSummary(history.map((h) => h.checkpointed_size)),
      state_size: statsSummary(history.map((h) => h.state_size)),
      end_to_end_duration: statsSummary(history.map((h) => h.end_to_end_duration)),
      alignment_buffered: statsSummary([]),
      processed_data: statsSummary([]),
      persisted_data: statsSummary([]),
    },
    latest: {
      completed: history[0] ?? null,
      savepoint: latestSavepoint ?? null,
      failed: failed[failed.length - 1] ?? null,
      restored:
        restore === undefined
          ? null
          : { id: restore.checkpointId, restore_timestamp: restore.timestamp, is_savepoint: restore.isSavepoint, external_path: restore.externalPath ?? null },
    },
    history: [...inProgress.reverse(), ...history, ...failed.reverse()],
  };
}

/** Flink's `TaskCheckpointStatistics` fields over `acks` of checkpoint `c` (all subtasks, or one vertex's). */
function totals(c: TrackedCheckpoint, acks: readonly SubtaskAck[], numSubtasks = c.numSubtasks): Record<string, unknown> {
  const latestAck = acks.reduce((m, a) => Math.max(m, a.ackTimestamp), 0);
  return {
    trigger_timestamp: c.triggerTimestamp,
    latest_ack_timestamp: acks.length === 0 ? -1 : latestAck,
    checkpointed_size: acks.reduce((s, a) => s + a.stats.bytesWritten, 0),
    state_size: acks.reduce((s, a) => s + a.stats.fullSizeBytes, 0),
    end_to_end_duration: acks.length === 0 ? -1 : latestAck - c.triggerTimestamp,
    ...unaligned,
    num_subtasks: numSubtasks,
    num_acknowledged_subtasks: acks.length,
  };
}

const statusName = { IN_PROGRESS: 'IN_PROGRESS', COMPLETED: 'COMPLETED', FAILED: 'FAILED' } as const;
const className = { IN_PROGRESS: '.PendingCheckpointStatistics', COMPLETED: '.CompletedCheckpointStatistics', FAILED: '.FailedCheckpointStatistics' } as const;

/**
 * `GET /jobs/:jobId/checkpoints/details/:checkpointId`: Flink's `CheckpointStatistics`
 * with `tasks` by vertex id; undefined when the tracker no longer keeps that checkpoint.
 */
export function checkpointDetailsJson(job: ObservedJob, graph: JobGraph, checkpointId: number): Record<string, unknown> | undefined {
  const c = job.checkpointStats.get(checkpointId);
  if (c === undefined) return undefined;
  const tasks: Record<string, unknown> = {};
  graph.vertices.forEach((v, i) => {
    tasks[vertexIdOf(graph, i)] = { id: checkpointId, status: statusName[c.status], ...totals(c, c.acks.filter((a) => a.vertex === i), v.parallelism) };
  });
  const savepoint = job.history.savepoints.find((s) => s.checkpointId === checkpointId);
  return {
    className: className[c.status],
    id: checkpointId,
    status: statusName[c.status],
    is_savepoint: c.isSavepoint,
    checkpoint_type: c.isSavepoint ? 'SAVEPOINT' : 'CHECKPOINT',
    ...totals(c, c.acks),
    ...(c.status === 'FAILED' ? { failure_timestamp: c.endTimestamp, failure_message: c.failure ?? null } : {}),
    ...(c.status === 'COMPLETED' ? { external_path: savepoint?.path ?? null, discarded: false } : {}),
    tasks,
  };
}

/**
 * `GET /jobs/:jobId/checkpoints/details/:checkpointId/subtasks/:vertexId`: Flink's
 * `TaskCheckpointStatisticsWithSubtaskDetails`: vertex `vertex`'s totals, a summary over
 * its acknowledged subtasks, and each subtask (`completed` with its figures, or
 * `pending_or_failed`). Undefined when the tracker no longer keeps that checkpoint.
 */
export function checkpointSubtasksJson(job: ObservedJob, graph: JobGraph, checkpointId: number, vertex: number): Record<string, unknown> | undefined {
  const c = job.checkpointStats.get(checkpointId);
  if (c === undefined) return undefined;
  const parallelism = graph.vertices[vertex]!.parallelism;
  const acks = c.acks.filter((a) => a.vertex === vertex);
  const subtasks = Array.from({ length: parallelism }, (_, index) => {
    const a = acks.find((x) => x.subtaskIndex === index);
    if (a === undefined) return { className: '.PendingSubtaskCheckpointStatistics', index, status: 'pending_or_failed' };
    return {
      className: '.CompletedSubtaskCheckpointStatistics',
      index,
      status: 'completed',
      ack_timestamp: a.ackTimestamp,
      end_to_end_duration: a.ackTimestamp - c.triggerTimestamp,
      checkpointed_size: a.stats.bytesWritten,
      state_size: a.stats.fullSizeBytes,
      checkpoint: { sync: Math.round(a.stats.syncMs), async: Math.round(a.stats.asyncMs) },
      alignment: { buffered: 0, processed: 0, persisted: 0, duration: Math.round(a.stats.alignmentMs) },
      unaligned_checkpoint: false,
      aborted: false,
    };
  });
  return {
    id: checkpointId,
    status: statusName[c.status],
    ...totals(c, acks, parallelism),
    summary: {
      checkpointed_size: statsSummary(acks.map((a) => a.stats.bytesWritten)),
      state_size: statsSummary(acks.map((a) => a.stats.fullSizeBytes)),
      end_to_end_duration: statsSummary(acks.map((a) => a.ackTimestamp - c.triggerTimestamp)),
      checkpoint_duration: { sync: statsSummary(acks.map((a) => Math.round(a.stats.syncMs))), async: statsSummary(acks.map((a) => Math.round(a.stats.asyncMs))) },
      alignment: { buffered: statsSummary([]), processed: statsSummary([]), persisted: statsSummary([]), duration: statsSummary(acks.map((a) => Math.round(a.stats.alignmentMs))) },
    },
    subtasks,
  };
}

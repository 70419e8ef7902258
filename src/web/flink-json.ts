/**
 * The REST API's response bodies in Flink's shapes (Flink's `JobDetailsInfo`,
 * `JobVertexDetailsInfo`, `JobExceptionsInfoWithHistory`,
 * `JobPlanInfo`; the checkpoints' are in checkpoint-json.ts), built from an `ObservedJob` and its current rates. Flink's field names
 * are kept (kebab-case and snake_case as Flink spells them); sluicegate's additions are
 * camelCase Flink metric names (`numRecordsInPerSecond`, `backPressuredTimeMsPerSecond`).
 */
import type { JobGraph } from '../graph/index.js';
import type { JobMetrics, SubtaskStats } from '../runtime/index.js';
import type { JobRates, ObservedJob, SubtaskRates } from '../metrics/index.js';
import { backpressureLevel, subtaskKey, subtaskTotals, vertexRates } from '../metrics/index.js';
import { vertexIdOf } from './vertex-ids.js';

/** Flink's per-task I/O figures (`IOMetricsInfo`), totals over every attempt of the run. */
export interface IoMetrics {
  'read-bytes': number;
  'read-bytes-complete': boolean;
  'write-bytes': number;
  'write-bytes-complete': boolean;
  'read-records': number;
  'read-records-complete': boolean;
  'write-records': number;
  'write-records-complete': boolean;
  'accumulated-backpressured-time': number;
  'accumulated-idle-time': number;
  'accumulated-busy-time': number;
}

function ioMetrics(subtasks: readonly SubtaskStats[], elapsedMs: number): IoMetrics {
  const sum = { bytesIn: 0, bytesOut: 0, recordsIn: 0, recordsOut: 0, backpressured: 0, idle: 0 };
  for (const s of subtasks) {
    const t = subtaskTotals(s);
    for (const k of ['bytesIn', 'bytesOut', 'recordsIn', 'recordsOut'] as const) sum[k] += t[k];
    sum.backpressured += s.backpressuredMs;
    sum.idle += s.idleMs;
  }
  const busy = Math.max(0, subtasks.length * elapsedMs - sum.backpressured - sum.idle);
  return {
    'read-bytes': sum.bytesIn,
    'read-bytes-complete': true,
    'write-bytes': sum.bytesOut,
    'write-bytes-complete': true,
    'read-records': sum.recordsIn,
    'read-records-complete': true,
    'write-records': sum.recordsOut,
    'write-records-complete': true,
    'accumulated-backpressured-time': Math.round(sum.backpressured),
    'accumulated-idle-time': Math.round(sum.idle),
    'accumulated-busy-time': Math.round(busy),
  };
}

function subtaskStatus(job: ObservedJob, s: SubtaskStats): string {
  if (s.finished) return 'FINISHED';
  const state = job.state();
  return state === 'RUNNING' || state === 'FINISHED' ? 'RUNNING' : state === 'CANCELLING' ? 'CANCELING' : state;
}

function timing(job: ObservedJob, now: number): { 'start-time': number; 'end-time': number; duration: number } {
  const end = job.history.endTime;
  return { 'start-time': job.history.startTime, 'end-time': end ?? -1, duration: (end ?? now) - job.history.startTime };
}

/** `GET /jobs`: Flink's `JobIdsWithStatusOverview`. */
export function jobsOverview(job: ObservedJob): { jobs: Array<{ id: string; status: string }> } {
  return { jobs: [{ id: job.jobId, status: job.state() }] };
}

/** `GET /overview`: Flink's `ClusterOverview`, for the one job this process runs. */
export function clusterOverview(job: ObservedJob, version: string): Record<string, number | string> {
  const state = job.state();
  const slots = job.slots();
  const ended = job.history.endTime !== undefined;
  return {
    taskmanagers: 1,
    'slots-total': slots,
    'slots-available': ended ? slots : 0,
    'jobs-running': ended ? 0 : 1,
    'jobs-finished': state === 'FINISHED' ? 1 : 0,
    'jobs-cancelled': state === 'CANCELED' ? 1 : 0,
    'jobs-failed': state === 'FAILED' ? 1 : 0,
    'flink-version': `sluicegate ${version}`,
    'flink-commit': '',
  };
}

/** Rates of a vertex in the camelCase Flink metric names, plus Flink's backpressure level. */
function vertexRateFields(graph: JobGraph, rates: JobRates, vertex: number): Record<string, number | string> {
  const r = vertexRates(graph, rates, vertex);
  return { ...r, backpressureLevel: backpressureLevel(r.backPressuredTimeMsPerSecond) };
}

/** `GET /jobs/:jobId`: Flink's `JobDetailsInfo`, with `rates` per vertex. */
export function jobDetails(job: ObservedJob, metrics: JobMetrics, rates: JobRates, now: number): Record<string, unknown> {
  const graph = job.graph();
  const state = job.state();
  const vertices = (graph?.vertices ?? []).map((v, i) => {
    const subtasks = metrics.subtasks.filter((s) => s.vertexId === i);
    const tasks: Record<string, number> = {};
    for (const s of subtasks) {
      const status = subtaskStatus(job, s);
      tasks[status] = (tasks[status] ?? 0) + 1;
    }
    return {
      id: vertexIdOf(graph!, i),
      name: v.name,
      maxParallelism: Math.max(...v.nodes.map((id) => graph!.nodes[id]!.maxParallelism)),
      parallelism: v.parallelism,
      status: subtasks.length > 0 && subtasks.every((s) => s.finished) ? 'FINISHED' : state === 'RUNNING' ? 'RUNNING' : state,
      ...timing(job, now),
      tasks,
      metrics: ioMetrics(subtasks, metrics.elapsedMs),
      rates: vertexRateFields(graph!, rates, i),
    };
  });
  const statusCounts: Record<string, number> = {};
  for (const v of vertices) statusCounts[v.status] = (statusCounts[v.status] ?? 0) + 1;
  return {
    jid: job.jobId,
    name: job.name,
    isStoppable: job.jobDir !== undefined,
    state,
    'job-type': 'STREAMING',
    ...timing(job, now),
    maxParallelism: -1,
    now,
    attempt: metrics.attempt ?? null,
    numRestarts: metrics.restarts ?? 0,
    vertices,
    'status-counts': statusCounts,
    plan: graph === undefined ? null : planJson(job, graph).plan,
  };
}

function rateFields(r: SubtaskRates | undefined): SubtaskRates | Record<string, never> {
  return r ?? {};
}

/** `GET /jobs/:jobId/vertices/:vertexId`: Flink's `JobVertexDetailsInfo`, with per-subtask rates, watermark and state figures, and the chain's operators. */
export function vertexDetails(job: ObservedJob, graph: JobGraph, vertex: number, metrics: JobMetrics, rates: JobRates, now: number): Record<string, unknown> {
  const v = graph.vertices[vertex]!;
  const subtasks = metrics.subtasks
    .filter((s) => s.vertexId === vertex)
    .sort((a, b) => a.subtaskIndex - b.subtaskIndex)
    .map((s) => {
      const r = rates.subtasks.get(subtaskKey(s));
      return {
        subtask: s.subtaskIndex,
        status: subtaskStatus(job, s),
        attempt: metrics.attempt ?? 0,
        endpoint: 'localhost',
        ...timing(job, now),
        metrics: ioMetrics([s], metrics.elapsedMs),
        rates: rateFields(r),
        backpressureLevel: backpressureLevel(r?.backPressuredTimeMsPerSecond ?? 0),
        currentInputWatermark: s.currentInputWatermark ?? null,
        eventTimeLagMs: s.eventTimeLagMs ?? null,
        state: s.state,
        operators: s.operators,
      };
    });
  return {
    id: vertexIdOf(graph, vertex),
    name: v.name,
    parallelism: v.parallelism,
    maxParallelism: Math.max(...v.nodes.map((id) => graph.nodes[id]!.maxParallelism)),
    now,
    operators: v.nodes.map((id) => {
      const op = metrics.operators[id]!;
      return {
        uid: op.uid,
        name: op.name,
        numRecordsIn: op.recordsIn + op.earlierAttempts.recordsIn,
        numRecordsOut: op.recordsOut + op.earlierAttempts.recordsOut,
        numRecordsInPerSecond: rates.operators[id]?.numRecordsInPerSecond ?? 0,
        numRecordsOutPerSecond: rates.operators[id]?.numRecordsOutPerSecond ?? 0,
        numLateRecordsDropped: op.numLateRecordsDropped,
        // Latency tracking (latencyTrackingIntervalMs): { count, p50, p95, p99, p999, max } in ms
        // over the operator's subtasks, this attempt; null with tracking off, for sources, and
        // before the first marker (Flink's `latency` histogram).
        latency: op.latency ?? null,
        currentAttempt: { recordsIn: op.recordsIn, recordsOut: op.recordsOut },
        earlierAttempts: { recordsIn: op.earlierAttempts.recordsIn, recordsOut: op.earlierAttempts.recordsOut },
      };
    }),
    subtasks,
  };
}

/** `GET /jobs/:jobId/vertices/:vertexId/backpressure`: Flink's `JobVertexBackPressureInfo` (from the time splits, as Flink 1.13+ does). */
export function vertexBackpressure(metrics: JobMetrics, rates: JobRates, vertex: number, now: number): Record<string, unknown> {
  const subtasks = metrics.subtasks
    .filter((s) => s.vertexId === vertex)
    .sort((a, b) => a.subtaskIndex - b.subtaskIndex)
    .map((s) => {
      const r = rates.subtasks.get(subtaskKey(s));
      const ratio = (r?.backPressuredTimeMsPerSecond ?? 0) / 1000;
      return { subtask: s.subtaskIndex, backpressureLevel: backpressureLevel(ratio * 1000), ratio, idleRatio: (r?.idleTimeMsPerSecond ?? 0) / 1000, busyRatio: (r?.busyTimeMsPerSecond ?? 0) / 1000 };
    });
  const worst = Math.max(0, ...subtasks.map((s) => s.ratio));
  return { status: 'ok', backpressureLevel: backpressureLevel(worst * 1000), 'end-timestamp': now, subtasks };
}

/** `GET /jobs/:jobId/exceptions`: Flink's `JobExceptionsInfoWithHistory`, newest first. */
export function exceptionsJson(job: ObservedJob): Record<string, unknown> {
  const entries = [...job.history.failures].reverse().map((f) => ({
    exceptionName: /\b([A-Z]\w*(?:Error|Exception))\b/.exec(f.message)?.[1] ?? 'Error',
    stacktrace: f.stacktrace,
    timestamp: f.timestamp,
    taskName: null,
    location: null,
    failureLabels: {},
    attempt: f.attempt,
    restarted: f.restarted,
  }));
  const root = entries[0];
  return {
    'root-exception': root?.stacktrace ?? null,
    timestamp: root?.timestamp ?? null,
    'all-exceptions': [],
    truncated: false,
    exceptionHistory: { entries, truncated: false },
  };
}

const shipStrategy = { forward: 'FORWARD', rebalance: 'REBALANCE', broadcast: 'BROADCAST', hash: 'HASH' } as const;

/** `GET /jobs/:jobId/plan`: Flink's `JobPlanInfo` (vertices as nodes, edges as inputs named by partitioner). */
export function planJson(job: ObservedJob, graph: JobGraph): { plan: Record<string, unknown> } {
  const nodes = graph.vertices.map((v, i) => {
    const inputs = graph.edges
      .filter((e) => graph.nodes[e.to]!.vertex === i)
      .map((e, num) => ({ num, id: vertexIdOf(graph, graph.nodes[e.from]!.vertex), ship_strategy: shipStrategy[e.partitioner], exchange: 'pipelined_bounded' }));
    return {
      id: vertexIdOf(graph, i),
      parallelism: v.parallelism,
      operator: '',
      operator_strategy: '',
      description: v.nodes.map((id) => graph.nodes[id]!.name).join(' -> '),
      operators: v.nodes.map((id) => ({ uid: graph.nodes[id]!.uid, name: graph.nodes[id]!.name })),
      ...(inputs.length === 0 ? {} : { inputs }),
      optimizer_properties: {},
    };
  });
  return { plan: { jid: job.jobId, name: job.name, type: 'STREAMING', nodes } };
}

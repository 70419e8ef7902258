/**
 * The Prometheus export of a running job (`GET /metrics`, text format 0.0.4) through
 * prom-client, with Flink's metric names under the prefix `sluicegate_` and a scope word,
 * and Flink's scope variables as labels (Flink's `PrometheusReporter` turns
 * `<job_id>`, `<task_name>`, `<subtask_index>`, `<operator_name>` into labels the same way):
 *
 *   sluicegate_job_<name>{job_id,job_name}                                  numRestarts, checkpoints
 *   sluicegate_task_<name>{job_id,job_name,task_id,task_name,subtask_index}  per subtask (a vertex's parallel instance)
 *   sluicegate_operator_<name>{...task labels,operator_id,operator_name}     per operator per subtask
 *
 * Counts are totals over every attempt of the run (they never go down, so they are
 * Prometheus counters in meaning; exported as gauges, as Flink's reporter exports them).
 * Rates are the monitor's one-second rates. Read on each scrape; nothing on the hot path.
 */
import { Gauge, Registry } from 'prom-client';
import type { JobGraph } from '../graph/index.js';
import type { JobMonitor } from './monitor.js';
import type { ObservedJob } from './observed-job.js';
import { subtaskKey, subtaskTotals } from './rates.js';

export const prometheusPrefix = 'sluicegate_';

const jobGauges = {
  numRestarts: 'Restarts after failures so far (Flink: numRestarts)',
  lastCheckpointDuration: 'Duration of the last completed checkpoint, ms',
  lastCheckpointSize: 'Bytes the last completed checkpoint wrote (incremental size)',
  lastCheckpointFullSize: 'Total bytes of the files the last completed checkpoint references',
  numberOfCompletedCheckpoints: 'Completed checkpoints',
  numberOfFailedCheckpoints: 'Failed checkpoints',
  numberOfInProgressCheckpoints: 'Checkpoints in flight',
  totalNumberOfCheckpoints: 'Checkpoints triggered: completed, failed and in flight',
  lastCheckpointRestoreTimestamp: 'Epoch ms of the latest restore, -1 without one',
  uptime: 'Time since the job was submitted, ms; 0 once it ended',
} as const;

const taskGauges = {
  numRecordsIn: 'Records into the subtask, every attempt',
  numRecordsOut: 'Records out of the subtask, every attempt',
  numBytesIn: 'Encoded record batch bytes read from rings, every attempt',
  numBytesOut: 'Encoded record batch bytes written to rings, every attempt',
  numRecordsInPerSecond: 'Records in per second',
  numRecordsOutPerSecond: 'Records out per second',
  numBytesInPerSecond: 'Bytes in per second',
  numBytesOutPerSecond: 'Bytes out per second',
  busyTimeMsPerSecond: 'Time neither idle nor backpressured, ms per second',
  idleTimeMsPerSecond: 'Time waiting for input, ms per second',
  backPressuredTimeMsPerSecond: 'Time blocked on full outputs, ms per second',
  currentInputWatermark: 'The input watermark, epoch ms (absent before the first)',
} as const;

const operatorGauges = {
  numRecordsIn: 'Records into the operator, every attempt',
  numRecordsOut: 'Records out of the operator, every attempt',
  numRecordsInPerSecond: 'Records in per second',
  numRecordsOutPerSecond: 'Records out per second',
  numLateRecordsDropped: 'Window elements dropped as too late (this attempt)',
} as const;

const taskLabels = ['job_id', 'job_name', 'task_id', 'task_name', 'subtask_index'] as const;

type Values = Map<string, Array<{ labels: Record<string, string | number>; value: number }>>;

/** Latency of the markers that reached an operator, ms (quantile 1 is the max). */
const latencyGauges = { latency: 'Latency of latency markers from the sources to this operator, ms, over its subtasks (this attempt)' };
const latencyCountGauges = { latency_count: 'Latency markers recorded by this operator (this attempt)' };
/** An operator's labels without subtask_index: its histogram merges every subtask. */
const latencyLabels = ['job_id', 'job_name', 'task_id', 'task_name', 'operator_id', 'operator_name'] as const;

/**
 * A registry whose gauges read `job` through `monitor` on each scrape. `vertexId` names a
 * vertex as the REST API does.
 */
export function createPrometheusRegistry(job: ObservedJob, monitor: JobMonitor, vertexId: (graph: JobGraph, vertex: number) => string): Registry {
  const registry = new Registry();
  let snapshot: { at: number; values: Values } | undefined;
  // One scrape reads every gauge: compute all values once per scrape (the first gauge's collect).
  const values = (): Values => {
    const now = Date.now();
    if (snapshot === undefined || now - snapshot.at > 50) snapshot = { at: now, values: collect(job, monitor, vertexId) };
    return snapshot.values;
  };
  const register = (scope: string, helps: Record<string, string>, labelNames: readonly string[]): void => {
    for (const [name, help] of Object.entries(helps)) {
      const full = `${prometheusPrefix}${scope}_${name}`;
      new Gauge({
        name: full,
        help,
        labelNames: [...labelNames],
        registers: [registry],
        collect(this: Gauge) {
          this.reset();
          for (const v of values().get(full) ?? []) this.set(v.labels, v.value);
        },
      });
    }
  };
  register('job', jobGauges, ['job_id', 'job_name']);
  register('task', taskGauges, taskLabels);
  register('operator', operatorGauges, [...taskLabels, 'operator_id', 'operator_name']);
  // Latency markers (latencyTrackingIntervalMs): one histogram per operator over its subtasks
  // (Flink's granularity `single`), exported as Flink's Prometheus reporter exports a
  // histogram: a summary's quantiles and count.
  register('operator', latencyGauges, [...latencyLabels, 'quantile']);
  register('operator', latencyCountGauges, latencyLabels);
  return registry;
}

function collect(job: ObservedJob, monitor: JobMonitor, vertexId: (graph: JobGraph, vertex: number) => string): Values {
  const out: Values = new Map();
  const put = (scope: string, name: string, labels: Record<string, string | number>, value: number): void => {
    const key = `${prometheusPrefix}${scope}_${name}`;
    const list = out.get(key) ?? [];
    list.push({ labels, value });
    out.set(key, list);
  };
  const { rates } = monitor.latest();
  const metrics = job.metrics();
  const jobLabels = { job_id: job.jobId, job_name: job.name };
  const checkpoints = metrics.checkpoints ?? [];
  const last = checkpoints[checkpoints.length - 1];
  put('job', 'numRestarts', jobLabels, metrics.restarts ?? 0);
  put('job', 'lastCheckpointDuration', jobLabels, last === undefined ? -1 : Math.round(last.durationMs));
  put('job', 'lastCheckpointSize', jobLabels, last?.bytesWritten ?? -1);
  put('job', 'lastCheckpointFullSize', jobLabels, last?.fullSizeBytes ?? -1);
  put('job', 'numberOfCompletedCheckpoints', jobLabels, checkpoints.length);
  put('job', 'numberOfFailedCheckpoints', jobLabels, job.history.numberOfFailedCheckpoints);
  const inProgress = job.checkpointStats.inProgress().length;
  put('job', 'numberOfInProgressCheckpoints', jobLabels, inProgress);
  put('job', 'totalNumberOfCheckpoints', jobLabels, checkpoints.length + job.history.numberOfFailedCheckpoints + inProgress);
  put('job', 'lastCheckpointRestoreTimestamp', jobLabels, job.history.restore?.timestamp ?? -1);
  put('job', 'uptime', jobLabels, job.history.endTime === undefined ? Date.now() - job.history.startTime : 0);
  const graph = job.graph();
  if (graph === undefined) return out;
  graph.vertices.forEach((vertex, v) => {
    for (const id of vertex.nodes) {
      const latency = metrics.operators[id]?.latency;
      if (latency === undefined) continue;
      const labels = { ...jobLabels, task_id: vertexId(graph, v), task_name: vertex.name, operator_id: graph.nodes[id]!.uid, operator_name: graph.nodes[id]!.name };
      for (const [quantile, value] of [['0.5', latency.p50], ['0.95', latency.p95], ['0.99', latency.p99], ['0.999', latency.p999], ['1', latency.max]] as const) {
        put('operator', 'latency', { ...labels, quantile }, value);
      }
      put('operator', 'latency_count', labels, latency.count);
    }
  });
  for (const s of metrics.subtasks) {
    const labels = { ...jobLabels, task_id: vertexId(graph, s.vertexId), task_name: s.vertex, subtask_index: s.subtaskIndex };
    const totals = subtaskTotals(s);
    const r = rates.subtasks.get(subtaskKey(s));
    put('task', 'numRecordsIn', labels, totals.recordsIn);
    put('task', 'numRecordsOut', labels, totals.recordsOut);
    put('task', 'numBytesIn', labels, totals.bytesIn);
    put('task', 'numBytesOut', labels, totals.bytesOut);
    for (const name of ['numRecordsInPerSecond', 'numRecordsOutPerSecond', 'numBytesInPerSecond', 'numBytesOutPerSecond', 'busyTimeMsPerSecond', 'idleTimeMsPerSecond', 'backPressuredTimeMsPerSecond'] as const) {
      put('task', name, labels, r?.[name] ?? 0);
    }
    if (s.currentInputWatermark !== undefined && Number.isFinite(s.currentInputWatermark)) put('task', 'currentInputWatermark', labels, s.currentInputWatermark);
    s.operators.forEach((op, k) => {
      const node = graph.nodes[graph.vertices[s.vertexId]!.nodes[k]!]!;
      const opLabels = { ...labels, operator_id: op.uid, operator_name: node.name };
      const opRates = rates.operatorSubtasks.get(`${subtaskKey(s)}/${k}`);
      put('operator', 'numRecordsIn', opLabels, op.recordsIn + op.earlierAttempts.recordsIn);
      put('operator', 'numRecordsOut', opLabels, op.recordsOut + op.earlierAttempts.recordsOut);
      put('operator', 'numRecordsInPerSecond', opLabels, opRates?.numRecordsInPerSecond ?? 0);
      put('operator', 'numRecordsOutPerSecond', opLabels, opRates?.numRecordsOutPerSecond ?? 0);
      put('operator', 'numLateRecordsDropped', opLabels, op.numLateRecordsDropped);
    });
  }
  return out;
}

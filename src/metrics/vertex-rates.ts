/**
 * Rates of a whole vertex (its subtasks together) and Flink's backpressure level. Records
 * and bytes per second add up over the subtasks; the time splits are the busiest
 * subtask's (the maximum), as Flink's web UI shows a vertex's backpressure and busy time.
 */
import type { JobGraph } from '../graph/index.js';
import type { JobRates, SubtaskRates } from './rates.js';

/**
 * Flink's `JobVertexBackPressureInfo.VertexBackPressureLevel` from backpressured ms per
 * second: `ok` up to 10 %, `low` up to 50 %, `high` above.
 */
export type BackpressureLevel = 'ok' | 'low' | 'high';

export function backpressureLevel(backPressuredTimeMsPerSecond: number): BackpressureLevel {
  if (backPressuredTimeMsPerSecond <= 100) return 'ok';
  if (backPressuredTimeMsPerSecond <= 500) return 'low';
  return 'high';
}

export function vertexRates(graph: JobGraph, rates: JobRates, vertex: number): SubtaskRates {
  const out: SubtaskRates = {
    numRecordsInPerSecond: 0,
    numRecordsOutPerSecond: 0,
    numBytesInPerSecond: 0,
    numBytesOutPerSecond: 0,
    busyTimeMsPerSecond: 0,
    idleTimeMsPerSecond: 0,
    backPressuredTimeMsPerSecond: 0,
  };
  for (let i = 0; i < graph.vertices[vertex]!.parallelism; i++) {
    const r = rates.subtasks.get(`${vertex}/${i}`);
    if (r === undefined) continue;
    out.numRecordsInPerSecond += r.numRecordsInPerSecond;
    out.numRecordsOutPerSecond += r.numRecordsOutPerSecond;
    out.numBytesInPerSecond += r.numBytesInPerSecond;
    out.numBytesOutPerSecond += r.numBytesOutPerSecond;
    out.busyTimeMsPerSecond = Math.max(out.busyTimeMsPerSecond, r.busyTimeMsPerSecond);
    out.idleTimeMsPerSecond = Math.max(out.idleTimeMsPerSecond, r.idleTimeMsPerSecond);
    out.backPressuredTimeMsPerSecond = Math.max(out.backPressuredTimeMsPerSecond, r.backPressuredTimeMsPerSecond);
  }
  return out;
}

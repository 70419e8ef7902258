/**
 * What a running job shows of itself: records in and out per operator, time per subtask
 * (backpressured, idle), state backend figures, read from the subtasks' metrics blocks
 * (task/deployment.ts `metricsSlot`). The job master never touches records: these are
 * counters the subtasks write once per turn.
 */
import type { JobGraph } from '../graph/index.js';
import { metricsSlot } from '../task/index.js';
import type { CompletedCheckpoint } from './checkpoint-coordinator.js';
import type { LatencySummary } from '../metrics/index.js';

/** Records in and out of one operator, summed over its subtasks. */
export interface OperatorStats {
  uid: string;
  name: string;
  /** Sources read records, sinks write them; the rest transform. */
  role: 'source' | 'transform' | 'sink';
  parallelism: number;
  recordsIn: number;
  recordsOut: number;
  /** Source records that could not be decoded and were skipped (`onParseError: 'skip'`). Flink: `numRecordsInErrors`. */
  recordsInErrors: number;
  /**
   * Window operators: elements later than the allowed lateness that were dropped (no
   * late-data side output). Flink: `numLateRecordsDropped`. 0 for other operators.
   */
  numLateRecordsDropped: number;
  /**
   * Latency tracking (`latencyTrackingIntervalMs` > 0): latency of the markers that reached
   * this operator, ms, over all its subtasks (metrics/latency.ts). Absent with tracking off,
   * for sources, and before the first marker arrived. Flink: the `latency` histogram.
   */
  latency?: LatencySummary;
}

/** Per-subtask time split, ms: blocked on full outputs, and waiting for input. */
export interface SubtaskStats {
  vertex: string;
  subtaskIndex: number;
  backpressuredMs: number;
  idleMs: number;
  finished: boolean;
  /**
   * The subtask's current input watermark, ms since the epoch (a source's own watermark
   * for a source with a watermark strategy); undefined before the first one. Flink:
   * `currentInputWatermark`.
   */
  currentInputWatermark: number | undefined;
  /** Processing time now minus the input watermark, ms; undefined without a watermark. */
  eventTimeLagMs: number | undefined;
  /** Records in and out of each operator of the subtask's chain, head first. */
  operators: Array<{ uid: string; recordsIn: number; recordsOut: number; numLateRecordsDropped: number }>;
  /** LSM state figures (zeros for heap state): live segments, flushes, compactions, block cache. */
  state: { segments: number; flushes: number; compactions: number; cacheHits: number; cacheMisses: number };
}

/** A point-in-time view of a running job, read from the subtasks' metrics blocks. */
export interface JobMetrics {
  elapsedMs: number;
  operators: OperatorStats[];
  subtasks: SubtaskStats[];
  /** Completed checkpoints so far, oldest first (empty without checkpointing). */
  checkpoints?: CompletedCheckpoint[];
  /** Restarts after failures so far. */
  restarts?: number;
}

/** The metrics block of one deployed subtask. */
export interface SubtaskMetricsBlock {
  vertex: number;
  subtaskIndex: number;
  metrics: Float64Array;
}

/** Sums the subtasks' metrics blocks into per-operator and per-subtask figures. */
export function readJobMetrics(graph: JobGraph | undefined, deployed: readonly SubtaskMetricsBlock[], elapsedMs: number, checkpoints: CompletedCheckpoint[], restarts: number): JobMetrics {
  if (graph === undefined) return { elapsedMs, operators: [], subtasks: [] };
  const operators: OperatorStats[] = graph.nodes.map((n) => ({
    uid: n.uid,
    name: n.name,
    role: n.plan.op.kind === 'source' || n.plan.op.kind === 'sink' ? n.plan.op.kind : 'transform',
    parallelism: n.parallelism,
    recordsIn: 0,
    recordsOut: 0,
    recordsInErrors: 0,
    numLateRecordsDropped: 0,
  }));
  const subtasks: SubtaskStats[] = [];
  for (const d of deployed) {
    const vertex = graph.vertices[d.vertex]!;
    const chain: SubtaskStats['operators'] = [];
    vertex.nodes.forEach((id, k) => {
      const slot = metricsSlot.firstNode + metricsSlot.perNode * k;
      const recordsIn = d.metrics[slot]!;
      const recordsOut = d.metrics[slot + 1]!;
      const lateRecordsDropped = d.metrics[slot + 2]!;
      operators[id]!.recordsIn += recordsIn;
      operators[id]!.recordsOut += recordsOut;
      operators[id]!.numLateRecordsDropped += lateRecordsDropped;
      chain.push({ uid: graph.nodes[id]!.uid, recordsIn, recordsOut, numLateRecordsDropped: lateRecordsDropped });
    });
    operators[vertex.head]!.recordsInErrors += d.metrics[metricsSlot.recordsInErrors]!;
    subtasks.push({
      vertex: vertex.name,
      subtaskIndex: d.subtaskIndex,
      backpressuredMs: d.metrics[metricsSlot.backpressuredMs]!,
      idleMs: d.metrics[metricsSlot.idleMs]!,
      finished: d.metrics[metricsSlot.finished] === 1,
      ...watermarkFigures(d.metrics[metricsSlot.inputWatermark]!),
      operators: chain,
      state: {
        segments: d.metrics[metricsSlot.stateSegments]!,
        flushes: d.metrics[metricsSlot.stateFlushes]!,
        compactions: d.metrics[metricsSlot.stateCompactions]!,
        cacheHits: d.metrics[metricsSlot.stateCacheHits]!,
        cacheMisses: d.metrics[metricsSlot.stateCacheMisses]!,
      },
    });
  }
  return { elapsedMs, operators, subtasks, checkpoints, restarts };
}

/** The input watermark and event-time lag of a metrics block's watermark slot. */
function watermarkFigures(watermark: number): { currentInputWatermark: number | undefined; eventTimeLagMs: number | undefined } {
  // -Infinity: none yet; +Infinity: the end of input (no lag to speak of). Both read as none.
  if (!Number.isFinite(watermark)) return { currentInputWatermark: watermark === Infinity ? Infinity : undefined, eventTimeLagMs: undefined };
  return { currentInputWatermark: watermark, eventTimeLagMs: Date.now() - watermark };
}

/**
 * What a running job shows of itself: records in and out per operator, time per subtask
 * (backpressured, idle), state backend figures, read from the subtasks' metrics blocks
 * (task/deployment.ts `metricsSlot`). The job master never touches records: these are
 * counters the subtasks write once per turn.
 */
import type { JobGraph } from '../graph/index.js';
import { metricsSlot } from '../task/index.js';
import type { CompletedCheckpoint } from './checkpoint-coordinator.js';
import type { LatencySummary } from '../metrics/latency.js';

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
  /**
   * The same counts summed over the earlier attempts of this run (before restarts):
   * `recordsIn`/`recordsOut` count the current attempt only, so a restart never makes a
   * total go down; their sum with these is monotonic.
   */
  earlierAttempts: AttemptCounts;
}

/** Records and bytes counted by the earlier (failed) attempts of a run. */
export interface AttemptCounts {
  recordsIn: number;
  recordsOut: number;
  /** Encoded bytes (per subtask; 0 on operators, whose bytes are their subtask's). */
  bytesIn: number;
  bytesOut: number;
}

/** Per-subtask time split, ms: blocked on full outputs, and waiting for input. */
export interface SubtaskStats {
  vertex: string;
  /** Index of the vertex in the job graph (`JobGraph.vertices`). */
  vertexId: number;
  subtaskIndex: number;
  backpressuredMs: number;
  idleMs: number;
  /**
   * Records into the subtask (its chain head's) and out of it (of the chain's nodes whose
   * output leaves the vertex; 0 for a sink chain) in this attempt. Flink: the task's
   * `numRecordsIn`/`numRecordsOut`.
   */
  recordsIn: number;
  recordsOut: number;
  /** Encoded bytes of record batches read from and written to rings in this attempt. Flink: `numBytesIn`/`numBytesOut`. */
  bytesIn: number;
  bytesOut: number;
  /**
   * Epoch ms of the first and the latest moment the subtask had records in or out, over
   * every attempt (undefined before any): its active span, without start-up.
   */
  activeSince: number | undefined;
  activeUntil: number | undefined;
  /** Records and bytes of this subtask in the earlier attempts of the run. */
  earlierAttempts: AttemptCounts;
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
  operators: Array<{ uid: string; recordsIn: number; recordsOut: number; numLateRecordsDropped: number; earlierAttempts: { recordsIn: number; recordsOut: number } }>;
  /** LSM state figures (zeros for heap state): live segments, flushes, compactions, block cache. */
  state: { segments: number; flushes: number; compactions: number; cacheHits: number; cacheMisses: number };
}

/** A point-in-time view of a running job, read from the subtasks' metrics blocks. */
export interface JobMetrics {
  elapsedMs: number;
  /** The attempt the figures come from, 0 first, one more per restart; undefined before the first deployment. */
  attempt?: number;
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
export function readJobMetrics(
  graph: JobGraph | undefined,
  deployed: readonly SubtaskMetricsBlock[],
  elapsedMs: number,
  checkpoints: CompletedCheckpoint[],
  restarts: number,
  earlier?: EarlierAttempts,
  attempt?: number,
): JobMetrics {
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
    earlierAttempts: earlier?.ofOperator(n.id) ?? noCounts(),
  }));
  const subtasks: SubtaskStats[] = [];
  const leaving = new Set(graph.edges.map((e) => e.from));
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
      const before = earlier?.ofChainNode(d.vertex, d.subtaskIndex, k) ?? noCounts();
      chain.push({ uid: graph.nodes[id]!.uid, recordsIn, recordsOut, numLateRecordsDropped: lateRecordsDropped, earlierAttempts: { recordsIn: before.recordsIn, recordsOut: before.recordsOut } });
    });
    operators[vertex.head]!.recordsInErrors += d.metrics[metricsSlot.recordsInErrors]!;
    let recordsOut = 0;
    vertex.nodes.forEach((id, k) => {
      if (leaving.has(id)) recordsOut += chain[k]!.recordsOut;
    });
    subtasks.push({
      vertex: vertex.name,
      vertexId: d.vertex,
      recordsIn: chain[0]?.recordsIn ?? 0,
      recordsOut,
      subtaskIndex: d.subtaskIndex,
      backpressuredMs: d.metrics[metricsSlot.backpressuredMs]!,
      idleMs: d.metrics[metricsSlot.idleMs]!,
      bytesIn: d.metrics[metricsSlot.bytesIn]!,
      bytesOut: d.metrics[metricsSlot.bytesOut]!,
      earlierAttempts: earlier?.ofSubtask(d.vertex, d.subtaskIndex) ?? noCounts(),
      ...activeSpan(earlier?.activeSpan(d.vertex, d.subtaskIndex), d.metrics),
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
  return { elapsedMs, ...(attempt === undefined ? {} : { attempt }), operators, subtasks, checkpoints, restarts };
}

/** The active span of a subtask: from its first record in any attempt to its latest. */
function activeSpan(earlier: ActiveSpan | undefined, metrics: Float64Array): ActiveSpan {
  const first = metrics[metricsSlot.firstRecordAt]!;
  const last = metrics[metricsSlot.lastRecordAt]!;
  return { activeSince: earlier?.activeSince ?? (first === 0 ? undefined : first), activeUntil: last === 0 ? earlier?.activeUntil : last };
}

type ActiveSpan = { activeSince: number | undefined; activeUntil: number | undefined };

function noCounts(): AttemptCounts {
  return { recordsIn: 0, recordsOut: 0, bytesIn: 0, bytesOut: 0 };
}

/**
 * What the earlier attempts of a run counted, folded in when an attempt is replaced (the
 * job master calls `fold` with the old attempt's final figures just before the next one
 * deploys), so totals across restarts never go down. Parallelism is fixed for a run, so
 * subtasks are matched by vertex and index.
 */
export class EarlierAttempts {
  private readonly operators = new Map<number, AttemptCounts>();
  private readonly subtasks = new Map<string, AttemptCounts>();
  private readonly spans = new Map<string, ActiveSpan>();

  fold(graph: JobGraph, metrics: JobMetrics): void {
    graph.nodes.forEach((n, id) => {
      const op = metrics.operators[id];
      if (op === undefined) return;
      const c = this.operators.get(id) ?? noCounts();
      c.recordsIn += op.recordsIn;
      c.recordsOut += op.recordsOut;
      this.operators.set(id, c);
    });
    for (const s of metrics.subtasks) {
      const key = `${s.vertexId}/${s.subtaskIndex}`;
      if (s.activeSince !== undefined) this.spans.set(key, { activeSince: s.activeSince, activeUntil: s.activeUntil });
      const c = this.subtasks.get(key) ?? noCounts();
      c.recordsIn += s.recordsIn;
      c.recordsOut += s.recordsOut;
      c.bytesIn += s.bytesIn;
      c.bytesOut += s.bytesOut;
      this.subtasks.set(key, c);
      s.operators.forEach((op, k) => {
        const n = this.subtasks.get(`${key}/${k}`) ?? noCounts();
        n.recordsIn += op.recordsIn;
        n.recordsOut += op.recordsOut;
        this.subtasks.set(`${key}/${k}`, n);
      });
    }
  }

  /** The subtask's active span over the earlier attempts. */
  activeSpan(vertex: number, subtaskIndex: number): ActiveSpan | undefined {
    return this.spans.get(`${vertex}/${subtaskIndex}`);
  }

  /** Node `k` of the chain of subtask `subtaskIndex` of `vertex`. */
  ofChainNode(vertex: number, subtaskIndex: number, k: number): AttemptCounts {
    return { ...(this.subtasks.get(`${vertex}/${subtaskIndex}/${k}`) ?? noCounts()) };
  }

  ofOperator(id: number): AttemptCounts {
    return { ...(this.operators.get(id) ?? noCounts()) };
  }

  ofSubtask(vertex: number, subtaskIndex: number): AttemptCounts {
    return { ...(this.subtasks.get(`${vertex}/${subtaskIndex}`) ?? noCounts()) };
  }
}

/** The input watermark and event-time lag of a metrics block's watermark slot. */
function watermarkFigures(watermark: number): { currentInputWatermark: number | undefined; eventTimeLagMs: number | undefined } {
  // -Infinity: none yet; +Infinity: the end of input (no lag to speak of). Both read as none.
  if (!Number.isFinite(watermark)) return { currentInputWatermark: watermark === Infinity ? Infinity : undefined, eventTimeLagMs: undefined };
  return { currentInputWatermark: watermark, eventTimeLagMs: Date.now() - watermark };
}

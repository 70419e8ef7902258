/**
 * A subtask's metrics block: the Float64Array over the SharedArrayBuffer the job master
 * reads (slots in deployment.ts, `metricsSlot`), written once per loop turn. Counters are
 * cumulative (records per operator, bytes in and out, ms backpressured and idle, state
 * backend counts); the main thread derives rates from successive readings.
 *
 * Flink: `TaskIOMetricGroup` and the operators' `OperatorIOMetricGroup` (numRecordsIn/Out,
 * numBytesIn/Out, backPressuredTimeMsPerSecond, idleTimeMsPerSecond).
 */
import { performance } from 'node:perf_hooks';
import type { KeyedStateBackend } from '../state/api.js';
import { metricsSlot } from './deployment.js';
import type { LatencyTracking } from './latency-tracking.js';
import type { OperatorChain } from './operator-chain.js';
import type { StreamInputProcessor } from './stream-input-processor.js';

export class TaskMetrics {
  private readonly m: Float64Array;
  /** ms the run loop slept on its doorbell, in all. */
  idleMs = 0;
  /** Records in and out of the chain at the last publish (to see whether a turn had any). */
  private recordsSeen = 0;

  constructor(
    block: SharedArrayBuffer,
    /** The subtask's operators, source and writers. */
    private readonly chain: OperatorChain,
    /** Bytes in and the inputs' watermark. */
    private readonly input: StreamInputProcessor,
    private readonly backend: KeyedStateBackend,
    /** Latency markers' recorder (reported here too); undefined with tracking off. */
    private readonly latency: LatencyTracking | undefined,
  ) {
    this.m = new Float64Array(block);
  }

  /** Writes every counter into the block; `final`: the subtask's last report (latency too). */
  publish(final = false): void {
    this.latency?.report(performance.now(), final);
    const m = this.m;
    const { writers, source, operators } = this.chain;
    let backpressured = 0;
    let bytesOut = 0;
    for (const w of writers) {
      backpressured += w.backpressuredMs;
      bytesOut += w.bytesOut;
    }
    m[metricsSlot.backpressuredMs] = backpressured;
    m[metricsSlot.bytesIn] = this.input.bytesIn;
    m[metricsSlot.bytesOut] = bytesOut;
    m[metricsSlot.idleMs] = this.idleMs;
    m[metricsSlot.recordsInErrors] = source?.numRecordsInErrors ?? 0;
    m[metricsSlot.inputWatermark] = this.input.valve?.output ?? source?.currentWatermark ?? -Infinity;
    const state = this.backend.stats?.();
    if (state !== undefined) {
      m[metricsSlot.stateSegments] = state.segmentCount;
      m[metricsSlot.stateFlushes] = state.flushCount;
      m[metricsSlot.stateCompactions] = state.compactionCount;
      m[metricsSlot.stateCacheHits] = state.blockCacheHits;
      m[metricsSlot.stateCacheMisses] = state.blockCacheMisses;
    }
    let records = 0;
    for (let k = 0; k < operators.length; k++) {
      const op = operators[k]!;
      const slot = metricsSlot.firstNode + metricsSlot.perNode * k;
      m[slot] = op.recordsIn;
      m[slot + 1] = op.recordsOut;
      m[slot + 2] = op.numLateRecordsDropped;
      records += op.recordsIn + op.recordsOut;
    }
    // The active span (for records per active second in the summary): one clock read per turn with records.
    if (records > this.recordsSeen) {
      this.recordsSeen = records;
      const now = Date.now();
      if (m[metricsSlot.firstRecordAt] === 0) m[metricsSlot.firstRecordAt] = now;
      m[metricsSlot.lastRecordAt] = now;
    }
  }

  /** Marks the subtask finished (after its last publish). */
  markFinished(): void {
    this.m[metricsSlot.finished] = 1;
  }
}

/**
 * A subtask's part of latency tracking (Flink: `metrics.latency.interval`): a source
 * subtask emits a `LatencyMarker` every interval through its chain (Flink's
 * `LatencyMarkerEmitter` in `SourceOperator`), every other operator of the chain records
 * the markers that reach it (`OperatorLatency`), and their latencies go to the main thread
 * at most once a second (`LatencyReporter`). Off (nothing is made) with interval 0.
 */
import { LatencyReporter, OperatorLatency, systemLatencyClock } from '../metrics/latency-recorder.js';
import type { LatencyClock, LatencyReport } from '../metrics/latency-recorder.js';
import { LatencyMarker } from './latency-marker.js';
import type { ChainOperator } from './operators.js';

export class LatencyTracking {
  /** performance.now() of the next marker emission (source subtasks). */
  private nextMarkerAt = 0;
  private readonly reporter: LatencyReporter;

  private constructor(
    private readonly intervalMs: number,
    /** The chain's source operator (it emits markers), if the chain starts with one. */
    private readonly source: ChainOperator | undefined,
    private readonly subtaskIndex: number,
    operators: readonly ChainOperator[],
    post: (report: LatencyReport) => void,
    private readonly clock: LatencyClock,
  ) {
    const recorders: OperatorLatency[] = [];
    for (const op of operators) {
      if (op === source) continue;
      op.latency = new OperatorLatency(op.node.id, clock);
      recorders.push(op.latency);
    }
    this.reporter = new LatencyReporter(recorders, post);
  }

  /**
   * Tracking for a chain, or undefined when `intervalMs` is 0 (off, Flink's default).
   * `source`: the chain's head when it is a source. REQUIRES: intervalMs >= 0.
   */
  static create(
    intervalMs: number,
    operators: readonly ChainOperator[],
    source: ChainOperator | undefined,
    subtaskIndex: number,
    post: (report: LatencyReport) => void,
    clock: LatencyClock = systemLatencyClock,
  ): LatencyTracking | undefined {
    if (intervalMs <= 0) return undefined;
    return new LatencyTracking(intervalMs, source, subtaskIndex, operators, post, clock);
  }

  /**
   * Source subtasks: emits a marker when one is due (`now`: performance.now(), ms). The
   * caller emits none once the source ended or is stopping with a savepoint (no element
   * may follow a stop barrier). Returns true when it emitted.
   */
  emitIfDue(now: number): boolean {
    if (this.source === undefined || now < this.nextMarkerAt) return false;
    this.nextMarkerAt = now + this.intervalMs;
    this.source.forwardLatencyMarker(new LatencyMarker(this.clock(), this.source.node.id, this.subtaskIndex));
    return true;
  }

  /** Ms until the next marker is due (source subtasks), else Infinity. */
  msUntilMarker(now: number): number {
    return this.source === undefined ? Infinity : Math.max(0, this.nextMarkerAt - now);
  }

  /** Posts new latencies at most once a second; `force` at the subtask's end. */
  report(now: number, force = false): void {
    this.reporter.maybePost(now, force);
  }
}

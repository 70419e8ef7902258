/**
 * The worker side of latency tracking (metrics/latency.ts has the main side): an operator
 * that receives a latency marker notes `now - markedTime` in µs (`OperatorLatency`), and
 * each subtask posts the new values (`LatencyReport`) at most once per
 * `latencyPostIntervalMs` and at its end (`LatencyReporter`). Kept apart so that a worker
 * thread loads neither hdr-histogram-js nor the rest of metrics/ (prom-client): 15-25 ms
 * of every thread's start (native-notes §7).
 */

/** Flink's default `metrics.latency.interval`: 0, latency tracking off. */
export const defaultLatencyTrackingIntervalMs = 0;

/** How often a subtask posts its new latencies to the main thread, ms (and once at its end). */
export const latencyPostIntervalMs = 1000;

/**
 * Epoch ms with sub-ms resolution, the same in every thread of the process
 * (`timeOrigin + now()`: measured within 0.01 ms of Date.now() in workers and main).
 */
export type LatencyClock = () => number;
export const systemLatencyClock: LatencyClock = () => performance.timeOrigin + performance.now();

/**
 * Latencies one operator holds before its subtask posts them early (with markers every
 * 200 ms from 10 sources that is 50 per second: only tiny intervals reach it).
 */
export const latencyPendingMax = 4096;

/**
 * One operator's latencies in its subtask, in µs, since the last post. The worker keeps no
 * histogram: the values go to the main thread as they are (8 bytes each, a handful a
 * second), and no zlib runs in a worker (hdr-histogram-js compresses with node:zlib, and a
 * worker terminated inside a synchronous zlib call aborts the whole process: seen in
 * the killed-worker test). REQUIRES: used by one thread.
 */
export class OperatorLatency {
  private pending: number[] = [];

  constructor(
    /** The operator's job graph node id. */
    readonly node: number,
    private readonly clock: LatencyClock = systemLatencyClock,
  ) {}

  /** Records `now - markedTime` (clamped at 0: clocks of two threads may differ by µs). */
  report(markedTime: number): void {
    const micros = Math.round((this.clock() - markedTime) * 1000);
    this.pending.push(micros > 0 ? micros : 0);
  }

  get pendingCount(): number {
    return this.pending.length;
  }

  /** The latencies (µs) since the last call, or undefined for none. */
  takePending(): Float64Array | undefined {
    if (this.pending.length === 0) return undefined;
    const out = Float64Array.from(this.pending);
    this.pending = [];
    return out;
  }
}

/** What a subtask posts: per operator that recorded markers, their latencies in µs since its last report. */
export interface LatencyReport {
  type: 'latency';
  latencies: Array<{ node: number; micros: Float64Array }>;
}

/** Posts a subtask's new latencies at most once per interval (earlier when one operator holds latencyPendingMax). */
export class LatencyReporter {
  private nextPostAt = 0;

  constructor(
    readonly operators: readonly OperatorLatency[],
    private readonly post: (report: LatencyReport) => void,
  ) {}

  /** Posts when `now` (performance.now(), ms) is past the next post time, an operator is full, or `force`. */
  maybePost(now: number, force = false): void {
    if (!force && now < this.nextPostAt && !this.operators.some((op) => op.pendingCount >= latencyPendingMax)) return;
    this.nextPostAt = now + latencyPostIntervalMs;
    const latencies: LatencyReport['latencies'] = [];
    for (const op of this.operators) {
      const micros = op.takePending();
      if (micros !== undefined) latencies.push({ node: op.node, micros });
    }
    if (latencies.length > 0) this.post({ type: 'latency', latencies });
  }
}

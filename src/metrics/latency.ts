/**
 * Latency histograms of latency markers (task/latency-marker.ts), as Flink's `LatencyStats`
 * with `metrics.latency.granularity: single`: one histogram per operator, over every
 * source and subtask whose markers reached it.
 *
 * Worker side, `OperatorLatency`: an operator that receives a marker notes
 * `now - markedTime` in µs; each subtask posts the new values (`LatencyReport`) at most
 * once per `latencyPostIntervalMs` and at its end. Main side, `LatencyRegistry`: an
 * hdr-histogram-js histogram per subtask and operator (µs, 3 significant digits: a
 * percentile is exact to 0.1 %), merged per operator when metrics are read. A histogram
 * counts the markers since its subtask's current attempt started: after a restart the new
 * attempt's replace the old.
 *
 * Unlike Flink (a window of the last 128 markers per source/operator pair) percentiles
 * are over every marker of the attempt: the end-of-job summary describes the whole run.
 */
import { performance } from 'node:perf_hooks';
import * as hdr from 'hdr-histogram-js';
import type { Histogram } from 'hdr-histogram-js';

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

/** What the job metrics show of one operator's latency, ms. Flink's `latency` histogram metric. */
export interface LatencySummary {
  /** Markers recorded. */
  count: number;
  p50: number;
  p95: number;
  p99: number;
  /** 99.9th percentile. */
  p999: number;
  max: number;
}

/** The histogram shape: µs values, 3 significant digits, resizing. */
function newHistogram(): Histogram {
  return hdr.build({ lowestDiscernibleValue: 1, numberOfSignificantValueDigits: 3, autoResize: true });
}

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

/**
 * Summary of a µs histogram, in ms (µs resolution). `maxMicros`: the exact max. A
 * percentile is its bucket's highest equivalent value, which can exceed the largest value
 * recorded in that bucket (by up to 0.1 %): percentiles are capped at the max.
 */
export function summarizeHistogram(h: Histogram, maxMicros: number): LatencySummary {
  const ms = (micros: number): number => Math.round(micros) / 1000;
  const at = (percentile: number): number => ms(Math.min(h.getValueAtPercentile(percentile), maxMicros));
  return { count: h.totalCount, p50: at(50), p95: at(95), p99: at(99), p999: at(99.9), max: ms(maxMicros) };
}

/**
 * The main thread's histograms: one per subtask and operator, fed by the subtasks'
 * reports, merged per operator when metrics are read (progress, REST, the end).
 */
export class LatencyRegistry {
  /** Subtask key (`vertex/subtaskIndex`) -> node id -> its histogram (µs) and exact max. */
  private readonly bySubtask = new Map<string, Map<number, { histogram: Histogram; max: number }>>();
  /** Subtask key -> the attempt its histograms belong to. */
  private readonly attempts = new Map<string, number>();

  /**
   * A subtask's report. `attempt` 0..: a report of a newer attempt than the one held for
   * that subtask drops the older attempt's histograms first.
   */
  update(subtaskKey: string, attempt: number, report: LatencyReport): void {
    let held = this.bySubtask.get(subtaskKey);
    if (held === undefined || this.attempts.get(subtaskKey) !== attempt) {
      held = new Map();
      this.bySubtask.set(subtaskKey, held);
      this.attempts.set(subtaskKey, attempt);
    }
    for (const { node, micros } of report.latencies) {
      let entry = held.get(node);
      if (entry === undefined) held.set(node, (entry = { histogram: newHistogram(), max: 0 }));
      for (const v of micros) {
        entry.histogram.recordValue(v);
        if (v > entry.max) entry.max = v;
      }
    }
  }

  /** Per node id, the merged summary of every subtask's histogram; nodes without markers are absent. */
  summaries(): Map<number, LatencySummary> {
    const merged = new Map<number, { histogram: Histogram; max: number }>();
    for (const held of this.bySubtask.values()) {
      for (const [node, { histogram, max }] of held) {
        let sum = merged.get(node);
        if (sum === undefined) merged.set(node, (sum = { histogram: newHistogram(), max: 0 }));
        sum.histogram.add(histogram);
        sum.max = Math.max(sum.max, max);
      }
    }
    const out = new Map<number, LatencySummary>();
    for (const [node, { histogram, max }] of merged) if (histogram.totalCount > 0) out.set(node, summarizeHistogram(histogram, max));
    return out;
  }
}

/**
 * Adds `latency` to the operators (job graph order: index = node id) that recorded markers.
 * Returns `operators` for chaining.
 */
export function withLatency<T extends { latency?: LatencySummary }>(operators: T[], summaries: ReadonlyMap<number, LatencySummary>): T[] {
  for (const [node, summary] of summaries) {
    const op = operators[node];
    if (op !== undefined) op.latency = summary;
  }
  return operators;
}

/**
 * Latency histograms of latency markers (task/latency-marker.ts), as Flink's `LatencyStats`
 * with `metrics.latency.granularity: single`: one histogram per operator, over every
 * source and subtask whose markers reached it.
 *
 * Worker side, `OperatorLatency`: an operator that receives a marker records
 * `now - markedTime` into an hdr-histogram-js histogram, in microseconds (3 significant
 * digits: a value is exact to 0.1 %). Main side, `LatencyRegistry`: each subtask posts its
 * operators' histograms (compressed, base64: a few hundred bytes) at most once per
 * `latencyPostIntervalMs`; the registry keeps the newest of each subtask and merges them
 * per operator when metrics are read. A histogram counts the markers since its subtask's
 * current attempt started: after a restart the new attempt's histograms replace the old.
 *
 * Unlike Flink (a window of the last 128 markers per source/operator pair) percentiles
 * are over every marker of the attempt: the end-of-job summary describes the whole run.
 */
import { performance } from 'node:perf_hooks';
import * as hdr from 'hdr-histogram-js';
import type { Histogram } from 'hdr-histogram-js';

/** Flink's default `metrics.latency.interval`: 0, latency tracking off. */
export const defaultLatencyTrackingIntervalMs = 0;

/** How often a subtask posts its histograms to the main thread, ms (and once at its end). */
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

/** The histogram shape every side uses: µs values, 3 significant digits, resizing. */
function newHistogram(): Histogram {
  return hdr.build({ lowestDiscernibleValue: 1, numberOfSignificantValueDigits: 3, autoResize: true });
}

/** One operator's latency histogram in its subtask. REQUIRES: used by one thread. */
export class OperatorLatency {
  private readonly histogram = newHistogram();
  /** Markers recorded since the last `encodeIfChanged`. */
  private fresh = 0;

  constructor(
    /** The operator's job graph node id. */
    readonly node: number,
    private readonly clock: LatencyClock = systemLatencyClock,
  ) {}

  /** Records `now - markedTime` (clamped at 0: clocks of two threads may differ by µs). */
  report(markedTime: number): void {
    const micros = Math.round((this.clock() - markedTime) * 1000);
    this.histogram.recordValue(micros > 0 ? micros : 0);
    this.fresh++;
  }

  get count(): number {
    return this.histogram.totalCount;
  }

  /** The histogram, compressed and base64 encoded, when markers arrived since the last call; else undefined. */
  encodeIfChanged(): string | undefined {
    if (this.fresh === 0) return undefined;
    this.fresh = 0;
    return hdr.encodeIntoCompressedBase64(this.histogram);
  }
}

/** What a subtask posts: its operators' histograms that changed. */
export interface LatencyReport {
  type: 'latency';
  histograms: Array<{ node: number; histogram: string }>;
}

/** Collects a subtask's operator histograms and posts those that changed, at most once per interval. */
export class LatencyReporter {
  private nextPostAt = 0;

  constructor(
    readonly operators: readonly OperatorLatency[],
    private readonly post: (report: LatencyReport) => void,
  ) {}

  /** Posts now when `now` (performance.now(), ms) is past the next post time, or when `force`. */
  maybePost(now: number, force = false): void {
    if (!force && now < this.nextPostAt) return;
    this.nextPostAt = now + latencyPostIntervalMs;
    const histograms: LatencyReport['histograms'] = [];
    for (const op of this.operators) {
      const histogram = op.encodeIfChanged();
      if (histogram !== undefined) histograms.push({ node: op.node, histogram });
    }
    if (histograms.length > 0) this.post({ type: 'latency', histograms });
  }
}

/** Summary of a µs histogram, in ms (3 decimals). */
export function summarizeHistogram(h: Histogram): LatencySummary {
  const ms = (micros: number): number => Math.round(micros) / 1000;
  return {
    count: h.totalCount,
    p50: ms(h.getValueAtPercentile(50)),
    p95: ms(h.getValueAtPercentile(95)),
    p99: ms(h.getValueAtPercentile(99)),
    p999: ms(h.getValueAtPercentile(99.9)),
    max: ms(h.maxValue),
  };
}

/**
 * The main thread's view: the newest histograms of every subtask, merged per operator on
 * read. `update` runs on each report; `summaries` when metrics are read (progress, REST, end).
 */
export class LatencyRegistry {
  /** Subtask key (`vertex/subtaskIndex`) -> node id -> its newest histogram. */
  private readonly bySubtask = new Map<string, Map<number, Histogram>>();
  /** Subtask key -> the attempt its held histograms belong to. */
  private readonly attempts = new Map<string, number>();

  /**
   * A subtask's report. `attempt` 0.. : a report of a newer attempt than the one held for
   * that subtask drops the older attempt's histograms first.
   * @throws Error for a histogram that does not decode (a bug: reports come from our workers).
   */
  update(subtaskKey: string, attempt: number, report: LatencyReport): void {
    let held = this.bySubtask.get(subtaskKey);
    if (held === undefined || this.attempts.get(subtaskKey) !== attempt) {
      held = new Map();
      this.bySubtask.set(subtaskKey, held);
      this.attempts.set(subtaskKey, attempt);
    }
    for (const { node, histogram } of report.histograms) held.set(node, hdr.decodeFromCompressedBase64(histogram));
  }

  /** Per node id, the merged summary of every subtask's histogram; nodes without markers are absent. */
  summaries(): Map<number, LatencySummary> {
    const merged = new Map<number, Histogram>();
    for (const held of this.bySubtask.values()) {
      for (const [node, h] of held) {
        let sum = merged.get(node);
        if (sum === undefined) merged.set(node, (sum = newHistogram()));
        sum.add(h);
      }
    }
    const out = new Map<number, LatencySummary>();
    for (const [node, h] of merged) if (h.totalCount > 0) out.set(node, summarizeHistogram(h));
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

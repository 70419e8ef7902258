/**
 * Latency histograms of latency markers (task/latency-marker.ts), as Flink's `LatencyStats`
 * with `metrics.latency.granularity: single`: one histogram per operator, over every
 * source and subtask whose markers reached it.
 *
 * Worker side (latency-recorder.ts), `OperatorLatency`: an operator that receives a
 * marker notes `now - markedTime` in µs; each subtask posts the new values
 * (`LatencyReport`) at most once per `latencyPostIntervalMs` and at its end. Main side, `LatencyRegistry`: an
 * hdr-histogram-js histogram per subtask and operator (µs, 3 significant digits: a
 * percentile is exact to 0.1 %), merged per operator when metrics are read. A histogram
 * counts the markers since its subtask's current attempt started: after a restart the new
 * attempt's replace the old.
 *
 * Unlike Flink (a window of the last 128 markers per source/operator pair) percentiles
 * are over every marker of the attempt: the end-of-job summary describes the whole run.
 */
import type * as Hdr from 'hdr-histogram-js';
import type { Histogram } from 'hdr-histogram-js';
import type { LatencyReport } from './latency-recorder.js';

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
function newHistogram(hdr: typeof Hdr): Histogram {
  return hdr.build({ lowestDiscernibleValue: 1, numberOfSignificantValueDigits: 3, autoResize: true });
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
   * @param hdr gives the hdr-histogram-js module at the first histogram (metrics/hdr-histogram.ts
   *   `hdrHistogram`, which requires it then: a run without latency markers never loads it)
   */
  constructor(private readonly hdr: () => typeof Hdr) {}

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
      if (entry === undefined) held.set(node, (entry = { histogram: newHistogram(this.hdr()), max: 0 }));
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
        if (sum === undefined) merged.set(node, (sum = { histogram: newHistogram(this.hdr()), max: 0 }));
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

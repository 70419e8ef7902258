/**
 * Per-second rates of a running job from two successive `JobMetrics` readings: records and
 * bytes in and out per operator and per subtask, and how each subtask spent each second
 * (busy, idle, backpressured), as Flink's `MeterView` rates and `TaskIOMetricGroup` times.
 *
 * Design: counts are totals over every attempt of the run (`earlierAttempts` plus the
 * current attempt's), which never go down, so a restart cannot make a record rate
 * negative (the progress line once showed `in -5094/s` after a restart reset the counts
 * to 0). Time splits are per attempt: across an attempt change a subtask's time rates are
 * reported as 0 until the next reading of the same attempt. Pure: the clock is the
 * readings' `elapsedMs`.
 */
import type { JobMetrics, SubtaskStats } from '../runtime/index.js';

/** Rates of one subtask, per second; the time splits in ms per second (0..1000). */
export interface SubtaskRates {
  numRecordsInPerSecond: number;
  numRecordsOutPerSecond: number;
  numBytesInPerSecond: number;
  numBytesOutPerSecond: number;
  busyTimeMsPerSecond: number;
  idleTimeMsPerSecond: number;
  backPressuredTimeMsPerSecond: number;
}

/** Rates of one reading against the one before it. */
export interface JobRates {
  /** `elapsedMs` of the reading the rates end at. */
  atMs: number;
  /** Seconds between the two readings (0 for the first reading: every rate is 0). */
  windowSeconds: number;
  /** By graph node id (`JobGraph.nodes`), records per second. */
  operators: Array<{ numRecordsInPerSecond: number; numRecordsOutPerSecond: number }>;
  /** By `vertexId/subtaskIndex`. */
  subtasks: Map<string, SubtaskRates>;
  /** Each chain node of each subtask, by `vertexId/subtaskIndex/k` (k: position in the chain, head 0). */
  operatorSubtasks: Map<string, { numRecordsInPerSecond: number; numRecordsOutPerSecond: number }>;
}

/** Total records of an operator over every attempt of the run. */
export function operatorTotals(op: JobMetrics['operators'][number]): { recordsIn: number; recordsOut: number } {
  return { recordsIn: op.recordsIn + op.earlierAttempts.recordsIn, recordsOut: op.recordsOut + op.earlierAttempts.recordsOut };
}

/** Total records and bytes of a subtask over every attempt of the run. */
export function subtaskTotals(s: SubtaskStats): { recordsIn: number; recordsOut: number; bytesIn: number; bytesOut: number } {
  const e = s.earlierAttempts;
  return { recordsIn: s.recordsIn + e.recordsIn, recordsOut: s.recordsOut + e.recordsOut, bytesIn: s.bytesIn + e.bytesIn, bytesOut: s.bytesOut + e.bytesOut };
}

export function subtaskKey(s: Pick<SubtaskStats, 'vertexId' | 'subtaskIndex'>): string {
  return `${s.vertexId}/${s.subtaskIndex}`;
}

/** A per-second rate; 0 without a window. Never negative for a non-decreasing count. */
function perSecond(now: number, before: number, seconds: number): number {
  return seconds > 0 ? (now - before) / seconds : 0;
}

/**
 * Keeps the previous reading and turns each new one into rates. `minWindowMs`: a reading
 * closer than this to the previous one returns the previous rates again (a short window
 * makes noisy rates), default 250 ms.
 */
export class RateSampler {
  private previous: JobMetrics | undefined;
  private last: JobRates | undefined;

  constructor(private readonly minWindowMs = 250) {}

  sample(m: JobMetrics): JobRates {
    const prev = this.previous;
    if (prev !== undefined && this.last !== undefined && m.elapsedMs - prev.elapsedMs < this.minWindowMs) return this.last;
    const rates = computeRates(prev, m);
    this.previous = m;
    this.last = rates;
    return rates;
  }
}

/** The rates of `now` against `before` (undefined: the first reading, all rates 0). */
export function computeRates(before: JobMetrics | undefined, now: JobMetrics): JobRates {
  const seconds = before === undefined ? 0 : Math.max(0, (now.elapsedMs - before.elapsedMs) / 1000);
  const operators = now.operators.map((op, id) => {
    const a = operatorTotals(op);
    const prevOp = before?.operators[id];
    const b = prevOp === undefined ? a : operatorTotals(prevOp);
    return { numRecordsInPerSecond: perSecond(a.recordsIn, b.recordsIn, seconds), numRecordsOutPerSecond: perSecond(a.recordsOut, b.recordsOut, seconds) };
  });
  const previousSubtasks = new Map((before?.subtasks ?? []).map((s) => [subtaskKey(s), s]));
  // Time splits are per attempt: no window across a restart.
  const timeSeconds = before !== undefined && before.attempt === now.attempt ? seconds : 0;
  const subtasks = new Map<string, SubtaskRates>();
  const operatorSubtasks: JobRates['operatorSubtasks'] = new Map();
  for (const s of now.subtasks) {
    const p = previousSubtasks.get(subtaskKey(s)) ?? s;
    const a = subtaskTotals(s);
    const b = subtaskTotals(p);
    const idle = clampMs(perSecond(s.idleMs, p.idleMs, timeSeconds));
    const backPressured = Math.min(1000 - idle, clampMs(perSecond(s.backpressuredMs, p.backpressuredMs, timeSeconds)));
    s.operators.forEach((op, k) => {
      const q = p.operators[k] ?? op;
      operatorSubtasks.set(`${subtaskKey(s)}/${k}`, {
        numRecordsInPerSecond: perSecond(op.recordsIn + op.earlierAttempts.recordsIn, q.recordsIn + q.earlierAttempts.recordsIn, seconds),
        numRecordsOutPerSecond: perSecond(op.recordsOut + op.earlierAttempts.recordsOut, q.recordsOut + q.earlierAttempts.recordsOut, seconds),
      });
    });
    subtasks.set(subtaskKey(s), {
      numRecordsInPerSecond: perSecond(a.recordsIn, b.recordsIn, seconds),
      numRecordsOutPerSecond: perSecond(a.recordsOut, b.recordsOut, seconds),
      numBytesInPerSecond: perSecond(a.bytesIn, b.bytesIn, seconds),
      numBytesOutPerSecond: perSecond(a.bytesOut, b.bytesOut, seconds),
      // Flink: busy is the time neither idle nor backpressured; a finished subtask is none of them.
      busyTimeMsPerSecond: timeSeconds === 0 || s.finished ? 0 : 1000 - idle - backPressured,
      idleTimeMsPerSecond: idle,
      backPressuredTimeMsPerSecond: backPressured,
    });
  }
  return { atMs: now.elapsedMs, windowSeconds: seconds, operators, subtasks, operatorSubtasks };
}

/** Time per second is at most a second: timer granularity can overshoot by a little. */
function clampMs(msPerSecond: number): number {
  return Math.min(1000, Math.max(0, msPerSecond));
}

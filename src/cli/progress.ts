/**
 * The live progress line of `sluice run` (cli-progress, on a terminal only): elapsed time,
 * records in (read by sources) and out (reaching sinks) per second, the totals, records
 * per second of each operator, and the backpressure of the most backpressured vertex:
 *
 *   sluice 12.5s | in 20.0k/s | out 20.0k/s | read 250000 | written 249488 | numbers 20.0k/s, count 20.0k/s, sink 20.0k/s | bp count (2/2) 35% | chk 12 (85 ms)
 *
 * Counts are totals over every attempt of the run and rates come from them (metrics/
 * rates.ts), so a restart neither resets the totals nor shows a negative rate.
 */
import cliProgress from 'cli-progress';
import { RateSampler, operatorTotals } from '../metrics/rates.js';
import type { JobRates } from '../metrics/index.js';
import type { JobHandle, JobMetrics } from '../runtime/index.js';

/** Records read by sources, and records that reached sinks, over every attempt of the run. */
export function sourceAndSinkCounts(metrics: JobMetrics): { read: number; written: number } {
  let read = 0;
  let written = 0;
  for (const op of metrics.operators) {
    const totals = operatorTotals(op);
    if (op.role === 'source') read += totals.recordsOut;
    if (op.role === 'sink') written += totals.recordsIn;
  }
  return { read, written };
}

export function formatRate(perSecond: number): string {
  if (perSecond >= 1e6) return `${(perSecond / 1e6).toFixed(2)}M`;
  if (perSecond >= 1e3) return `${(perSecond / 1e3).toFixed(1)}k`;
  return perSecond.toFixed(0);
}

/** ` | chk 12 (85 ms) | restarts 1`: the last completed checkpoint and the restarts so far. */
function checkpointCell(m: JobMetrics): string {
  const last = m.checkpoints?.[m.checkpoints.length - 1];
  const restarts = m.restarts ?? 0;
  return `${last === undefined ? '' : ` | chk ${last.checkpointId} (${last.durationMs.toFixed(0)} ms)`}${restarts > 0 ? ` | restarts ${restarts}` : ''}`;
}

/** Operators shown by name in the line, at most; the rest are counted (`+3 more`). */
const operatorsShownMax = 4;

/** `numbers 20.0k/s, count 20.0k/s`: each operator's larger rate of in and out. */
function operatorCell(m: JobMetrics, rates: JobRates): string {
  const cells = m.operators.map((op, id) => {
    const r = rates.operators[id];
    return `${op.name} ${formatRate(Math.max(r?.numRecordsInPerSecond ?? 0, r?.numRecordsOutPerSecond ?? 0))}/s`;
  });
  const more = cells.length > operatorsShownMax ? `, +${cells.length - operatorsShownMax} more` : '';
  return cells.length === 0 ? '' : ` | ${cells.slice(0, operatorsShownMax).join(', ')}${more}`;
}

/** ` | bp count (2/2) 35%`: the subtask most backpressured over the last window, when any is (above 0.5 %). */
function backpressureCell(m: JobMetrics, rates: JobRates): string {
  let worst: { label: string; ms: number } | undefined;
  for (const s of m.subtasks) {
    const ms = rates.subtasks.get(`${s.vertexId}/${s.subtaskIndex}`)?.backPressuredTimeMsPerSecond ?? 0;
    if (ms > (worst?.ms ?? 5)) worst = { label: `${s.vertex} (${s.subtaskIndex + 1}/${m.subtasks.filter((x) => x.vertexId === s.vertexId).length})`, ms };
  }
  return worst === undefined ? '' : ` | bp ${worst.label} ${(worst.ms / 10).toFixed(0)}%`;
}

/** The fields of one progress line from a reading and its rates. */
export function progressFields(m: JobMetrics, rates: JobRates): Record<string, string | number> {
  const counts = sourceAndSinkCounts(m);
  let inRate = 0;
  let outRate = 0;
  m.operators.forEach((op, id) => {
    if (op.role === 'source') inRate += rates.operators[id]?.numRecordsOutPerSecond ?? 0;
    if (op.role === 'sink') outRate += rates.operators[id]?.numRecordsInPerSecond ?? 0;
  });
  return {
    elapsed: (m.elapsedMs / 1000).toFixed(1),
    inRate: formatRate(inRate),
    outRate: formatRate(outRate),
    read: counts.read,
    written: counts.written,
    operators: operatorCell(m, rates),
    backpressure: backpressureCell(m, rates),
    checkpoint: checkpointCell(m),
  };
}

/** Starts the progress line; returns a function that stops it. */
export function showProgress(handle: JobHandle, stream: NodeJS.WriteStream, tickMs = 500): () => void {
  const bar = new cliProgress.SingleBar(
    {
      format: 'sluice {elapsed}s | in {inRate}/s | out {outRate}/s | read {read} | written {written}{operators}{backpressure}{checkpoint}',
      stream,
      hideCursor: true,
      clearOnComplete: true,
      linewrap: false,
      noTTYOutput: false,
    },
    cliProgress.Presets.shades_classic,
  );
  const sampler = new RateSampler(0);
  const first = handle.metrics();
  bar.start(1, 0, progressFields(first, sampler.sample(first)));
  const timer = setInterval(() => {
    const m = handle.metrics();
    bar.update(0, progressFields(m, sampler.sample(m)));
  }, tickMs);
  return () => {
    clearInterval(timer);
    bar.stop();
  };
}

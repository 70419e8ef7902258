/**
 * The live progress line of `sluice run` (cli-progress, on a terminal only): elapsed time,
 * and records in (read by sources) and out (reaching sinks) per second over the last tick.
 */
import cliProgress from 'cli-progress';
import type { JobHandle, JobMetrics } from '../runtime/index.js';

/** Records read by sources, and records that reached sinks. */
export function sourceAndSinkCounts(metrics: JobMetrics): { read: number; written: number } {
  let read = 0;
  let written = 0;
  for (const op of metrics.operators) {
    if (op.role === 'source') read += op.recordsOut;
    if (op.role === 'sink') written += op.recordsIn;
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

/** Starts the progress line; returns a function that stops it. */
export function showProgress(
  handle: JobHandle,
  stream: NodeJS.WriteStream,
  tickMs = 500,
): () => void {
  const bar = new cliProgress.SingleBar(
    {
      format: 'sluice {elapsed}s | in {inRate}/s | out {outRate}/s | read {read} | written {written}{checkpoint}',
      stream,
      hideCursor: true,
      clearOnComplete: true,
      linewrap: false,
      noTTYOutput: false,
    },
    cliProgress.Presets.shades_classic,
  );
  let last = { read: 0, written: 0, at: 0 };
  bar.start(1, 0, { elapsed: '0.0', inRate: '0', outRate: '0', read: 0, written: 0, checkpoint: '' });
  const timer = setInterval(() => {
    const m = handle.metrics();
    const now = sourceAndSinkCounts(m);
    const seconds = Math.max(1e-3, (m.elapsedMs - last.at) / 1000);
    bar.update(0, {
      elapsed: (m.elapsedMs / 1000).toFixed(1),
      inRate: formatRate((now.read - last.read) / seconds),
      outRate: formatRate((now.written - last.written) / seconds),
      read: now.read,
      written: now.written,
      checkpoint: checkpointCell(m),
    });
    last = { ...now, at: m.elapsedMs };
  }, tickMs);
  return () => {
    clearInterval(timer);
    bar.stop();
  };
}

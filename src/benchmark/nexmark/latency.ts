/**
 * Event-to-output latency of Nexmark q1 through a keyed shuffle: each bid becomes q0's row
 * (a plain object, what Flink's shuffle would carry as RowData) stamped with the wall time
 * right after the source emits it (in the source's chain), crosses a ring to the subtask of
 * its auction (`keyBy(auction)`), gets q1's conversion there, and a sink
 * records now - stamp in an HDR histogram (hdr-histogram-js, µs, 3 significant digits).
 * Records stamped in the sink subtask's first `warmUpMs` of traffic are not recorded (JIT,
 * start-up). When the sink closes it posts `{ histogram, count }` (the histogram as
 * compressed base64) on the BroadcastChannel named by the job's `--latency` argument, so
 * the benchmark merges the subtasks' histograms. Times are epoch ms with µs precision
 * (`performance.timeOrigin + performance.now()`), comparable across threads.
 */
import { performance } from 'node:perf_hooks';
import type * as hdr from 'hdr-histogram-js';
import { hdrHistogram } from '../../metrics/hdr-histogram.js';
import type { DataStream, SinkFunction } from '../../api/index.js';
import type { NexmarkEvent } from '../../connectors/nexmark/model.js';
import { bids } from './queries.js';
import type { BidRow } from './queries.js';

/** Traffic a sink subtask sees before it records latencies, ms. */
export const warmUpMs = 1000;
/** Largest latency recorded, µs (larger ones are clamped): 60 s. */
const highestTrackableUs = 60_000_000;

/** What each latency sink subtask posts when it closes. */
export interface LatencyReport {
  /** `encodeIntoCompressedBase64` of the subtask's histogram, µs. */
  histogram: string;
  /** Records the subtask received, recorded or not. */
  count: number;
}

/** q0's row and when the source emitted its bid, epoch ms. */
interface StampedRow extends BidRow {
  emittedAtMs: number;
}

function nowMs(): number {
  return performance.timeOrigin + performance.now();
}

/** A sink recording now - emittedAtMs per record; posts its histogram on `channel` when it closes. */
function latencySink(channel: string): SinkFunction<StampedRow> {
  let histogram: hdr.Histogram | undefined;
  let count = 0;
  let recordFromMs = Infinity;
  return {
    invoke: (record) => {
      const now = nowMs();
      if (count++ === 0) recordFromMs = now + warmUpMs;
      if (record.emittedAtMs < recordFromMs) return;
      histogram ??= hdrHistogram().build({ lowestDiscernibleValue: 1, highestTrackableValue: highestTrackableUs, numberOfSignificantValueDigits: 3 });
      histogram.recordValue(Math.min(highestTrackableUs, Math.max(1, Math.round((now - record.emittedAtMs) * 1000))));
    },
    close: () => {
      const report: LatencyReport = { histogram: histogram === undefined ? '' : hdrHistogram().encodeIntoCompressedBase64(histogram), count };
      const bc = new BroadcastChannel(channel);
      bc.postMessage(report);
      bc.close();
    },
  };
}

/** q1 through `keyBy(auction)`, into the latency sink that reports on `channel`. */
export function q1LatencyPipeline(events: DataStream<NexmarkEvent>, channel: string): void {
  bids(events)
    .map((b): StampedRow => ({ auction: b.auction, bidder: b.bidder, price: b.price, dateTime: b.dateTime, extra: b.extra, emittedAtMs: nowMs() }))
    .name('Stamp')
    .keyBy((row) => row.auction)
    .map((row): StampedRow => ({ auction: row.auction, bidder: row.bidder, price: (row.price * 908) / 1000, dateTime: row.dateTime, extra: row.extra, emittedAtMs: row.emittedAtMs }))
    .name('q1 currency conversion')
    .addSink(latencySink(channel))
    .name('Latency');
}

/** Merges the subtasks' reports: the histogram of all of them (undefined when none recorded) and the records received. */
export function mergeLatencyReports(reports: readonly LatencyReport[]): { histogram: hdr.Histogram | undefined; count: number } {
  let merged: hdr.Histogram | undefined;
  let count = 0;
  for (const r of reports) {
    count += r.count;
    if (r.histogram === '') continue;
    const h = hdrHistogram().decodeFromCompressedBase64(r.histogram);
    if (merged === undefined) merged = h;
    else merged.add(h);
  }
  return { histogram: merged, count };
}

/** The latency sinks' reports as they arrive on a BroadcastChannel (see `collectLatencyReports`). */
export interface LatencyReportCollector {
  /** The reports so far, in arrival order. */
  readonly reports: LatencyReport[];
  /** Resolves once `expected` reports came, or after `timeoutMs`, whichever is first. */
  settled(timeoutMs: number): Promise<void>;
  /** Stops listening. */
  close(): void;
}

/** Listens on the BroadcastChannel `name` (the job's `--latency` argument) for `expected` sink reports, one per sink subtask. */
export function collectLatencyReports(name: string, expected: number): LatencyReportCollector {
  const reports: LatencyReport[] = [];
  const channel = new BroadcastChannel(name);
  let allIn: () => void = () => {};
  const done = new Promise<void>((resolve) => (allIn = resolve));
  channel.onmessage = (m) => {
    reports.push((m as { data: LatencyReport }).data);
    if (reports.length >= expected) allIn();
  };
  return {
    reports,
    async settled(timeoutMs) {
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([done, new Promise<void>((resolve) => (timer = setTimeout(resolve, timeoutMs)))]);
      clearTimeout(timer);
    },
    close: () => channel.close(),
  };
}

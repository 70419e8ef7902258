/**
 * `GET /jobs/:jobId/events[?interval=<ms>]`: a server-sent events stream (text/event-stream)
 * of the job's details:
 *
 *   event: job
 *   id: <n, 1 up>
 *   data: <the JSON of GET /jobs/:jobId, on one line>
 *
 * The first `job` event is sent at once; then one at every metric reading (about once a
 * second), or, with `interval`, at every k-th reading where k = ceil(interval / the
 * reading period), so a dashboard refreshing every 3 s (Flink's `web.refresh-interval`)
 * is sent, and the server builds, a third of the events. When the job has ended (the
 * server closes), a last `job` event and `event: end` with data
 * `{"state":"FINISHED"|"CANCELED"|"FAILED"}`; then the stream ends. A browser reads it
 * with `new EventSource(url)`.
 */
import type { ServerResponse } from 'node:http';

interface Stream {
  raw: ServerResponse;
  /** Events sent so far (the `id` of the last). */
  id: number;
  /** Readings between two events (1: every reading). */
  every: number;
  /** Readings since the last event. */
  since: number;
}

/** The longest `interval` a stream may ask for, ms. */
export const streamIntervalMaxMs = 3_600_000;

export class EventStreams {
  private readonly streams = new Set<Stream>();

  /** `readingPeriodMs`: the period of the metric readings that `reading` is called at. */
  constructor(private readonly readingPeriodMs: number) {}

  /** Starts a stream on `raw` with `first` as its first event; then an event every `intervalMs` (default: every reading). */
  open(raw: ServerResponse, first: unknown, intervalMs = 0): void {
    raw.writeHead(200, { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-cache, no-transform', connection: 'keep-alive', 'x-accel-buffering': 'no' });
    const stream: Stream = { raw, id: 0, every: Math.max(1, Math.ceil(intervalMs / this.readingPeriodMs)), since: 0 };
    this.streams.add(stream);
    raw.on('close', () => this.streams.delete(stream));
    this.write(stream, 'job', first);
  }

  get size(): number {
    return this.streams.size;
  }

  /** A metric reading: sends `details()` (built once, only when a stream is due) to every stream due. */
  reading(details: () => unknown): void {
    let data: string | undefined;
    for (const stream of this.streams) {
      stream.since++;
      if (stream.since < stream.every) continue;
      stream.since = 0;
      data ??= JSON.stringify(details());
      this.writeText(stream, 'job', data);
    }
  }

  /** Sends `data` as a `job` event to every open stream now. */
  broadcast(data: unknown): void {
    if (this.streams.size === 0) return;
    const text = JSON.stringify(data);
    for (const stream of this.streams) this.writeText(stream, 'job', text);
  }

  /** Sends the `end` event and ends every stream. */
  end(state: string): void {
    for (const stream of this.streams) {
      this.write(stream, 'end', { state });
      stream.raw.end();
    }
    this.streams.clear();
  }

  private write(stream: Stream, event: string, data: unknown): void {
    this.writeText(stream, event, JSON.stringify(data));
  }

  private writeText(stream: Stream, event: string, data: string): void {
    if (stream.raw.destroyed) return;
    stream.id++;
    stream.raw.write(`event: ${event}\nid: ${stream.id}\ndata: ${data}\n\n`);
  }
}

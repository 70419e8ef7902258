/**
 * `GET /jobs/:jobId/events`: a server-sent events stream (text/event-stream) of the job's
 * details, one event per monitor reading (about once a second):
 *
 *   event: job
 *   id: <n, 1 up>
 *   data: <the JSON of GET /jobs/:jobId, on one line>
 *
 * and, when the job has ended (the server closes), a last `event: end` whose data is
 * `{"state":"FINISHED"|"CANCELED"|"FAILED"}`; then the stream ends. The first `job` event
 * is sent at once. A browser reads it with `new EventSource(url)`.
 */
import type { ServerResponse } from 'node:http';

export class EventStreams {
  private readonly streams = new Set<{ raw: ServerResponse; id: number }>();

  /** Starts a stream on `raw` with `first` as its first event. */
  open(raw: ServerResponse, first: unknown): void {
    raw.writeHead(200, { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-cache, no-transform', connection: 'keep-alive', 'x-accel-buffering': 'no' });
    const stream = { raw, id: 0 };
    this.streams.add(stream);
    raw.on('close', () => this.streams.delete(stream));
    this.write(stream, 'job', first);
  }

  get size(): number {
    return this.streams.size;
  }

  /** Sends `data` as a `job` event to every open stream. */
  broadcast(data: unknown): void {
    if (this.streams.size === 0) return;
    for (const stream of this.streams) this.write(stream, 'job', data);
  }

  /** Sends the `end` event and ends every stream. */
  end(state: string): void {
    for (const stream of this.streams) {
      this.write(stream, 'end', { state });
      stream.raw.end();
    }
    this.streams.clear();
  }

  private write(stream: { raw: ServerResponse; id: number }, event: string, data: unknown): void {
    if (stream.raw.destroyed) return;
    stream.id++;
    stream.raw.write(`event: ${event}\nid: ${stream.id}\ndata: ${JSON.stringify(data)}\n\n`);
  }
}

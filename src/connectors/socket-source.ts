/**
 * Flink's socket source (`socketTextStream(hostname, port, delimiter, maxRetry)`): lines
 * from a TCP server, cut at `delimiter`. Parallelism 1. When the connection closes (or
 * cannot be made) the reader connects again after `retryDelayMs`, up to `maxRetry` times
 * (-1: forever); with no retry left it ends (after a close by the server) or fails with
 * the host and port (when it could not connect).
 *
 * Not replayable: what the server sent is gone once read, so after a failover the
 * restored reader connects again and reads on from the new connection (at-most-once).
 */
import { Socket } from 'node:net';
import type { LineFormat } from './line-format.js';
import type { Source, SourceReader, SourceReaderContext, SplitEnumerator, SplitEnumeratorContext } from './source.js';
import { Boundedness } from './source.js';
import { SingleSplitEnumerator, StreamLineReader } from './stream-reader.js';
import type { StreamSplit } from './stream-reader.js';

/** Flink's `SocketTextStreamFunction` waits 500 ms between connection attempts. */
export const defaultSocketRetryDelayMs = 500;

export interface SocketSourceOptions<T> {
  hostname: string;
  port: number;
  delimiter: string;
  /** Reconnections after a close or a failed connect; -1: forever. */
  maxRetry: number;
  retryDelayMs: number;
  format?: LineFormat<T> | undefined;
}

export class SocketSource<T> implements Source<T, StreamSplit, { pending: StreamSplit[] }> {
  readonly boundedness = Boundedness.CONTINUOUS_UNBOUNDED;

  constructor(readonly options: SocketSourceOptions<T>) {}

  createEnumerator(context: SplitEnumeratorContext<StreamSplit>): SplitEnumerator<StreamSplit, { pending: StreamSplit[] }> {
    return new SingleSplitEnumerator(context, [{ splitId: `socket:${this.options.hostname}:${this.options.port}` }]);
  }

  restoreEnumerator(context: SplitEnumeratorContext<StreamSplit>, state: { pending: StreamSplit[] } | undefined): SplitEnumerator<StreamSplit, { pending: StreamSplit[] }> {
    return new SingleSplitEnumerator(context, state?.pending ?? []);
  }

  createReader(context: SourceReaderContext): SourceReader<T, StreamSplit> {
    return new SocketReader(context, this.options);
  }
}

class SocketReader<T> extends StreamLineReader<T> {
  private retriesLeft: number;
  private timer: NodeJS.Timeout | undefined;
  private closed = false;
  private socket: Socket | undefined;

  constructor(context: SourceReaderContext, private readonly options: SocketSourceOptions<T>) {
    super(context, options.delimiter, options.format);
    this.retriesLeft = options.maxRetry;
  }

  protected describe(): string {
    return `socket ${this.options.hostname}:${this.options.port}`;
  }

  protected open(): void {
    this.connect();
  }

  private connect(): void {
    const { hostname, port } = this.options;
    const socket = new Socket();
    this.socket = socket;
    let connected = false;
    let lastError: NodeJS.ErrnoException | undefined;
    socket.on('connect', () => {
      connected = true;
    });
    socket.on('error', (error: NodeJS.ErrnoException) => {
      lastError = error;
    });
    // 'close' follows 'end' or 'error': decide on reconnecting once.
    socket.on('close', () => {
      if (this.socket === socket) this.socket = undefined;
      if (connected) this.streamEnded();
      if (this.closed) return;
      if (this.retriesLeft !== 0) {
        if (this.retriesLeft > 0) this.retriesLeft--;
        this.timer = setTimeout(() => {
          this.timer = undefined;
          if (!this.closed) this.connect();
        }, this.options.retryDelayMs);
        return;
      }
      if (!connected && lastError !== undefined) {
        return this.fail(
          new Error(
            `Socket source cannot connect to ${hostname}:${port} (${lastError.code ?? lastError.message}): start the server first (e.g. nc -lk ${port}), ` +
              'check the host and port, or pass maxRetry to keep trying',
            { cause: lastError },
          ),
        );
      }
      this.finish();
    });
    this.attach(socket);
    socket.connect({ host: hostname, port });
  }

  override close(): void {
    this.closed = true;
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.socket?.destroy();
    this.closeStream();
  }
}

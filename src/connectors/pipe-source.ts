/**
 * Reading a pipe: standard input (`readTextFile('-')`) or a FIFO path, as one stream of
 * lines. Parallelism 1 and not replayable: a pipe's bytes are gone once read, so after a
 * failover the restored reader opens the pipe again and reads on from what it delivers
 * then (at-most-once). A pipe is never mistaken for an empty file.
 *
 * The worker reads the pipe itself: a FIFO path is opened non-blocking (a blocking open
 * would wait for a writer on a thread-pool thread that a cancel cannot end) and read
 * through a `net.Socket` (epoll, no blocked thread);
 * standard input (fd 0) likewise when it is a pipe or socket, through `tty.ReadStream` on
 * a terminal, and as a file stream when it is redirected from a file. libuv never closes
 * fds 0-2, so a worker that dies does not close the process's standard input.
 */
import { constants, createReadStream, fstatSync, open, statSync } from 'node:fs';
import { Socket } from 'node:net';
import { ReadStream as TtyReadStream, isatty } from 'node:tty';
import type { Readable } from 'node:stream';
import type { LineFormat } from './line-format.js';
import type { Source, SourceReader, SourceReaderContext, SplitEnumerator, SplitEnumeratorContext } from './source.js';
import { Boundedness } from './source.js';
import { SingleSplitEnumerator, StreamLineReader } from './stream-reader.js';
import type { StreamSplit } from './stream-reader.js';

/** `'-'`: standard input. */
export const stdinPath = '-';

export class PipeSource<T> implements Source<T, StreamSplit, { pending: StreamSplit[] }> {
  readonly boundedness = Boundedness.BOUNDED;

  constructor(
    readonly path: string,
    private readonly format: LineFormat<T> | undefined,
    private readonly delimiter = '\n',
  ) {}

  createEnumerator(context: SplitEnumeratorContext<StreamSplit>): SplitEnumerator<StreamSplit, { pending: StreamSplit[] }> {
    return new SingleSplitEnumerator(context, [{ splitId: `stream:${this.path}` }]);
  }

  restoreEnumerator(context: SplitEnumeratorContext<StreamSplit>, state: { pending: StreamSplit[] } | undefined): SplitEnumerator<StreamSplit, { pending: StreamSplit[] }> {
    return new SingleSplitEnumerator(context, state?.pending ?? []);
  }

  createReader(context: SourceReaderContext): SourceReader<T, StreamSplit> {
    return new PipeReader(context, this.path, this.delimiter, this.format);
  }
}

class PipeReader<T> extends StreamLineReader<T> {
  private closed = false;

  constructor(context: SourceReaderContext, private readonly path: string, delimiter: string, format: LineFormat<T> | undefined) {
    super(context, delimiter, format);
  }

  protected describe(): string {
    return this.path === stdinPath ? 'standard input' : `pipe ${this.path}`;
  }

  protected open(): void {
    if (this.path === stdinPath) return this.read(0);
    // A FIFO opened for reading without O_NONBLOCK waits for a writer, and a thread-pool
    // thread waiting in open() can be ended by nothing: a job cancelled then never
    // finished. Opened non-blocking, it is open at once, and the socket sees no end before
    // a writer has come and gone (Linux: no hang-up is reported before the first writer).
    const fifo = statSync(this.path, { throwIfNoEntry: false })?.isFIFO() === true;
    open(this.path, fifo ? constants.O_RDONLY | constants.O_NONBLOCK : 'r', (error, fd) => {
      if (error !== null) return this.fail(new Error(`Cannot open ${this.describe()} (${error.code}): check the path`, { cause: error }));
      if (this.closed) return;
      this.read(fd);
    });
  }

  private read(fd: number): void {
    let stream: Readable;
    try {
      const stats = fstatSync(fd);
      if (stats.isFIFO() || stats.isSocket()) stream = new Socket({ fd, readable: true, writable: false });
      else if (fd === 0 && isatty(0)) stream = new TtyReadStream(0);
      else stream = createReadStream('', { fd, autoClose: fd > 2 });
    } catch (error) {
      return this.fail(new Error(`Cannot read ${this.describe()}: ${(error as Error).message}`, { cause: error }));
    }
    this.attach(stream);
    stream.on('error', (error) => this.fail(new Error(`Reading ${this.describe()} failed: ${error.message}`, { cause: error })));
    stream.on('end', () => {
      this.streamEnded();
      this.finish();
    });
  }

  override close(): void {
    this.closed = true;
    this.closeStream();
  }
}

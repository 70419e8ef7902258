/**
 * The reader half shared by sources that read one byte stream which arrives on its own
 * time (a socket, a pipe, standard input): the stream's 'data' events fill a queue of
 * lines (cut by a LineSplitter, outside the mailbox's turns), `pollNext` decodes and emits
 * them, and `isAvailable` resolves when lines or the end arrive. A reader with nothing to
 * read costs no CPU. When more than `queuedLinesHigh` lines wait, the stream is paused
 * (TCP then pushes back on the sender) and resumed below half of that.
 *
 * Such streams cannot be replayed: the split is one token (`stream:<what>`), kept while
 * the stream is open, so a restore opens the stream again and reads on from whatever it
 * delivers then (at-most-once across a failover). Also a single assignment enumerator.
 */
import type { Readable } from 'node:stream';
import { LineDecoder } from './line-format.js';
import type { LineFormat } from './line-format.js';
import { LineSplitter } from './line-splitter.js';
import type { InputStatus, ReaderOutput, SourceReader, SourceSplit, SplitEnumerator, SplitEnumeratorContext } from './source.js';
import { SplitRequests } from './source.js';

/** Lines queued before the stream is paused. */
export const queuedLinesHigh = 16384;
/** Lines emitted per `pollNext` call at most. */
export const streamPollLines = 256;

/** The one split of a stream source. */
export interface StreamSplit extends SourceSplit {}

/** Gives the single split to the first reader that asks; every other request gets no more splits. */
export class SingleSplitEnumerator implements SplitEnumerator<StreamSplit, { pending: StreamSplit[] }> {
  constructor(
    private readonly context: SplitEnumeratorContext<StreamSplit>,
    private readonly pending: StreamSplit[],
  ) {}
  start(): void {}
  addReader(): void {}
  handleSplitRequest(subtaskIndex: number): void {
    const split = this.pending.shift();
    if (split === undefined) this.context.signalNoMoreSplits(subtaskIndex);
    else this.context.assignSplit(split, subtaskIndex);
  }
  snapshotState(): { pending: StreamSplit[] } {
    return { pending: [...this.pending] };
  }
  close(): void {}
}

export abstract class StreamLineReader<T> implements SourceReader<T, StreamSplit> {
  private readonly queue: string[] = [];
  private head = 0;
  private readonly splitter: LineSplitter;
  private readonly decoder: LineDecoder<T> | undefined;
  private readonly requests: SplitRequests;
  protected split: StreamSplit | undefined;
  /** The stream ended for good (no reconnect left): 'end' once the queue is drained. */
  protected ended = false;
  /** A failure of the stream, thrown from the next pollNext. */
  private failure: Error | undefined;
  private stream: Readable | undefined;
  private paused = false;
  /** The format wants a header line and it has not been seen yet on this stream. */
  private awaitingHeader = false;

  constructor(
    private readonly context: { sendSplitRequest(): void },
    delimiter: string,
    format: LineFormat<T> | undefined,
  ) {
    this.splitter = new LineSplitter(delimiter);
    this.decoder = format === undefined ? undefined : new LineDecoder(format);
    this.requests = new SplitRequests(context);
  }

  /** Opens the stream for `split` (and calls `attach`), or fails through `fail`. */
  protected abstract open(split: StreamSplit): void;
  /** For messages: `socket localhost:9999`, `standard input`. */
  protected abstract describe(): string;

  /** Lines skipped as unparsable (`onParseError: 'skip'`); Flink's `numRecordsInErrors`. */
  get numRecordsInErrors(): number {
    return this.decoder?.errors ?? 0;
  }

  start(): void {}

  addSplits(splits: StreamSplit[]): void {
    for (const s of splits) {
      if (this.split !== undefined) throw new Error(`${this.describe()}: a stream source reads one split, got a second (${s.splitId})`);
      this.split = s;
      this.open(s);
    }
    this.requests.splitsAdded();
  }

  notifyNoMoreSplits(): void {
    this.requests.noMore();
  }

  /** Reads `stream` into the line queue. Called by `open` (again after a reconnect). */
  protected attach(stream: Readable): void {
    this.stream = stream;
    this.paused = false;
    this.awaitingHeader = this.decoder?.format.header === true;
    stream.on('data', (chunk: Buffer) => {
      try {
        this.splitter.push(chunk, this.queue);
      } catch (error) {
        return this.fail(error as Error);
      }
      if (this.queue.length - this.head > queuedLinesHigh && !this.paused) {
        this.paused = true;
        stream.pause();
      }
      this.requests.available.signal();
    });
  }

  /** The current stream ended (its bytes are queued): take the last partial line. */
  protected streamEnded(): void {
    this.splitter.end(this.queue);
    this.stream = undefined;
    this.requests.available.signal();
  }

  /** No more data will come: 'end' once the queue is drained. */
  protected finish(): void {
    this.ended = true;
    this.requests.available.signal();
  }

  /** Fails the reader: the next pollNext throws `error`. */
  protected fail(error: Error): void {
    this.failure ??= error;
    this.stream?.destroy();
    this.requests.available.signal();
  }

  pollNext(output: ReaderOutput<T>): InputStatus {
    if (this.failure !== undefined) throw this.failure;
    if (this.split === undefined) {
      return this.requests.noSplit();
    }
    const queue = this.queue;
    const start = this.head;
    const end = Math.min(queue.length, this.head + streamPollLines);
    const decoder = this.decoder;
    if (decoder === undefined) {
      while (this.head < end) output.collect(queue[this.head++] as T);
    } else {
      let from = this.head;
      if (this.awaitingHeader && from < end) {
        this.awaitingHeader = false;
        decoder.open(queue[from++]!, () => this.describe());
      }
      this.head = end;
      if (from < end) decoder.decodeLines(queue, from, end, () => this.describe(), (record) => output.collect(record));
    }
    const progressed = this.head > start;
    if (this.head === queue.length) {
      queue.length = 0;
      this.head = 0;
    } else if (this.head > 4096) {
      queue.splice(0, this.head);
      this.head = 0;
    }
    if (this.paused && queue.length - this.head < queuedLinesHigh / 2) {
      this.paused = false;
      this.stream?.resume();
    }
    if (queue.length > this.head) return 'more';
    if (this.ended) {
      this.split = undefined;
      this.requests.noMoreSplits = true;
      return 'end';
    }
    this.requests.available.reset();
    return progressed ? 'more' : 'nothing';
  }

  isAvailable(): Promise<void> {
    return this.requests.available.promise();
  }

  /** The split while the stream is open: a restore opens it again (reads on, at-most-once). */
  snapshotState(): StreamSplit[] {
    return this.split === undefined || this.ended ? [] : [{ ...this.split }];
  }

  /** Where the record emitted last came from, for failure messages. */
  position(): string {
    return this.describe();
  }

  close(): void {
    this.closeStream();
  }

  /** Destroys the open stream, if any (subclasses also stop reconnecting). */
  protected closeStream(): void {
    this.stream?.destroy();
    this.stream = undefined;
  }
}

/**
 * Cuts a byte stream that arrives in chunks (a socket, a pipe) into lines at a delimiter,
 * as Flink's `SocketTextStreamFunction` does. The delimiter is matched as UTF-8 bytes, so
 * a multi-byte character split across two chunks is never cut; with the delimiter "\n" a
 * trailing "\r" is dropped (Windows line ends). At the end of the stream, bytes after the
 * last delimiter are one more line, unless there are none.
 *
 * The unfinished line is kept in a buffer that grows by doubling: a line that arrives in
 * many chunks costs copying linear in its length (concatenating the partial line with
 * every chunk cost quadratic time: 40 s of copying before a 64 MiB line failed).
 *
 * Cost: one `indexOf` and one `toString` per line, both calls into C++; most of a socket
 * source's CPU (bench/sources.bench.ts). A one-byte delimiter (the usual "\n") is searched
 * as a byte (`memchr`) rather than as a one-byte Buffer, and a partial line carried over is
 * joined with the head of the next chunk only, not with the whole chunk: 1.6x the lines a
 * second of the Buffer search with whole-chunk joins, on 3M lines of ~52 bytes.
 */

/** Most bytes of one line kept while waiting for its delimiter; a longer line fails the source. */
export const lineLengthMaxBytes = 64 << 20;
/** Least capacity of the partial-line buffer, bytes. */
const bufferMinBytes = 4096;
/** A buffer above this many bytes shrinks again once it is at most a quarter full. */
const bufferShrinkBytes = 1 << 20;

export class LineSplitter {
  private readonly delimiter: Buffer;
  /** The delimiter's byte when it is one byte long (searched as a number), else -1. */
  private readonly delimiterByte: number;
  private readonly stripCarriageReturn: boolean;
  /** The unfinished line: `buffer[0, length)`; the rest is spare capacity. */
  private buffer: Buffer = Buffer.alloc(0);
  private length = 0;

  /** @throws RangeError for an empty delimiter or one that is not well-formed UTF-16 (a lone surrogate). */
  constructor(delimiter = '\n') {
    if (typeof delimiter !== 'string' || delimiter.length === 0) throw new RangeError(`A line delimiter must be a non-empty string, got ${JSON.stringify(delimiter)}`);
    this.delimiter = Buffer.from(delimiter, 'utf8');
    if (this.delimiter.toString('utf8') !== delimiter) {
      throw new RangeError(`A line delimiter must be text, got ${JSON.stringify(delimiter)}: it is not well-formed UTF-16 (a lone surrogate has no UTF-8 bytes)`);
    }
    this.delimiterByte = this.delimiter.length === 1 ? this.delimiter[0]! : -1;
    this.stripCarriageReturn = delimiter === '\n';
  }

  /** Bytes held that are not yet a whole line. */
  get pendingBytes(): number {
    return this.length;
  }

  /**
   * The whole lines completed by `chunk`, in order, appended to `out`. `chunk` is not
   * kept (its unfinished line is copied).
   * @throws RangeError when a line grows beyond `lineLengthMaxBytes` without a delimiter.
   */
  push(chunk: Buffer, out: string[]): void {
    if (this.delimiterByte >= 0) return this.pushSplitAtByte(chunk, out);
    const held = this.length;
    // Without a partial line, search the chunk itself (no copy).
    let bytes = chunk;
    if (held > 0) {
      this.append(chunk);
      bytes = this.buffer.subarray(0, this.length);
    }
    // A delimiter can only end in the new bytes: the held ones contain none.
    let from = 0;
    let at = bytes.indexOf(this.delimiter, Math.max(0, held - this.delimiter.length + 1));
    while (at >= 0) {
      out.push(this.decode(bytes, from, at));
      from = at + this.delimiter.length;
      at = bytes.indexOf(this.delimiter, from);
    }
    if (bytes === chunk) {
      this.append(chunk.subarray(from));
    } else if (from > 0) {
      // The rest is at most this chunk's bytes: moving it keeps the cost linear.
      this.buffer.copyWithin(0, from, this.length);
      this.length -= from;
      if (this.buffer.length > bufferShrinkBytes && this.length <= this.buffer.length / 4) this.reallocate(Math.max(bufferMinBytes, 2 * this.length));
    }
    if (this.length > lineLengthMaxBytes) {
      throw new RangeError(`A line grew beyond ${lineLengthMaxBytes} bytes without the delimiter ${JSON.stringify(this.delimiter.toString())}: is the delimiter right?`);
    }
  }

  /** `push` for a one-byte delimiter: a line's end cannot straddle two chunks. */
  private pushSplitAtByte(chunk: Buffer, out: string[]): void {
    const byte = this.delimiterByte;
    let at = chunk.indexOf(byte);
    let from = 0;
    if (at >= 0 && this.length > 0) {
      // The held partial line ends in this chunk: join it with this chunk's head only.
      this.append(chunk.subarray(0, at));
      out.push(this.decode(this.buffer, 0, this.length));
      this.length = 0;
      if (this.buffer.length > bufferShrinkBytes) this.buffer = Buffer.alloc(0);
      from = at + 1;
      at = chunk.indexOf(byte, from);
    }
    while (at >= 0) {
      out.push(this.decode(chunk, from, at));
      from = at + 1;
      at = chunk.indexOf(byte, from);
    }
    // A copy: the rest must not pin the whole chunk.
    this.append(chunk.subarray(from));
    if (this.length > lineLengthMaxBytes) {
      throw new RangeError(`A line grew beyond ${lineLengthMaxBytes} bytes without the delimiter ${JSON.stringify(this.delimiter.toString())}: is the delimiter right?`);
    }
  }

  /** End of the stream: the last line if bytes remain after the last delimiter. The splitter may then start a new stream. */
  end(out: string[]): void {
    if (this.length > 0) out.push(this.decode(this.buffer, 0, this.length));
    this.length = 0;
    if (this.buffer.length > bufferShrinkBytes) this.buffer = Buffer.alloc(0);
  }

  /** Appends `bytes` to the partial line, doubling the buffer when it is full. */
  private append(bytes: Buffer): void {
    if (bytes.length === 0) return;
    const needed = this.length + bytes.length;
    if (needed > this.buffer.length) this.reallocate(Math.max(bufferMinBytes, needed, 2 * this.buffer.length));
    bytes.copy(this.buffer, this.length);
    this.length = needed;
  }

  private reallocate(capacity: number): void {
    // Outside Node's 8 KiB pool: a held buffer must not pin a pool slab.
    const next = Buffer.allocUnsafeSlow(capacity);
    this.buffer.copy(next, 0, 0, this.length);
    this.buffer = next;
  }

  private decode(bytes: Buffer, from: number, to: number): string {
    if (this.stripCarriageReturn && to > from && bytes[to - 1] === 0x0d) to--;
    // No encoding argument: toString() then goes straight to UTF-8 (no encoding lookup).
    return bytes.toString(undefined, from, to);
  }
}

/**
 * Cuts a byte stream that arrives in chunks (a socket, a pipe) into lines at a delimiter,
 * as Flink's `SocketTextStreamFunction` does. The delimiter is matched as UTF-8 bytes, so
 * a multi-byte character split across two chunks is never cut; with the delimiter "\n" a
 * trailing "\r" is dropped (Windows line ends). At the end of the stream, bytes after the
 * last delimiter are one more line, unless there are none.
 *
 * Cost: one `indexOf` and one `toString` per line, both calls into C++; most of a socket
 * source's CPU (bench/sources.bench.ts). A one-byte delimiter (the usual "\n") is searched
 * as a byte (`memchr`) rather than as a one-byte Buffer, and a partial line carried over is
 * joined with the head of the next chunk only, not with the whole chunk: 1.6x the lines a
 * second of the Buffer search with whole-chunk joins, on 3M lines of ~52 bytes.
 */

/** Most bytes of one line kept while waiting for its delimiter; a longer line fails the source. */
export const lineLengthMaxBytes = 64 << 20;

const emptyBuffer = Buffer.alloc(0);

export class LineSplitter {
  private readonly delimiter: Buffer;
  /** The delimiter's byte when it is one byte long (searched as a number), else -1. */
  private readonly delimiterByte: number;
  private readonly stripCarriageReturn: boolean;
  private carry: Buffer = emptyBuffer;

  /** @throws RangeError for an empty delimiter. */
  constructor(delimiter = '\n') {
    if (typeof delimiter !== 'string' || delimiter.length === 0) throw new RangeError(`A line delimiter must be a non-empty string, got ${JSON.stringify(delimiter)}`);
    this.delimiter = Buffer.from(delimiter, 'utf8');
    this.delimiterByte = this.delimiter.length === 1 ? this.delimiter[0]! : -1;
    this.stripCarriageReturn = delimiter === '\n';
  }

  /** Bytes held that are not yet a whole line. */
  get pendingBytes(): number {
    return this.carry.length;
  }

  /**
   * The whole lines completed by `chunk`, in order, appended to `out`.
   * @throws RangeError when a line grows beyond `lineLengthMaxBytes` without a delimiter.
   */
  push(chunk: Buffer, out: string[]): void {
    if (this.delimiterByte >= 0) return this.pushSplitAtByte(chunk, out);
    const bytes = this.carry.length === 0 ? chunk : Buffer.concat([this.carry, chunk]);
    // Search only where a delimiter may end in the new bytes.
    let from = 0;
    let at = bytes.indexOf(this.delimiter, Math.max(0, this.carry.length - this.delimiter.length + 1));
    while (at >= 0) {
      out.push(this.decode(bytes, from, at));
      from = at + this.delimiter.length;
      at = bytes.indexOf(this.delimiter, from);
    }
    this.carry = from === 0 ? (bytes === chunk ? Buffer.from(chunk) : bytes) : Buffer.from(bytes.subarray(from));
    this.checkCarry();
  }

  /** `push` for a one-byte delimiter: a line's end cannot straddle two chunks. */
  private pushSplitAtByte(chunk: Buffer, out: string[]): void {
    const byte = this.delimiterByte;
    let at = chunk.indexOf(byte);
    if (at < 0) {
      this.carry = this.carry.length === 0 ? Buffer.from(chunk) : Buffer.concat([this.carry, chunk]);
      return this.checkCarry();
    }
    let from = 0;
    if (this.carry.length > 0) {
      // The carried partial line ends in this chunk: join it with this chunk's head only.
      const first = Buffer.concat([this.carry, chunk.subarray(0, at)]);
      out.push(this.decode(first, 0, first.length));
      from = at + 1;
      at = chunk.indexOf(byte, from);
    }
    while (at >= 0) {
      out.push(this.decode(chunk, from, at));
      from = at + 1;
      at = chunk.indexOf(byte, from);
    }
    // A copy: the rest must not pin the whole chunk.
    this.carry = from === chunk.length ? emptyBuffer : Buffer.from(chunk.subarray(from));
  }

  private checkCarry(): void {
    if (this.carry.length > lineLengthMaxBytes) {
      throw new RangeError(`A line grew beyond ${lineLengthMaxBytes} bytes without the delimiter ${JSON.stringify(this.delimiter.toString())}: is the delimiter right?`);
    }
  }

  /** End of the stream: the last line if bytes remain after the last delimiter. */
  end(out: string[]): void {
    if (this.carry.length > 0) out.push(this.decode(this.carry, 0, this.carry.length));
    this.carry = emptyBuffer;
  }

  private decode(bytes: Buffer, from: number, to: number): string {
    if (this.stripCarriageReturn && to > from && bytes[to - 1] === 0x0d) to--;
    // No encoding argument: toString() then goes straight to UTF-8 (no encoding lookup).
    return bytes.toString(undefined, from, to);
  }
}

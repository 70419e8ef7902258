/**
 * Cuts a byte stream that arrives in chunks (a socket, a pipe) into lines at a delimiter,
 * as Flink's `SocketTextStreamFunction` does. The delimiter is matched as UTF-8 bytes, so
 * a multi-byte character split across two chunks is never cut; with the delimiter "\n" a
 * trailing "\r" is dropped (Windows line ends). At the end of the stream, bytes after the
 * last delimiter are one more line, unless there are none.
 */

/** Most bytes of one line kept while waiting for its delimiter; a longer line fails the source. */
export const lineLengthMaxBytes = 64 << 20;

export class LineSplitter {
  private readonly delimiter: Buffer;
  private readonly stripCarriageReturn: boolean;
  private carry: Buffer = Buffer.alloc(0);

  /** @throws RangeError for an empty delimiter. */
  constructor(delimiter = '\n') {
    if (typeof delimiter !== 'string' || delimiter.length === 0) throw new RangeError(`A line delimiter must be a non-empty string, got ${JSON.stringify(delimiter)}`);
    this.delimiter = Buffer.from(delimiter, 'utf8');
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
    if (this.carry.length > lineLengthMaxBytes) {
      throw new RangeError(`A line grew beyond ${lineLengthMaxBytes} bytes without the delimiter ${JSON.stringify(this.delimiter.toString())}: is the delimiter right?`);
    }
  }

  /** End of the stream: the last line if bytes remain after the last delimiter. */
  end(out: string[]): void {
    if (this.carry.length > 0) out.push(this.decode(this.carry, 0, this.carry.length));
    this.carry = Buffer.alloc(0);
  }

  private decode(bytes: Buffer, from: number, to: number): string {
    if (this.stripCarriageReturn && to > from && bytes[to - 1] === 0x0d) to--;
    return bytes.toString('utf8', from, to);
  }
}

/**
 * Line formats: how a source turns one line of text into a record. The file, stream and
 * socket sources cut their input into lines; a format decodes each (Flink:
 * `StreamFormat` / `DeserializationSchema`). Text is the identity; JSON lines and CSV
 * live in formats.ts.
 *
 * A line that does not decode either fails the job (`onParseError: 'fail'`, the default),
 * with one line naming the file, the line number and the content, or is skipped and
 * counted (`'skip'`: the subtask's `numRecordsInErrors`, Flink's metric name).
 */
import { UsageError, previewRecord } from '../errors.js';

/** What happens to a line that does not decode. */
export type ParseErrorPolicy = 'fail' | 'skip';

/** Decodes the lines of one file or stream. */
export interface LineDecoderFunctions<T> {
  /** The record of one line, or `noRecord` for a line that holds none (blank). @throws on a bad line. */
  decode(line: string): T | typeof noRecord;
  /**
   * Optional fast path: the records of many lines at once (blank lines give none), or
   * undefined when some line is bad or the batch does not map line for line; the caller
   * then decodes line by line to find and report the bad line.
   */
  decodeAll?(lines: readonly string[]): Array<T | typeof noRecord> | undefined;
}

/** Decodes lines into records of type T. Flink: `DeserializationSchema` per line. */
export interface LineFormat<T> {
  /** For messages: 'text', 'JSON lines', 'CSV'. */
  readonly name: string;
  /** The first line of every file is a header (column names), not a record. */
  readonly header: boolean;
  readonly onParseError: ParseErrorPolicy;
  /**
   * A decoder for the lines of one file or stream; `headerLine` is that file's first line
   * when `header` is set. @throws Error when the header itself is unusable.
   */
  createDecoder(headerLine: string | undefined): LineDecoderFunctions<T>;
}

/** A line that holds no record (a blank line of a JSON lines or CSV file): not an error. */
export const noRecord: unique symbol = Symbol('noRecord');

/** Plain text lines: each line is a string record. */
export const textLineFormat: LineFormat<string> = {
  name: 'text',
  header: false,
  onParseError: 'fail',
  createDecoder: () => ({ decode: (line) => line }),
};

/** Where a line came from, for parse errors: `file /in/a.csv line 17`, `socket localhost:9999`. */
export type LineOrigin = () => string;

/**
 * Decodes lines with a format and its error policy; counts skipped lines.
 * `decode` returns `skipLine` for a line that holds no record or was skipped.
 */
export class LineDecoder<T> {
  /** Lines that did not decode and were skipped. */
  errors = 0;
  private decoder: LineDecoderFunctions<T> | undefined;

  constructor(readonly format: LineFormat<T>) {}

  /** Starts a new file or stream (its header, if the format has one). */
  open(headerLine: string | undefined, origin: LineOrigin): void {
    try {
      this.decoder = this.format.createDecoder(headerLine);
    } catch (error) {
      throw new UsageError(`Cannot read the ${this.format.name} header of ${origin()}: ${(error as Error).message}`, { cause: error });
    }
  }

  /**
   * The record of `line`, or `skipLine`.
   * @throws UsageError naming the line's origin and content (policy 'fail').
   */
  decode(line: string, origin: LineOrigin): T | typeof skipLine {
    const decoder = this.decoder ?? (this.decoder = this.format.createDecoder(undefined));
    try {
      const record = decoder.decode(line);
      return record === noRecord ? skipLine : record;
    } catch (error) {
      if (this.format.onParseError === 'skip') {
        this.errors++;
        return skipLine;
      }
      throw new UsageError(
        `Cannot parse ${origin()} as ${this.format.name}: ${(error as Error).message} in ${previewRecord(line)}; ` +
          `fix the input, or pass onParseError: 'skip' to skip and count bad lines`,
        { cause: error },
      );
    }
  }

  /**
   * Emits the records of `lines[from, to)`: in one batch when the format can, else (or
   * when the batch finds a bad line) line by line. `origin(i)` describes line i.
   * @throws UsageError as `decode`.
   */
  decodeLines(lines: readonly string[], from: number, to: number, origin: (index: number) => string, emit: (record: T) => void): void {
    const decoder = this.decoder ?? (this.decoder = this.format.createDecoder(undefined));
    if (decoder.decodeAll !== undefined && to - from > 1) {
      let records: Array<T | typeof noRecord> | undefined;
      try {
        records = decoder.decodeAll(from === 0 && to === lines.length ? lines : lines.slice(from, to));
      } catch {
        records = undefined;
      }
      if (records !== undefined && records.length === to - from) {
        for (const r of records) if (r !== noRecord) emit(r);
        return;
      }
    }
    for (let i = from; i < to; i++) {
      const record = this.decode(lines[i]!, () => origin(i));
      if (record !== skipLine) emit(record);
    }
  }
}

/** Marks a line that holds no record or was skipped (bad, under the 'skip' policy). */
export const skipLine: unique symbol = Symbol('skipLine');

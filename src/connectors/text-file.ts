/**
 * Reading regular files line by line in byte-range splits, as Flink's `TextInputFormat`.
 *
 * Splits (Hadoop's `LineRecordReader` rule): a file is cut into byte ranges
 * `[start, end)`; a line belongs to the split holding its first byte. A reader of a split
 * with start > 0 skips through the first '\n' at or after `start - 1`, and reads on past
 * `end` to finish its last line. Lines are cut at '\n' bytes (never inside a UTF-8
 * sequence), a trailing '\r' is dropped, and a last line without '\n' still counts.
 *
 * Split planning runs in the main thread (the enumerator: file-source.ts), which checks
 * the input and fails fast. The reader takes splits one at a time from the enumerator.
 */
import assert from 'node:assert/strict';
import { closeSync, openSync, readdirSync, readSync, statSync } from 'node:fs';
import { basename, join } from 'node:path';
import { UsageError } from '../errors.js';
import { LineDecoder } from './line-format.js';
import type { LineFormat } from './line-format.js';
import type { InputStatus, ReaderOutput, SourceReader, SourceReaderContext, SourceSplit } from './source.js';
import { SplitRequests } from './source.js';

export interface FileSplit extends SourceSplit {
  path: string;
  start: number;
  end: number;
  /** `start` is a line start (a checkpointed position): read from it, skip nothing. */
  lineStart?: boolean;
}

/** Target split size: large enough that per-split costs vanish, small enough to balance. */
export const splitSizeMinBytes = 1 << 20;
/** Bytes read from disk per read call. */
export const readChunkBytes = 1 << 16;
/** Lines emitted per `pollNext` call at most. */
export const filePollLines = 128;

export const fileSplitId = (path: string, start: number): string => `file:${path}:${start}`;

/** Byte-range splits of one file of `size` bytes, each at least `splitSize` (but the last). */
export function cutFile(path: string, size: number, splitSize: number): FileSplit[] {
  const splits: FileSplit[] = [];
  for (let start = 0; start < size; start += splitSize) splits.push({ splitId: fileSplitId(path, start), path, start, end: Math.min(size, start + splitSize) });
  return splits;
}

/**
 * The files of `path` (a file, or a directory's regular files in name order, filtered by
 * `suffix`) cut into splits and assigned to `parallelism` subtasks: largest first to the
 * least loaded, so the assignment is deterministic.
 * @throws UsageError when the path is missing, unreadable, or holds no matching file.
 */
export function planTextFileSplits(path: string, suffix: string | undefined, parallelism: number): FileSplit[][] {
  const listed = listInputFiles(path, suffix);
  const files = listed.map((f) => f.path);
  const sizes = listed.map((f) => f.size);
  const total = sizes.reduce((a, b) => a + b, 0);
  const splitSize = Math.max(splitSizeMinBytes, Math.ceil(total / (parallelism * 4)));
  const splits = files.flatMap((file, i) => cutFile(file, sizes[i]!, splitSize));
  const assigned: FileSplit[][] = Array.from({ length: parallelism }, () => []);
  const load = new Array<number>(parallelism).fill(0);
  const bySize = splits.map((s, i) => ({ s, i })).sort((a, b) => b.s.end - b.s.start - (a.s.end - a.s.start) || a.i - b.i);
  for (const { s } of bySize) {
    let target = 0;
    for (let k = 1; k < parallelism; k++) if (load[k]! < load[target]!) target = k;
    assigned[target]!.push(s);
    load[target]! += s.end - s.start;
  }
  for (const list of assigned) list.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : a.start - b.start));
  return assigned;
}

/** Names Flink's default file filter ignores: hidden (`.x`) and in-progress (`_x`) files. */
export const isHiddenFileName = (name: string): boolean => name.startsWith('.') || name.startsWith('_');

/** The input's files with their sizes in bytes (each stat'ed once), checked readable. */
function listInputFiles(path: string, suffix: string | undefined): Array<{ path: string; size: number }> {
  let stats;
  try {
    stats = statSync(path);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') throw new UsageError(`Input ${path} does not exist: check the job's input path`);
    throw new UsageError(`Input ${path} cannot be read (${code ?? (error as Error).message}): check its permissions`);
  }
  let files: Array<{ path: string; size: number }>;
  if (stats.isDirectory()) {
    let names: string[];
    try {
      names = readdirSync(path);
    } catch (error) {
      throw new UsageError(`Input directory ${path} cannot be listed (${(error as NodeJS.ErrnoException).code}): check its permissions`);
    }
    files = names
      .filter((n) => !isHiddenFileName(n) && (suffix === undefined || n.endsWith(suffix)))
      .sort()
      .map((n) => join(path, n))
      .map((f) => ({ path: f, stats: statSync(f) }))
      .filter((f) => f.stats.isFile())
      .map((f) => ({ path: f.path, size: f.stats.size }));
    if (files.length === 0) {
      throw new UsageError(`Input directory ${path} holds no ${suffix === undefined ? '' : `*${suffix} `}files: point the input at text files`);
    }
  } else if (stats.isFile()) {
    files = [{ path, size: stats.size }];
  } else {
    throw new UsageError(`Input ${path} is neither a regular file nor a directory (a pipe, socket or device): it is read as a stream only through readTextFile`);
  }
  for (const { path: f } of files) {
    try {
      closeSync(openSync(f, 'r'));
    } catch (error) {
      throw new UsageError(`Input file ${f} cannot be read (${(error as NodeJS.ErrnoException).code}): check its permissions`);
    }
  }
  return files;
}

const newline = 0x0a;

/** Validates a split from the enumerator or a checkpoint (metadata version 2 splits had no id). */
export function toFileSplit(value: unknown): FileSplit {
  const s = value as Partial<FileSplit> | null;
  if (s === null || typeof s !== 'object' || typeof s.path !== 'string' || !Number.isSafeInteger(s.start) || !Number.isSafeInteger(s.end) || s.start! > s.end!) {
    throw new RangeError(`Cannot read the text file split ${JSON.stringify(value)?.slice(0, 120)}: expected { path, start, end } byte offsets`);
  }
  const split: FileSplit = { splitId: typeof s.splitId === 'string' ? s.splitId : fileSplitId(s.path!, s.start!), path: s.path!, start: s.start!, end: s.end! };
  if (s.lineStart === true) split.lineStart = true;
  return split;
}

/**
 * Reads the lines of the file splits it is given, decoding each with a line format.
 * Asks the enumerator for the next split when it has none. See the file comment.
 */
export class FileSplitReader<T> implements SourceReader<T, FileSplit> {
  private readonly splits: FileSplit[] = [];
  /** The split being read (not in `splits`), or undefined. */
  private split: FileSplit | undefined;
  private fd: number | undefined;
  /** Absolute offset of the next byte to read from the file. */
  private readOffset = 0;
  /** Bytes read but not yet cut into lines (a partial line), and their file offset. */
  private carry: Buffer = Buffer.alloc(0);
  private carryOffset = 0;
  /** True once the split's last line has been cut. */
  private splitDone = true;
  private lines: string[] = [];
  private lineIndex = 0;
  /** The bytes the current `lines` came from, and their file offset (for positions). */
  private region: Buffer = Buffer.alloc(0);
  private regionOffset = 0;
  private readonly buffer = Buffer.allocUnsafe(readChunkBytes);
  private readonly decoder: LineDecoder<T> | undefined;
  private readonly requests: SplitRequests;

  /**
   * `format`: undefined reads text lines as strings, with no decoding cost.
   * `pollLines`: lines per `pollNext` at most (tests use small values to stop anywhere).
   */
  constructor(
    private readonly context: Pick<SourceReaderContext, 'sendSplitRequest'>,
    format?: LineFormat<T>,
    private readonly pollLines = filePollLines,
  ) {
    this.decoder = format === undefined ? undefined : new LineDecoder(format);
    this.requests = new SplitRequests(context);
  }

  /** Lines skipped as unparsable (`onParseError: 'skip'`); Flink's `numRecordsInErrors`. */
  get numRecordsInErrors(): number {
    return this.decoder?.errors ?? 0;
  }

  start(): void {}

  addSplits(splits: FileSplit[]): void {
    for (const s of splits) this.splits.push(toFileSplit(s));
    this.requests.splitsAdded();
  }

  notifyNoMoreSplits(): void {
    this.requests.noMore();
  }

  isAvailable(): Promise<void> {
    return this.requests.available.promise();
  }

  /**
   * The work not yet done: the current split from its next line on (marked `lineStart`),
   * then the splits not yet opened.
   */
  snapshotState(): FileSplit[] {
    const rest = this.splits.map((s) => ({ ...s }));
    const current = this.split;
    if (current === undefined) return rest;
    let from: number | undefined;
    if (this.lineIndex < this.lines.length) from = this.lineOffset(this.lineIndex);
    else if (!this.splitDone) from = this.carryOffset;
    return from === undefined ? rest : [{ splitId: current.splitId, path: current.path, start: from, end: current.end, lineStart: true }, ...rest];
  }

  /** File offset where line `index` of the current region starts. */
  private lineOffset(index: number): number {
    let at = 0;
    for (let i = 0; i < index; i++) {
      const nl = this.region.indexOf(newline, at);
      assert(nl >= 0);
      at = nl + 1;
    }
    return this.regionOffset + at;
  }

  pollNext(output: ReaderOutput<T>): InputStatus {
    if (this.lineIndex >= this.lines.length && !this.fillLines()) {
      return this.requests.noSplit();
    }
    const decoder = this.decoder;
    const end = Math.min(this.lines.length, this.lineIndex + this.pollLines);
    if (decoder === undefined) {
      while (this.lineIndex < end) output.collect(this.lines[this.lineIndex++] as T);
      return 'more';
    }
    let from = this.lineIndex;
    // The header is the line at byte 0 of the file: not a record.
    if (decoder.format.header && from === 0 && this.regionOffset === 0) from = 1;
    this.lineIndex = end;
    if (from < end) decoder.decodeLines(this.lines, from, end, (i) => this.describeLine(i), (record) => output.collect(record));
    return 'more';
  }

  /** Cuts the next lines of the current or next split; false when no split is left. */
  private fillLines(): boolean {
    for (;;) {
      if (this.splitDone && !this.openNextSplit()) return false;
      const split = this.split!;
      const n = readSync(this.fd!, this.buffer, 0, readChunkBytes, this.readOffset);
      const bytes = this.carry.length === 0 ? this.buffer.subarray(0, n) : Buffer.concat([this.carry, this.buffer.subarray(0, n)]);
      const bytesOffset = this.carryOffset;
      this.readOffset += n;
      // The split ends with the line holding byte end-1: cut after the first '\n' at or after it.
      let cut = -1;
      const limit = split.end - 1 - bytesOffset;
      if (limit < bytes.length) cut = bytes.indexOf(newline, Math.max(0, limit));
      let regionEnd: number;
      if (cut >= 0) {
        regionEnd = cut + 1;
        this.splitDone = true;
      } else if (n === 0) {
        regionEnd = bytes.length; // end of file: the last line has no '\n'
        this.splitDone = true;
      } else {
        regionEnd = bytes.lastIndexOf(newline) + 1;
      }
      this.region = Buffer.from(bytes.subarray(0, regionEnd));
      this.regionOffset = bytesOffset;
      this.carry = this.splitDone ? Buffer.alloc(0) : Buffer.from(bytes.subarray(regionEnd));
      this.carryOffset = bytesOffset + regionEnd;
      if (this.splitDone) this.closeFile();
      this.lines = [];
      this.lineIndex = 0;
      if (regionEnd === 0) continue;
      const text = this.region.toString('utf8');
      const lines = text.split('\n');
      if (text.endsWith('\n')) lines.pop();
      for (let i = 0; i < lines.length; i++) {
        const line = lines[i]!;
        if (line.endsWith('\r')) lines[i] = line.slice(0, -1);
      }
      this.lines = lines;
      if (lines.length > 0) return true;
    }
  }

  private openNextSplit(): boolean {
    this.split = undefined;
    const split = this.splits.shift();
    if (split === undefined) return false;
    this.split = split;
    try {
      this.fd = openSync(split.path, 'r');
    } catch (error) {
      throw new Error(`Cannot open input file ${split.path} (${(error as NodeJS.ErrnoException).code}): was it moved or deleted while the job ran?`, { cause: error });
    }
    this.splitDone = false;
    this.carry = Buffer.alloc(0);
    this.lines = [];
    this.lineIndex = 0;
    if (this.decoder !== undefined) this.decoder.open(this.decoder.format.header ? this.readHeader(split.path) : undefined, () => `file ${split.path}`);
    if (split.start === 0 || split.lineStart === true) {
      this.readOffset = split.start;
    } else {
      const skipTo = this.findNewline(split.start - 1);
      if (skipTo < 0 || skipTo >= split.end) {
        this.splitDone = true; // no line starts inside this split
        this.closeFile();
        return this.openNextSplit();
      }
      this.readOffset = skipTo;
    }
    this.carryOffset = this.readOffset;
    return true;
  }

  /** The first line of the open file (its header), without its line break. */
  private readHeader(path: string): string {
    const end = this.findNewline(0);
    const length = end < 0 ? statSync(path).size : end - 1;
    const bytes = Buffer.alloc(length);
    for (let done = 0; done < length; ) {
      const n = readSync(this.fd!, bytes, done, length - done, done);
      if (n === 0) break;
      done += n;
    }
    const header = bytes.toString('utf8');
    return header.endsWith('\r') ? header.slice(0, -1) : header;
  }

  /** Offset just after the first '\n' at or after `from`, or -1 at end of file. */
  private findNewline(from: number): number {
    let offset = from;
    for (;;) {
      const n = readSync(this.fd!, this.buffer, 0, readChunkBytes, offset);
      if (n === 0) return -1;
      const i = this.buffer.subarray(0, n).indexOf(newline);
      if (i >= 0) return offset + i + 1;
      offset += n;
    }
  }

  /** `file a.csv line 17` for line `index` of the region (counts lines from the file start). */
  private describeLine(index: number): string {
    const split = this.split;
    if (split === undefined) return 'a line';
    const offset = this.lineOffset(index);
    return `file ${split.path} line ${lineNumberAt(split.path, offset)}`;
  }

  private closeFile(): void {
    if (this.fd !== undefined) closeSync(this.fd);
    this.fd = undefined;
  }

  /** Where the record emitted last came from, for failure messages. */
  position(): string {
    const split = this.split;
    if (split === undefined) return 'before the first line';
    return `file ${basename(split.path)} byte ${this.lineOffset(Math.max(0, this.lineIndex - 1))}`;
  }

  close(): void {
    this.closeFile();
  }
}

/** 1-based number of the line starting at byte `offset` of `path` (reads the bytes before it). */
export function lineNumberAt(path: string, offset: number): number {
  const fd = openSync(path, 'r');
  try {
    const buffer = Buffer.allocUnsafe(readChunkBytes);
    let lines = 1;
    for (let at = 0; at < offset; ) {
      const n = readSync(fd, buffer, 0, Math.min(readChunkBytes, offset - at), at);
      if (n === 0) break;
      for (let i = 0; i < n; i++) if (buffer[i] === newline) lines++;
      at += n;
    }
    return lines;
  } finally {
    closeSync(fd);
  }
}

/**
 * The text file source: one record per line, as Flink's `TextInputFormat`.
 *
 * Splits (Hadoop's `LineRecordReader` rule): a file is cut into byte ranges
 * `[start, end)`; a line belongs to the split holding its first byte. A reader of a split
 * with start > 0 skips through the first '\n' at or after `start - 1`, and reads on past
 * `end` to finish its last line. Lines are cut at '\n' bytes (never inside a UTF-8
 * sequence), a trailing '\r' is dropped, and a last line without '\n' still counts.
 *
 * Split planning runs in the main thread (it checks the input and fails fast); splits are
 * given to subtasks largest first to the least loaded, so the assignment is deterministic.
 */
import assert from 'node:assert/strict';
import { closeSync, openSync, readdirSync, readSync, statSync } from 'node:fs';
import { basename, join } from 'node:path';
import { UsageError } from '../errors.js';
import type { SourceReader } from './source.js';

export interface FileSplit {
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

/**
 * The files of `path` (a file, or a directory's regular files in name order, filtered by
 * `suffix`) cut into splits and assigned to `parallelism` subtasks.
 * @throws UsageError when the path is missing, unreadable, or holds no matching file.
 */
export function planTextFileSplits(path: string, suffix: string | undefined, parallelism: number): FileSplit[][] {
  const files = listInputFiles(path, suffix);
  const sizes = files.map((f) => statSync(f).size);
  const total = sizes.reduce((a, b) => a + b, 0);
  const splitSize = Math.max(splitSizeMinBytes, Math.ceil(total / (parallelism * 4)));
  const splits: FileSplit[] = [];
  files.forEach((file, i) => {
    const size = sizes[i]!;
    for (let start = 0; start < size; start += splitSize) splits.push({ path: file, start, end: Math.min(size, start + splitSize) });
  });
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

function listInputFiles(path: string, suffix: string | undefined): string[] {
  let stats;
  try {
    stats = statSync(path);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') throw new UsageError(`Input ${path} does not exist: check the --input path`);
    throw new UsageError(`Input ${path} cannot be read (${code ?? (error as Error).message}): check its permissions`);
  }
  let files: string[];
  if (stats.isDirectory()) {
    let names: string[];
    try {
      names = readdirSync(path);
    } catch (error) {
      throw new UsageError(`Input directory ${path} cannot be listed (${(error as NodeJS.ErrnoException).code}): check its permissions`);
    }
    files = names
      .filter((n) => suffix === undefined || n.endsWith(suffix))
      .sort()
      .map((n) => join(path, n))
      .filter((f) => statSync(f).isFile());
    if (files.length === 0) {
      throw new UsageError(`Input directory ${path} holds no ${suffix === undefined ? '' : `*${suffix} `}files: point --input at text files`);
    }
  } else {
    files = [path];
  }
  for (const f of files) {
    try {
      closeSync(openSync(f, 'r'));
    } catch (error) {
      throw new UsageError(`Input file ${f} cannot be read (${(error as NodeJS.ErrnoException).code}): check its permissions`);
    }
  }
  return files;
}

const newline = 0x0a;

/** Reads the lines of a list of splits. See the file comment for the split rule. */
export class TextFileReader implements SourceReader {
  private splitIndex = -1;
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
  /** The bytes the current `lines` came from, and their file offset (for position()). */
  private region: Buffer = Buffer.alloc(0);
  private regionOffset = 0;
  private readonly buffer = Buffer.allocUnsafe(readChunkBytes);

  /** `splits`: planned, or restored from `snapshotSplits()` of any subtasks. */
  constructor(private readonly splits: readonly FileSplit[]) {
    for (const split of splits) {
      if (typeof split?.path !== 'string' || !Number.isSafeInteger(split.start) || !Number.isSafeInteger(split.end) || split.start > split.end) {
        throw new RangeError(`Cannot read the text file split ${JSON.stringify(split)?.slice(0, 120)}: expected { path, start, end } byte offsets`);
      }
    }
  }

  /**
   * The work not yet done: the current split from its next line on (marked `lineStart`),
   * then the splits not yet opened.
   */
  snapshotSplits(): unknown[] {
    const rest = this.splits.slice(this.splitIndex + 1);
    const current = this.splits[this.splitIndex];
    if (current === undefined) return [...rest];
    let from: number | undefined;
    if (this.lineIndex < this.lines.length) from = this.lineOffset(this.lineIndex);
    else if (!this.splitDone) from = this.carryOffset;
    return from === undefined ? [...rest] : [{ path: current.path, start: from, end: current.end, lineStart: true }, ...rest];
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

  emitBatch(emit: (record: unknown) => void, maxRecords: number, stop?: () => boolean): boolean {
    let emitted = 0;
    while (emitted < maxRecords) {
      if (this.lineIndex < this.lines.length) {
        emit(this.lines[this.lineIndex++]!);
        emitted++;
        if (stop?.() === true) return true;
        continue;
      }
      if (!this.fillLines()) return false;
    }
    return true;
  }

  /** Cuts the next lines; false when every split is read. */
  private fillLines(): boolean {
    for (;;) {
      if (this.splitDone && !this.openNextSplit()) return false;
      const split = this.splits[this.splitIndex]!;
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
      if (regionEnd === 0) continue;
      const text = this.region.toString('utf8');
      const lines = text.split('\n');
      if (text.endsWith('\n')) lines.pop();
      for (let i = 0; i < lines.length; i++) {
        const line = lines[i]!;
        if (line.endsWith('\r')) lines[i] = line.slice(0, -1);
      }
      this.lines = lines;
      this.lineIndex = 0;
      if (lines.length > 0) return true;
    }
  }

  private openNextSplit(): boolean {
    if (this.splitIndex + 1 >= this.splits.length) return false;
    const split = this.splits[++this.splitIndex]!;
    this.fd = openSync(split.path, 'r');
    this.splitDone = false;
    this.carry = Buffer.alloc(0);
    this.lines = [];
    this.lineIndex = 0;
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

  private closeFile(): void {
    if (this.fd !== undefined) closeSync(this.fd);
    this.fd = undefined;
  }

  position(): string {
    const split = this.splits[this.splitIndex];
    if (split === undefined) return 'before the first line';
    return `file ${basename(split.path)} byte ${this.lineOffset(Math.max(0, this.lineIndex - 1))}`;
  }

  close(): void {
    this.closeFile();
  }
}

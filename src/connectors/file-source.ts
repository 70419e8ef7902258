/**
 * The file source: lines of regular files, decoded by a line format (text, JSON lines,
 * CSV). Flink: `FileSource.forRecordStreamFormat(...)`, bounded, or with
 * `monitorContinuously(interval)`.
 *
 * Bounded: the enumerator lists the path once (a file, or a directory's files in name
 * order, hidden `.x` / `_x` files skipped), cuts the files into byte-range splits and plans
 * them per reader (largest first to the least loaded). A reader gets its first planned
 * split when it registers, its other planned splits when it asks, then takes from the
 * reader with the most left (work stealing), then is told there are no more.
 *
 * Continuous (`monitorIntervalMs`): the enumerator lists the directory every interval and
 * assigns each new file once, to readers that ask. A file is taken when two listings in a
 * row show it with the same size and modification time, so a file still being written is
 * not read half-way (a writer that pauses longer than the interval defeats this: write
 * elsewhere and rename the file in, or under a hidden name, as with Flink). An empty file
 * is not taken (it is most often one just created, about to be written). A file that
 * changes after it was taken is not read again. The paths taken so far are the
 * enumerator's state, so a restore neither rereads nor skips a file.
 */
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { UsageError } from '../errors.js';
import type { LineFormat } from './line-format.js';
import type { Source, SourceReader, SourceReaderContext, SplitEnumerator, SplitEnumeratorContext } from './source.js';
import { Boundedness } from './source.js';
import { FileSplitReader, cutFile, isHiddenFileName, planTextFileSplits, splitSizeMinBytes, toFileSplit } from './text-file.js';
import type { FileSplit } from './text-file.js';

export interface FileSourceOptions<T> {
  /** A file or a directory. */
  path: string;
  /** Only files whose names end so (e.g. '.txt'). */
  suffix?: string | undefined;
  /** List the directory this often and read new files (unbounded); bounded without it. */
  monitorIntervalMs?: number | undefined;
  /** How lines become records; undefined reads text lines as strings. */
  format?: LineFormat<T> | undefined;
}

/** The enumerator's state: splits not yet assigned, and (monitoring) the files taken. */
export interface FileEnumeratorState {
  pending: FileSplit[];
  processed: string[];
}

export class FileSource<T> implements Source<T, FileSplit, FileEnumeratorState> {
  readonly boundedness: Boundedness;

  constructor(readonly options: FileSourceOptions<T>) {
    this.boundedness = options.monitorIntervalMs === undefined ? Boundedness.BOUNDED : Boundedness.CONTINUOUS_UNBOUNDED;
  }

  /** @throws UsageError when the path is missing or (bounded) holds no file. */
  createEnumerator(context: SplitEnumeratorContext<FileSplit>): SplitEnumerator<FileSplit, FileEnumeratorState> {
    const { path, suffix, monitorIntervalMs } = this.options;
    if (monitorIntervalMs === undefined) return new FileEnumerator(context, planTextFileSplits(path, suffix, context.currentParallelism()), [], undefined, this.options);
    checkMonitoredDirectory(path);
    return new FileEnumerator(context, [], [], monitorIntervalMs, this.options);
  }

  /** @throws UsageError when a monitored directory is missing (else every restart would fail listing it). */
  restoreEnumerator(context: SplitEnumeratorContext<FileSplit>, state: FileEnumeratorState | undefined): SplitEnumerator<FileSplit, FileEnumeratorState> {
    if (this.options.monitorIntervalMs !== undefined) checkMonitoredDirectory(this.options.path);
    // undefined: a checkpoint of metadata version 2, whose readers held every split.
    const pending = (state?.pending ?? []).map(toFileSplit);
    return new FileEnumerator(context, [pending], state?.processed ?? [], this.options.monitorIntervalMs, this.options);
  }

  createReader(context: SourceReaderContext): SourceReader<T, FileSplit> {
    return new FileSplitReader<T>(context, this.options.format);
  }
}

/** Main thread, at every (re)start of the enumerator: the directory exists and can be listed. */
function checkMonitoredDirectory(path: string): void {
  let isDirectory: boolean;
  try {
    isDirectory = statSync(path).isDirectory();
  } catch (error) {
    throw new UsageError(`Monitored input ${path} cannot be read (${(error as NodeJS.ErrnoException).code}): create the directory first`);
  }
  if (!isDirectory) throw new UsageError(`Monitored input ${path} is not a directory: monitorIntervalMs watches a directory for new files`);
  try {
    readdirSync(path);
  } catch (error) {
    throw new UsageError(`Monitored input ${path} cannot be listed (${(error as NodeJS.ErrnoException).code}): check its permissions`);
  }
}

interface Seen {
  size: number;
  mtimeMs: number;
}

class FileEnumerator<T> implements SplitEnumerator<FileSplit, FileEnumeratorState> {
  /** Unassigned splits per preferred reader (index >= parallelism: anyone's). */
  private readonly queues: FileSplit[][];
  private readonly processed: Set<string>;
  /** Files seen once and not yet taken: their size and mtime at that listing. */
  private readonly candidates = new Map<string, Seen>();
  /** Readers that asked while nothing was pending (monitoring). */
  private readonly waiting = new Set<number>();

  constructor(
    private readonly context: SplitEnumeratorContext<FileSplit>,
    planned: FileSplit[][],
    processed: readonly string[],
    private readonly monitorIntervalMs: number | undefined,
    private readonly options: FileSourceOptions<T>,
  ) {
    this.queues = planned.map((q) => [...q]);
    this.processed = new Set(processed);
  }

  start(): void {
    if (this.monitorIntervalMs === undefined) return;
    this.context.callAsync(
      () => this.list(),
      (files, error) => {
        if (error !== undefined) throw new Error(`Cannot list the monitored directory ${this.options.path}: ${error.message}`, { cause: error });
        this.discovered(files!);
      },
      0,
      this.monitorIntervalMs,
    );
  }

  /** A reader's first planned split goes to it at once; the rest on request (others may steal them). */
  addReader(subtaskIndex: number): void {
    const split = this.queues[subtaskIndex]?.shift();
    if (split !== undefined) this.context.assignSplit(split, subtaskIndex);
  }

  /** Regular, visible files of the directory with their size and mtime. */
  private list(): Array<{ path: string; size: number; mtimeMs: number }> {
    const { path, suffix } = this.options;
    const out: Array<{ path: string; size: number; mtimeMs: number }> = [];
    for (const name of readdirSync(path).sort()) {
      if (isHiddenFileName(name) || (suffix !== undefined && !name.endsWith(suffix))) continue;
      const file = join(path, name);
      if (this.processed.has(file)) continue;
      const stats = statSync(file, { throwIfNoEntry: false });
      if (stats?.isFile() === true) out.push({ path: file, size: stats.size, mtimeMs: stats.mtimeMs });
    }
    return out;
  }

  /** Takes the files that did not change since the previous listing. */
  private discovered(files: Array<{ path: string; size: number; mtimeMs: number }>): void {
    const listed = new Set<string>();
    const taken: FileSplit[] = [];
    for (const f of files) {
      if (this.processed.has(f.path)) continue;
      listed.add(f.path);
      const before = this.candidates.get(f.path);
      if (before === undefined || before.size !== f.size || before.mtimeMs !== f.mtimeMs || f.size === 0) {
        this.candidates.set(f.path, { size: f.size, mtimeMs: f.mtimeMs });
        continue;
      }
      this.candidates.delete(f.path);
      this.processed.add(f.path);
      const splitSize = Math.max(splitSizeMinBytes, Math.ceil(f.size / this.context.currentParallelism()));
      taken.push(...cutFile(f.path, f.size, splitSize));
    }
    for (const path of this.candidates.keys()) if (!listed.has(path)) this.candidates.delete(path);
    if (taken.length === 0) return;
    this.shared().push(...taken);
    for (const reader of [...this.waiting]) {
      this.waiting.delete(reader);
      this.handleSplitRequest(reader);
    }
  }

  /** The queue of splits no reader is preferred for. */
  private shared(): FileSplit[] {
    const p = this.context.currentParallelism();
    while (this.queues.length <= p) this.queues.push([]);
    return this.queues[p]!;
  }

  handleSplitRequest(subtaskIndex: number): void {
    const own = this.queues[subtaskIndex];
    let split = own?.shift();
    if (split === undefined) {
      // Work stealing: the end of the longest other queue.
      let longest: FileSplit[] | undefined;
      for (const q of this.queues) if (q.length > 0 && (longest === undefined || q.length > longest.length)) longest = q;
      split = longest?.pop();
    }
    if (split !== undefined) return this.context.assignSplit(split, subtaskIndex);
    if (this.monitorIntervalMs === undefined) return this.context.signalNoMoreSplits(subtaskIndex);
    this.waiting.add(subtaskIndex);
  }

  snapshotState(): FileEnumeratorState {
    return { pending: this.queues.flat().map((s) => ({ ...s })), processed: [...this.processed] };
  }

  close(): void {}
}

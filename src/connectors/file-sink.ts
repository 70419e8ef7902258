/**
 * Exactly-once file sink on the Sink V2 API: Flink's `FileSink.forRowFormat(dir, encoder)`.
 * One writer per sink subtask; every file lives in the output directory.
 *
 * ## Life of a part file (subtask s, part number n)
 *   `.part-s-n.inprogress`  records are appended (encoded, buffered, written in bulk)
 *        | prepareCommit() at a checkpoint barrier (or the end of input)
 *   `.part-s-n.pending`     complete and durable; a committable of that checkpoint
 *        | FileCommitter.commit when the checkpoint is complete, in the subtask; or by
 *        | the job master on a restore, or at the end of a job without checkpoints
 *   `part-s-n`              visible
 * Hidden names start with '.', so readers of the directory see only committed parts. A
 * part number is never reused: n counts the parts of subtask s across the job's life (the
 * writer state carries it, and a writer starts above every visible part of its index).
 *
 * ## Restores and leftovers
 * Before any writer starts, the job master has committed every pending file of the
 * restored checkpoint (idempotent renames). Every hidden part file still in the directory
 * is then a failed attempt's leftover: writer j deletes those of the subtask indexes
 * k = j (mod parallelism), so after a change of parallelism too every old index is cleaned
 * by exactly one writer. A writer of a fresh run (no restore) also deletes the visible
 * parts of those indexes: the output of an earlier run is replaced.
 *
 * ## Fallback restores (rollback)
 * When the newest checkpoint is damaged and the job restores an older one, M, the parts
 * published after M (prepared after M's barrier, made visible when a later checkpoint
 * completed) are taken back before the replay writes their records again:
 * `FileCommitter.rollback` (the job master, before it commits M's pending files) deletes
 * every visible `part-k-n` with n >= the `nextPart` that M's writer state of index k
 * holds. Each writer's state lists, besides its own index, every other index it cleans
 * (k = j mod parallelism, those of an earlier run at a higher parallelism) that has
 * visible parts, with `nextPart` above the highest, and says so (`everyIndex`). A visible
 * part of an index that no state at M lists was therefore published after M (an index
 * that only a later rescale created): it is deleted too. States of an older release lack
 * `everyIndex`; then only the indexes they list are rolled back.
 *
 * ## Invariants
 * - The visible parts hold exactly the records written before the barrier of the latest
 *   committed checkpoint, once each, in part order.
 * - A checkpoint lists every pending file not yet committed, so a restore from it can
 *   commit them even if the notification of completion never arrived (it is best-effort).
 *
 * ## fsync discipline
 * - write: none (data sits in the page cache; losing it is fine, it is not yet in any
 *   checkpoint).
 * - prepareCommit: fsync the in-progress file, close, rename to pending, fsync the
 *   directory. The checkpoint may complete once this subtask acks, after which its pending
 *   file is the only copy of those records (the sources no longer replay them): both its
 *   content and its name must survive a machine crash. Costs two fsyncs per checkpoint,
 *   and none when the part got no record.
 * - commit: rename, then one fsync per directory. The renames are redone on a restore
 *   anyway (idempotent), so this fsync is what makes a finished job's output durable when
 *   the job reports success, not what makes it correct. Deletions of leftovers are not
 *   fsynced for their own sake: if they come back after a crash, they are deleted again.
 */
import assert from 'node:assert';
import { closeSync, fsyncSync, mkdirSync, openSync, readdirSync, renameSync, statSync, unlinkSync, writeSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { directoryProblem } from '../directories.js';
import { UsageError } from '../errors.js';
import type { Committer, CommitterInitContext, RollbackRequest, Sink, SinkWriter, WriterInitContext } from './sink.js';
import { formatRecord, partFileName, textSinkBufferBytes } from './sinks.js';

/** A part file between prepareCommit and commit: the file sink's committable. Paths are absolute. */
export interface PendingFile {
  pending: string;
  final: string;
}

/** The file sink writer's state: plain data (CBOR / structured-clone safe). */
export interface FileWriterState {
  subtaskIndex: number;
  /** The part number the next part file of this subtask index will take. */
  nextPart: number;
  /**
   * Set by writers that list every subtask index with visible parts among their states
   * (see "Fallback restores"): a rollback may then delete parts of unlisted indexes.
   */
  everyIndex?: true;
}

/**
 * How records become lines of a part file. Flink: `Encoder` of `FileSink.forRowFormat`.
 * `header`, when set, is the first line of every part file (CSV column names).
 */
export interface RowEncoder<T> {
  readonly name: string;
  readonly header?: string | undefined;
  /** One record as one line, without the line break. */
  encode(record: T): string;
}

/** Strings as they are, other values as JSON (bigint as digits): `writeAsText`. */
export const textRowEncoder: RowEncoder<unknown> = { name: 'text', encode: formatRecord };

const errnoCode = (error: unknown): string | undefined => (error as NodeJS.ErrnoException | undefined)?.code;

function fsFailure(what: string, error: unknown, hint: string): Error {
  return new Error(`${what}: ${(error as Error).message} (${hint})`, { cause: error });
}

/** Makes the names created, renamed or removed in `dir` durable. */
function fsyncDirectory(dir: string): void {
  let fd: number;
  try {
    fd = openSync(dir, 'r');
  } catch (error) {
    throw fsFailure(`Cannot open directory ${dir} to fsync it`, error, 'check its permissions');
  }
  try {
    fsyncSync(fd);
  } catch (error) {
    // Some file systems cannot fsync a directory; the renames are then as durable as they get.
    if (errnoCode(error) !== 'EINVAL' && errnoCode(error) !== 'EISDIR') throw fsFailure(`Cannot fsync directory ${dir}`, error, 'check the disk');
  } finally {
    closeSync(fd);
  }
}

const exists = (path: string): boolean => statSync(path, { throwIfNoEntry: false }) !== undefined;

/** The visible parts `part-<index>-<n>` in dir (none when dir is missing). */
function visibleParts(dir: string): Array<{ name: string; index: number; part: number }> {
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch (error) {
    if (errnoCode(error) === 'ENOENT') return [];
    throw fsFailure(`Cannot list ${dir}`, error, 'check the path and permissions of the output directory');
  }
  const parts: Array<{ name: string; index: number; part: number }> = [];
  for (const name of names) {
    const m = /^part-(\d+)-(\d+)$/.exec(name);
    if (m !== null) parts.push({ name, index: Number(m[1]), part: Number(m[2]) });
  }
  return parts;
}

/** The highest n of a visible `part-<index>-<n>` in dir, by index. */
function highestVisibleParts(dir: string): Map<number, number> {
  const highest = new Map<number, number>();
  for (const { index, part } of visibleParts(dir)) highest.set(index, Math.max(highest.get(index) ?? -1, part));
  return highest;
}

/**
 * Takes back the visible parts in `dir` published after the restored checkpoint (see
 * "Fallback restores" in the file comment): with no restored checkpoint (a restart from
 * the beginning) every visible part. Returns the paths deleted; fsyncs `dir` when any.
 * @throws Error naming a file that cannot be deleted.
 */
export function rollbackPartFiles(dir: string, restoredCheckpointId: number | undefined, writerStates: readonly unknown[]): string[] {
  const states = writerStates.filter(
    (s): s is FileWriterState => typeof (s as FileWriterState | undefined)?.subtaskIndex === 'number' && typeof (s as FileWriterState).nextPart === 'number',
  );
  const everyIndex = restoredCheckpointId === undefined || (states.length > 0 && states.every((s) => s.everyIndex === true));
  const nextPart = new Map<number, number>();
  for (const s of states) nextPart.set(s.subtaskIndex, Math.max(nextPart.get(s.subtaskIndex) ?? 0, s.nextPart));
  const deleted: string[] = [];
  for (const { name, index, part } of visibleParts(dir)) {
    const next = restoredCheckpointId === undefined ? 0 : nextPart.get(index);
    if (next === undefined ? !everyIndex : part < next) continue;
    const path = join(dir, name);
    try {
      unlinkSync(path);
    } catch (error) {
      if (errnoCode(error) === 'ENOENT') continue;
      throw fsFailure(`Cannot delete ${path}, published after the checkpoint the job falls back to`, error, 'check the permissions of the output directory, or delete it by hand');
    }
    deleted.push(path);
  }
  // Durable before the replay writes parts of the same numbers again.
  if (deleted.length > 0) fsyncDirectory(dir);
  return deleted;
}

/**
 * Renames pending to final unless that happened already. Returns true when it renamed now.
 * @throws Error when both names exist (a part number was reused) or neither does (lost).
 */
function commitOne(file: PendingFile): boolean {
  const finalExists = exists(file.final);
  if (finalExists && exists(file.pending)) {
    throw new Error(
      `Cannot commit ${file.pending}: ${file.final} exists already (part number reused: was the job restored from an older checkpoint than the latest completed one?); not overwriting it`,
    );
  }
  if (finalExists) return false;
  try {
    renameSync(file.pending, file.final);
  } catch (error) {
    if (errnoCode(error) === 'ENOENT') {
      throw new Error(`Cannot commit ${file.pending}: neither it nor ${file.final} exists (deleted by hand?); its records are lost from the output`, { cause: error });
    }
    throw fsFailure(`Cannot rename ${file.pending} to ${file.final}`, error, 'check the permissions of the output directory');
  }
  return true;
}

/**
 * Commits files (idempotent), then fsyncs each directory once. Returns the final names
 * renamed now. @throws Error naming the file when both or neither name exist, or a rename fails.
 */
export function commitPendingFiles(files: readonly PendingFile[]): string[] {
  const committed: string[] = [];
  const dirs = new Set<string>();
  for (const file of files) {
    if (commitOne(file)) {
      committed.push(file.final);
      dirs.add(dirname(file.final));
    }
  }
  for (const dir of dirs) fsyncDirectory(dir);
  return committed;
}

const hiddenName = (subtaskIndex: number, part: number, stage: 'inprogress' | 'pending'): string => `.${partFileName(subtaskIndex, part)}.${stage}`;

/**
 * Deletes the part files of subtask indexes k = subtaskIndex (mod parallelism) in `dir`:
 * hidden ones (in-progress, pending: a failed attempt's leftovers, once the restored
 * pending files are committed) and, with `visibleToo` (a fresh run), visible ones.
 * Returns the paths deleted.
 */
export function discardPartFiles(dir: string, subtaskIndex: number, parallelism: number, visibleToo: boolean): string[] {
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch (error) {
    if (errnoCode(error) === 'ENOENT') return [];
    throw fsFailure(`Cannot list ${dir}`, error, 'check the path and permissions of the output directory');
  }
  const deleted: string[] = [];
  for (const name of names) {
    const m = /^(\.?)part-(\d+)-\d+(\.inprogress|\.pending)?$/.exec(name);
    if (m === null) continue;
    const hidden = m[1] === '.' && m[3] !== undefined;
    const visible = m[1] === '' && m[3] === undefined;
    if (!(hidden || (visible && visibleToo))) continue;
    if (Number(m[2]) % parallelism !== subtaskIndex) continue;
    const path = join(dir, name);
    try {
      unlinkSync(path);
    } catch (error) {
      if (errnoCode(error) === 'ENOENT') continue;
      throw fsFailure(`Cannot delete ${path}, left by an earlier attempt or run`, error, 'check the permissions of the output directory, or delete it by hand');
    }
    deleted.push(path);
  }
  return deleted;
}

/**
 * Writes one sink subtask's records to part files, committed with checkpoints.
 * Single-threaded (the subtask's); `write` never awaits.
 */
export class FileSinkWriter<T> implements SinkWriter<T> {
  private readonly dir: string;
  private nextPart: number;
  /** The other indexes this writer cleans that have visible parts, above their highest (see "Fallback restores"). */
  private readonly otherIndexes: FileWriterState[];
  /** Pending files prepared and not yet known to be committed: discarded on close after a cancel. */
  private prepared: PendingFile[] = [];
  /** The open in-progress file of part `nextPart`, or undefined before its first flush. */
  private fd: number | undefined;
  private partRecords = 0;
  /**
   * Buffered lines, one string built with `+=` (a rope V8 flattens once, at the flush):
   * a little cheaper per line than an array of pieces joined at the flush (native-notes.md,
   * "Text sink buffer").
   */
  private text = '';
  private written = 0;

  /**
   * Discards leftovers (and, for a fresh run, earlier output) of its indexes; see the file
   * comment. @throws UsageError when `dir` cannot be created.
   */
  constructor(
    dir: string,
    private readonly subtaskIndex: number,
    parallelism: number,
    private readonly encoder: RowEncoder<T>,
    options: { fresh: boolean; restoredNextPart?: number | undefined },
  ) {
    assert(Number.isInteger(subtaskIndex) && subtaskIndex >= 0 && subtaskIndex < parallelism, `bad subtask index ${subtaskIndex}`);
    this.dir = resolve(dir);
    try {
      mkdirSync(this.dir, { recursive: true });
    } catch (error) {
      throw new UsageError(`Output directory ${this.dir} cannot be created (${errnoCode(error)}): check the path and permissions`);
    }
    discardPartFiles(this.dir, subtaskIndex, parallelism, options.fresh);
    const highest = highestVisibleParts(this.dir);
    // Never reuse a visible part's number (a fallback restore took back the later ones
    // already; this guards states of an older release, whose rollback is partial).
    this.nextPart = Math.max(options.restoredNextPart ?? 0, (highest.get(subtaskIndex) ?? -1) + 1);
    this.otherIndexes = [...highest]
      .filter(([index]) => index !== subtaskIndex && index % parallelism === subtaskIndex)
      .sort(([a], [b]) => a - b)
      .map(([index, part]) => ({ subtaskIndex: index, nextPart: part + 1, everyIndex: true }));
  }

  /** Bytes written to part files since construction (handed to the OS; buffered bytes not yet). */
  get bytesWritten(): number {
    return this.written;
  }

  /** Appends the encoded record and a newline to the in-progress part (buffered). */
  write(record: T): void {
    if (this.partRecords === 0 && this.encoder.header !== undefined) this.append(this.encoder.header);
    this.append(this.encoder.encode(record));
    this.partRecords++;
  }

  private append(line: string): void {
    this.text += line;
    this.text += '\n';
    if (this.text.length >= textSinkBufferBytes) this.flushChunks();
  }

  private inProgressPath(): string {
    return join(this.dir, hiddenName(this.subtaskIndex, this.nextPart, 'inprogress'));
  }

  private flushChunks(): void {
    if (this.text.length === 0) return;
    const bytes = Buffer.from(this.text);
    this.text = '';
    const path = this.inProgressPath();
    if (this.fd === undefined) {
      try {
        this.fd = openSync(path, 'wx');
      } catch (error) {
        throw fsFailure(`Cannot create ${path}`, error, errnoCode(error) === 'EEXIST' ? 'another writer uses this output directory' : 'check the permissions of the output directory');
      }
    }
    try {
      for (let done = 0; done < bytes.length; ) done += writeSync(this.fd, bytes, done);
    } catch (error) {
      throw fsFailure(`Cannot write ${path}`, error, 'free disk space or choose another output directory');
    }
    this.written += bytes.length;
  }

  /** Writes the buffered lines to the in-progress part. */
  flush(): void {
    this.flushChunks();
  }

  /**
   * Closes the in-progress part, if it got any record, as `.part-<s>-<n>.pending`
   * (fsynced, directory fsynced); the next record starts part n+1. Returns it as the
   * committable (none when the part is empty).
   */
  prepareCommit(): PendingFile[] {
    this.flushChunks();
    if (this.partRecords === 0) return [];
    assert(this.fd !== undefined, 'a part with records has a file');
    const inProgress = this.inProgressPath();
    const file: PendingFile = {
      pending: join(this.dir, hiddenName(this.subtaskIndex, this.nextPart, 'pending')),
      final: join(this.dir, partFileName(this.subtaskIndex, this.nextPart)),
    };
    try {
      fsyncSync(this.fd);
    } catch (error) {
      throw fsFailure(`Cannot fsync ${inProgress}`, error, 'free disk space or choose another output directory');
    } finally {
      closeSync(this.fd);
      this.fd = undefined;
    }
    try {
      renameSync(inProgress, file.pending);
    } catch (error) {
      throw fsFailure(`Cannot rename ${inProgress} to ${file.pending}`, error, 'check the permissions of the output directory');
    }
    fsyncDirectory(this.dir);
    this.nextPart++;
    this.partRecords = 0;
    this.prepared.push(file);
    return [{ ...file }];
  }

  /** Its own index's next part, then those of the other indexes it cleans (see "Fallback restores"). */
  snapshotState(): FileWriterState[] {
    return [{ subtaskIndex: this.subtaskIndex, nextPart: this.nextPart, everyIndex: true }, ...this.otherIndexes.map((s) => ({ ...s }))];
  }

  /** Files this writer prepared are committed (by its subtask): no longer its to discard. */
  committed(files: readonly PendingFile[]): void {
    const done = new Set(files.map((f) => f.pending));
    this.prepared = this.prepared.filter((f) => !done.has(f.pending));
  }

  /**
   * Closes the in-progress file. After a cancel (`discard`), deletes it and the pending
   * files no completed checkpoint covers, so a cancelled job leaves no hidden files.
   */
  close(discard = false): void {
    if (this.fd !== undefined) closeSync(this.fd);
    this.fd = undefined;
    if (!discard) return;
    for (const path of [this.inProgressPath(), ...this.prepared.map((f) => f.pending)]) {
      try {
        unlinkSync(path);
      } catch (error) {
        if (errnoCode(error) !== 'ENOENT') throw fsFailure(`Cannot delete ${path}`, error, 'check the permissions of the output directory');
      }
    }
    this.prepared = [];
  }
}

/** Renames pending part files to their visible names, and takes them back on a fallback restore. Idempotent. */
export class FileCommitter implements Committer<PendingFile> {
  /** `dir`: the output directory, needed by `rollback` only. */
  constructor(private readonly dir?: string) {}

  /** Deletes the visible parts published after the restored checkpoint (`rollbackPartFiles`). */
  rollback(request: RollbackRequest<unknown>): void {
    assert(this.dir !== undefined, 'a FileCommitter made without its directory cannot roll back');
    rollbackPartFiles(this.dir, request.restoredCheckpointId, request.writerStates);
  }

  commit(committables: PendingFile[]): void {
    for (const f of committables) {
      if (typeof f?.pending !== 'string' || typeof f.final !== 'string') throw new TypeError(`Not a file sink committable: ${JSON.stringify(f)?.slice(0, 120)}`);
    }
    commitPendingFiles(committables);
  }
}

/**
 * Flink's `FileSink` in row format: exactly-once part files in `dir` (see the file
 * comment). `FileSink.forRowFormat(dir, encoder)`; `writeAsText(dir)` uses the text encoder.
 */
export class FileSink<T> implements Sink<T, PendingFile, FileWriterState> {
  private constructor(
    readonly dir: string,
    readonly encoder: RowEncoder<T>,
  ) {}

  /** @throws TypeError for an empty path or an encoder without `encode`. */
  static forRowFormat<T>(dir: string, encoder: RowEncoder<T>): FileSink<T> {
    if (typeof dir !== 'string' || dir === '') throw new TypeError('FileSink.forRowFormat() expects an output directory path');
    if (encoder === null || typeof encoder !== 'object' || typeof encoder.encode !== 'function') {
      throw new TypeError('FileSink.forRowFormat() expects an encoder with encode(record) => line');
    }
    return new FileSink(dir, encoder);
  }

  /**
   * Main thread, before deployment: the output folder must be a writable directory, or
   * creatable. @throws UsageError naming the folder, what is wrong and what to do.
   */
  initializeGlobal(): void {
    const problem = directoryProblem(this.dir);
    if (problem !== undefined) throw new UsageError(`Output directory ${resolve(this.dir)} ${problem}: give the job a directory it can write into`);
  }

  createWriter(context: WriterInitContext): FileSinkWriter<T> {
    return this.restoreWriter(context, []);
  }

  restoreWriter(context: WriterInitContext, recoveredState: FileWriterState[]): FileSinkWriter<T> {
    const own = recoveredState.find((s) => s?.subtaskIndex === context.subtaskIndex);
    return new FileSinkWriter(this.dir, context.subtaskIndex, context.parallelism, this.encoder, {
      fresh: context.restoredCheckpointId === undefined,
      restoredNextPart: own?.nextPart,
    });
  }

  createCommitter(_context: CommitterInitContext): FileCommitter {
    return new FileCommitter(resolve(this.dir));
  }
}

/**
 * Exactly-once text file sink: Flink's `FileSink` / `TwoPhaseCommitSinkFunction` for our
 * text lines. One writer per sink subtask; every file lives in the output directory.
 *
 * ## Life of a part file (subtask s, part number n)
 *   `.part-s-n.inprogress`  records are appended (buffered, written in bulk)
 *        | preCommit(checkpoint c), the synchronous phase at barrier c
 *   `.part-s-n.pending`     complete and durable; listed in the snapshot of checkpoint c
 *        | commitUpTo(c' >= c) when checkpoint c' is complete; or recover() after a
 *        | restore from c' >= c; or commit() of finishPending()'s list at end of job
 *   `part-s-n`              visible
 * Hidden names start with '.', so readers of the directory see only committed parts. A
 * part number is never reused: n counts the parts of subtask s across the job's life, and
 * a restored writer continues from the snapshot's `nextPart`. Numbers at or above it may
 * have been used by a failed attempt after that checkpoint; recover() deletes those files
 * first, and a rename never replaces an existing visible part (it throws instead).
 *
 * ## Invariants
 * - The visible parts hold exactly the records written before the barrier of the latest
 *   committed checkpoint, once each, in part order.
 * - A snapshot lists every pending file not yet committed, so a restore from it can
 *   commit them even if the notification of completion never arrived (it is best-effort).
 * - Everything not in a completed checkpoint's snapshot is a failed attempt's leftover.
 *
 * ## fsync discipline
 * - write: none (data sits in the page cache; losing it is fine, it is not yet in any
 *   checkpoint).
 * - preCommit: fsync the in-progress file, close, rename to pending, fsync the directory.
 *   The checkpoint may complete once this subtask acks, after which its pending file is
 *   the only copy of those records (the sources no longer replay them): both its content
 *   and its name must survive a machine crash. Costs two fsyncs per checkpoint, and none
 *   when the part got no record.
 * - commitUpTo / commit / recover: rename, then one fsync per directory. The renames are
 *   redone by recover() after a crash anyway (idempotent), so this fsync is what makes a
 *   finished job's output durable when the job reports success, not what makes it correct.
 *   Deletions of a failed attempt's files are not fsynced for their own sake: if they come
 *   back after a crash, the next recover() deletes them again.
 */
import assert from 'node:assert';
import { closeSync, fsyncSync, mkdirSync, openSync, readdirSync, renameSync, statSync, unlinkSync, writeSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { UsageError } from '../errors.js';
import { formatRecord, partFileName, textSinkBufferBytes, type SinkWriter } from './sinks.js';

/** A part file between preCommit and commit. Paths are absolute. */
export interface PendingFile {
  pending: string;
  final: string;
  /** The checkpoint whose barrier closed the part; Number.MAX_SAFE_INTEGER for end of input. */
  checkpointId: number;
}

/** The sink's operator state: plain data (cbor-x / JSON safe). */
export interface TextSinkState {
  /** The part number the next part file will take. */
  nextPart: number;
  /** Every pending file not yet committed, in part order. */
  pending: PendingFile[];
}

/** checkpointId of the part closed at end of input: committed by the job master when the job has finished. */
export const endOfInputCheckpointId = Number.MAX_SAFE_INTEGER;

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

/**
 * Renames pending to final unless that happened already. Returns true when it renamed now.
 * @throws Error when both names exist (a part number was reused) or neither does (lost).
 */
/** The highest n of a visible `part-<subtask>-<n>` in dir, or -1 (also when dir is missing). */
function highestVisiblePart(dir: string, subtaskIndex: number): number {
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return -1;
  }
  const pattern = new RegExp(`^part-${subtaskIndex}-(\\d+)$`);
  let highest = -1;
  for (const name of names) {
    const m = pattern.exec(name);
    if (m !== null) highest = Math.max(highest, Number(m[1]));
  }
  return highest;
}

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
      throw new Error(
        `Cannot commit ${file.pending} of checkpoint ${file.checkpointId}: neither it nor ${file.final} exists (deleted by hand?); its records are lost from the output`,
        { cause: error },
      );
    }
    throw fsFailure(`Cannot rename ${file.pending} to ${file.final}`, error, 'check the permissions of the output directory');
  }
  return true;
}

/** Commits files, then fsyncs each directory once. Returns the final names renamed now. */
function commitAll(files: readonly PendingFile[]): string[] {
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

const copyPending = (files: readonly PendingFile[]): PendingFile[] => files.map((f) => ({ pending: f.pending, final: f.final, checkpointId: f.checkpointId }));

const hiddenName = (subtaskIndex: number, part: number, stage: 'inprogress' | 'pending'): string => `.${partFileName(subtaskIndex, part)}.${stage}`;

/**
 * Writes one sink subtask's records to part files, committed with checkpoints.
 * Single-threaded (the subtask's); `write` never awaits.
 */
export class TwoPhaseCommitTextSinkWriter implements SinkWriter {
  private readonly dir: string;
  private nextPart: number;
  private pending: PendingFile[];
  /** The open in-progress file of part `nextPart`, or undefined before its first flush. */
  private fd: number | undefined;
  private partRecords = 0;
  private chunks: string[] = [];
  private chunkChars = 0;
  private written = 0;
  private lastPreCommitId = Number.NEGATIVE_INFINITY;
  private finished = false;

  /**
   * @param restored the sink state of the checkpoint restored from; call `recover` with it
   *   first. Its pending files that are committed by now are dropped from the list.
   * @throws UsageError when `dir` cannot be created.
   */
  constructor(dir: string, private readonly subtaskIndex: number, restored?: TextSinkState) {
    assert(Number.isInteger(subtaskIndex) && subtaskIndex >= 0, `bad subtask index ${subtaskIndex}`);
    assert(restored === undefined || (Number.isSafeInteger(restored.nextPart) && restored.nextPart >= 0 && Array.isArray(restored.pending)), 'bad restored sink state');
    this.dir = resolve(dir);
    // Never reuse a visible part's number: after a restore from an older checkpoint than
    // the latest completed one (the latest was corrupt), later parts are already published.
    this.nextPart = Math.max(restored?.nextPart ?? 0, highestVisiblePart(this.dir, subtaskIndex) + 1);
    // recover() has committed the restored pending files; keep any it has not (not called?).
    this.pending = copyPending(restored?.pending ?? []).filter((f) => exists(f.pending) || !exists(f.final));
    try {
      mkdirSync(this.dir, { recursive: true });
    } catch (error) {
      throw new UsageError(`Output directory ${this.dir} cannot be created (${errnoCode(error)}): check the path and permissions`);
    }
  }

  /** Bytes written to part files since construction (handed to the OS; buffered bytes not yet). */
  get bytesWritten(): number {
    return this.written;
  }

  /** Appends `formatRecord(record)` and a newline to the in-progress part (buffered). */
  write(record: unknown): void {
    assert(!this.finished, 'write after finish');
    const line = `${formatRecord(record)}\n`;
    this.chunks.push(line);
    this.chunkChars += line.length;
    this.partRecords++;
    if (this.chunkChars >= textSinkBufferBytes) this.flush();
  }

  private inProgressPath(): string {
    return join(this.dir, hiddenName(this.subtaskIndex, this.nextPart, 'inprogress'));
  }

  private flush(): void {
    if (this.chunks.length === 0) return;
    const bytes = Buffer.from(this.chunks.join(''));
    this.chunks = [];
    this.chunkChars = 0;
    const path = this.inProgressPath();
    if (this.fd === undefined) {
      try {
        this.fd = openSync(path, 'wx');
      } catch (error) {
        const hint = errnoCode(error) === 'EEXIST' ? 'a failed attempt left it: call TwoPhaseCommitTextSinkWriter.recover before restarting the writer' : 'check the permissions of the output directory';
        throw fsFailure(`Cannot create ${path}`, error, hint);
      }
    }
    try {
      for (let done = 0; done < bytes.length; ) done += writeSync(this.fd, bytes, done);
    } catch (error) {
      throw fsFailure(`Cannot write ${path}`, error, 'free disk space or choose another --output');
    }
    this.written += bytes.length;
  }

  /** Makes the in-progress part durable and pending (see the fsync discipline above). */
  private closePart(checkpointId: number): void {
    this.flush();
    if (this.partRecords === 0) return;
    assert(this.fd !== undefined, 'a part with records has a file');
    const inProgress = this.inProgressPath();
    const file: PendingFile = {
      pending: join(this.dir, hiddenName(this.subtaskIndex, this.nextPart, 'pending')),
      final: join(this.dir, partFileName(this.subtaskIndex, this.nextPart)),
      checkpointId,
    };
    try {
      fsyncSync(this.fd);
    } catch (error) {
      throw fsFailure(`Cannot fsync ${inProgress}`, error, 'free disk space or choose another --output');
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
    this.pending.push(file);
    this.nextPart++;
    this.partRecords = 0;
  }

  /**
   * At barrier `checkpointId` (synchronous phase): closes the in-progress part, if it got
   * any record, as `.part-<s>-<n>.pending` (fsynced, directory fsynced); the next record
   * starts part n+1. Returns the state to snapshot: every pending file not yet committed,
   * plus nextPart. REQUIRES: ids increase from call to call.
   */
  preCommit(checkpointId: number): TextSinkState {
    assert(!this.finished, 'preCommit after finish');
    assert(Number.isSafeInteger(checkpointId) && checkpointId > this.lastPreCommitId, `checkpoint ids must increase: ${checkpointId} after ${this.lastPreCommitId}`);
    this.lastPreCommitId = checkpointId;
    this.closePart(checkpointId);
    return { nextPart: this.nextPart, pending: copyPending(this.pending) };
  }

  /**
   * On notify-complete of `checkpointId`: renames every pending file of checkpoints <= it
   * to its visible name `part-<s>-<n>`, then fsyncs the directory. Idempotent; a
   * notification that never arrives is made up for by the next one, or by `recover`.
   */
  commitUpTo(checkpointId: number): void {
    const ready = this.pending.filter((f) => f.checkpointId <= checkpointId);
    if (ready.length === 0) return;
    commitAll(ready);
    this.pending = this.pending.filter((f) => f.checkpointId > checkpointId);
  }

  /**
   * End of input: closes the in-progress part as pending with checkpointId
   * `endOfInputCheckpointId` and returns ALL uncommitted pending files, for the job master
   * to `commit` once the whole job has finished. Calling it again returns the same list.
   */
  finishPending(): PendingFile[] {
    if (!this.finished) {
      this.closePart(endOfInputCheckpointId);
      this.finished = true;
    }
    return copyPending(this.pending);
  }

  /** SinkWriter's end of input: `finishPending()`; fetch its list by calling that again. */
  finish(): void {
    this.finishPending();
  }

  /**
   * Renames each pending file to its final name, then fsyncs their directories.
   * Idempotent: a missing pending file whose final name exists was committed already.
   * @throws Error naming the file when both or neither exist, or a rename fails.
   */
  static commit(files: readonly PendingFile[]): void {
    commitAll(files);
  }

  /**
   * After a restore from a completed checkpoint whose sink state was `state`: commits
   * every pending file in it (they belong to completed checkpoints), then deletes every
   * other `.part-<s>-*.inprogress` / `.pending` file of this subtask in `dir` (written by
   * the failed attempt after that checkpoint). With `state` undefined (fresh start),
   * deletes all of them. Call before constructing the writer with `restored: state`.
   * Returns the final names committed now and the paths deleted.
   */
  static recover(dir: string, subtaskIndex: number, state: TextSinkState | undefined): { committed: string[]; discarded: string[] } {
    const root = resolve(dir);
    const committed = commitAll(state?.pending ?? []);
    const leftover = new RegExp(`^\\.part-${subtaskIndex}-\\d+\\.(inprogress|pending)$`);
    let names: string[];
    try {
      names = readdirSync(root);
    } catch (error) {
      if (errnoCode(error) === 'ENOENT') return { committed, discarded: [] };
      throw fsFailure(`Cannot list ${root}`, error, 'check the path and permissions of --output');
    }
    const discarded: string[] = [];
    for (const name of names) {
      if (!leftover.test(name)) continue; // the state's own pending files are committed by now
      const path = join(root, name);
      try {
        unlinkSync(path);
      } catch (error) {
        throw fsFailure(`Cannot delete ${path}, left by a failed attempt`, error, 'check the permissions of the output directory, or delete it by hand');
      }
      discarded.push(path);
    }
    return { committed, discarded };
  }
}

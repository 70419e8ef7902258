/**
 * Checkpoint storage on a local (or mounted) file system. Layout of one job:
 *
 *   <checkpointDir>/<jobId>/shared/          immutable files checkpoints reference
 *                                            (LSM segments, heap snapshot files)
 *   <checkpointDir>/<jobId>/taskowned/       reserved
 *   <checkpointDir>/<jobId>/chk-<n>/_metadata the commit record of checkpoint n
 *   <checkpointDir>/<jobId>/savepoints        absolute paths of the savepoints written
 *                                            from this job, one a line (appended)
 *   <checkpointDir>/<jobId>/job-info          the job's seed and start time (job-info.ts)
 *   <checkpointDir>/<jobId>/job-status        its terminal state (job-status.ts)
 *
 * Design: a checkpoint is complete exactly when `chk-<n>/_metadata` exists under its
 * final name; it is written to a temp name, fsynced, then renamed (the commit point), and
 * both directories are fsynced. Shared files are durable before that: `putShared` and
 * `writeShared` fsync content and directory. So a crash at any moment leaves either a
 * complete checkpoint or a `chk-<n>` without `_metadata` (listed as invalid, never
 * restored). Protocol byte for byte in native-notes.md section 5.
 * Invariants: shared/ names are immutable (a name never gets other bytes); `prune` never
 * deletes a file that a retained checkpoint or an in-flight one references; reference
 * counts are rebuilt from the retained metadata on each call, never kept only in memory.
 * Ideas: Flink's `FsCheckpointStorageAccess` (layout: shared/, taskowned/, chk-n),
 * `CompletedCheckpointStore` (retained checkpoints, newest restorable), and
 * `SharedStateRegistry` (reference counts of shared files across checkpoints).
 */
import path from 'node:path';
import { UsageError } from '../errors.js';
import { CorruptSegmentError, verifySegmentChecksums, verifySegmentFile } from '../state/lsm/index.js';
import { DurableFs, type FsCalls } from './durable-fs.js';
import { CorruptCheckpointError } from './errors.js';
import { jobStatusFileName, lastRecordedAt, readJobStatus } from './job-status.js';
// Cycle: savepoint.ts uses `checkStoredFile` from here; both only at call time, so safe.
import { describeSavepoints, type RecordedSavepoint } from './savepoint.js';
import { checkFileName, decodeMetadata, encodeMetadata, referencedFiles, type CheckpointMetadata, type CheckpointStats } from './metadata.js';

/** One completed checkpoint as listings show it. `path` is its `chk-<n>` directory. */
export interface CheckpointSummary {
  checkpointId: number;
  kind: 'checkpoint' | 'savepoint';
  /** Epoch ms. */
  completedAt: number;
  stats: CheckpointStats;
  /** By operator uid. */
  parallelism: Record<string, number>;
  path: string;
}

/** A `chk-<n>` directory that is not a complete checkpoint. `reason` names the file. */
export interface InvalidCheckpoint {
  checkpointId: number;
  path: string;
  reason: string;
}

/** Options of `CheckpointStorage.open`; `fs` replaces node:fs (tests inject faults). */
export interface CheckpointStorageOptions {
  fs?: FsCalls;
  /**
   * Full segment verifications already made (`verifySegmentsInParallel`): absolute path ->
   * undefined (intact) or the damage reason. A listed `.seg` is not decoded again; size
   * and presence are still checked. Only for files nothing can have changed since.
   */
  verified?: ReadonlyMap<string, string | undefined>;
}

const sharedDirName = 'shared';
const taskOwnedDirName = 'taskowned';
const metadataFileName = '_metadata';
/** Lines of savepoint paths in a job folder (`recordSavepoint`). */
const savepointsFileName = 'savepoints';
const checkpointDirPattern = /^chk-(0|[1-9][0-9]*)$/;
const checkpointDirName = (id: number): string => `chk-${id}`;

interface ValidCheckpoint {
  meta: CheckpointMetadata;
  summary: CheckpointSummary;
}

interface Scan {
  valid: ValidCheckpoint[];
  invalid: InvalidCheckpoint[];
}

function checkCheckpointId(id: unknown): asserts id is number {
  if (typeof id !== 'number') throw new TypeError(`checkpointId must be a number, got ${typeof id}`);
  if (!Number.isSafeInteger(id) || id < 0) throw new RangeError(`checkpointId must be an integer >= 0, got ${id}`);
}

function checkDirArg(what: string, dir: unknown): asserts dir is string {
  if (typeof dir !== 'string' || dir.length === 0) throw new TypeError(`${what} must be a non-empty path string, got ${JSON.stringify(dir)}`);
}

/**
 * Why the file a checkpoint or savepoint references cannot serve (a phrase that follows
 * its name: `missingReason`, "is X bytes, expected Y (truncated)", "fails segment
 * verification: ..."), or `undefined` if it exists with `expectedBytes` and, for a `.seg`,
 * passes `verifySegmentFile` (`level` 'full': reads and decodes the whole file; restores)
 * or `verifySegmentChecksums` ('checksums': every CRC, nothing decoded; savepoint writes).
 * Other errors (EACCES) are thrown.
 */
export function checkStoredFile(
  dfs: DurableFs,
  file: string,
  expectedBytes: number,
  missingReason: string,
  level: 'full' | 'checksums' = 'full',
  verified?: ReadonlyMap<string, string | undefined>,
): string | undefined {
  const size = dfs.sizeOf(file);
  if (size === undefined) return missingReason;
  if (size < expectedBytes) return `is ${size} bytes, expected ${expectedBytes} (truncated)`;
  if (size > expectedBytes) return `is ${size} bytes, expected ${expectedBytes} (overwritten or appended to)`;
  if (!file.endsWith('.seg')) return undefined;
  try {
    if (level === 'full' && verified?.has(file) === true) return verified.get(file);
    if (level === 'full') verifySegmentFile(file);
    else verifySegmentChecksums(file);
  } catch (e) {
    if (e instanceof CorruptSegmentError) return `fails segment verification: ${e.reason}`;
    throw e;
  }
  return undefined;
}

/** `chk-<id>/_metadata`, relative to the job directory. */
const metadataRelPath = (id: number): string => `${checkpointDirName(id)}/${metadataFileName}`;

/** Reads and checks `chk-<id>/_metadata`: the metadata, or why it is not valid. */
function readMetadata(dfs: DurableFs, jobDir: string, id: number): CheckpointMetadata | string {
  let bytes: Uint8Array;
  try {
    bytes = dfs.read(path.join(jobDir, metadataRelPath(id)));
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
    return 'is missing (the checkpoint never completed: stopped before its metadata was committed)';
  }
  const meta = decodeMetadata(bytes);
  if (typeof meta === 'string') return meta;
  if (meta.checkpointId !== id) return `records checkpoint ${meta.checkpointId} (directory renamed or copied?)`;
  return meta;
}

/** Every `chk-<n>` of a job, valid ones ascending by id. Creates nothing. */
function scanJob(dfs: DurableFs, jobDir: string): Scan {
  const ids: number[] = [];
  for (const entry of dfs.list(jobDir)) {
    const m = checkpointDirPattern.exec(entry);
    if (m !== null) ids.push(Number(m[1]));
  }
  ids.sort((a, b) => a - b);
  const scan: Scan = { valid: [], invalid: [] };
  for (const id of ids) {
    const dir = path.join(jobDir, checkpointDirName(id));
    const meta = readMetadata(dfs, jobDir, id);
    if (typeof meta === 'string') {
      scan.invalid.push({ checkpointId: id, path: dir, reason: `${metadataRelPath(id)} ${meta}` });
      continue;
    }
    const { kind, completedAt, stats, parallelism } = meta;
    scan.valid.push({ meta, summary: { checkpointId: id, kind, completedAt, stats, parallelism, path: dir } });
  }
  return scan;
}

/** A job folder: a directory holding `shared/`, a `chk-<n>` or a `job-status` (a savepoint folder holds none). */
function isJobDir(dfs: DurableFs, dir: string): boolean {
  return dfs.isDirectory(dir) && dfs.list(dir).some((e) => e === sharedDirName || e === jobStatusFileName || checkpointDirPattern.test(e));
}

function newestCompletedAt(scan: Scan): number {
  return scan.valid.reduce((max, v) => Math.max(max, v.meta.completedAt), -Infinity);
}

export class CheckpointStorage {
  readonly jobDir: string;
  readonly sharedDir: string;
  readonly taskOwnedDir: string;

  private constructor(
    readonly checkpointDir: string,
    readonly jobId: string,
    private readonly dfs: DurableFs,
    private readonly verified: ReadonlyMap<string, string | undefined> | undefined = undefined,
  ) {
    this.jobDir = path.join(checkpointDir, jobId);
    this.sharedDir = path.join(this.jobDir, sharedDirName);
    this.taskOwnedDir = path.join(this.jobDir, taskOwnedDirName);
  }

  /**
   * Creates the layout (mkdir -p of shared/ and taskowned/) and makes the directory
   * entries durable. Throws `TypeError`/`RangeError` for a bad argument (a job id must be
   * a plain file name), `UsageError` naming the directory when it cannot be created.
   */
  static open(checkpointDir: string, jobId: string, options: CheckpointStorageOptions = {}): CheckpointStorage {
    checkDirArg('checkpointDir', checkpointDir);
    checkFileName('jobId', jobId);
    const storage = new CheckpointStorage(path.resolve(checkpointDir), jobId, new DurableFs(options.fs), options.verified);
    try {
      storage.dfs.mkdirp(storage.sharedDir);
      storage.dfs.mkdirp(storage.taskOwnedDir);
      storage.dfs.fsyncDir(storage.jobDir);
      storage.dfs.fsyncDir(storage.checkpointDir);
    } catch (e) {
      throw new UsageError(
        `Cannot use checkpoint directory ${storage.checkpointDir} for job ${jobId}: ${(e as Error).message}; pass a writable checkpoint directory`,
        { cause: e },
      );
    }
    return storage;
  }

  /** Absolute path of `shared/<name>` (validates `name` as `putShared`). */
  sharedPath(name: string): string {
    checkFileName('shared file name', name);
    return path.join(this.sharedDir, name);
  }

  /**
   * Puts the immutable local file `sourcePath` into `shared/<name>`: a hard link (copy +
   * fsync on EXDEV/EPERM), the content fsynced, then shared/. Returns the bytes newly added
   * to shared/ (the file size), or 0 if `shared/<name>` already exists with the source's
   * size (or the source is gone and the shared copy remains). Throws `Error` if the name
   * exists with another size (shared names are immutable) or the source does not exist.
   */
  putShared(sourcePath: string, name: string): number {
    checkDirArg('sourcePath', sourcePath);
    const target = this.sharedPath(name);
    const existing = this.dfs.sizeOf(target);
    const sourceSize = this.dfs.sizeOf(sourcePath);
    if (existing !== undefined) {
      if (sourceSize === undefined || sourceSize === existing) return 0;
      throw new Error(`shared/${name} already holds ${existing} bytes but ${sourcePath} has ${sourceSize}: shared files are immutable, give the new file a new name`);
    }
    if (sourceSize === undefined) throw new Error(`Cannot put ${sourcePath} into shared/${name}: the source file does not exist`);
    return this.dfs.linkOrCopy(sourcePath, this.sharedDir, name);
  }

  /** Writes `bytes` to `shared/<name>` durably (temp, fsync, rename, fsync dir). Returns bytes written. */
  writeShared(name: string, bytes: Uint8Array): number {
    this.sharedPath(name);
    if (!(bytes instanceof Uint8Array)) throw new TypeError(`bytes for shared/${name} must be a Uint8Array`);
    return this.dfs.writeDurably(this.sharedDir, name, bytes);
  }

  /**
   * Commits checkpoint `meta.checkpointId`: checks that every referenced shared file
   * exists with its recorded size, then writes `chk-<n>/_metadata` durably (temp, fsync,
   * rename, fsync chk dir and job dir). Once it returns the checkpoint is complete; a
   * crash before the rename leaves no `_metadata` (only `_metadata.tmp`). Returns the
   * metadata path. Throws `TypeError`/`RangeError` for malformed metadata (the message
   * names the field) or another job id, `Error` if the checkpoint id is already complete
   * or a referenced file is missing or has another size.
   */
  complete(meta: CheckpointMetadata): string {
    const bytes = encodeMetadata(meta);
    if (meta.jobId !== this.jobId) throw new RangeError(`meta.jobId ${JSON.stringify(meta.jobId)} is not this storage's job ${JSON.stringify(this.jobId)}`);
    const id = meta.checkpointId;
    for (const ref of referencedFiles(meta)) {
      const size = this.dfs.sizeOf(this.sharedPath(ref.name));
      if (size !== ref.sizeBytes) {
        const found = size === undefined ? 'does not exist' : `has ${size} bytes`;
        throw new Error(`Cannot complete checkpoint ${id}: shared/${ref.name} ${found}, metadata says ${ref.sizeBytes} bytes (put it with putShared first)`);
      }
    }
    const chkDir = path.join(this.jobDir, checkpointDirName(id));
    const metaPath = path.join(chkDir, metadataFileName);
    if (this.dfs.sizeOf(metaPath) !== undefined) throw new Error(`checkpoint ${id} of job ${this.jobId} is already complete (${metaPath}); checkpoint ids must not repeat`);
    this.dfs.mkdirp(chkDir);
    this.dfs.writeDurably(chkDir, metadataFileName, bytes, [this.jobDir]);
    return metaPath;
  }

  /**
   * Completed checkpoints with valid metadata (ascending id) and the `chk-<n>` dirs whose
   * metadata is missing, truncated or corrupt, with reasons. Reads only metadata: shared
   * files are checked by `load`.
   */
  list(): { valid: CheckpointSummary[]; invalid: InvalidCheckpoint[] } {
    const scan = scanJob(this.dfs, this.jobDir);
    return { valid: scan.valid.map((v) => v.summary), invalid: scan.invalid };
  }

  /**
   * Loads and verifies checkpoint `checkpointId`: the metadata (magic, version, length,
   * CRC32, shape); every referenced shared file exists with its recorded size; every
   * `.seg` file passes `verifySegmentFile` (reads the whole file). Throws
   * `CorruptCheckpointError` naming the checkpoint, the file and the reason;
   * `UsageError` if there is no `chk-<n>` directory at all.
   */
  load(checkpointId: number): CheckpointMetadata {
    checkCheckpointId(checkpointId);
    if (!this.dfs.isDirectory(path.join(this.jobDir, checkpointDirName(checkpointId)))) {
      const ids = this.list().valid.map((s) => s.checkpointId);
      throw new UsageError(`No checkpoint ${checkpointId} in ${this.jobDir}; completed checkpoints there: ${ids.length === 0 ? 'none' : ids.join(', ')}`);
    }
    const meta = readMetadata(this.dfs, this.jobDir, checkpointId);
    if (typeof meta === 'string') throw this.corrupt(checkpointId, metadataRelPath(checkpointId), meta);
    const seen = new Set<string>();
    for (const ref of referencedFiles(meta)) {
      if (seen.has(ref.name)) continue;
      seen.add(ref.name);
      const reason = this.checkSharedFile(ref.name, ref.sizeBytes);
      if (reason !== undefined) throw this.corrupt(checkpointId, `${sharedDirName}/${ref.name}`, reason);
    }
    return meta;
  }

  /** `rel`: the damaged file relative to the job directory. */
  private corrupt(id: number, rel: string, reason: string): CorruptCheckpointError {
    return new CorruptCheckpointError(id, path.join(this.jobDir, rel), rel, reason);
  }

  /** Why `shared/<name>` cannot serve, or `undefined` if it is intact. */
  private checkSharedFile(name: string, expectedBytes: number): string | undefined {
    return checkStoredFile(this.dfs, path.join(this.sharedDir, name), expectedBytes, 'is missing (deleted by hand, or by another run pruning this job directory?)', 'full', this.verified);
  }

  /**
   * The newest checkpoint (or savepoint) that `load`s, or `undefined` if none does. Each
   * newer one that fails (invalid metadata or a damaged shared file) is reported through
   * `onSkip(id, reason)`, reason naming the file, e.g. `shared/x.seg is missing (...)`.
   * Other errors (e.g. EACCES) are thrown. Idea: Flink's `CompletedCheckpointStore`
   * recovery, which falls back to older retained checkpoints.
   */
  /**
   * The segment files (absolute paths, recorded sizes) of the newest checkpoint whose
   * metadata reads, for `verifySegmentsInParallel` before `latestRestorable`; empty if none.
   */
  newestSegmentFiles(): Array<{ path: string; sizeBytes: number }> {
    const newest = scanJob(this.dfs, this.jobDir).valid.at(-1)?.meta;
    if (newest === undefined) return [];
    return referencedFiles(newest)
      .filter((ref) => ref.name.endsWith('.seg'))
      .map((ref) => ({ path: path.join(this.sharedDir, ref.name), sizeBytes: ref.sizeBytes }));
  }

  latestRestorable(onSkip?: (checkpointId: number, reason: string) => void): CheckpointMetadata | undefined {
    const scan = scanJob(this.dfs, this.jobDir);
    const invalidById = new Map(scan.invalid.map((i) => [i.checkpointId, i.reason]));
    const ids = [...scan.valid.map((v) => v.summary.checkpointId), ...invalidById.keys()].sort((a, b) => b - a);
    for (const id of ids) {
      const invalid = invalidById.get(id);
      if (invalid !== undefined) {
        onSkip?.(id, invalid);
        continue;
      }
      try {
        return this.load(id);
      } catch (e) {
        if (!(e instanceof CorruptCheckpointError)) throw e;
        onSkip?.(id, `${e.relativeFile} ${e.reason}`);
      }
    }
    return undefined;
  }

  /**
   * Retention (Flink's `CompletedCheckpointStore` + `SharedStateRegistry`): keeps the
   * newest `retained` (>= 1) valid checkpoints and every savepoint; deletes older
   * `chk-<n>` dirs (and invalid ones older than the oldest kept checkpoint); then deletes
   * every shared/ file referenced by no kept checkpoint and not named in `inFlight` (names
   * pinned by checkpoints in progress: pass them, or their files go). Reference counts are
   * rebuilt from the kept metadata on every call, so they survive restarts. Checkpoint
   * dirs go first, so a crash mid-prune never leaves a checkpoint without its files.
   * Returns what was deleted (ids ascending, names sorted). Throws `RangeError` /
   * `TypeError` for bad arguments.
   */
  prune(retained: number, inFlight: ReadonlySet<string> = new Set()): { deletedCheckpoints: number[]; deletedFiles: string[] } {
    if (!Number.isSafeInteger(retained) || retained < 1) throw new RangeError(`retained must be an integer >= 1, got ${retained}`);
    if (typeof (inFlight as { has?: unknown })?.has !== 'function') throw new TypeError('inFlight must be a Set of shared file names');
    const scan = scanJob(this.dfs, this.jobDir);
    const checkpoints = scan.valid.filter((v) => v.meta.kind === 'checkpoint');
    const dropped = checkpoints.slice(0, Math.max(0, checkpoints.length - retained));
    const kept = scan.valid.filter((v) => !dropped.includes(v));
    const oldestKept = checkpoints[dropped.length]?.summary.checkpointId ?? -1;
    const deletedCheckpoints = [
      ...dropped.map((v) => v.summary),
      ...scan.invalid.filter((i) => i.checkpointId < oldestKept),
    ].map((c) => c.checkpointId);
    deletedCheckpoints.sort((a, b) => a - b);
    for (const id of deletedCheckpoints) this.dfs.remove(path.join(this.jobDir, checkpointDirName(id)));
    if (deletedCheckpoints.length > 0) this.dfs.fsyncDir(this.jobDir);

    const refCounts = new Map<string, number>();
    for (const v of kept) for (const ref of referencedFiles(v.meta)) refCounts.set(ref.name, (refCounts.get(ref.name) ?? 0) + 1);
    const deletedFiles = this.dfs.list(this.sharedDir).filter((name) => !refCounts.has(name) && !inFlight.has(name));
    deletedFiles.sort();
    for (const name of deletedFiles) this.dfs.remove(path.join(this.sharedDir, name));
    if (deletedFiles.length > 0) this.dfs.fsyncDir(this.sharedDir);
    return { deletedCheckpoints, deletedFiles };
  }

  /**
   * Records a savepoint written from this job, so that `sluice checkpoints` lists it
   * wherever it was written: appends its absolute path (resolved against the cwd) as one
   * line to `<jobDir>/savepoints` (created if missing) and fsyncs the file (and the job
   * folder when the file is new). A crash mid-append leaves at most a last line without its
   * newline: readers skip it and the next append starts on a new line. Throws `TypeError`
   * for a non-string or empty path, `RangeError` for a path holding a newline.
   */
  recordSavepoint(savepointPath: string): void {
    checkDirArg('savepointPath', savepointPath);
    const absolute = path.resolve(savepointPath);
    if (/[\n\r]/.test(absolute)) throw new RangeError(`savepointPath must not contain a line break, got ${JSON.stringify(absolute)}`);
    const file = path.join(this.jobDir, savepointsFileName);
    const size = this.dfs.sizeOf(file) ?? 0;
    const torn = size > 0 && this.dfs.read(file).at(-1) !== 0x0a;
    this.dfs.appendDurably(this.jobDir, savepointsFileName, Buffer.from(`${torn ? '\n' : ''}${absolute}\n`, 'utf8'));
  }

  /**
   * Ids of the checkpoints of this job that completed, ascending: those whose
   * `chk-<n>/_metadata` exists, valid or not (its rename was the commit point; a damaged
   * one completed all the same). Empty for a job killed before its first checkpoint
   * completed. Creates nothing.
   */
  completedCheckpointIds(): number[] {
    const ids: number[] = [];
    for (const entry of this.dfs.list(this.jobDir)) {
      const m = checkpointDirPattern.exec(entry);
      if (m !== null && this.dfs.sizeOf(path.join(this.jobDir, metadataRelPath(Number(m[1])))) !== undefined) ids.push(Number(m[1]));
    }
    return ids.sort((a, b) => a - b);
  }

  /**
   * For `--resume`: the job folders under `checkpointDir` (`shared/`, a `chk-<n>` or a
   * `job-status` in it), newest activity first: the latest of its recorded start or end
   * (`job-status`) and its newest completed checkpoint. So the job of the latest run
   * comes first, also when that run was killed before its first checkpoint completed.
   * `[]` if the directory does not exist. Creates nothing.
   */
  static jobsToResume(checkpointDir: string, options: CheckpointStorageOptions = {}): string[] {
    checkDirArg('checkpointDir', checkpointDir);
    const dfs = new DurableFs(options.fs);
    const jobs: { jobId: string; newest: number }[] = [];
    for (const jobId of dfs.list(checkpointDir)) {
      const jobDir = path.join(checkpointDir, jobId);
      if (!isJobDir(dfs, jobDir)) continue;
      const newest = Math.max(newestCompletedAt(scanJob(dfs, jobDir)), lastRecordedAt(readJobStatus(checkpointDir, jobId, options.fs)));
      jobs.push({ jobId, newest });
    }
    jobs.sort((a, b) => b.newest - a.newest || (a.jobId < b.jobId ? -1 : 1));
    return jobs.map((j) => j.jobId);
  }
}

/** One job's rows for `sluice checkpoints`. */
export interface JobCheckpoints {
  jobId: string;
  /**
   * Set when this row is a savepoint folder found directly under the listed directory
   * (or the listed directory itself): its absolute path. Such a row holds that one
   * savepoint in `checkpoints` (kind 'savepoint', `path` the folder), or in `invalid` if
   * its metadata is missing or damaged (then `jobId` is the job id prefix of its name).
   */
  savepoint?: string;
  checkpoints: CheckpointSummary[];
  invalid: { checkpointId: number; reason: string }[];
}

/**
 * Rows for `sluice checkpoints <dir>`: `dir` itself if it is a job directory (it holds
 * shared/ or a chk-<n>), else every job directory under it, newest completed checkpoint
 * first. Per job: every retained checkpoint (ascending id) and every invalid one with its
 * reason. Then one row per savepoint folder directly under `dir` (or `dir` itself if it
 * is one) or recorded in a listed job's `savepoints` file (`recordSavepoint`), each once,
 * newest first, marked by `savepoint` (see `JobCheckpoints`); a recorded one whose folder
 * is gone is an invalid row saying so (the checkpoint id from its name, or -1). Throws
 * `UsageError` if `dir` is not a directory. Creates nothing.
 */
export function describeCheckpointDir(dir: string, options: CheckpointStorageOptions = {}): JobCheckpoints[] {
  checkDirArg('dir', dir);
  const dfs = new DurableFs(options.fs);
  const root = path.resolve(dir);
  if (!dfs.isDirectory(root)) throw new UsageError(`${dir} is not a directory; pass the --checkpoint-dir of a job, or one job's directory in it`);
  const jobDirs = isJobDir(dfs, root) ? [root] : dfs.list(root).map((e) => path.join(root, e)).filter((d) => isJobDir(dfs, d));
  const rows = jobDirs.map((jobDir) => ({ jobDir, scan: scanJob(dfs, jobDir) }));
  rows.sort((a, b) => newestCompletedAt(b.scan) - newestCompletedAt(a.scan) || (a.jobDir < b.jobDir ? -1 : 1));
  const jobs: JobCheckpoints[] = rows.map(({ jobDir, scan }) => ({
    jobId: path.basename(jobDir),
    checkpoints: scan.valid.map((v) => v.summary),
    invalid: scan.invalid.map(({ checkpointId, reason }) => ({ checkpointId, reason })),
  }));
  const recorded = jobDirs.flatMap((jobDir) => readRecordedSavepoints(dfs, jobDir));
  return [...jobs, ...describeSavepoints(dfs, root, recorded)];
}

/**
 * The savepoints a job folder's `savepoints` file records: complete lines holding an
 * absolute path (a torn last line, blank or relative lines are skipped). `[]` without
 * the file.
 */
function readRecordedSavepoints(dfs: DurableFs, jobDir: string): RecordedSavepoint[] {
  const file = path.join(jobDir, savepointsFileName);
  if (dfs.sizeOf(file) === undefined) return [];
  const lines = Buffer.from(dfs.read(file)).toString('utf8').split('\n');
  lines.pop(); // after the last newline: empty, or a line torn by a crash
  const jobId = path.basename(jobDir);
  return lines.filter((line) => path.isAbsolute(line)).map((line) => ({ path: line, jobId, file }));
}

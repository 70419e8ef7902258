/**
 * Savepoints (Flink's savepoints): a self-contained, relocatable copy of one completed
 * checkpoint's state, written on request and never deleted by the engine. Layout:
 *
 *   <targetDir>/savepoint-<jobId first 8>-<checkpointId>-<6 random hex>/
 *     files/<name>   every file the state references (hard link of the shared file, or
 *                    a copy across file systems)
 *     _metadata      the SLCK metadata (native-notes.md section 5), kind 'savepoint';
 *                    written last: the commit record
 *
 * Design: the metadata's file references are plain names (`SharedFileRef.name`), so they
 * resolve against whatever folder holds them: the job's shared/ for a checkpoint, the
 * savepoint's files/ for a savepoint. Moving or renaming the savepoint folder thus changes
 * nothing inside it; deleting the job directory (or pruning it) only drops one link of
 * each hard-linked file. Durability follows `CheckpointStorage.complete`: every file is
 * linked or copied and fsynced with files/, then `_metadata` is written to a temp name,
 * fsynced, renamed (the commit point), and the folder and targetDir are fsynced. A crash
 * earlier leaves a folder without `_metadata`: listed as invalid, refused by
 * `loadSavepoint`, never mistaken for a complete savepoint.
 * Idea: Flink's relocatable savepoints (FLINK-5763: state handles relative to the
 * savepoint directory, so the directory can be moved or copied as a whole).
 */
import crypto from 'node:crypto';
import path from 'node:path';
import { UsageError } from '../errors.js';
import { DurableFs } from './durable-fs.js';
import { CorruptCheckpointError } from './errors.js';
import { decodeMetadata, encodeMetadata, referencedFiles, type CheckpointMetadata, type SharedFileRef } from './metadata.js';
import { checkStoredFile, type CheckpointStorageOptions, type JobCheckpoints } from './storage.js';

/** Sub-folder of a savepoint holding the files its metadata references. */
export const savepointFilesDirName = 'files';
const metadataFileName = '_metadata';
/** `savepoint-<jobId first 8>-<checkpointId>-<6 hex>`; group 1 the job prefix, 2 the id. */
const savepointDirPattern = /^savepoint-(.+)-(0|[1-9][0-9]*)-[0-9a-f]{6}$/;
/** Random folder names tried before giving up (a clash needs 24 equal random bits). */
const savepointNameAttemptsMax = 8;

/**
 * A savepoint cannot be restored: its `_metadata` is missing, truncated or damaged, or a
 * file under files/ is missing, has another size than recorded, or fails segment
 * verification. `relativeFile` is relative to the savepoint folder (`files/x.seg`);
 * `checkpointId` is -1 when neither the metadata nor the folder name tells it. Message:
 * `Cannot restore savepoint /sp/savepoint-job1-3-a1b2c3 (checkpoint 3): files/x.seg is missing`.
 */
export class CorruptSavepointError extends CorruptCheckpointError {
  constructor(
    readonly savepointDir: string,
    checkpointId: number,
    relativeFile: string,
    reason: string,
  ) {
    super(checkpointId, path.join(savepointDir, relativeFile), relativeFile, reason);
    const which = checkpointId >= 0 ? ` (checkpoint ${checkpointId})` : '';
    this.message = `Cannot restore savepoint ${savepointDir}${which}: ${relativeFile} ${reason}`;
  }
}

/** Each referenced file once. Throws `RangeError` if one name is recorded with two sizes. */
function distinctFiles(meta: CheckpointMetadata): SharedFileRef[] {
  const byName = new Map<string, SharedFileRef>();
  for (const ref of referencedFiles(meta)) {
    const seen = byName.get(ref.name);
    if (seen === undefined) byName.set(ref.name, ref);
    else if (seen.sizeBytes !== ref.sizeBytes) {
      throw new RangeError(`checkpoint ${meta.checkpointId} references ${ref.name} as ${seen.sizeBytes} and as ${ref.sizeBytes} bytes: the metadata is inconsistent`);
    }
  }
  return [...byName.values()];
}

/** The savepoint's metadata, or why `_metadata` is not valid (a phrase after the name). */
function readSavepointMetadata(dfs: DurableFs, dir: string): CheckpointMetadata | string {
  let bytes: Uint8Array;
  try {
    bytes = dfs.read(path.join(dir, metadataFileName));
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
    return 'is missing (the savepoint never completed: writing stopped before its metadata was committed)';
  }
  return decodeMetadata(bytes);
}

/** The checkpoint id in a savepoint folder's name, or -1. */
function idFromName(dir: string): number {
  const m = savepointDirPattern.exec(path.basename(dir));
  return m === null ? -1 : Number(m[2]);
}

/** mkdir -p targetDir, then a fresh savepoint folder with files/ in it. Throws `UsageError`. */
function createSavepointDir(dfs: DurableFs, targetDir: string, meta: CheckpointMetadata): string {
  const cannot = (e: unknown): UsageError =>
    new UsageError(`Cannot write a savepoint into ${targetDir}: ${(e as Error).message}; pass a writable directory as the savepoint target`, { cause: e });
  try {
    dfs.mkdirp(targetDir);
  } catch (e) {
    throw cannot(e);
  }
  for (let attempt = 0; attempt < savepointNameAttemptsMax; attempt++) {
    const name = `savepoint-${meta.jobId.slice(0, 8)}-${meta.checkpointId}-${crypto.randomBytes(3).toString('hex')}`;
    const dir = path.join(targetDir, name);
    try {
      dfs.calls.mkdirSync(dir);
      dfs.mkdirp(path.join(dir, savepointFilesDirName));
      dfs.fsyncDir(dir);
      return dir;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw cannot(e);
    }
  }
  throw new UsageError(`Cannot write a savepoint into ${targetDir}: ${savepointNameAttemptsMax} random folder names all exist already; clean up old savepoints there`);
}

/**
 * Writes a savepoint of a completed checkpoint's state (`meta`, whose files are in
 * `sharedDir`: the job's shared/, or another savepoint's files/) into a new folder
 * `<targetDir>/savepoint-<jobId first 8>-<checkpointId>-<6 random hex>/`: every
 * referenced file under files/ (hard link, copy on EXDEV/EPERM; content and directory
 * fsynced), each checked against its recorded size and `.seg` files against
 * `verifySegmentChecksums` (every block's CRC: the bytes are the ones the checkpoint
 * wrote; `loadSavepoint` decodes them in full at restore), then `_metadata`
 * (same metadata, kind 'savepoint') durably, last. Returns the folder's absolute path.
 * The engine never deletes it. Throws `TypeError`/`RangeError` for malformed metadata,
 * `UsageError` naming targetDir when it cannot be written, `Error` naming the source
 * file when one is missing, has another size or fails verification (the partial folder
 * is removed then). `options.fs` replaces node:fs (tests inject faults).
 */
export function writeSavepoint(meta: CheckpointMetadata, sharedDir: string, targetDir: string, options: CheckpointStorageOptions = {}): string {
  for (const [what, v] of [['sharedDir', sharedDir], ['targetDir', targetDir]] as const) {
    if (typeof v !== 'string' || v.length === 0) throw new TypeError(`${what} must be a non-empty path string, got ${JSON.stringify(v)}`);
  }
  const savepointMeta: CheckpointMetadata = { ...meta, kind: 'savepoint' };
  const bytes = encodeMetadata(savepointMeta);
  const files = distinctFiles(savepointMeta);
  const dfs = new DurableFs(options.fs);
  const target = path.resolve(targetDir);
  const dir = createSavepointDir(dfs, target, savepointMeta);
  const filesDir = path.join(dir, savepointFilesDirName);
  try {
    for (const ref of files) {
      const source = path.join(sharedDir, ref.name);
      const size = dfs.sizeOf(source);
      if (size !== ref.sizeBytes) {
        const found = size === undefined ? 'does not exist' : `has ${size} bytes`;
        throw new Error(`Cannot write a savepoint of checkpoint ${meta.checkpointId}: ${source} ${found}, the metadata says ${ref.sizeBytes} bytes`);
      }
      dfs.linkOrCopy(source, filesDir, ref.name);
      // Checksums only: the file is the completed checkpoint's, unchanged since; a restore
      // (loadSavepoint) still verifies it in full.
      const reason = checkStoredFile(dfs, path.join(filesDir, ref.name), ref.sizeBytes, 'vanished while it was linked', 'checksums');
      if (reason !== undefined) throw new Error(`Cannot write a savepoint of checkpoint ${meta.checkpointId}: ${source} ${reason}; restore an older checkpoint and savepoint that`);
    }
    dfs.writeDurably(dir, metadataFileName, bytes, [target]);
  } catch (e) {
    try {
      dfs.remove(dir);
    } catch {
      // The first failure is the one to report; a leftover folder has no _metadata.
    }
    throw e;
  }
  return dir;
}

function notSavepoint(dir: string, why: string): UsageError {
  return new UsageError(
    `${dir} is not a savepoint folder (${why}). A savepoint folder, as writeSavepoint makes it (savepoint-<job>-<checkpoint id>-<hex>/, ` +
      `perhaps moved or renamed since), holds _metadata and files/ with every file its state references; pass that folder`,
  );
}

/**
 * Loads and verifies the savepoint folder at `savepointPath` (wherever it now is; its
 * `_metadata` file is accepted too): the metadata (magic, version, length, CRC32, shape,
 * kind 'savepoint'); every referenced file exists under files/ with its recorded size;
 * every `.seg` passes `verifySegmentFile` (reads the whole file). Returns the metadata
 * and the absolute files/ folder: a referenced file is `join(filesDir, ref.name)`.
 * Throws `CorruptSavepointError` (a `CorruptCheckpointError`) naming the file and the
 * reason; `UsageError` if the path is not a savepoint folder at all.
 */
export function loadSavepoint(savepointPath: string, options: CheckpointStorageOptions = {}): { meta: CheckpointMetadata; filesDir: string } {
  if (typeof savepointPath !== 'string' || savepointPath.length === 0) {
    throw new TypeError(`savepoint path must be a non-empty path string, got ${JSON.stringify(savepointPath)}`);
  }
  const dfs = new DurableFs(options.fs);
  let dir = path.resolve(savepointPath);
  if (path.basename(dir) === metadataFileName && dfs.sizeOf(dir) !== undefined && !dfs.isDirectory(dir)) dir = path.dirname(dir);
  if (!dfs.isDirectory(dir)) throw notSavepoint(dir, dfs.sizeOf(dir) === undefined ? 'it does not exist' : 'it is not a directory');
  const filesDir = path.join(dir, savepointFilesDirName);
  const hasFilesDir = dfs.isDirectory(filesDir);
  const meta = readSavepointMetadata(dfs, dir);
  if (typeof meta === 'string') {
    const hasMetadata = dfs.sizeOf(path.join(dir, metadataFileName)) !== undefined;
    if (!hasMetadata && !hasFilesDir && idFromName(dir) < 0) throw notSavepoint(dir, 'it holds neither _metadata nor files/');
    throw new CorruptSavepointError(dir, idFromName(dir), metadataFileName, meta);
  }
  if (meta.kind !== 'savepoint') {
    throw notSavepoint(dir, `its _metadata is of checkpoint ${meta.checkpointId}, a checkpoint whose files live in its job's shared/; write a savepoint of it with writeSavepoint`);
  }
  for (const ref of distinctFiles(meta)) {
    const reason = checkStoredFile(dfs, path.join(filesDir, ref.name), ref.sizeBytes, 'is missing (deleted by hand, or the folder was copied incompletely?)', 'full', options.verified);
    if (reason !== undefined) throw new CorruptSavepointError(dir, meta.checkpointId, `${savepointFilesDirName}/${ref.name}`, reason);
  }
  return { meta, filesDir };
}

/** A savepoint a job recorded in its `savepoints` file (`CheckpointStorage.recordSavepoint`). */
export interface RecordedSavepoint {
  /** Absolute path of the savepoint folder, as recorded. */
  path: string;
  /** The job folder's name. */
  jobId: string;
  /** The `savepoints` file that records it. */
  file: string;
}

type SavepointRow = JobCheckpoints & { completedAt: number };

/** The row of one savepoint folder: its metadata, or why it is not a usable savepoint. */
function describeSavepoint(dfs: DurableFs, dir: string): SavepointRow {
  const meta = readSavepointMetadata(dfs, dir);
  if (typeof meta === 'string' || meta.kind !== 'savepoint') {
    const reason = typeof meta === 'string' ? meta : 'records a checkpoint, not a savepoint (copied from a chk-<n> directory?)';
    const jobId = savepointDirPattern.exec(path.basename(dir))?.[1] ?? path.basename(dir);
    return { jobId, savepoint: dir, checkpoints: [], invalid: [{ checkpointId: idFromName(dir), reason: `${metadataFileName} ${reason}` }], completedAt: -Infinity };
  }
  const { checkpointId, kind, completedAt, stats, parallelism } = meta;
  return { jobId: meta.jobId, savepoint: dir, checkpoints: [{ checkpointId, kind, completedAt, stats, parallelism, path: dir }], invalid: [], completedAt };
}

/**
 * The segment files (absolute paths, recorded sizes) the savepoint at `savepointPath`
 * references, for `verifySegmentsInParallel` before `loadSavepoint`; empty when its
 * metadata does not read (`loadSavepoint` then says why).
 */
export function savepointSegmentFiles(savepointPath: string, options: CheckpointStorageOptions = {}): Array<{ path: string; sizeBytes: number }> {
  const dfs = new DurableFs(options.fs);
  let dir = path.resolve(savepointPath);
  if (path.basename(dir) === metadataFileName) dir = path.dirname(dir);
  if (!dfs.isDirectory(dir)) return [];
  const meta = readSavepointMetadata(dfs, dir);
  if (typeof meta === 'string') return [];
  return distinctFiles(meta)
    .filter((ref) => ref.name.endsWith('.seg'))
    .map((ref) => ({ path: path.join(dir, savepointFilesDirName, ref.name), sizeBytes: ref.sizeBytes }));
}

/**
 * Rows of `describeCheckpointDir` for the savepoint folders directly under `root` (and
 * `root` itself if its name is a savepoint's), and for the `recorded` ones wherever they
 * are; each folder once (by absolute path), newest first. A recorded folder that no longer
 * exists is an invalid row saying so. Reads only metadata.
 */
export function describeSavepoints(dfs: DurableFs, root: string, recorded: readonly RecordedSavepoint[] = []): JobCheckpoints[] {
  const dirs = dfs.list(root).filter((e) => savepointDirPattern.test(e)).map((e) => path.join(root, e));
  if (savepointDirPattern.test(path.basename(root))) dirs.push(root);
  const rows = new Map<string, SavepointRow>();
  for (const dir of dirs.filter((d) => dfs.isDirectory(d))) rows.set(dir, describeSavepoint(dfs, dir));
  for (const { path: recordedPath, jobId, file } of recorded) {
    const dir = path.resolve(recordedPath);
    if (rows.has(dir)) continue;
    if (dfs.isDirectory(dir)) rows.set(dir, describeSavepoint(dfs, dir));
    else {
      const reason = `moved or deleted since it was written (recorded in ${file})`;
      rows.set(dir, { jobId, savepoint: dir, checkpoints: [], invalid: [{ checkpointId: idFromName(dir), reason }], completedAt: -Infinity });
    }
  }
  const sorted = [...rows.values()].sort((a, b) => b.completedAt - a.completedAt || (a.savepoint! < b.savepoint! ? -1 : 1));
  return sorted.map(({ completedAt: _, ...row }) => row);
}

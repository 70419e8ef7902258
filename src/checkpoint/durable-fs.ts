/**
 * The only file system access of checkpoint storage: node:fs sync calls behind a small
 * interface, so tests can record the protocol (which fsync comes before which rename) and
 * inject a crash at any call. Durable write and link-or-copy live here.
 * Idea: LevelDB's `Env` (all OS access behind one object that tests can replace).
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';

/** The node:fs sync calls the storage uses. `fs` itself satisfies it. */
export type FsCalls = Pick<
  typeof fs,
  | 'openSync'
  | 'writeSync'
  | 'fsyncSync'
  | 'closeSync'
  | 'renameSync'
  | 'linkSync'
  | 'copyFileSync'
  | 'mkdirSync'
  | 'readdirSync'
  | 'statSync'
  | 'readFileSync'
  | 'unlinkSync'
  | 'rmSync'
>;

/** Suffix of a file being written; never a committed name (names ending so are refused). */
export const tempSuffix = '.tmp';

function errnoOf(e: unknown): string | undefined {
  return (e as NodeJS.ErrnoException | undefined)?.code;
}

export class DurableFs {
  constructor(readonly calls: FsCalls = fs) {}

  mkdirp(dir: string): void {
    this.calls.mkdirSync(dir, { recursive: true });
  }

  /** fsync of a directory: makes the names created, renamed or removed in it durable. */
  fsyncDir(dir: string): void {
    this.fsyncPath(dir);
  }

  /**
   * fsync through a read-only descriptor: enough on Linux for a file's content and for a
   * directory's entries.
   */
  fsyncPath(p: string): void {
    const fd = this.calls.openSync(p, 'r');
    try {
      this.calls.fsyncSync(fd);
    } finally {
      this.calls.closeSync(fd);
    }
  }

  /** Size in bytes, or `undefined` if the path does not exist. Other errors are thrown. */
  sizeOf(file: string): number | undefined {
    const st = this.calls.statSync(file, { throwIfNoEntry: false });
    return st?.size;
  }

  isDirectory(p: string): boolean {
    return this.calls.statSync(p, { throwIfNoEntry: false })?.isDirectory() === true;
  }

  /** Entry names of `dir`; `[]` if it does not exist. */
  list(dir: string): string[] {
    try {
      return this.calls.readdirSync(dir);
    } catch (e) {
      if (errnoOf(e) === 'ENOENT') return [];
      throw e;
    }
  }

  read(file: string): Uint8Array {
    return this.calls.readFileSync(file);
  }

  /**
   * Writes `bytes` to `dir/name` so that after a crash the name holds either nothing (or
   * its old content) or all of `bytes`: write `name.tmp`, fsync it, rename it over `name`
   * (atomic on POSIX: the commit point), fsync `dir` so the rename itself is durable.
   * Then fsyncs each of `alsoSyncDirs` (e.g. the parent that holds `dir`'s own entry).
   * Returns the bytes written.
   */
  writeDurably(dir: string, name: string, bytes: Uint8Array, alsoSyncDirs: readonly string[] = []): number {
    const final = path.join(dir, name);
    const temp = final + tempSuffix;
    try {
      this.writeAndSync(temp, 'w', bytes);
      this.calls.renameSync(temp, final);
    } catch (e) {
      this.remove(temp); // no partial temp file left to fill a full disk further
      throw e;
    }
    this.fsyncDir(dir);
    for (const d of alsoSyncDirs) this.fsyncDir(d);
    return bytes.length;
  }

  /**
   * Appends `bytes` to `dir/name` (created if missing) and fsyncs it, then `dir` if the file
   * is new. A crash mid-append may leave a prefix of `bytes` at the end: callers that
   * append records keep them self-delimiting (e.g. newline-terminated lines).
   */
  appendDurably(dir: string, name: string, bytes: Uint8Array): void {
    const file = path.join(dir, name);
    const created = this.sizeOf(file) === undefined;
    this.writeAndSync(file, 'a', bytes);
    if (created) this.fsyncDir(dir);
  }

  /** Opens `file` with `flags` ('w' truncates, 'a' appends), writes all of `bytes`, fsyncs, closes. */
  private writeAndSync(file: string, flags: 'w' | 'a', bytes: Uint8Array): void {
    const fd = this.calls.openSync(file, flags);
    try {
      let done = 0;
      while (done < bytes.length) done += this.calls.writeSync(fd, bytes, done, bytes.length - done);
      this.calls.fsyncSync(fd);
    } finally {
      this.calls.closeSync(fd);
    }
  }

  /**
   * Makes `dir/name` a durable copy of the immutable file `source`: a hard link (no bytes
   * copied), falling back to copy-to-temp + fsync + rename when linking is impossible
   * (EXDEV: another file system; EPERM/ENOTSUP/EMLINK: no hard links there). The content
   * is fsynced either way (the source may never have been: LSM segments are written
   * without fsync until a checkpoint needs them), then `dir`. Returns the file size.
   * REQUIRES: `dir/name` does not exist.
   */
  linkOrCopy(source: string, dir: string, name: string): number {
    const final = path.join(dir, name);
    let linked = true;
    try {
      this.calls.linkSync(source, final);
    } catch (e) {
      const code = errnoOf(e);
      if (code !== 'EXDEV' && code !== 'EPERM' && code !== 'ENOTSUP' && code !== 'EMLINK') throw e;
      linked = false;
    }
    if (linked) {
      this.fsyncPath(final);
    } else {
      const temp = final + tempSuffix;
      try {
        this.calls.copyFileSync(source, temp);
        this.fsyncPath(temp);
        this.calls.renameSync(temp, final);
      } catch (e) {
        // A copy cut short (ENOSPC, EIO) leaves no partial file behind to fill the disk.
        this.remove(temp);
        throw e;
      }
    }
    this.fsyncDir(dir);
    const size = this.sizeOf(final);
    assert.ok(size !== undefined, `${final} vanished after it was written`);
    return size;
  }

  /** Removes a file or a directory tree; missing is fine. */
  remove(p: string): void {
    this.calls.rmSync(p, { recursive: true, force: true });
  }
}

/**
 * Helpers shared by the keyed state backends' snapshots: the heap snapshot file's header
 * (layout in heap-backend.ts, "Heap snapshot file"), its typed corruption error, and a
 * file writer that writes in bounded steps (temp file, optional fsync, rename), so the
 * asynchronous phase of a snapshot never stalls the mailbox loop for long.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { crc32 } from './lsm/index.js';

/** "SLUIHEAP" in ASCII, the first 8 bytes of a heap snapshot file. */
export const heapSnapshotMagic = Uint8Array.of(0x53, 0x4c, 0x55, 0x49, 0x48, 0x45, 0x41, 0x50);
/** 2: array key identities became length-prefixed (heap-backend.ts file comment); 1 is refused. */
export const heapSnapshotFormatVersion = 2;
/** magic (8) | u32 version | u32 CRC32 of the payload | u64 payload length; little-endian. */
export const heapSnapshotHeaderSizeBytes = 24;
/** Bytes one `SteppedFileWriter.step` writes: bounds the pause per mailbox turn. */
export const snapshotWriteStepBytes = 1024 * 1024;

/** A snapshot file fails validation. Recovery: restore an older checkpoint. */
export class CorruptSnapshotError extends Error {
  override readonly name = 'CorruptSnapshotError';
  constructor(
    readonly file: string,
    readonly reason: string,
  ) {
    super(`Cannot restore state from snapshot file ${file}: ${reason}; the file is damaged or not a heap snapshot — restore an older checkpoint`);
  }
}

/** The 24-byte header for `payload`. */
export function encodeHeapSnapshotHeader(payload: Uint8Array): Uint8Array {
  const header = new Uint8Array(heapSnapshotHeaderSizeBytes);
  const view = new DataView(header.buffer);
  header.set(heapSnapshotMagic, 0);
  view.setUint32(8, heapSnapshotFormatVersion, true);
  view.setUint32(12, crc32(payload), true);
  view.setBigUint64(16, BigInt(payload.length), true);
  return header;
}

/** The payload of a heap snapshot file's bytes, verified. Throws `CorruptSnapshotError`. */
export function decodeHeapSnapshotFile(bytes: Uint8Array, file: string): Uint8Array {
  if (bytes.length < heapSnapshotHeaderSizeBytes) {
    throw new CorruptSnapshotError(file, `${bytes.length} bytes is shorter than the ${heapSnapshotHeaderSizeBytes}-byte header (truncated)`);
  }
  if (!heapSnapshotMagic.every((b, i) => bytes[i] === b)) throw new CorruptSnapshotError(file, 'bad magic (expected "SLUIHEAP")');
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const version = view.getUint32(8, true);
  if (version !== heapSnapshotFormatVersion) {
    throw new CorruptSnapshotError(file, `format version ${version} is not supported (this build reads ${heapSnapshotFormatVersion})`);
  }
  const length = view.getBigUint64(16, true);
  if (length !== BigInt(bytes.length - heapSnapshotHeaderSizeBytes)) {
    throw new CorruptSnapshotError(file, `header says ${length} payload bytes, the file has ${bytes.length - heapSnapshotHeaderSizeBytes} (truncated?)`);
  }
  const payload = bytes.subarray(heapSnapshotHeaderSizeBytes);
  const stored = view.getUint32(12, true);
  const computed = crc32(payload);
  if (stored !== computed) {
    throw new CorruptSnapshotError(file, `payload fails CRC32 (stored 0x${stored.toString(16)}, computed 0x${computed.toString(16)})`);
  }
  return payload;
}

/**
 * Writes `parts` to `finalPath` in steps of about `snapshotWriteStepBytes`: into
 * `finalPath + '.tmp'`, fsynced if asked, then renamed, so `finalPath` only ever names a
 * complete file. `discard()` closes and deletes both names (idempotent).
 */
export class SteppedFileWriter {
  private fd: number | undefined;
  private part = 0;
  private offsetInPart = 0;
  private done = false;
  private discarded = false;
  readonly sizeBytes: number;

  constructor(
    readonly finalPath: string,
    private readonly parts: readonly Uint8Array[],
    private readonly fsync: boolean,
  ) {
    this.sizeBytes = parts.reduce((n, p) => n + p.length, 0);
  }

  private get tempPath(): string {
    return `${this.finalPath}.tmp`;
  }

  /** Writes the next chunk; true once the file is complete under `finalPath`. */
  step(budgetBytes = snapshotWriteStepBytes): boolean {
    assert.ok(!this.discarded, 'step() after discard()');
    if (this.done) return true;
    this.fd ??= fs.openSync(this.tempPath, 'wx');
    let spent = 0;
    while (spent < budgetBytes && this.part < this.parts.length) {
      const p = this.parts[this.part]!;
      const n = Math.min(p.length - this.offsetInPart, budgetBytes - spent);
      const written = fs.writeSync(this.fd, p, this.offsetInPart, n);
      this.offsetInPart += written;
      spent += written;
      if (this.offsetInPart === p.length) {
        this.part++;
        this.offsetInPart = 0;
      }
    }
    if (this.part < this.parts.length) return false;
    if (this.fsync) fs.fsyncSync(this.fd);
    fs.closeSync(this.fd);
    this.fd = undefined;
    fs.renameSync(this.tempPath, this.finalPath);
    this.done = true;
    return true;
  }

  discard(): void {
    if (this.discarded) return;
    this.discarded = true;
    if (this.fd !== undefined) fs.closeSync(this.fd);
    this.fd = undefined;
    fs.rmSync(this.tempPath, { force: true });
    fs.rmSync(this.finalPath, { force: true });
  }
}

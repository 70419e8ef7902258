/**
 * One subtask's side of asynchronous barrier snapshotting (Chandy-Lamport as in Flink's
 * `SubtaskCheckpointCoordinator`; Carbone et al., "Lightweight Asynchronous Snapshots for
 * Distributed Dataflows", 2015).
 *
 * Synchronous phase (`begin`, in the mailbox thread at the barrier): take each operator's
 * state (source position, sink pre-commit), start the keyed-state snapshot (freeze the
 * memtable, or serialize the heap). The caller then forwards the barrier and goes on
 * processing.
 * Asynchronous phase (`step`, once per mailbox turn): advance each pending keyed-state
 * snapshot by a bounded step; when its files are ready, put them into the checkpoint's
 * shared/ folder (hard links; a segment already there costs nothing: incremental), release
 * the snapshot, and ack the coordinator with the subtask's state handle.
 */
import { randomUUID } from 'node:crypto';
import { basename } from 'node:path';
import { performance } from 'node:perf_hooks';
import { CheckpointStorage } from '../checkpoint/index.js';
import type { CheckpointStorageOptions, KeyedStateHandle, SharedFileRef, SubtaskState } from '../checkpoint/index.js';
import type { KeyedStateBackend, SnapshotFiles, StateSnapshotJob } from '../state/api.js';
import type { SubtaskMessage } from './deployment.js';

interface PendingSnapshot {
  checkpointId: number;
  /** Taken after the subtask's input ended (FLIP-147). */
  finished: boolean;
  /** Undefined when the chain has no keyed operator: no keyed state to snapshot. */
  job: StateSnapshotJob | undefined;
  operatorState: Record<string, unknown>;
  syncMs: number;
  alignmentMs: number;
  asyncStartedAt: number;
}

export class SubtaskCheckpointing {
  private readonly storage: CheckpointStorage;
  private readonly pending: PendingSnapshot[] = [];
  /** Distinguishes this attempt's segment files from every other's in shared/. */
  private readonly storeTag = randomUUID().slice(0, 8);

  constructor(
    dir: string,
    jobId: string,
    private readonly vertex: number,
    private readonly subtaskIndex: number,
    private readonly backend: KeyedStateBackend,
    private readonly post: (message: SubtaskMessage) => void,
    /** The chain head is keyed: only then does the subtask have keyed state to snapshot. */
    private readonly keyed: boolean,
    /** Tests: the file system seam (e.g. a copy that fails with ENOSPC). */
    storageOptions: CheckpointStorageOptions = {},
  ) {
    this.storage = CheckpointStorage.open(dir, jobId, storageOptions);
  }

  /**
   * The synchronous phase. REQUIRES: called at the barrier, before it is forwarded (or,
   * `finished`: after the input ended, at a direct trigger).
   */
  begin(checkpointId: number, operatorState: Record<string, unknown>, startedAt: number, alignmentMs: number, finished = false): void {
    const job = this.keyed ? this.backend.snapshot(checkpointId) : undefined;
    this.pending.push({
      checkpointId,
      finished,
      job,
      operatorState,
      syncMs: performance.now() - startedAt,
      alignmentMs,
      asyncStartedAt: performance.now(),
    });
  }

  hasPending(): boolean {
    return this.pending.length > 0;
  }

  /**
   * One bounded step of every pending snapshot's asynchronous phase; acks finished ones.
   * A failure of the asynchronous phase (ENOSPC or EIO while a segment is copied into
   * shared/, a snapshot file that cannot be written) declines that checkpoint, as Flink's
   * `AsyncCheckpointRunnable` does: the coordinator counts it against the tolerable
   * failed checkpoints and the subtask goes on processing. The files this subtask added to
   * shared/ for it are deleted by the coordinator's next prune (nothing references them).
   */
  step(): void {
    for (let i = 0; i < this.pending.length; ) {
      const p = this.pending[i]!;
      let files: SnapshotFiles | null | undefined;
      try {
        files = p.job === undefined ? null : p.job.step();
      } catch (error) {
        this.pending.splice(i, 1);
        p.job?.release();
        this.decline(p.checkpointId, error);
        continue;
      }
      if (files === undefined) {
        i++;
        continue;
      }
      this.pending.splice(i, 1);
      let keyedState: KeyedStateHandle | undefined;
      let bytesWritten = 0;
      if (files !== null) {
        try {
          ({ keyedState, bytesWritten } = this.store(files, p.checkpointId));
        } catch (error) {
          this.decline(p.checkpointId, error);
          continue;
        } finally {
          p.job!.release();
        }
      }
      const fullSizeBytes = keyedState === undefined ? 0 : keyedState.kind === 'lsm' ? keyedState.segments.reduce((a, s) => a + s.sizeBytes, 0) : keyedState.file.sizeBytes;
      const state: SubtaskState = { vertex: this.vertex, subtaskIndex: this.subtaskIndex, operatorState: p.operatorState, keyedState };
      if (p.finished) state.finished = true;
      this.post({
        type: 'ack',
        checkpointId: p.checkpointId,
        state,
        stats: { syncMs: p.syncMs, asyncMs: performance.now() - p.asyncStartedAt, alignmentMs: p.alignmentMs, bytesWritten, fullSizeBytes },
      });
    }
  }

  /** Declines checkpoint `checkpointId` (its snapshot already dropped), naming the subtask and the error. */
  private decline(checkpointId: number, error: unknown): void {
    const code = (error as NodeJS.ErrnoException | undefined)?.code;
    const message = error instanceof Error ? error.message : String(error);
    this.post({
      type: 'decline',
      checkpointId,
      failed: true,
      reason: `declined by subtask ${this.subtaskIndex} of vertex ${this.vertex} in its asynchronous phase${code === undefined ? '' : ` (${code})`}: ${message}`,
    });
  }

  /** Puts the snapshot's files into shared/; returns the handle and the bytes newly written. */
  private store(files: SnapshotFiles, checkpointId: number): { keyedState: KeyedStateHandle; bytesWritten: number } {
    const prefix = `v${this.vertex}-s${this.subtaskIndex}-${this.storeTag}`;
    if (files.kind === 'heap') {
      const name = `${prefix}-heap-chk${checkpointId}`;
      const bytesWritten = this.storage.putShared(files.localPath, name);
      return { keyedState: { kind: 'heap', file: { name, sizeBytes: files.sizeBytes } }, bytesWritten };
    }
    let bytesWritten = 0;
    const segments: SharedFileRef[] = files.segments.map((s) => {
      const name = s.sharedName ?? `${prefix}-${basename(s.localPath)}`;
      bytesWritten += this.storage.putShared(s.localPath, name);
      return { name, sizeBytes: s.sizeBytes };
    });
    return { keyedState: { kind: 'lsm', segments }, bytesWritten };
  }

  /** Checkpoint n was aborted by the coordinator: drop its partial work. */
  abort(checkpointId: number): void {
    const at = this.pending.findIndex((p) => p.checkpointId === checkpointId);
    if (at < 0) return;
    this.pending[at]!.job?.release();
    this.pending.splice(at, 1);
  }

  /** Releases every pending snapshot (the subtask is ending). */
  close(): void {
    for (const p of this.pending.splice(0)) p.job?.release();
  }

  /** Path of a shared file, for restores. */
  sharedPath(name: string): string {
    return this.storage.sharedPath(name);
  }
}

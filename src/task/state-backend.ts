/**
 * Opens the keyed state backend a deployment asks for: `lsm` (our LSM tree on disk, in the
 * role of Flink's embedded RocksDB backend) or `hashmap` (heap, Flink's
 * HashMapStateBackend), restored from the deployment's checkpoint state if it has one.
 *
 * Folders, under the job's state root: `attempt<k>/vertex<v>-subtask<i>/` is the LSM store
 * (or the heap backend's snapshot scratch space) of one deployment attempt, and
 * `attempt<k>/restore-vertex<v>-subtask<i>/` holds hard links to the checkpoint's shared
 * files that the backend takes over. Checkpoint files are never changed: the backend works
 * on its own links.
 *
 * Segments are not fsynced when flushed: durability comes from the checkpoint, which
 * fsyncs what it links into shared/ (checkpoint/storage.ts).
 */
import { copyFileSync, linkSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { CheckpointStorage } from '../checkpoint/index.js';
import type { KeyedStateBackend, StateRestore } from '../state/api.js';
import { HeapKeyedStateBackend } from '../state/heap-backend.js';
import { LsmKeyedStateBackend } from '../state/lsm-backend.js';
import type { SubtaskDeployment } from './deployment.js';

/** Hard link (or copy across file systems) `from` to `to`. */
function linkOrCopy(from: string, to: string): void {
  try {
    linkSync(from, to);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code !== 'EXDEV' && code !== 'EPERM') throw error;
    copyFileSync(from, to);
  }
}

/** Links the checkpoint's files of this subtask into a fresh folder; undefined without restore. */
function stageRestore(d: SubtaskDeployment, root: string): StateRestore | undefined {
  const keyed = d.restore?.state.keyedState;
  if (keyed === undefined || d.checkpointing === undefined) return undefined;
  const storage = CheckpointStorage.open(d.checkpointing.dir, d.jobId);
  const staging = join(root, `restore-vertex${d.vertex}-subtask${d.subtaskIndex}`);
  mkdirSync(staging, { recursive: true });
  if (keyed.kind === 'heap') {
    const path = join(staging, keyed.file.name);
    linkOrCopy(storage.sharedPath(keyed.file.name), path);
    return { kind: 'heap', path };
  }
  return {
    kind: 'lsm',
    segments: keyed.segments.map((s, i) => {
      const path = join(staging, `${String(i).padStart(6, '0')}-${s.name}`);
      linkOrCopy(storage.sharedPath(s.name), path);
      return { path, sharedName: s.name };
    }),
  };
}

export function createStateBackend(d: SubtaskDeployment, maxParallelism: number): KeyedStateBackend {
  if (d.stateRoot === undefined) return new HeapKeyedStateBackend();
  const root = join(d.stateRoot, `attempt${d.attempt}`);
  const dir = join(root, `vertex${d.vertex}-subtask${d.subtaskIndex}`);
  mkdirSync(dir, { recursive: true });
  const restore = stageRestore(d, root);
  switch (d.options.stateBackend) {
    case 'hashmap':
      return new HeapKeyedStateBackend({ scratchDir: dir, ...(restore === undefined ? {} : { restore }) });
    case 'lsm':
      return new LsmKeyedStateBackend({
        dir,
        maxParallelism,
        store: { memtableSizeBytes: d.options.memtableSizeBytes, fsync: false },
        ...(restore === undefined ? {} : { restore }),
      });
  }
}

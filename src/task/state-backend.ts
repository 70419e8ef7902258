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

/**
 * Links the restore's files of this subtask into a fresh folder; undefined without restore.
 * Rescaling links only the old subtasks' segments the restore plan chose (those whose key
 * groups intersect this subtask's); the backend reads them clipped to its key groups.
 */
function stageRestore(d: SubtaskDeployment, root: string): StateRestore | undefined {
  const keyed = d.restore?.keyed;
  if (keyed === undefined) return undefined;
  const { filesDir, shared } = d.restore!;
  const staging = join(root, `restore-vertex${d.vertex}-subtask${d.subtaskIndex}`);
  mkdirSync(staging, { recursive: true });
  const stage = (name: string, local: string): string => {
    const path = join(staging, local);
    linkOrCopy(join(filesDir, name), path);
    return path;
  };
  if (keyed.kind === 'rescale') {
    const heap = keyed.sources.flatMap((h) => (h.kind === 'heap' ? [h.file] : []));
    const lsm = keyed.sources.flatMap((h) => (h.kind === 'lsm' ? [h.segments] : []));
    if (heap.length > 0) {
      // The restore plan refuses mixed backends, so every source is a heap file here.
      return { kind: 'heap-rescale', keyGroups: keyed.keyGroups, maxParallelism: keyed.maxParallelism, paths: heap.map((f, j) => stage(f.name, `${j}-${f.name}`)) };
    }
    return {
      kind: 'lsm-rescale',
      keyGroups: keyed.keyGroups,
      sources: lsm.map((segments, j) => ({ segments: segments.map((s, i) => ({ path: stage(s.name, `${j}-${String(i).padStart(6, '0')}-${s.name}`) })) })),
    };
  }
  const handle = keyed.handle;
  if (handle.kind === 'heap') return { kind: 'heap', path: stage(handle.file.name, handle.file.name) };
  return {
    kind: 'lsm',
    segments: handle.segments.map((s, i) => ({ path: stage(s.name, `${String(i).padStart(6, '0')}-${s.name}`), ...(shared ? { sharedName: s.name } : {}) })),
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

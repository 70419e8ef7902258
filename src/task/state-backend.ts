/**
 * Opens the keyed state backend a deployment asks for: `hashmap` (heap, Flink's
 * HashMapStateBackend) or `lsm` (our LSM tree on disk, in the role of Flink's embedded
 * RocksDB backend), one store directory per subtask: `<stateRoot>/<vertex>-<subtask>`.
 *
 * Segments are not fsynced yet: the state directory is scratch space until checkpoints
 * make segments part of a durable snapshot.
 */
import { join } from 'node:path';
import type { KeyedStateBackend } from '../state/api.js';
import { HeapKeyedStateBackend } from '../state/heap-backend.js';
import { LsmKeyedStateBackend } from '../state/lsm-backend.js';
import type { SubtaskDeployment } from './deployment.js';

export function createStateBackend(d: SubtaskDeployment, maxParallelism: number): KeyedStateBackend {
  switch (d.options.stateBackend) {
    case 'hashmap':
      return new HeapKeyedStateBackend();
    case 'lsm': {
      if (d.stateRoot === undefined) throw new Error('The lsm state backend needs a state directory');
      return new LsmKeyedStateBackend({
        dir: join(d.stateRoot, `vertex${d.vertex}-subtask${d.subtaskIndex}`),
        maxParallelism,
        store: { memtableSizeBytes: d.options.memtableSizeBytes, fsync: false },
      });
    }
  }
}

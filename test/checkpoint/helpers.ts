/** Shared helpers of the checkpoint storage tests: metadata builders and real segments. */
import fs from 'node:fs';
import path from 'node:path';
import { LsmStore } from '../../src/state/lsm/index.js';
import type { CheckpointMetadata, SubtaskState } from '../../src/checkpoint/index.js';

export { tempDir } from '../state/helpers.js';
export { seededRandom, testSeed } from '../helpers/random.js';

/** Metadata of checkpoint `id` of job `jobId` with the given subtasks; times from `id`. */
export function makeMeta(jobId: string, id: number, subtasks: SubtaskState[], kind: 'checkpoint' | 'savepoint' = 'checkpoint'): CheckpointMetadata {
  return {
    jobId,
    checkpointId: id,
    kind,
    mode: 'exactly-once',
    triggeredAt: 1_700_000_000_000 + id * 1000,
    completedAt: 1_700_000_000_000 + id * 1000 + 250,
    planFingerprint: 'fp-1',
    parallelism: { src: 2, count: Math.max(1, subtasks.length) },
    maxParallelism: { src: 128, count: 128 },
    vertices: [{ uids: ['src'] }, { uids: ['count'] }, { uids: ['sink'] }],
    subtasks,
    coordinatorState: { src: { pending: [] } },
    stats: { durationMs: 250, syncMs: 3, asyncMs: 120, alignmentMs: 7, bytesWritten: 0, fullSizeBytes: 0 },
  };
}

/** One subtask state whose keyed state is the given LSM segments (name, size). */
export function lsmSubtask(subtaskIndex: number, segments: { name: string; sizeBytes: number }[], position = subtaskIndex * 10): SubtaskState {
  return { vertex: 1, subtaskIndex, operatorState: { src: { offset: position, file: 'a.txt' } }, keyedState: { kind: 'lsm', segments } };
}

/**
 * `count` real segment files, written by LsmStore into `dir` (distinct contents, about
 * 50 KiB each). Returns their paths, oldest first.
 */
export function makeRealSegments(dir: string, count: number, keysPerSegment = 1000): string[] {
  const store = LsmStore.open(dir, { memtableSizeBytes: 4 * 1024 * 1024, fsync: false });
  for (let s = 0; s < count; s++) {
    for (let i = 0; i < keysPerSegment; i++) store.put(Uint8Array.of(0, s, i >> 8, i & 0xff), new Uint8Array(40).fill((i + s) % 251));
    store.freeze();
    store.flushAll();
  }
  const names = store.liveSegments();
  store.close();
  if (names.length !== count) throw new Error(`expected ${count} segments, store has ${names.length}`);
  return names.map((n) => path.join(dir, n));
}

/** Writes a fake immutable local file of `size` bytes (content from `seed`); returns its path. */
export function writeFakeFile(dir: string, name: string, size: number, seed: number): string {
  const file = path.join(dir, name);
  const bytes = new Uint8Array(size);
  for (let i = 0; i < size; i++) bytes[i] = (seed * 31 + i * 7) & 0xff;
  fs.writeFileSync(file, bytes);
  return file;
}

export function flipByte(file: string, offset: number): void {
  const bytes = fs.readFileSync(file);
  bytes[offset]! ^= 0x5a;
  fs.writeFileSync(file, bytes);
}

export function truncateBy(file: string, bytes: number): void {
  fs.truncateSync(file, fs.statSync(file).size - bytes);
}

/** The value `fn` throws (fails the caller's assertion with `undefined` if it returns). */
export function thrown(fn: () => unknown): any {
  try {
    fn();
  } catch (e) {
    return e;
  }
  return undefined;
}

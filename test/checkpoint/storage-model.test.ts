/**
 * Model-based: a seeded random run of checkpoints whose subtasks add, compact and share
 * segment files (fake ones and real LSM segments), complete, prune with random retained
 * counts and in-flight pins, and restart the storage, checked after every prune against a
 * simple reference: the files every retained checkpoint (and the in-flight one) needs
 * exist, everything else in shared/ is gone, and every retained checkpoint loads.
 */
import t, { type Test } from 'tap';
import fs from 'node:fs';
import path from 'node:path';
import { CheckpointStorage, type SharedFileRef, type SubtaskState } from '../../src/checkpoint/index.js';
import { makeMeta, makeRealSegments, seededRandom, tempDir, testSeed, writeFakeFile } from './helpers.js';

interface LocalFile extends SharedFileRef {
  source: string;
}

interface ModelCheckpoint {
  id: number;
  kind: 'checkpoint' | 'savepoint';
  files: Set<string>;
}

const parallelism = 3;
const steps = 30;

function runModel(t: Test, seed: number): void {
  const rand = seededRandom(seed);
  const root = tempDir(t, 'chk-model');
  const local = path.join(root, 'local');
  fs.mkdirSync(local);
  const real = makeRealSegments(path.join(root, 'lsm'), 3, 300);
  const checkpointDir = path.join(root, 'checkpoints');
  let storage = CheckpointStorage.open(checkpointDir, 'job-m');
  const live: LocalFile[][] = Array.from({ length: parallelism }, () => []);
  let fileSeq = 0;
  let realUsed = 0;
  let retainedModel: ModelCheckpoint[] = [];
  let present = new Set<string>();

  const newFake = (s: number): LocalFile => {
    const name = `v1-s${s}-${String(++fileSeq).padStart(6, '0')}.bin`;
    const sizeBytes = 1 + Math.floor(rand() * 4000);
    return { name, sizeBytes, source: writeFakeFile(local, name, sizeBytes, fileSeq) };
  };

  const prune = (inFlight: Set<string>): void => {
    const retained = 1 + Math.floor(rand() * 4);
    const result = storage.prune(retained, inFlight);
    const checkpoints = retainedModel.filter((c) => c.kind === 'checkpoint');
    const dropped = checkpoints.slice(0, Math.max(0, checkpoints.length - retained));
    retainedModel = retainedModel.filter((c) => !dropped.includes(c));
    const needed = new Set(inFlight);
    for (const c of retainedModel) for (const f of c.files) needed.add(f);
    const expectedDeleted = [...present].filter((f) => !needed.has(f)).sort();
    present = new Set([...present].filter((f) => needed.has(f)));
    t.same(result.deletedCheckpoints, dropped.map((c) => c.id), `prune(${retained}) deletes the older checkpoints`);
    t.same(result.deletedFiles, expectedDeleted, `prune(${retained}) deletes exactly the unreferenced files`);
    t.same(fs.readdirSync(storage.sharedDir).sort(), [...present].sort(), 'shared/ holds exactly what retained and in-flight checkpoints need');
    const chkDirs = fs.readdirSync(storage.jobDir).filter((e) => e.startsWith('chk-')).sort();
    t.same(chkDirs, retainedModel.map((c) => `chk-${c.id}`).sort(), 'only retained checkpoint dirs remain');
    for (const c of retainedModel) t.equal(storage.load(c.id).checkpointId, c.id, `retained checkpoint ${c.id} loads and verifies`);
  };

  for (let id = 1; id <= steps; id++) {
    for (let s = 0; s < parallelism; s++) {
      const files = live[s]!;
      if (rand() < 0.6) files.push(newFake(s));
      if (files.length >= 2 && rand() < 0.3) {
        const at = Math.floor(rand() * (files.length - 1));
        files.splice(at, 2, newFake(s)); // a compaction replaces two adjacent segments
      }
      if (s === 0 && realUsed < real.length && rand() < 0.3) {
        const source = real[realUsed++]!;
        files.push({ name: `real-${path.basename(source)}`, sizeBytes: fs.statSync(source).size, source });
      }
    }
    let bytesWritten = 0;
    let expectedWritten = 0;
    const files = new Set<string>();
    for (const f of live.flat()) {
      if (!present.has(f.name)) expectedWritten += f.sizeBytes;
      bytesWritten += storage.putShared(f.source, f.name);
      present.add(f.name);
      files.add(f.name);
    }
    const subtasks: SubtaskState[] = live.map((segs, i) => ({
      vertex: 1,
      subtaskIndex: i,
      operatorState: { src: { offset: id * 100 + i } },
      keyedState: { kind: 'lsm', segments: segs.map(({ name, sizeBytes }) => ({ name, sizeBytes })) },
    }));
    if (rand() < 0.5) {
      const heap = `heap-v2-s0-${id}.bin`;
      bytesWritten += storage.writeShared(heap, new Uint8Array(17 + id).fill(id));
      expectedWritten += 17 + id;
      present.add(heap);
      files.add(heap);
      subtasks.push({ vertex: 2, subtaskIndex: 0, operatorState: {}, keyedState: { kind: 'heap', file: { name: heap, sizeBytes: 17 + id } } });
    }
    t.equal(bytesWritten, expectedWritten, `checkpoint ${id} writes only files no earlier checkpoint put`);
    if (rand() < 0.25) prune(files); // a checkpoint in progress pins its files
    const kind = rand() < 0.1 ? 'savepoint' : 'checkpoint';
    const meta = makeMeta('job-m', id, subtasks, kind);
    meta.stats.bytesWritten = bytesWritten;
    storage.complete(meta);
    retainedModel.push({ id, kind, files });
    if (rand() < 0.5) prune(new Set());
    if (rand() < 0.15) storage = CheckpointStorage.open(checkpointDir, 'job-m'); // a restart: counts come from metadata
  }
  prune(new Set());
  t.ok(realUsed > 0 || real.length === 0, 'the run used real LSM segments');
  t.equal(storage.latestRestorable()?.checkpointId, steps, 'the newest checkpoint is restorable');
}

for (const fallback of [1, 2, 3]) {
  const seed = testSeed(fallback * 7919);
  t.test(`random checkpoints, retention and restarts match the reference (seed ${seed}; replay with SLUICE_SEED=${seed})`, async (t) => {
    runModel(t, seed);
  });
}

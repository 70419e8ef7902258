// Segment verification on worker threads for restores (src/checkpoint/parallel-verify.ts):
// the same verdicts as the main-thread check, and the restore paths (latestRestorable,
// loadSavepoint) use them instead of decoding again, still checking presence and size.
import t, { type Test } from 'tap';
import fs from 'node:fs';
import path from 'node:path';
import { CheckpointStorage, CorruptCheckpointError, CorruptSavepointError, loadSavepoint, savepointSegmentFiles, verifySegmentsInParallel, writeSavepoint } from '../../src/checkpoint/index.js';
import { flipByte, lsmSubtask, makeMeta, makeRealSegments, tempDir, thrown } from './helpers.js';

function segments(t: Test, count: number) {
  const dir = tempDir(t, 'pverify');
  return { dir, files: makeRealSegments(path.join(dir, 'lsm'), count, 400).map((p) => ({ path: p, sizeBytes: fs.statSync(p).size })) };
}

t.test('worker threads give the verdicts of the main thread: intact, damaged (with its reason), unreadable left out', async (t) => {
  const { files } = segments(t, 4);
  flipByte(files[1]!.path, 3000);
  const missing = { path: `${files[0]!.path}.gone`, sizeBytes: 10 };
  const onThreads = await verifySegmentsInParallel([...files, missing, files[0]!], { threads: 2, minBytes: 0 });
  const inline = await verifySegmentsInParallel([...files, missing], { minBytes: Number.MAX_SAFE_INTEGER });
  t.same([...onThreads.entries()].sort(), [...inline.entries()].sort(), 'the same verdicts either way');
  t.equal(onThreads.size, 4, 'each readable file once; the missing one left out');
  t.equal(onThreads.get(files[0]!.path), undefined);
  t.match(onThreads.get(files[1]!.path), /^fails segment verification: block at offset \d+ fails CRC32/);
  t.ok(onThreads.has(files[2]!.path) && onThreads.get(files[2]!.path) === undefined);
});

t.test('latestRestorable and loadSavepoint take the verdicts, and still check presence and sizes', async (t) => {
  const root = tempDir(t, 'pverify-restore');
  const [a, b] = makeRealSegments(path.join(root, 'lsm'), 2, 400);
  const storage = CheckpointStorage.open(path.join(root, 'ck'), 'job-pv');
  const ref = (source: string, name: string) => (storage.putShared(source, name), { name, sizeBytes: fs.statSync(source).size });
  const ra = ref(a!, 'a.seg');
  storage.complete(makeMeta(storage.jobId, 1, [lsmSubtask(0, [ra])]));
  const rb = ref(b!, 'b.seg');
  storage.complete(makeMeta(storage.jobId, 2, [lsmSubtask(0, [ra, rb])]));
  const newest = storage.newestSegmentFiles();
  t.same(newest.map((f) => path.basename(f.path)).sort(), ['a.seg', 'b.seg'], 'the newest checkpoint\'s segments');
  // A verdict of damage (as a worker would find it) makes the newest checkpoint unusable.
  const verdicts = new Map([[path.join(storage.sharedDir, 'b.seg'), 'fails segment verification: made up by the test']]);
  const skipped: string[] = [];
  const checked = CheckpointStorage.open(storage.checkpointDir, storage.jobId, { verified: verdicts });
  t.equal(checked.latestRestorable((id, reason) => skipped.push(`${id}: ${reason}`))?.checkpointId, 1, 'falls back to checkpoint 1');
  t.same(skipped, ['2: shared/b.seg fails segment verification: made up by the test']);
  t.throws(() => checked.load(2), CorruptCheckpointError);

  const sp = writeSavepoint(storage.load(2), storage.sharedDir, path.join(root, 'sp'));
  const spFiles = savepointSegmentFiles(sp);
  t.same(spFiles.map((f) => path.basename(f.path)).sort(), ['a.seg', 'b.seg']);
  const ok = await verifySegmentsInParallel(spFiles, { threads: 2, minBytes: 0 });
  t.equal(loadSavepoint(sp, { verified: ok }).meta.checkpointId, 2, 'intact verdicts: loads');
  fs.truncateSync(spFiles[0]!.path, 100);
  const e = thrown(() => loadSavepoint(sp, { verified: ok }));
  t.ok(e instanceof CorruptSavepointError, 'a verdict does not excuse a wrong size');
  t.match(e.message, /is 100 bytes, expected \d+ \(truncated\)/);
  t.same(savepointSegmentFiles(path.join(root, 'nowhere')), [], 'not a savepoint: nothing to verify');
});

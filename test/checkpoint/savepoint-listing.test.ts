/**
 * Savepoints recorded in the job folder: recordSavepoint appends absolute paths durably
 * (file fsynced, job folder fsynced when the file is new; a torn last line is skipped and
 * not glued to the next); describeCheckpointDir and `sluice checkpoints` list recorded
 * savepoints wherever they were written, once each, newest first, and a recorded one that
 * is gone as an invalid row instead of an error.
 */
import t, { type Test } from 'tap';
import fs from 'node:fs';
import path from 'node:path';
import { CheckpointStorage, describeCheckpointDir, writeSavepoint, type FsCalls } from '../../src/checkpoint/index.js';
import { formatCheckpoints } from '../../src/cli/checkpoints.js';
import { lsmSubtask, makeMeta, tempDir, thrown, writeFakeFile } from './helpers.js';

/** Job 'job-list-1' with checkpoints 1 and 2 (one shared file each); a folder `elsewhere/` for savepoints. */
function build(t: Test) {
  const root = tempDir(t, 'savepoint-listing');
  const local = path.join(root, 'local');
  fs.mkdirSync(local);
  const storage = CheckpointStorage.open(path.join(root, 'checkpoints'), 'job-list-1');
  for (const id of [1, 2]) {
    const name = `f${id}.bin`;
    storage.putShared(writeFakeFile(local, name, 100 * id, id), name);
    storage.complete(makeMeta(storage.jobId, id, [lsmSubtask(0, [{ name, sizeBytes: 100 * id }])]));
  }
  return { root, storage, elsewhere: path.join(root, 'elsewhere'), savepointsFile: path.join(storage.jobDir, 'savepoints') };
}

t.test('recordSavepoint appends one absolute path a line, resolving relative ones', async (t) => {
  const { storage, savepointsFile } = build(t);
  storage.recordSavepoint('/sp/savepoint-job-list-1-2-aaaaaa');
  storage.recordSavepoint('rel/savepoint-job-list-1-3-bbbbbb');
  t.equal(fs.readFileSync(savepointsFile, 'utf8'), `/sp/savepoint-job-list-1-2-aaaaaa\n${path.resolve('rel/savepoint-job-list-1-3-bbbbbb')}\n`);
  t.ok(thrown(() => storage.recordSavepoint('')) instanceof TypeError);
  t.ok(thrown(() => storage.recordSavepoint('/sp/a\nb')) instanceof RangeError);
  t.equal(fs.readFileSync(savepointsFile, 'utf8').split('\n').length, 3, 'bad paths append nothing');
});

t.test('recordSavepoint fsyncs the file every time and the job folder when it creates the file', async (t) => {
  const root = tempDir(t, 'savepoint-listing');
  const synced: string[] = [];
  const fdPaths = new Map<number, string>();
  const calls: FsCalls = {
    ...fs,
    openSync: ((p: fs.PathLike, flags: fs.OpenMode) => {
      const fd = fs.openSync(p, flags);
      fdPaths.set(fd, path.basename(String(p)));
      return fd;
    }) as FsCalls['openSync'],
    fsyncSync: (fd: number) => {
      synced.push(fdPaths.get(fd) ?? `fd${fd}`);
      fs.fsyncSync(fd);
    },
  };
  const storage = CheckpointStorage.open(path.join(root, 'checkpoints'), 'job-sync', { fs: calls });
  synced.length = 0;
  storage.recordSavepoint('/sp/one');
  t.same(synced, ['savepoints', 'job-sync'], 'content, then the new directory entry');
  synced.length = 0;
  storage.recordSavepoint('/sp/two');
  t.same(synced, ['savepoints'], 'an append to an existing file syncs only the file');
});

t.test('a torn last line (crash mid-append) is skipped and the next record starts on a new line', async (t) => {
  const { storage, elsewhere, savepointsFile } = build(t);
  const sp = writeSavepoint(storage.load(2), storage.sharedDir, elsewhere);
  fs.writeFileSync(savepointsFile, `${sp}\n/sp/savepoint-job-li`);
  t.same(describeCheckpointDir(storage.checkpointDir).filter((r) => r.savepoint !== undefined).map((r) => r.savepoint), [sp], 'the torn line is not listed');
  storage.recordSavepoint(sp);
  t.equal(fs.readFileSync(savepointsFile, 'utf8'), `${sp}\n/sp/savepoint-job-li\n${sp}\n`);
  fs.appendFileSync(savepointsFile, '\nnot/absolute\n');
  t.equal(describeCheckpointDir(storage.checkpointDir).filter((r) => r.savepoint !== undefined).length, 2, 'the closed torn line shows as gone; blank and relative lines are skipped');
});

t.test('describeCheckpointDir lists recorded savepoints wherever they are, once each, newest first', async (t) => {
  const { storage, elsewhere } = build(t);
  const older = writeSavepoint(storage.load(1), storage.sharedDir, elsewhere);
  const newer = writeSavepoint(storage.load(2), storage.sharedDir, storage.checkpointDir); // also found directly under the root
  for (const sp of [older, newer, older]) storage.recordSavepoint(sp);
  const rows = describeCheckpointDir(storage.checkpointDir);
  t.same(rows.map((r) => [r.jobId, r.savepoint]), [
    ['job-list-1', undefined],
    ['job-list-1', newer],
    ['job-list-1', older],
  ]);
  t.match(rows[2]!.checkpoints, [{ checkpointId: 1, kind: 'savepoint', path: older }]);
  t.same(rows[2]!.invalid, []);
  t.same(describeCheckpointDir(storage.jobDir).map((r) => r.savepoint), [undefined, newer, older], 'listing the job folder itself shows its recorded savepoints too');
  t.same(CheckpointStorage.jobsToResume(storage.checkpointDir), ['job-list-1'], 'the savepoints file makes no job');
});

t.test('a recorded savepoint that was moved or deleted is an invalid row, not an error', async (t) => {
  const { storage, elsewhere, savepointsFile } = build(t);
  const kept = writeSavepoint(storage.load(2), storage.sharedDir, elsewhere);
  const gone = writeSavepoint(storage.load(1), storage.sharedDir, elsewhere);
  const incomplete = path.join(elsewhere, 'savepoint-job-list-1-5-cccccc');
  fs.mkdirSync(path.join(incomplete, 'files'), { recursive: true });
  for (const sp of [kept, gone, incomplete, '/nowhere/not-a-savepoint-name']) storage.recordSavepoint(sp);
  fs.rmSync(gone, { recursive: true });
  const rows = describeCheckpointDir(storage.checkpointDir).filter((r) => r.savepoint !== undefined);
  t.equal(rows[0]!.savepoint, kept, 'the valid one first');
  t.same(rows.slice(1).map((r) => r.savepoint), ['/nowhere/not-a-savepoint-name', gone, incomplete].sort(), 'then the invalid ones, by path');
  const byPath = new Map(rows.map((r) => [r.savepoint, r]));
  t.same(byPath.get(gone)!.invalid, [{ checkpointId: 1, reason: `moved or deleted since it was written (recorded in ${savepointsFile})` }]);
  t.equal(byPath.get(gone)!.jobId, 'job-list-1');
  t.same(byPath.get('/nowhere/not-a-savepoint-name')!.invalid, [{ checkpointId: -1, reason: `moved or deleted since it was written (recorded in ${savepointsFile})` }]);
  t.match(byPath.get(incomplete)!.invalid, [{ checkpointId: 5, reason: /^_metadata is missing/ }]);

  const text = formatCheckpoints(describeCheckpointDir(storage.checkpointDir));
  t.match(text, new RegExp(`Savepoint ${kept} \\(job job-list-1\\)\nid +kind +completed.*\n2 +savepoint `));
  t.match(text, `Savepoint ${gone} (job job-list-1)\n  savepoint of checkpoint 1 is unusable: moved or deleted since it was written (recorded in ${savepointsFile})`);
  t.match(text, `Savepoint /nowhere/not-a-savepoint-name (job job-list-1)\n  savepoint is unusable: moved or deleted`);
  t.match(text, `Savepoint ${incomplete} (job job-list-1)\n  savepoint of checkpoint 5 is unusable: _metadata is missing`);
});

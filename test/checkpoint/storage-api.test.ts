/**
 * The storage's boundary: argument validation with named values, open() failures as
 * usage errors, shared-name immutability, complete() refusing incomplete or repeated
 * checkpoints, savepoints surviving retention, and the listings for --resume and
 * `sluice checkpoints`.
 */
import t from 'tap';
import fs from 'node:fs';
import path from 'node:path';
import { CheckpointStorage, describeCheckpointDir, writeJobStatus } from '../../src/checkpoint/index.js';
import { lsmSubtask, makeMeta, tempDir, thrown, writeFakeFile } from './helpers.js';

t.test('open() makes the layout; bad arguments and unusable dirs are named', async (t) => {
  const root = tempDir(t, 'chk-api');
  const storage = CheckpointStorage.open(path.join(root, 'cp'), 'job-1');
  t.ok(fs.statSync(path.join(root, 'cp', 'job-1', 'shared')).isDirectory());
  t.ok(fs.statSync(path.join(root, 'cp', 'job-1', 'taskowned')).isDirectory());
  t.equal(storage.sharedDir, path.join(root, 'cp', 'job-1', 'shared'));
  fs.writeFileSync(path.join(root, 'file'), 'x');
  const e = thrown(() => CheckpointStorage.open(path.join(root, 'file'), 'job-1'));
  t.equal(e?.name, 'UsageError');
  t.match(e?.message, new RegExp(`Cannot use checkpoint directory ${root}/file for job job-1: .*; pass a writable checkpoint directory$`));
  t.throws(() => CheckpointStorage.open(root, '../x'), { name: 'RangeError', message: /jobId "\.\.\/x"/ });
  t.throws(() => CheckpointStorage.open('', 'job'), { name: 'TypeError', message: /checkpointDir/ });
  t.throws(() => storage.sharedPath('a/b'), RangeError);
  t.throws(() => storage.writeShared('x.bin', 'text' as unknown as Uint8Array), TypeError);
});

t.test('putShared(): names are immutable; missing sources are named', async (t) => {
  const root = tempDir(t, 'chk-api');
  const storage = CheckpointStorage.open(root, 'job-1');
  const a = writeFakeFile(root, 'a.bin', 50, 1);
  t.equal(storage.putShared(a, 'x.bin'), 50);
  t.equal(storage.putShared(a, 'x.bin'), 0);
  t.throws(() => storage.putShared(writeFakeFile(root, 'b.bin', 60, 2), 'x.bin'), /shared\/x\.bin already holds 50 bytes but .*b\.bin has 60: shared files are immutable/);
  t.throws(() => storage.putShared(path.join(root, 'gone.bin'), 'y.bin'), /gone\.bin into shared\/y\.bin: the source file does not exist/);
  fs.unlinkSync(a);
  t.equal(storage.putShared(a, 'x.bin'), 0, 'source compacted away, shared copy there: nothing to do');
  t.throws(() => storage.putShared(a, 'z.tmp'), RangeError);
});

t.test('complete() refuses missing files, wrong sizes, another job, repeated ids, bad metadata', async (t) => {
  const root = tempDir(t, 'chk-api');
  const storage = CheckpointStorage.open(root, 'job-1');
  storage.putShared(writeFakeFile(root, 'a.bin', 50, 1), 'a.bin');
  t.throws(() => storage.complete(makeMeta('job-1', 1, [lsmSubtask(0, [{ name: 'b.bin', sizeBytes: 5 }])])), /Cannot complete checkpoint 1: shared\/b\.bin does not exist, metadata says 5 bytes/);
  t.throws(() => storage.complete(makeMeta('job-1', 1, [lsmSubtask(0, [{ name: 'a.bin', sizeBytes: 5 }])])), /shared\/a\.bin has 50 bytes, metadata says 5/);
  t.throws(() => storage.complete(makeMeta('job-2', 1, [])), { name: 'RangeError', message: /meta\.jobId "job-2" is not this storage's job "job-1"/ });
  const meta = makeMeta('job-1', 1, [lsmSubtask(0, [{ name: 'a.bin', sizeBytes: 50 }])]);
  t.equal(storage.complete(meta), path.join(storage.jobDir, 'chk-1', '_metadata'));
  t.throws(() => storage.complete(meta), /checkpoint 1 of job job-1 is already complete/);
  t.throws(() => storage.complete({ ...meta, checkpointId: 2, subtasks: [{ vertex: -1 }] } as never), { name: 'RangeError', message: /meta\.subtasks\[0\]\.vertex/ });
  t.same(storage.list().valid.map((s) => s.checkpointId), [1], 'refused checkpoints leave nothing');
  const [summary] = storage.list().valid;
  t.same(summary, { checkpointId: 1, kind: 'checkpoint', completedAt: meta.completedAt, stats: meta.stats, parallelism: meta.parallelism, path: path.join(storage.jobDir, 'chk-1') });
});

t.test('prune(): savepoints and their files are never deleted; arguments are checked', async (t) => {
  const root = tempDir(t, 'chk-api');
  const storage = CheckpointStorage.open(root, 'job-1');
  const put = (name: string, seed: number) => {
    storage.putShared(writeFakeFile(root, name, 10 + seed, seed), name);
    return { name, sizeBytes: 10 + seed };
  };
  storage.complete(makeMeta('job-1', 1, [lsmSubtask(0, [put('s1.bin', 1)])]));
  storage.complete(makeMeta('job-1', 2, [lsmSubtask(0, [put('s2.bin', 2)])], 'savepoint'));
  storage.complete(makeMeta('job-1', 3, [lsmSubtask(0, [put('s3.bin', 3)])]));
  storage.complete(makeMeta('job-1', 4, [lsmSubtask(0, [put('s4.bin', 4)])]));
  t.same(storage.prune(1), { deletedCheckpoints: [1, 3], deletedFiles: ['s1.bin', 's3.bin'] });
  t.same(storage.list().valid.map((s) => `${s.checkpointId}:${s.kind}`), ['2:savepoint', '4:checkpoint']);
  t.throws(() => storage.prune(0), { name: 'RangeError', message: /retained must be an integer >= 1, got 0/ });
  t.throws(() => storage.prune(1, ['x'] as never), TypeError);
});

t.test('jobsToResume and describeCheckpointDir list jobs newest first, with invalid checkpoints', async (t) => {
  const root = tempDir(t, 'chk-api');
  const job = (jobId: string, ids: number[], completedAt: number) => {
    const s = CheckpointStorage.open(root, jobId);
    for (const id of ids) s.complete({ ...makeMeta(jobId, id, []), triggeredAt: completedAt - 10, completedAt: completedAt + id });
    return s;
  };
  job('old', [1, 2], 1000);
  job('new', [5], 2000);
  const broken = job('broken', [], 0);
  fs.mkdirSync(path.join(broken.jobDir, 'chk-3'));
  job('empty', [], 0);
  t.same(CheckpointStorage.jobsToResume(root), ['new', 'old', 'broken', 'empty'], 'folders without a completed checkpoint too, after those with one');
  t.same(CheckpointStorage.jobsToResume(path.join(root, 'nope')), []);
  t.same([broken.completedCheckpointIds(), CheckpointStorage.open(root, 'old').completedCheckpointIds()], [[], [1, 2]], 'a chk-<n> without _metadata never completed');
  const rows = describeCheckpointDir(root);
  t.same(rows.map((r) => r.jobId), ['new', 'old', 'broken', 'empty']);
  t.same(rows[1]!.checkpoints.map((c) => c.checkpointId), [1, 2]);
  t.match(rows[2]!.invalid, [{ checkpointId: 3, reason: /chk-3\/_metadata is missing/ }]);
  const one = describeCheckpointDir(path.join(root, 'old'));
  t.same(one.map((r) => r.jobId), ['old'], 'a job dir itself');
  t.equal(thrown(() => describeCheckpointDir(path.join(root, 'nope')))?.name, 'UsageError');
});

t.test('jobsToResume puts the job of the latest run first, also one killed before its first checkpoint', async (t) => {
  const root = tempDir(t, 'chk-resume');
  const finished = CheckpointStorage.open(root, 'finished');
  finished.complete({ ...makeMeta('finished', 1, []), triggeredAt: 990, completedAt: 1000 });
  writeJobStatus(root, 'finished', { state: 'FINISHED', startedAt: 900, endedAt: 1100 });
  CheckpointStorage.open(root, 'killed-early');
  writeJobStatus(root, 'killed-early', { state: 'RUNNING', startedAt: 1200 });
  CheckpointStorage.open(root, 'legacy');
  fs.mkdirSync(path.join(root, 'savepoint-finishe-1-abcdef', 'files'), { recursive: true });
  t.same(CheckpointStorage.jobsToResume(root), ['killed-early', 'finished', 'legacy'], 'newest start or end first; a folder without a record last; no savepoint');
  writeJobStatus(root, 'finished', { state: 'RUNNING', startedAt: 1300 });
  t.same(CheckpointStorage.jobsToResume(root)[0], 'finished', 'a later run of the other job');
  fs.writeFileSync(path.join(root, 'killed-early', 'job-status'), '{"state":"RUNNING"}\n');
  t.same(CheckpointStorage.jobsToResume(root), ['finished', 'killed-early', 'legacy'], 'a record without its time counts as none');
});

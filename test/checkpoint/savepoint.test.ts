/**
 * Savepoints: written from a real checkpoint (fake files, a heap snapshot file and real
 * LSM segments), moved elsewhere and loaded there, still loading once the job directory
 * is gone; damaged ones (metadata, segment, missing file) give named errors; paths that
 * are not savepoints give a UsageError saying what a savepoint folder holds; a crash at
 * any fs call of writeSavepoint never leaves a savepoint that looks complete.
 */
import t, { type Test } from 'tap';
import fs from 'node:fs';
import path from 'node:path';
import {
  CheckpointStorage,
  CorruptCheckpointError,
  CorruptSavepointError,
  describeCheckpointDir,
  loadSavepoint,
  writeSavepoint,
  type CheckpointMetadata,
  type FsCalls,
} from '../../src/checkpoint/index.js';
import { formatCheckpoints } from '../../src/cli/checkpoints.js';
import { flipByte, lsmSubtask, makeMeta, makeRealSegments, tempDir, thrown, truncateBy, writeFakeFile } from './helpers.js';

interface Built {
  root: string;
  storage: CheckpointStorage;
  meta: CheckpointMetadata;
  /** Bytes of every referenced file, by name, as checkpointed. */
  contents: Map<string, Buffer>;
}

/** Job 'job-savepoint-1', checkpoints 1 and 2; 2 references real-a.seg, real-b.seg, f1.bin and heap.snap. */
function build(t: Test): Built {
  const root = tempDir(t, 'savepoint');
  const [a, b] = makeRealSegments(path.join(root, 'lsm'), 2, 400);
  const local = path.join(root, 'local');
  fs.mkdirSync(local);
  const storage = CheckpointStorage.open(path.join(root, 'checkpoints'), 'job-savepoint-1');
  const contents = new Map<string, Buffer>();
  const put = (source: string, name: string) => {
    storage.putShared(source, name);
    contents.set(name, fs.readFileSync(source));
    return { name, sizeBytes: fs.statSync(source).size };
  };
  const ra = put(a!, 'real-a.seg');
  const f1 = put(writeFakeFile(local, 'f1.bin', 300, 1), 'f1.bin');
  storage.complete(makeMeta(storage.jobId, 1, [lsmSubtask(0, [ra, f1])]));
  const rb = put(b!, 'real-b.seg');
  const heap = put(writeFakeFile(local, 'heap.snap', 900, 2), 'heap.snap');
  const heapSubtask = { vertex: 2, subtaskIndex: 1, operatorState: {}, keyedState: { kind: 'heap' as const, file: heap } };
  storage.complete(makeMeta(storage.jobId, 2, [lsmSubtask(0, [ra, rb, f1]), heapSubtask]));
  return { root, storage, meta: storage.load(2), contents };
}

function checkFiles(t: Test, built: Built, loaded: { meta: CheckpointMetadata; filesDir: string }): void {
  for (const s of loaded.meta.subtasks) {
    const k = s.keyedState!;
    for (const ref of k.kind === 'lsm' ? k.segments : [k.file]) {
      const bytes = fs.readFileSync(path.join(loaded.filesDir, ref.name));
      t.equal(bytes.length, ref.sizeBytes, `${ref.name} has its recorded size`);
      t.ok(bytes.equals(built.contents.get(ref.name)!), `${ref.name} has the checkpointed bytes`);
    }
  }
}

t.test('a savepoint is self-contained: it loads after a move and after the job directory is deleted', async (t) => {
  const built = build(t);
  const { root, storage, meta } = built;
  const target = path.join(root, 'savepoints', 'nested');
  const sp = writeSavepoint(meta, storage.sharedDir, target);
  t.ok(path.isAbsolute(sp));
  t.equal(path.dirname(sp), target, 'the target directory is created');
  t.match(path.basename(sp), /^savepoint-job-save-2-[0-9a-f]{6}$/);
  t.same(fs.readdirSync(sp).sort(), ['_metadata', 'files']);
  t.same(fs.readdirSync(path.join(sp, 'files')).sort(), ['f1.bin', 'heap.snap', 'real-a.seg', 'real-b.seg'], 'each file once');

  const first = loadSavepoint(sp);
  t.same(first.meta, { ...meta, kind: 'savepoint' }, 'same metadata, kind savepoint');
  t.equal(first.filesDir, path.join(sp, 'files'));

  const moved = path.join(root, 'elsewhere', 'renamed-by-hand');
  fs.mkdirSync(path.dirname(moved));
  fs.renameSync(sp, moved);
  t.same(storage.prune(1), { deletedCheckpoints: [1], deletedFiles: [] }, 'prune of the job never looks at savepoints');
  fs.rmSync(storage.jobDir, { recursive: true });
  const loaded = loadSavepoint(moved);
  t.equal(loaded.filesDir, path.join(moved, 'files'), 'filesDir follows the folder');
  t.equal(loaded.meta.kind, 'savepoint');
  checkFiles(t, built, loaded);
  t.same(loadSavepoint(path.join(moved, '_metadata')).meta, loaded.meta, 'its _metadata file is accepted as the path');

  const again = writeSavepoint(loaded.meta, loaded.filesDir, path.join(root, 'savepoints'));
  checkFiles(t, built, loadSavepoint(again));
  t.not(path.basename(again), path.basename(sp), 'a second savepoint of the same checkpoint gets another folder');
});

t.test('files are copied when hard links fail (EXDEV)', async (t) => {
  const built = build(t);
  const calls: FsCalls = {
    ...fs,
    linkSync: () => {
      throw Object.assign(new Error('EXDEV: cross-device link not permitted'), { code: 'EXDEV' });
    },
  };
  const sp = writeSavepoint(built.meta, built.storage.sharedDir, path.join(built.root, 'sp'), { fs: calls });
  const seg = path.join(sp, 'files', 'real-a.seg');
  t.not(fs.statSync(seg).ino, fs.statSync(built.storage.sharedPath('real-a.seg')).ino, 'a copy, not a link');
  fs.rmSync(built.storage.jobDir, { recursive: true });
  checkFiles(t, built, loadSavepoint(sp));
});

t.test('describeCheckpointDir lists savepoints under the directory, incomplete ones as invalid', async (t) => {
  const built = build(t);
  const checkpoints = built.storage.checkpointDir;
  const sp = writeSavepoint(built.meta, built.storage.sharedDir, checkpoints);
  const incomplete = path.join(checkpoints, 'savepoint-job-save-7-abcdef');
  fs.mkdirSync(path.join(incomplete, 'files'), { recursive: true });
  const rows = describeCheckpointDir(checkpoints);
  t.same(rows.map((r) => [r.jobId, r.savepoint]), [
    ['job-savepoint-1', undefined],
    ['job-savepoint-1', sp],
    ['job-save', incomplete],
  ]);
  t.same(rows[0]!.checkpoints.map((c) => c.checkpointId), [1, 2], 'job rows unchanged');
  t.match(rows[1]!.checkpoints, [{ checkpointId: 2, kind: 'savepoint', path: sp }]);
  t.match(rows[2]!.invalid, [{ checkpointId: 7, reason: /_metadata is missing \(the savepoint never completed/ }]);
  t.same(describeCheckpointDir(sp).map((r) => r.savepoint), [sp], 'a savepoint folder itself');
  t.same(CheckpointStorage.jobsToResume(checkpoints), ['job-savepoint-1'], 'savepoints are not jobs to resume');
  const text = formatCheckpoints(rows);
  t.match(text, `Savepoint ${sp} (job job-savepoint-1)`);
  t.match(text, 'checkpoint 7 is unusable: _metadata is missing');
});

/** Writes a savepoint and checks that damaging it makes loadSavepoint throw naming `rel`. */
function expectCorrupt(t: Test, damage: (sp: string) => void, rel: string, reason: RegExp): void {
  const built = build(t);
  const sp = writeSavepoint(built.meta, built.storage.sharedDir, path.join(built.root, 'sp'));
  damage(sp);
  const e = thrown(() => loadSavepoint(sp));
  t.ok(e instanceof CorruptSavepointError, `throws CorruptSavepointError: ${String(e)}`);
  t.ok(e instanceof CorruptCheckpointError, 'which is a CorruptCheckpointError');
  t.equal(e?.file, path.join(sp, rel));
  t.equal(e?.relativeFile, rel);
  t.equal(e?.checkpointId, 2);
  t.match(e?.reason, reason);
  t.equal(e?.message, `Cannot restore savepoint ${sp} (checkpoint 2): ${rel} ${e?.reason}`);
}

t.test('damaged savepoints give errors naming the file', async (t) => {
  t.test('truncated metadata', async (t) => expectCorrupt(t, (sp) => truncateBy(path.join(sp, '_metadata'), 5), '_metadata', /truncated/));
  t.test('flipped metadata byte', async (t) => expectCorrupt(t, (sp) => flipByte(path.join(sp, '_metadata'), 20), '_metadata', /fails CRC32/));
  t.test('truncated segment', async (t) => expectCorrupt(t, (sp) => truncateBy(path.join(sp, 'files', 'real-b.seg'), 100), 'files/real-b.seg', /expected \d+ \(truncated\)/));
  t.test('flipped segment byte', async (t) => expectCorrupt(t, (sp) => flipByte(path.join(sp, 'files', 'real-a.seg'), 40), 'files/real-a.seg', /fails segment verification/));
  t.test('missing file', async (t) => expectCorrupt(t, (sp) => fs.unlinkSync(path.join(sp, 'files', 'heap.snap')), 'files/heap.snap', /is missing/));
  t.test('missing metadata', async (t) => expectCorrupt(t, (sp) => fs.unlinkSync(path.join(sp, '_metadata')), '_metadata', /never completed/));
});

t.test('a path that is not a savepoint gives a UsageError saying what a savepoint folder holds', async (t) => {
  const built = build(t);
  const empty = path.join(built.root, 'empty');
  fs.mkdirSync(empty);
  const cases: [string, RegExp][] = [
    [path.join(built.root, 'nope'), /does not exist/],
    [empty, /holds neither _metadata nor files\//],
    [path.join(built.root, 'local', 'f1.bin'), /is not a directory/],
    [path.join(built.storage.jobDir, 'chk-2'), /its _metadata is of checkpoint 2/],
  ];
  for (const [p, why] of cases) {
    const e = thrown(() => loadSavepoint(p));
    t.equal(e?.name, 'UsageError', p);
    t.match(e?.message, why);
    t.match(e?.message, `${p} is not a savepoint folder`);
    t.match(e?.message, 'holds _metadata and files/');
  }
  t.equal(thrown(() => loadSavepoint(''))?.name, 'TypeError');
});

t.test('writeSavepoint refuses an unwritable target and a checkpoint whose files are gone', async (t) => {
  const built = build(t);
  const blocked = path.join(built.root, 'local', 'f1.bin', 'sp');
  const e = thrown(() => writeSavepoint(built.meta, built.storage.sharedDir, blocked));
  t.equal(e?.name, 'UsageError');
  t.match(e?.message, `Cannot write a savepoint into ${blocked}`);

  const target = path.join(built.root, 'sp');
  fs.unlinkSync(built.storage.sharedPath('real-b.seg'));
  const gone = thrown(() => writeSavepoint(built.meta, built.storage.sharedDir, target));
  t.match(gone?.message, /Cannot write a savepoint of checkpoint 2: .*real-b\.seg does not exist/);
  t.same(fs.readdirSync(target), [], 'the partial folder is removed');
  t.equal(thrown(() => writeSavepoint({ ...built.meta, checkpointId: -1 }, built.storage.sharedDir, target))?.name, 'RangeError');
});

t.test('a crash at any fs call of writeSavepoint never leaves a savepoint that looks complete', async (t) => {
  const built = build(t);
  let total = 0;
  const counting = new Proxy(fs, { get: (o, k) => (typeof (o as any)[k] === 'function' ? (...a: unknown[]) => (total++, (o as any)[k](...a)) : (o as any)[k]) });
  writeSavepoint(built.meta, built.storage.sharedDir, path.join(built.root, 'count'), { fs: counting as FsCalls });
  t.ok(total > 10, `${total} fs calls`);
  let completed = 0;
  for (let crashAt = 0; crashAt < total; crashAt++) {
    // After the crash every call fails: no cleanup runs, as when the process dies.
    let calls = 0;
    const crashing = new Proxy(fs, {
      get: (o, k) =>
        typeof (o as any)[k] === 'function'
          ? (...a: unknown[]) => {
              if (calls++ >= crashAt) throw new Error(`injected crash at call ${crashAt}`);
              return (o as any)[k](...a);
            }
          : (o as any)[k],
    });
    const target = path.join(built.root, `crash-${crashAt}`);
    const e = thrown(() => writeSavepoint(built.meta, built.storage.sharedDir, target, { fs: crashing as FsCalls }));
    t.ok(e !== undefined, `crash at ${crashAt} is reported`);
    for (const name of fs.existsSync(target) ? fs.readdirSync(target) : []) {
      const err = thrown(() => loadSavepoint(path.join(target, name)));
      if (err === undefined) {
        completed++;
        continue;
      }
      t.ok(err instanceof CorruptSavepointError && err.relativeFile === '_metadata', `crash at ${crashAt}: ${err?.message}`);
    }
  }
  t.equal(completed, 6, 'only crashes after the commit rename (in the two directory fsyncs) leave a loadable savepoint');
});

/**
 * The durability protocol, observed through the storage's fs calls: content is fsynced
 * before the rename that commits it, the directory after; hard links fall back to a
 * durable copy; a crash (an injected throw) at every single call of complete() leaves
 * either no complete checkpoint or a complete one that loads; a leftover temp metadata
 * file (killed before the rename) is never taken for a complete checkpoint.
 */
import t, { type Test } from 'tap';
import fs from 'node:fs';
import path from 'node:path';
import { CheckpointStorage, type FsCalls } from '../../src/checkpoint/index.js';
import { encodeMetadata } from '../../src/checkpoint/metadata.js';
import { lsmSubtask, makeMeta, tempDir, thrown, writeFakeFile } from './helpers.js';

type Trace = string[];

/**
 * node:fs with every call recorded as "<call> <paths relative to base>" (descriptors
 * shown as the path they were opened with); `failAt(n, name)` makes the n-th call (0-based,
 * counted from `arm()`) throw, or every call of `name` throw the given errno.
 */
function tracedFs(base: string) {
  const trace: Trace = [];
  const fdPaths = new Map<number, string>();
  let counter = -1;
  let failAt = -1;
  let failName: { name: string; code: string } | undefined;
  const rel = (p: unknown) => (typeof p === 'number' ? (fdPaths.get(p) ?? `fd${p}`) : path.relative(base, String(p)) || '.');
  const wrap =
    (name: keyof FsCalls) =>
    (...args: unknown[]): unknown => {
      if (failName?.name === name) throw Object.assign(new Error(`${name}: injected ${failName.code}`), { code: failName.code });
      if (counter >= 0 && counter++ === failAt) throw new Error(`injected crash at ${name}`);
      const shown = name === 'writeSync' || name === 'fsyncSync' || name === 'closeSync' || name === 'openSync' ? [rel(args[0])] : args.filter((a) => typeof a === 'string').map(rel);
      const result = (fs[name] as (...a: unknown[]) => unknown)(...args);
      if (name === 'openSync') fdPaths.set(result as number, rel(args[0]));
      trace.push(`${name.replace(/Sync$/, '')} ${shown.join(' ')}`.trim());
      return result;
    };
  const names = ['openSync', 'writeSync', 'fsyncSync', 'closeSync', 'renameSync', 'linkSync', 'copyFileSync', 'mkdirSync', 'readdirSync', 'statSync', 'readFileSync', 'unlinkSync', 'rmSync'] as const;
  const calls = Object.fromEntries(names.map((n) => [n, wrap(n)])) as unknown as FsCalls;
  return {
    calls,
    trace,
    arm(n: number) {
      counter = 0;
      failAt = n;
    },
    failCall(name: string, code: string) {
      failName = { name, code };
    },
  };
}

const index = (trace: Trace, entry: string): number => {
  const i = trace.indexOf(entry);
  if (i < 0) throw new Error(`trace lacks "${entry}":\n${trace.join('\n')}`);
  return i;
};

function setup(t: Test) {
  const root = tempDir(t, 'chk-durable');
  const local = path.join(root, 'local');
  fs.mkdirSync(local);
  const checkpointDir = path.join(root, 'checkpoints');
  const traced = tracedFs(path.join(checkpointDir, 'job-d'));
  const storage = CheckpointStorage.open(checkpointDir, 'job-d', { fs: traced.calls });
  return { root, local, checkpointDir, traced, storage };
}

t.test('complete(): temp file written and fsynced, renamed, then chk dir and job dir fsynced', async (t) => {
  const { local, storage, traced } = setup(t);
  storage.putShared(writeFakeFile(local, 'a.bin', 100, 1), 'a.bin');
  traced.trace.length = 0;
  storage.complete(makeMeta('job-d', 4, [lsmSubtask(0, [{ name: 'a.bin', sizeBytes: 100 }])]));
  const tr = traced.trace;
  const opened = index(tr, 'open chk-4/_metadata.tmp');
  const written = index(tr, 'write chk-4/_metadata.tmp');
  const synced = index(tr, 'fsync chk-4/_metadata.tmp');
  const renamed = index(tr, 'rename chk-4/_metadata.tmp chk-4/_metadata');
  const chkSynced = index(tr, 'fsync chk-4');
  const jobSynced = index(tr, 'fsync .');
  t.ok(opened < written && written < synced && synced < renamed, 'content durable before the commit point');
  t.ok(renamed < chkSynced && chkSynced < jobSynced, 'the rename, then the chk dir entry in the job dir, made durable');
  t.notOk(tr.some((e) => /^(open|write) chk-4\/_metadata$/.test(e)), 'the final name is never written in place');
  t.ok(index(tr, 'stat shared/a.bin') < opened, 'referenced files checked before the commit');
});

t.test('putShared(): hard link, file content fsynced, then shared/ fsynced', async (t) => {
  const { local, storage, traced } = setup(t);
  const source = writeFakeFile(local, 'seg1.bin', 300, 1);
  traced.trace.length = 0;
  t.equal(storage.putShared(source, 'seg1.bin'), 300);
  const tr = traced.trace;
  t.ok(index(tr, `link ../../local/seg1.bin shared/seg1.bin`) < index(tr, 'fsync shared/seg1.bin'));
  t.ok(index(tr, 'fsync shared/seg1.bin') < index(tr, 'fsync shared'));
  t.equal(fs.statSync(source).ino, fs.statSync(storage.sharedPath('seg1.bin')).ino, 'a link, no copy');
  t.equal(storage.putShared(source, 'seg1.bin'), 0, 'already there: nothing written');
});

t.test('putShared(): EXDEV or EPERM falls back to copy to temp, fsync, rename, fsync dir; other errors are thrown', async (t) => {
  for (const code of ['EXDEV', 'EPERM']) {
    const { local, storage, traced } = setup(t);
    const source = writeFakeFile(local, 'seg2.bin', 400, 2);
    traced.failCall('linkSync', code);
    traced.trace.length = 0;
    t.equal(storage.putShared(source, 'seg2.bin'), 400, `${code}: copied`);
    const tr = traced.trace;
    const copied = index(tr, 'copyFile ../../local/seg2.bin shared/seg2.bin.tmp');
    const synced = index(tr, 'fsync shared/seg2.bin.tmp');
    const renamed = index(tr, 'rename shared/seg2.bin.tmp shared/seg2.bin');
    t.ok(copied < synced && synced < renamed && renamed < index(tr, 'fsync shared'), `${code}: durable copy protocol`);
    t.not(fs.statSync(source).ino, fs.statSync(storage.sharedPath('seg2.bin')).ino);
    t.same(fs.readFileSync(storage.sharedPath('seg2.bin')), fs.readFileSync(source));
  }
  const { local, storage, traced } = setup(t);
  traced.failCall('linkSync', 'EACCES');
  t.throws(() => storage.putShared(writeFakeFile(local, 'x.bin', 10, 3), 'x.bin'), { code: 'EACCES' });
});

t.test('writeShared(): temp, fsync, rename, fsync shared/', async (t) => {
  const { storage, traced } = setup(t);
  traced.trace.length = 0;
  t.equal(storage.writeShared('heap-1.bin', new Uint8Array(33).fill(7)), 33);
  const tr = traced.trace;
  t.ok(index(tr, 'fsync shared/heap-1.bin.tmp') < index(tr, 'rename shared/heap-1.bin.tmp shared/heap-1.bin'));
  t.ok(index(tr, 'rename shared/heap-1.bin.tmp shared/heap-1.bin') < index(tr, 'fsync shared'));
  t.same(fs.readFileSync(storage.sharedPath('heap-1.bin')), Buffer.alloc(33, 7));
});

t.test('a crash at every fs call of complete() never leaves a checkpoint that looks complete but is not', async (t) => {
  let outcomes = { absent: 0, completeAfterCrash: 0, returned: 0 };
  for (let k = 0; ; k++) {
    const { local, checkpointDir, storage, traced } = setup(t);
    storage.putShared(writeFakeFile(local, 'a.bin', 100, 1), 'a.bin');
    storage.complete(makeMeta('job-d', 1, [lsmSubtask(0, [{ name: 'a.bin', sizeBytes: 100 }])]));
    storage.putShared(writeFakeFile(local, 'b.bin', 200, 2), 'b.bin');
    const meta2 = makeMeta('job-d', 2, [lsmSubtask(0, [{ name: 'a.bin', sizeBytes: 100 }, { name: 'b.bin', sizeBytes: 200 }])]);
    traced.arm(k);
    traced.trace.length = 0;
    const e = thrown(() => storage.complete(meta2));
    const renamed = traced.trace.includes('rename chk-2/_metadata.tmp chk-2/_metadata');
    const after = CheckpointStorage.open(checkpointDir, 'job-d'); // a restarted process
    const valid = after.list().valid.map((s) => s.checkpointId);
    if (e === undefined) {
      outcomes.returned++;
      t.same(valid, [1, 2], 'returned: complete');
      break;
    }
    t.match(e.message, /injected crash/);
    if (renamed) {
      outcomes.completeAfterCrash++;
      t.same(valid, [1, 2], `crash at call ${k} after the rename: complete`);
      t.same(after.load(2), meta2, 'and it loads intact');
    } else {
      outcomes.absent++;
      t.same(valid, [1], `crash at call ${k} before the rename: not complete`);
      t.equal(after.latestRestorable()?.checkpointId, 1);
    }
  }
  t.ok(outcomes.absent >= 5 && outcomes.completeAfterCrash >= 3 && outcomes.returned === 1, `every phase was hit: ${JSON.stringify(outcomes)}`);
});

t.test('a complete temp metadata file left by a kill before the rename is not a complete checkpoint', async (t) => {
  const { local, storage } = setup(t);
  storage.putShared(writeFakeFile(local, 'a.bin', 100, 1), 'a.bin');
  const subtasks = [lsmSubtask(0, [{ name: 'a.bin', sizeBytes: 100 }])];
  storage.complete(makeMeta('job-d', 1, subtasks));
  storage.complete(makeMeta('job-d', 2, subtasks));
  const chk3 = path.join(storage.jobDir, 'chk-3');
  fs.mkdirSync(chk3);
  fs.writeFileSync(path.join(chk3, '_metadata.tmp'), encodeMetadata(makeMeta('job-d', 3, subtasks)));
  const listing = storage.list();
  t.same(listing.valid.map((s) => s.checkpointId), [1, 2]);
  t.same(listing.invalid.map((i) => i.checkpointId), [3]);
  t.match(listing.invalid[0]?.reason, /chk-3\/_metadata is missing \(the checkpoint never completed/);
  const skipped: number[] = [];
  t.equal(storage.latestRestorable((id) => skipped.push(id))?.checkpointId, 2);
  t.same(skipped, [3]);
  t.same(storage.prune(1).deletedCheckpoints, [1], 'the newer invalid dir is kept for inspection');
  fs.mkdirSync(path.join(storage.jobDir, 'chk-0'));
  storage.complete(makeMeta('job-d', 4, subtasks));
  t.same(storage.prune(1).deletedCheckpoints, [0, 2, 3], 'invalid dirs older than the oldest kept checkpoint go');
});

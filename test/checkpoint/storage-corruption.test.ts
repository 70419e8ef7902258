/**
 * Damaged checkpoints: a truncated or flipped _metadata, a wrong magic or version, a
 * truncated or flipped segment, a deleted shared file. load() throws
 * CorruptCheckpointError naming the checkpoint, the file and the reason;
 * latestRestorable() skips to the newest checkpoint that still verifies.
 */
import t, { type Test } from 'tap';
import fs from 'node:fs';
import path from 'node:path';
import { CheckpointStorage, CorruptCheckpointError } from '../../src/checkpoint/index.js';
import { flipByte, lsmSubtask, makeMeta, makeRealSegments, tempDir, thrown, truncateBy, writeFakeFile } from './helpers.js';

/**
 * chk-1: real-a.seg, f1.bin; chk-2: real-a.seg, f1.bin, f2.bin; chk-3: real-a.seg,
 * real-b.seg, f3.bin (f1 and f2 compacted into f3). So real-b.seg and f3.bin are chk-3's
 * alone, real-a.seg is everyone's.
 */
function build(t: Test): { storage: CheckpointStorage; shared: (name: string) => string; metaFile: (id: number) => string } {
  const root = tempDir(t, 'chk-corrupt');
  const [a, b] = makeRealSegments(path.join(root, 'lsm'), 2, 400);
  const local = path.join(root, 'local');
  fs.mkdirSync(local);
  const storage = CheckpointStorage.open(path.join(root, 'checkpoints'), 'job-c');
  const put = (source: string, name: string) => {
    storage.putShared(source, name);
    return { name, sizeBytes: fs.statSync(source).size };
  };
  const ra = put(a!, 'real-a.seg');
  const f1 = put(writeFakeFile(local, 'f1.bin', 300, 1), 'f1.bin');
  storage.complete(makeMeta('job-c', 1, [lsmSubtask(0, [ra, f1])]));
  const f2 = put(writeFakeFile(local, 'f2.bin', 500, 2), 'f2.bin');
  storage.complete(makeMeta('job-c', 2, [lsmSubtask(0, [ra, f1, f2])]));
  const rb = put(b!, 'real-b.seg');
  const f3 = put(writeFakeFile(local, 'f3.bin', 700, 3), 'f3.bin');
  storage.complete(makeMeta('job-c', 3, [lsmSubtask(0, [ra, rb, f3])]));
  return { storage, shared: (n) => storage.sharedPath(n), metaFile: (id) => path.join(storage.jobDir, `chk-${id}`, '_metadata') };
}

/** Checks load(id) throws the named error and latestRestorable() lands on `fallback`. */
function expectCorrupt(t: Test, storage: CheckpointStorage, id: number, file: string, message: RegExp, fallback: number | undefined): void {
  const e = thrown(() => storage.load(id));
  t.ok(e instanceof CorruptCheckpointError, `load(${id}) throws CorruptCheckpointError`);
  t.equal(e?.checkpointId, id);
  t.equal(e?.file, file);
  t.match(e?.message, message);
  const skipped: [number, string][] = [];
  t.equal(storage.latestRestorable((cid, reason) => skipped.push([cid, reason]))?.checkpointId, fallback, `latestRestorable falls back to ${fallback}`);
  const skip = skipped.find(([cid]) => cid === id);
  t.ok(skip !== undefined, 'the damaged checkpoint is reported through onSkip');
  t.equal(`Cannot restore checkpoint ${id}: ${skip?.[1]}`, e?.message, 'onSkip gives the same reason');
  t.ok(skipped.every(([cid]) => cid > (fallback ?? -1)), 'only newer checkpoints are skipped');
}

t.test('an intact run loads every checkpoint and restores the newest', async (t) => {
  const { storage } = build(t);
  for (const id of [1, 2, 3]) t.equal(storage.load(id).checkpointId, id);
  let skips = 0;
  t.equal(storage.latestRestorable(() => skips++)?.checkpointId, 3);
  t.equal(skips, 0);
});

t.test('a truncated _metadata is named, listed invalid, and skipped', async (t) => {
  const { storage, metaFile } = build(t);
  truncateBy(metaFile(3), 5);
  expectCorrupt(t, storage, 3, metaFile(3), /^Cannot restore checkpoint 3: chk-3\/_metadata is \d+ bytes, expected \d+ for its recorded payload of \d+ bytes \(truncated\)$/, 2);
  const listing = storage.list();
  t.same(listing.valid.map((s) => s.checkpointId), [1, 2]);
  t.equal(listing.invalid[0]?.checkpointId, 3);
  t.match(listing.invalid[0]?.reason, /^chk-3\/_metadata is .*truncated/);
});

t.test('a flipped byte, a wrong magic and a wrong version of _metadata each have their reason', async (t) => {
  const { storage, metaFile } = build(t);
  flipByte(metaFile(3), 40);
  expectCorrupt(t, storage, 3, metaFile(3), /chk-3\/_metadata fails CRC32 \(stored 0x[0-9a-f]+, computed 0x[0-9a-f]+\)/, 2);
  const bytes = fs.readFileSync(metaFile(2));
  bytes.write('XXXX', 0, 'latin1');
  fs.writeFileSync(metaFile(2), bytes);
  expectCorrupt(t, storage, 2, metaFile(2), /chk-2\/_metadata does not start with the magic "SLCK"/, 1);
  const v = fs.readFileSync(metaFile(1));
  v.writeUInt32LE(4, 4);
  fs.writeFileSync(metaFile(1), v);
  expectCorrupt(t, storage, 1, metaFile(1), /chk-1\/_metadata has format version 4; this build reads versions 2 and 3/, undefined);
});

t.test('a truncated segment: "shared/<name> is N bytes, expected M (truncated)"', async (t) => {
  const { storage, shared } = build(t);
  const size = fs.statSync(shared('real-b.seg')).size;
  truncateBy(shared('real-b.seg'), 1000);
  expectCorrupt(t, storage, 3, shared('real-b.seg'), new RegExp(`^Cannot restore checkpoint 3: shared/real-b\\.seg is ${size - 1000} bytes, expected ${size} \\(truncated\\)$`), 2);
});

t.test('a flipped byte inside a segment (same size) fails segment verification', async (t) => {
  const { storage, shared } = build(t);
  flipByte(shared('real-b.seg'), 100);
  expectCorrupt(t, storage, 3, shared('real-b.seg'), /^Cannot restore checkpoint 3: shared\/real-b\.seg fails segment verification: block at offset 0 fails CRC32/, 2);
});

t.test('a deleted shared file is named as missing', async (t) => {
  const { storage, shared } = build(t);
  fs.unlinkSync(shared('f3.bin'));
  expectCorrupt(t, storage, 3, shared('f3.bin'), /^Cannot restore checkpoint 3: shared\/f3\.bin is missing/, 2);
});

t.test('damage to a file every checkpoint shares leaves nothing restorable, each one reported', async (t) => {
  const { storage, shared } = build(t);
  flipByte(shared('real-a.seg'), fs.statSync(shared('real-a.seg')).size - 10);
  const skipped: number[] = [];
  t.equal(storage.latestRestorable((id) => skipped.push(id)), undefined);
  t.same(skipped, [3, 2, 1]);
});

t.test('loading a checkpoint id that has no directory is a usage error listing the ones there', async (t) => {
  const { storage } = build(t);
  const e = thrown(() => storage.load(9));
  t.equal(e?.name, 'UsageError');
  t.match(e?.message, /No checkpoint 9 in .*job-c; completed checkpoints there: 1, 2, 3/);
  t.throws(() => storage.load(-1), RangeError);
});

/**
 * Snapshot and restore behaviours of the keyed state backends that the model test
 * (snapshot-model.test.ts) does not pin down by itself: incremental shared names across
 * restores, no new segment for an unchanged store, compaction paused until capture and
 * deletions deferred until release, TTL stamps kept, heap file format checks, misuse.
 */
import fs from 'node:fs';
import path from 'node:path';
import t from 'tap';
import type { Clock, KeyedStateBackend, SnapshotFiles, StateRestore, StateSnapshotJob } from '../../src/state/api.js';
import { HeapKeyedStateBackend } from '../../src/state/heap-backend.js';
import { LsmKeyedStateBackend } from '../../src/state/lsm-backend.js';
import { LsmStore } from '../../src/state/lsm/index.js';
import { CorruptSnapshotError } from '../../src/state/snapshot.js';
import { tempDir } from './helpers.js';

class FakeClock implements Clock {
  constructor(public now = 1_000_000) {}
  nowMs(): number {
    return this.now;
  }
}

const store = { memtableSizeBytes: 4096, blockSizeBytes: 512, fsync: false };

function complete(job: StateSnapshotJob): SnapshotFiles {
  for (let i = 0; i < 10_000; i++) {
    const files = job.step();
    if (files !== undefined) return files;
  }
  throw new Error('snapshot did not complete in 10000 steps');
}

function lsmFiles(files: SnapshotFiles) {
  if (files.kind !== 'lsm') throw new Error(`expected lsm files, got ${files.kind}`);
  return files.segments;
}

/** Copies files without a shared name into `storage` as `seg-<n>`; returns the restore. */
function upload(files: SnapshotFiles, storage: string): StateRestore {
  if (files.kind === 'heap') {
    const to = path.join(storage, `heap-${fs.readdirSync(storage).length}.snap`);
    fs.copyFileSync(files.localPath, to);
    return { kind: 'heap', path: to };
  }
  return {
    kind: 'lsm',
    segments: files.segments.map((s) => {
      const sharedName = s.sharedName ?? `seg-${fs.readdirSync(storage).length}`;
      if (s.sharedName === undefined) fs.copyFileSync(s.localPath, path.join(storage, sharedName));
      return { path: path.join(storage, sharedName), sharedName };
    }),
  };
}

function writeValues(b: KeyedStateBackend, from: number, to: number, tag: string): void {
  const v = b.getValueState<string>('op', { kind: 'value', name: 'v' });
  for (let i = from; i < to; i++) {
    b.setCurrentKey(i, i % 128);
    v.update(`${tag}-${i}-${'x'.repeat(40)}`);
  }
}

function readValue(b: KeyedStateBackend, i: number): string | undefined {
  b.setCurrentKey(i, i % 128);
  return b.getValueState<string>('op', { kind: 'value', name: 'v' }).value();
}

t.test('lsm: after a restore, surviving segments carry their shared name and new ones none', (t) => {
  const root = tempDir(t, 'snap-incr');
  const storage = fs.mkdtempSync(path.join(root, 'storage-'));
  const a = new LsmKeyedStateBackend({ dir: path.join(root, 'a'), store });
  writeValues(a, 0, 300, 'first');
  const first = complete(a.snapshot(1));
  t.ok(lsmFiles(first).length >= 3, `several segments (${lsmFiles(first).length})`);
  t.ok(lsmFiles(first).every((s) => s.sharedName === undefined), 'nothing restored yet: no shared names');
  const restore1 = upload(first, storage);
  void a.close();

  const b = new LsmKeyedStateBackend({ dir: path.join(root, 'b'), store, restore: restore1 });
  t.equal(readValue(b, 7), `first-7-${'x'.repeat(40)}`);
  const unchanged = lsmFiles(complete(b.snapshot(2)));
  t.same(
    unchanged.map((s) => s.sharedName),
    restore1.kind === 'lsm' ? restore1.segments.map((s) => s.sharedName) : [],
    'an unchanged store after restore: the same segments, all shared, no new one',
  );
  writeValues(b, 300, 340, 'second');
  const job = b.snapshot(3);
  writeValues(b, 0, 10, 'after'); // must not leak into snapshot 3
  const next = lsmFiles(complete(job));
  t.ok(next.length > unchanged.length, 'the new writes added segments');
  t.same(next.slice(0, unchanged.length).map((s) => s.sharedName), unchanged.map((s) => s.sharedName), 'restored segments keep their shared names, oldest first');
  t.ok(next.slice(unchanged.length).every((s) => s.sharedName === undefined), 'new segments have none');
  const restore3 = upload({ kind: 'lsm', segments: next }, storage);
  job.release();
  t.throws(() => job.step(), /after release/);
  const c = new LsmKeyedStateBackend({ dir: path.join(root, 'c'), store, restore: restore3 });
  t.equal(readValue(c, 3), `first-3-${'x'.repeat(40)}`, 'the write after snapshot() did not leak');
  t.equal(readValue(c, 320), `second-320-${'x'.repeat(40)}`);
  t.equal(readValue(b, 3), `after-3-${'x'.repeat(40)}`, 'the live backend has it');
  // Compaction merges restored segments: its output is new, the rest keep their names.
  while (c.maintenanceStep());
  const compacted = lsmFiles(complete(c.snapshot(4)));
  t.ok(c.stats().compactionCount > 0, 'compaction ran');
  t.ok(compacted.some((s) => s.sharedName === undefined), 'a compaction output has no shared name');
  t.equal(readValue(c, 320), `second-320-${'x'.repeat(40)}`);
  for (const x of [b, c]) void x.close();
  t.end();
});

t.test('lsm: an empty memtable produces no segment', (t) => {
  const dir = tempDir(t, 'snap-empty');
  const b = new LsmKeyedStateBackend({ dir, store });
  t.same(complete(b.snapshot(1)), { kind: 'lsm', segments: [] }, 'an empty store snapshots to no files');
  writeValues(b, 0, 5, 'x');
  const one = lsmFiles(complete(b.snapshot(2)));
  t.equal(one.length, 1, 'one segment for the frozen memtable');
  t.same(lsmFiles(complete(b.snapshot(3))), one, 'no write since: the same single segment');
  t.equal(b.stats().flushCount, 1);
  void b.close();
  t.end();
});

t.test('lsm store: compaction waits for the capture; captured files outlive compaction until release', (t) => {
  const dir = tempDir(t, 'snap-pin');
  const s = LsmStore.open(dir, store);
  const put = (i: number) => s.put(Buffer.from(`key-${String(i).padStart(5, '0')}`), Buffer.alloc(64, i));
  for (let i = 0; i < 400; i++) put(i);
  s.freeze();
  s.flushAll();
  t.ok(s.stats().segmentCount >= 4, 'segments enough for a merge');
  put(0); // the memtable must hold something, else the snapshot is captured at once
  const snap = s.beginSnapshot();
  for (let i = 400; i < 450; i++) put(i); // a new memtable, frozen by the size bound
  t.equal(s.compactStep(), false, 'compaction paused while the snapshot waits for its flush');
  t.equal(s.stats().compactionCount, 0);
  let captured;
  while ((captured = snap.step(512)) === undefined);
  const names = captured.map((c) => c.name);
  t.same(names, s.liveSegments().slice(0, names.length), 'the captured list is a prefix of the live list');
  while (s.maintenanceStep());
  t.ok(s.stats().compactionCount > 0, 'compaction resumed after the capture');
  t.ok(names.every((n) => fs.existsSync(path.join(dir, n))), 'captured files still on disk after compaction');
  t.ok(names.some((n) => !s.liveSegments().includes(n)), 'some captured files were compacted away');
  snap.release();
  snap.release();
  t.ok(names.filter((n) => !s.liveSegments().includes(n)).every((n) => !fs.existsSync(path.join(dir, n))), 'deleted at release');
  t.equal(s.pendingSnapshotCount(), 0);
  t.throws(() => snap.step(), /released/);
  s.close();
  t.end();
});

t.test('lsm store: two pending snapshots capture in order and pin independently', (t) => {
  const dir = tempDir(t, 'snap-two');
  const s = LsmStore.open(dir, store);
  for (let i = 0; i < 200; i++) s.put(Buffer.from(`a${i}`), Buffer.alloc(40, 1));
  const first = s.beginSnapshot();
  for (let i = 0; i < 20; i++) s.put(Buffer.from(`b${i}`), Buffer.alloc(40, 2)); // fits the memtable
  const second = s.beginSnapshot();
  t.equal(first.step(1), undefined, 'not captured after a tiny step');
  let b;
  while ((b = second.step()) === undefined);
  const a = first.step();
  t.ok(a !== undefined && a.length < b.length, 'the second flush completed the first: it has fewer segments');
  t.same(b.slice(0, a!.length), a, 'and they are a prefix of the second');
  first.release();
  while (s.maintenanceStep());
  t.ok(b.every((x) => fs.existsSync(path.join(dir, x.name))), 'the second still pins its files');
  second.release();
  s.close();
  t.end();
});

t.test('TTL stamps survive snapshot and restore (both backends)', (t) => {
  for (const kind of ['lsm', 'heap'] as const) {
    const root = tempDir(t, `snap-ttl-${kind}`);
    const storage = fs.mkdtempSync(path.join(root, 'storage-'));
    const clock = new FakeClock();
    const open = (c: Clock, dir: string, restore?: StateRestore): KeyedStateBackend =>
      kind === 'lsm' ? new LsmKeyedStateBackend({ dir, clock: c, store, restore }) : new HeapKeyedStateBackend({ clock: c, scratchDir: dir, restore });
    const ttl = { ttlMs: 100, updateType: 'OnCreateAndWrite' } as const;
    const a = open(clock, path.join(root, 'a'));
    a.setCurrentKey('k', 3);
    a.getValueState<number>('op', { kind: 'value', name: 'v', ttl }).update(1);
    a.getMapState<string, number>('op', { kind: 'map', name: 'm', ttl }).put('x', 2);
    clock.now += 50;
    const job = a.snapshot(1);
    const restore = upload(complete(job), storage);
    job.release();
    const later = new FakeClock(clock.now + 40);
    const b = open(later, path.join(root, 'b'), restore);
    b.setCurrentKey('k', 3);
    const v = b.getValueState<number>('op', { kind: 'value', name: 'v', ttl });
    const m = b.getMapState<string, number>('op', { kind: 'map', name: 'm', ttl });
    t.equal(v.value(), 1, `${kind}: alive 90 ms after the write`);
    t.equal(m.get('x'), 2, `${kind}: map entry alive`);
    later.now += 10;
    t.equal(v.value(), undefined, `${kind}: expired 100 ms after the write, not after the restore`);
    t.equal(m.get('x'), undefined, `${kind}: map entry expired`);
    void a.close();
    void b.close();
  }
  t.end();
});

t.test('heap: restored state survives a snapshot taken before it is registered; TTL switched on or off', (t) => {
  const root = tempDir(t, 'snap-heap');
  const storage = fs.mkdtempSync(path.join(root, 'storage-'));
  const clock = new FakeClock();
  const a = new HeapKeyedStateBackend({ clock, scratchDir: root });
  a.setCurrentKey([1, 'x'], 0);
  const rich = { m: new Map<unknown, unknown>([[1, 'one'], ['k', { deep: [1n, Uint8Array.of(9)] }]]), big: 2n ** 70n };
  a.getValueState<unknown>('op', { kind: 'value', name: 'rich' }).update(rich);
  a.getValueState<number>('op', { kind: 'value', name: 'plain' }).update(5);
  a.getListState<number>('op', { kind: 'list', name: 'stamped', ttl: { ttlMs: 1000, updateType: 'OnCreateAndWrite' } }).update([1, 2]);
  const job1 = a.snapshot(1);
  const files1 = complete(job1);
  t.equal(files1.kind, 'heap');
  const r1 = upload(files1, storage);
  job1.release();
  t.notOk(fs.existsSync(files1.kind === 'heap' ? files1.localPath : ''), 'release deleted the local file');
  t.throws(() => job1.step(), /after release/);

  const b = new HeapKeyedStateBackend({ clock, scratchDir: root, restore: r1 });
  const job2 = b.snapshot(2); // nothing registered yet
  const r2 = upload(complete(job2), storage);
  job2.release();
  const c = new HeapKeyedStateBackend({ clock, scratchDir: root, restore: r2 });
  c.setCurrentKey([1, 'x'], 0);
  t.same(c.getValueState<unknown>('op', { kind: 'value', name: 'rich' }).value(), rich, 'Map, bigint, Uint8Array round-trip');
  t.equal(c.getValueState<number>('op', { kind: 'value', name: 'plain', ttl: { ttlMs: 10, updateType: 'OnCreateAndWrite' } }).value(), 5, 'TTL switched on: re-stamped now');
  clock.now += 10;
  t.equal(c.getValueState<number>('op', { kind: 'value', name: 'plain' }).value(), undefined, 'and expires from the restore');
  t.same(c.getListState<number>('op', { kind: 'list', name: 'stamped' }).get(), [1, 2], 'TTL switched off: unwrapped');
  t.throws(() => b.getListState('op', { kind: 'list', name: 'rich' }), /was value state in the restored snapshot/);
  for (const x of [a, b, c]) void x.close();
  t.end();
});

t.test('heap: a damaged snapshot file is refused with CorruptSnapshotError', (t) => {
  const root = tempDir(t, 'snap-heap-bad');
  const a = new HeapKeyedStateBackend({ scratchDir: root });
  a.setCurrentKey('k', 0);
  a.getValueState<string>('op', { kind: 'value', name: 'v' }).update('x'.repeat(100));
  const job = a.snapshot(1);
  const files = complete(job);
  if (files.kind !== 'heap') throw new Error('heap files expected');
  const good = fs.readFileSync(files.localPath);
  t.equal(files.sizeBytes, good.length);
  job.release();
  const cases: [string, Buffer, RegExp][] = [
    ['payload byte flipped', Buffer.from(good.map((b, i) => (i === good.length - 5 ? b ^ 1 : b))), /fails CRC32/],
    ['truncated', good.subarray(0, good.length - 3), /truncated/],
    ['bad magic', Buffer.from(good.map((b, i) => (i === 0 ? 0 : b))), /bad magic/],
    ['newer version', Buffer.from(good.map((b, i) => (i === 8 ? 3 : b))), /version 3 is not supported/],
    ['version 1 (ambiguous array identities)', Buffer.from(good.map((b, i) => (i === 8 ? 1 : b))), /format version 1 is not supported \(this build reads 2\)/],
    ['shorter than a header', good.subarray(0, 10), /shorter than the 24-byte header/],
  ];
  for (const [what, bytes, message] of cases) {
    const p = path.join(root, `${what}.snap`);
    fs.writeFileSync(p, bytes);
    t.throws(() => new HeapKeyedStateBackend({ restore: { kind: 'heap', path: p } }), message, what);
    t.throws(() => new HeapKeyedStateBackend({ restore: { kind: 'heap', path: p } }), CorruptSnapshotError);
  }
  void a.close();
  t.end();
});

t.test('restore misuse is rejected with clear errors', (t) => {
  const root = tempDir(t, 'snap-misuse');
  t.throws(() => new LsmKeyedStateBackend({ dir: path.join(root, 'a'), restore: { kind: 'heap', path: 'x' } }), /cannot restore a heap snapshot/);
  t.throws(() => new HeapKeyedStateBackend({ restore: { kind: 'lsm', segments: [] } }), /cannot restore "lsm"/);
  t.throws(
    () => new LsmKeyedStateBackend({ dir: path.join(root, 'b'), restore: { kind: 'lsm', segments: [{ path: path.join(root, 'gone.seg'), sharedName: 'gone' }] } }),
    /segment file .*gone\.seg is missing/,
  );
  t.throws(
    () => new LsmKeyedStateBackend({ dir: path.join(root, 'c'), store: { segments: ['000001.seg'] }, restore: { kind: 'lsm', segments: [] } }),
    /not both/,
  );
  const b = new LsmKeyedStateBackend({ dir: path.join(root, 'd'), store });
  t.throws(() => b.snapshot(-1), /Checkpoint id must be a non-negative integer/);
  void b.close();
  t.end();
});

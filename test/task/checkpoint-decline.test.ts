// A full disk under the checkpoint folder (issue 13, item 8), through the file system seam:
// when copying the keyed state into shared/ fails with ENOSPC in the asynchronous phase,
// the subtask declines that checkpoint (counted as a failure by the coordinator), leaves
// no partial file behind, drops the snapshot and goes on; the next checkpoint, with space
// back, is acknowledged with files that are all there. Both backends (heap: one snapshot
// file; LSM: segments, so a copy can fail after an earlier one of the same checkpoint
// succeeded, and the coordinator's prune deletes that orphan).
import t from 'tap';
import fs, { existsSync, readdirSync, statSync } from 'node:fs';
import { CheckpointStorage } from '../../src/checkpoint/index.js';
import type { FsCalls } from '../../src/checkpoint/durable-fs.js';
import { SubtaskCheckpointing } from '../../src/task/checkpointing.js';
import type { SubtaskMessage } from '../../src/task/deployment.js';
import { assignToKeyGroup } from '../../src/state/key-group.js';
import { harnessMaxParallelism as maxParallelism, makeBackend } from '../time/windows/harness.js';
import { tempDir } from '../helpers/checkpoints.js';

/**
 * node:fs with a cross-device link (so shared files are copied, as when the checkpoint
 * folder is another file system) and a disk that fills after `room` more copies: the
 * copy that finds it full writes part of the file and throws ENOSPC, as copy_file_range does.
 */
function fullDisk(): { calls: FsCalls; setRoom(copies: number): void; copies: () => number } {
  let room = Infinity;
  let copies = 0;
  const calls: FsCalls = {
    ...fs,
    linkSync: () => {
      throw Object.assign(new Error('EXDEV: cross-device link not permitted'), { code: 'EXDEV' });
    },
    copyFileSync: ((source: string, target: string) => {
      if (room <= 0) {
        fs.writeFileSync(target, fs.readFileSync(source).subarray(0, 10));
        throw Object.assign(new Error(`ENOSPC: no space left on device, copyfile '${source}' -> '${target}'`), { code: 'ENOSPC' });
      }
      room--;
      copies++;
      fs.copyFileSync(source, target);
    }) as FsCalls['copyFileSync'],
  };
  return { calls, setRoom: (n) => (room = n), copies: () => copies };
}

for (const kind of ['heap', 'lsm'] as const) {
  t.test(`${kind}: ENOSPC while the snapshot is copied declines the checkpoint, leaves no partial file, and the next one succeeds`, async (t) => {
    const dir = tempDir(t, `decline-${kind}`);
    const backend = makeBackend(t, kind);
    t.teardown(() => backend.close());
    const disk = fullDisk();
    const posted: SubtaskMessage[] = [];
    const checkpointing = new SubtaskCheckpointing(dir, 'job', 1, 0, backend, (m) => posted.push(m), true, { fs: disk.calls });
    const storage = CheckpointStorage.open(dir, 'job');
    let written = 0;
    const write = (n: number) => {
      for (let i = 0; i < n; i++, written++) {
        const key = `key-${written}`;
        backend.setCurrentKey(key, assignToKeyGroup(key, maxParallelism));
        backend.getValueState<string>('op', { kind: 'value', name: 'v' }).update('x'.repeat(200));
        if (i % 500 === 0) while (backend.maintenanceStep?.() === true);
      }
      while (backend.maintenanceStep?.() === true);
    };
    const snapshot = (id: number): SubtaskMessage => {
      checkpointing.begin(id, { op: { position: id } }, performance.now(), 0);
      for (let steps = 0; posted.length === 0; steps++) {
        if (steps > 100_000) throw new Error(`checkpoint ${id} never ended`);
        checkpointing.step();
      }
      t.notOk(checkpointing.hasPending(), `checkpoint ${id}: nothing left pending`);
      return posted.shift()!;
    };

    write(3000);
    // LSM: let the first copy succeed, so the checkpoint fails half-way through its segments.
    disk.setRoom(kind === 'lsm' ? 1 : 0);
    const declined = snapshot(1);
    t.equal(declined.type, 'decline', 'the full disk declines checkpoint 1');
    t.match(declined, { checkpointId: 1, failed: true }, 'as a failure (it counts against the tolerable failed checkpoints)');
    t.match((declined as { reason: string }).reason, /^declined by subtask 0 of vertex 1 in its asynchronous phase \(ENOSPC\): ENOSPC: no space left on device/);
    const shared = readdirSync(storage.sharedDir);
    t.same(shared.filter((n) => n.endsWith('.tmp')), [], 'no partial temp file in shared/');
    t.equal(shared.length, kind === 'lsm' ? 1 : 0, kind === 'lsm' ? 'the one segment copied before the disk filled is left for the prune' : 'nothing in shared/');

    disk.setRoom(Infinity);
    write(1000);
    const acked = snapshot(2);
    t.equal(acked.type, 'ack', 'with space back, checkpoint 2 is acknowledged');
    if (acked.type !== 'ack') return;
    const keyed = acked.state.keyedState!;
    const files = keyed.kind === 'lsm' ? keyed.segments : [keyed.file];
    t.ok(files.length > 0, `${files.length} state file(s)`);
    for (const f of files) t.equal(statSync(storage.sharedPath(f.name)).size, f.sizeBytes, `shared/${f.name} is complete`);
    t.same(acked.state.operatorState, { op: { position: 2 } });

    // What the coordinator does after the decline: prune with checkpoint 2 complete.
    storage.complete({
      jobId: 'job', checkpointId: 2, kind: 'checkpoint', mode: 'exactly-once', triggeredAt: 0, completedAt: 1, planFingerprint: 'fp',
      parallelism: {}, maxParallelism: {}, vertices: [{ uids: ['source'] }, { uids: ['op'] }], subtasks: [acked.state], coordinatorState: {},
      stats: { durationMs: 1, syncMs: 0, asyncMs: 0, alignmentMs: 0, bytesWritten: 0, fullSizeBytes: 0 },
    });
    storage.prune(1);
    t.same(readdirSync(storage.sharedDir).sort(), files.map((f) => f.name).sort(), 'after the prune shared/ holds exactly what checkpoint 2 references');
    t.ok(files.every((f) => existsSync(storage.sharedPath(f.name))));
  });
}

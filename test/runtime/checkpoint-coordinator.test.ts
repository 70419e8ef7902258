// The checkpoint coordinator with a manual clock and a recording storage: triggers follow
// interval, min pause and max concurrent; a checkpoint completes with the last ack; a
// timeout or decline aborts it; failures beyond the tolerance fail the job, a finished
// source does not count; prunes wait until nothing is in flight.
import t from 'tap';
import { CheckpointCoordinator } from '../../src/runtime/checkpoint-coordinator.js';
import type { CoordinatorClock } from '../../src/runtime/checkpoint-coordinator.js';
import type { CheckpointConfig } from '../../src/runtime/options.js';
import type { CheckpointMetadata, SubtaskState } from '../../src/checkpoint/index.js';

class ManualClock implements CoordinatorClock {
  private time = 0;
  private timers: Array<{ at: number; fn: () => void; id: number }> = [];
  private nextId = 1;
  now(): number {
    return this.time;
  }
  setTimeout(fn: () => void, ms: number): unknown {
    const id = this.nextId++;
    this.timers.push({ at: this.time + ms, fn, id });
    return id;
  }
  clearTimeout(handle: unknown): void {
    this.timers = this.timers.filter((x) => x.id !== handle);
  }
  /** Moves time forward, firing due timers in order. */
  advance(ms: number): void {
    const until = this.time + ms;
    for (;;) {
      this.timers.sort((a, b) => a.at - b.at || a.id - b.id);
      const next = this.timers[0];
      if (next === undefined || next.at > until) break;
      this.timers.shift();
      this.time = next.at;
      next.fn();
    }
    this.time = until;
  }
}

function setup(overrides: Partial<CheckpointConfig> = {}, lastCheckpointId = 0) {
  const config: CheckpointConfig = { dir: '/unused', intervalMs: 100, mode: 'exactly-once', timeoutMs: 1000, minPauseMs: 0, maxConcurrent: 1, tolerableFailures: 0, retained: 1, ...overrides };
  const clock = new ManualClock();
  const log: string[] = [];
  const completed: CheckpointMetadata[] = [];
  let failure: Error | undefined;
  const storage = {
    complete: (meta: CheckpointMetadata) => {
      completed.push(meta);
      log.push(`complete ${meta.checkpointId}`);
      return '';
    },
    prune: (retained: number) => {
      log.push(`prune ${retained}`);
      return { deletedCheckpoints: [], deletedFiles: [] };
    },
  };
  const coordinator = new CheckpointCoordinator(
    config,
    storage,
    { jobId: 'job', planFingerprint: 'fp', parallelism: {}, maxParallelism: {}, vertices: [{ uids: ['a'] }, { uids: ['b'] }], subtasks: ['0/0', '1/0'] },
    {
      trigger: (id) => log.push(`trigger ${id}`),
      complete: (id) => log.push(`notify ${id}`),
      abort: (id) => log.push(`abort ${id}`),
      fail: (error) => (failure = error),
      event: () => {},
    },
    lastCheckpointId,
    clock,
  );
  const state = (vertex: number): SubtaskState => ({ vertex, subtaskIndex: 0, operatorState: {}, keyedState: undefined });
  const stats = { syncMs: 1, asyncMs: 2, alignmentMs: 3, bytesWritten: 10, fullSizeBytes: 100 };
  const ackAll = (id: number) => {
    coordinator.onAck('0/0', id, state(0), stats);
    coordinator.onAck('1/0', id, state(1), stats);
  };
  return { coordinator, clock, log, completed, ackAll, ack: (key: string, id: number) => coordinator.onAck(key, id, state(key === '0/0' ? 0 : 1), stats), failure: () => failure };
}

t.test('triggers every interval; completes with the last ack, writes metadata, prunes, then notifies', async (t) => {
  const s = setup({}, 6);
  s.coordinator.start();
  s.clock.advance(99);
  t.same(s.log, [], 'nothing before the interval');
  s.clock.advance(1);
  t.same(s.log, ['trigger 7'], 'ids go on after the restored one');
  s.ack('0/0', 7);
  t.same(s.log, ['trigger 7'], 'one ack of two is not enough');
  s.ack('1/0', 7);
  t.same(s.log, ['trigger 7', 'complete 7', 'prune 1', 'notify 7'], 'metadata, then retention, then notify');
  const meta = s.completed[0]!;
  t.same(meta.subtasks.map((x) => x.vertex), [0, 1]);
  t.same([meta.stats.bytesWritten, meta.stats.fullSizeBytes, meta.stats.alignmentMs], [20, 200, 3], 'bytes summed, times are maxima');
  s.coordinator.stop(true);
});

t.test('max concurrent and min pause hold triggers back', async (t) => {
  const s = setup({ minPauseMs: 250 });
  s.coordinator.start();
  s.clock.advance(100);
  s.clock.advance(500);
  t.same(s.log, ['trigger 1'], 'no second trigger while one is in flight (max concurrent 1)');
  s.ackAll(1);
  s.clock.advance(249);
  t.notOk(s.log.includes('trigger 2'), 'min pause not yet over');
  s.clock.advance(60);
  t.ok(s.log.includes('trigger 2'), 'triggered after the pause');
  s.coordinator.stop(true);
});

t.test('a timeout aborts the checkpoint; failures beyond the tolerance fail the job', async (t) => {
  const s = setup({ tolerableFailures: 1, timeoutMs: 300 });
  s.coordinator.start();
  s.clock.advance(100); // trigger 1
  s.clock.advance(300); // 1 times out
  t.ok(s.log.includes('abort 1'));
  t.equal(s.failure(), undefined, 'one failure is tolerated');
  s.clock.advance(100); // trigger 2
  s.clock.advance(300); // 2 times out
  t.match(s.failure()?.message, /2 checkpoints failed in a row \(tolerable: 1\).*not complete after 300 ms/);
  t.notOk(s.log.includes('complete 1') || s.log.includes('complete 2'));
});

t.test('a finished source stops checkpoints without counting as a failure; late acks are ignored', async (t) => {
  const s = setup({ tolerableFailures: 0 });
  s.coordinator.start();
  s.clock.advance(100);
  s.ack('0/0', 1);
  s.coordinator.onSourceFinished();
  t.ok(s.log.includes('abort 1'));
  s.ack('1/0', 1);
  s.clock.advance(10_000);
  t.equal(s.failure(), undefined, 'no job failure');
  t.same(s.log.filter((l) => l.startsWith('trigger')), ['trigger 1'], 'no more triggers');
  t.notOk(s.log.some((l) => l.startsWith('complete')), 'the late ack completed nothing');
});

t.test('prunes wait until no checkpoint is in flight', async (t) => {
  const s = setup({ maxConcurrent: 2, intervalMs: 100 });
  s.coordinator.start();
  s.clock.advance(100); // trigger 1
  s.clock.advance(100); // trigger 2
  s.ackAll(1);
  t.ok(s.log.includes('complete 1'));
  t.notOk(s.log.includes('prune 1'), 'checkpoint 2 is in flight: its files may not be referenced yet');
  s.ackAll(2);
  t.same(s.log.filter((l) => l.startsWith('prune')).length, 1, 'pruned once both completed');
  s.coordinator.stop(true);
});

t.test('a metadata write that throws fails that checkpoint instead of the process', async (t) => {
  const s = setup({ tolerableFailures: 5 });
  (s.coordinator as unknown as { storage: { complete: () => never } }).storage.complete = () => {
    throw new Error('ENOSPC: no space left on device');
  };
  s.coordinator.start();
  s.clock.advance(100);
  s.ackAll(1);
  t.ok(s.log.includes('abort 1'), 'aborted');
  t.equal(s.failure(), undefined, 'within the tolerance');
  s.coordinator.stop(true);
});

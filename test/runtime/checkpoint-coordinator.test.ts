// The checkpoint coordinator with a manual clock and a recording storage: triggers follow
// interval, min pause and max concurrent; a checkpoint completes with the last ack; a
// timeout or decline aborts it; failures beyond the tolerance fail the job, a finished
// source does not count; prunes wait until nothing is in flight. Savepoints: triggered at
// once outside the schedule, written before any prune, failures that do not count,
// stop-with-savepoint holding periodic checkpoints back and resuming them when it fails.
// After a restart the first trigger comes once every subtask runs (an interval after the
// failed attempt's last trigger at the earliest).
import t from 'tap';
import { CheckpointCoordinator, SavepointFailedError } from '../../src/runtime/checkpoint-coordinator.js';
import type { CoordinatorClock } from '../../src/runtime/checkpoint-coordinator.js';
import { CheckpointStatsTracker } from '../../src/runtime/checkpoint-stats.js';
import type { CheckpointConfig, JobEvent } from '../../src/runtime/options.js';
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
  /** Timers set and not yet fired or cleared. */
  get armed(): number {
    return this.timers.length;
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
  // Keeps the latest 3 ended checkpoints; ack times on the manual clock.
  const tracker = new CheckpointStatsTracker(3, () => clock.now());
  const log: string[] = [];
  const completed: CheckpointMetadata[] = [];
  const events: JobEvent[] = [];
  let failure: Error | undefined;
  let enumeratorFailure: Error | undefined;
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
    { jobId: 'job', planFingerprint: 'fp', parallelism: {}, maxParallelism: {}, vertices: [{ uids: ['a'] }, { uids: ['b'] }], subtasks: ['0/0', '1/0'], sources: ['0/0'] },
    {
      // The targets are logged when they are not just the source.
      trigger: (id, _timestamp, stop, targets) => log.push(`trigger ${id}${stop ? ' stop' : ''}${targets.join() === '0/0' ? '' : ` -> ${targets.join(' ')}`}`),
      snapshotEnumerators: (id) => {
        if (enumeratorFailure !== undefined) throw enumeratorFailure;
        return { a: { snapshotAt: id } };
      },
      complete: (id, final) => log.push(`notify ${id}${final ? ' final' : ''}`),
      abort: (id) => log.push(`abort ${id}`),
      fail: (error) => (failure = error),
      event: (e) => events.push(e),
      stats: tracker,
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
  return {
    coordinator,
    tracker,
    clock,
    log,
    completed,
    events,
    storage,
    ackAll,
    ack: (key: string, id: number) => coordinator.onAck(key, id, state(key === '0/0' ? 0 : 1), stats),
    failure: () => failure,
    failEnumerators: (e: Error | undefined) => (enumeratorFailure = e),
  };
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

/** Every subtask of `setup`'s job reports running. */
function everySubtaskRuns(s: ReturnType<typeof setup>): void {
  for (const key of ['0/0', '1/0']) s.coordinator.onSubtaskRunning(key);
}

t.test('after a restart, the first trigger comes once every subtask runs, if the last trigger of the failed attempt is an interval old by then', async (t) => {
  const s = setup({}, 6);
  s.clock.advance(500);
  // The failed attempt last triggered at 300: an interval (100) has passed.
  s.coordinator.start(300);
  s.clock.advance(30);
  s.coordinator.onSubtaskRunning('0/0');
  s.clock.advance(10);
  t.same(s.log, [], 'not while a subtask still loads');
  s.coordinator.onSubtaskRunning('1/0');
  s.clock.advance(0);
  t.same(s.log, ['trigger 7'], 'at once when the last one runs, 40 ms into the attempt');
  t.equal(s.coordinator.lastTriggerAt, 540, 'the trigger time, for the next attempt');
  s.ackAll(7);
  s.coordinator.onSubtaskRunning('1/0');
  s.clock.advance(99);
  t.notOk(s.log.includes('trigger 8'), 'then the interval as always');
  s.clock.advance(1);
  t.ok(s.log.includes('trigger 8'));
  s.coordinator.stop(true);
});

t.test('after a restart, an early first trigger still keeps an interval after the last trigger', async (t) => {
  const s = setup();
  s.clock.advance(1000);
  s.coordinator.start(960);
  s.clock.advance(10);
  everySubtaskRuns(s);
  s.clock.advance(49);
  t.same(s.log, [], 'the last trigger (960) is not an interval old before 1060');
  s.clock.advance(1);
  t.same(s.log, ['trigger 1'], 'at 1060, not 1100');
  s.coordinator.stop(true);
});

t.test('without an earlier trigger (a first attempt), or with a subtask late, the first trigger waits the interval from start', async (t) => {
  const first = setup();
  first.coordinator.start();
  first.clock.advance(10);
  everySubtaskRuns(first);
  first.clock.advance(89);
  t.same(first.log, [], 'every subtask runs, but no earlier trigger to measure from');
  first.clock.advance(1);
  t.same(first.log, ['trigger 1']);
  first.coordinator.stop(true);
  const late = setup();
  late.clock.advance(1000);
  late.coordinator.start(0);
  late.coordinator.onSubtaskRunning('0/0');
  late.clock.advance(100);
  t.same(late.log, ['trigger 1'], 'the interval from start, while 1/0 still loads (its trigger waits on its port)');
  late.coordinator.onSubtaskRunning('1/0');
  late.clock.advance(0);
  t.same(late.log, ['trigger 1'], 'a subtask that runs after the first trigger triggers nothing');
  late.coordinator.stop(true);
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

t.test('enumerator states are taken at the trigger and go into the metadata; a throwing snapshot fails that checkpoint', async (t) => {
  const s = setup({ tolerableFailures: 1 });
  s.coordinator.start();
  s.clock.advance(100);
  s.ackAll(1);
  t.same(s.completed[0]?.coordinatorState, { a: { snapshotAt: 1 } });
  s.failEnumerators(new Error('disk gone'));
  s.clock.advance(100);
  t.ok(s.log.includes('abort 2'), 'checkpoint 2 failed before any trigger');
  t.notOk(s.log.includes('trigger 2'), 'not triggered');
  t.match(s.events.find((e) => e.type === 'checkpoint-failed'), { checkpointId: 2, reason: /a source enumerator could not snapshot its state: disk gone/ });
  s.failEnumerators(undefined);
  s.clock.advance(100);
  s.ackAll(3);
  t.ok(s.log.includes('notify 3'), 'the next one completes');
  t.equal(s.failure(), undefined);
});

t.test('FLIP-147: a subtask whose input ended is triggered directly, also for checkpoints in flight it has not acked', async (t) => {
  const s = setup();
  s.coordinator.start();
  s.clock.advance(100); // trigger 1 at the source
  s.ack('0/0', 1);
  s.coordinator.onInputEnded('1/0');
  t.same(s.log, ['trigger 1', 'trigger 1 -> 1/0'], 'no barrier can reach it: triggered directly');
  s.ack('1/0', 1);
  t.ok(s.log.includes('notify 1'), 'a normal, not final, checkpoint');
  s.clock.advance(100);
  t.equal(s.log.at(-1), 'trigger 2 -> 0/0 1/0', 'later checkpoints go to the source and to it');
  s.coordinator.onInputEnded('1/0');
  t.equal(s.log.filter((l) => l.startsWith('trigger 2')).length, 1, 'reporting twice changes nothing');
});

t.test('FLIP-147: once every input ended, a final checkpoint is triggered at once; its completion is final and ends checkpointing', async (t) => {
  const s = setup({ intervalMs: 10_000 });
  s.coordinator.start();
  s.coordinator.onInputEnded('0/0');
  t.same(s.log, [], 'one of two: nothing yet');
  s.coordinator.onInputEnded('1/0');
  t.same(s.log, ['trigger 1 -> 0/0 1/0'], 'the final checkpoint, without waiting for the interval');
  s.ackAll(1);
  t.same(s.log.slice(-1), ['notify 1 final']);
  s.clock.advance(100_000);
  t.notOk(s.log.some((l) => l.startsWith('trigger 2')), 'no checkpoint after the final one');
});

t.test('FLIP-147: a final checkpoint that fails is taken again; a periodic one in flight is not final', async (t) => {
  const s = setup({ intervalMs: 100, timeoutMs: 50, tolerableFailures: 5 });
  s.coordinator.start();
  s.clock.advance(100); // periodic 1
  s.coordinator.onInputEnded('0/0');
  s.coordinator.onInputEnded('1/0');
  t.same(s.log.slice(-2), ['trigger 1 -> 1/0', 'trigger 2 -> 0/0 1/0'], '1 re-sent to the subtask that ended; 2 is the final one');
  s.ackAll(1);
  t.equal(s.log.at(-1), 'notify 1', 'checkpoint 1 was triggered before the end: not final');
  s.clock.advance(50); // 2 times out
  t.ok(s.log.includes('abort 2'));
  s.clock.advance(100);
  t.equal(s.log.filter((l) => l.startsWith('trigger')).at(-1), 'trigger 3 -> 0/0 1/0', 'another final checkpoint');
  s.ackAll(3);
  t.equal(s.log.at(-1), 'notify 3 final');
  t.equal(s.failure(), undefined);
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
    throw Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC' });
  };
  s.coordinator.start();
  s.clock.advance(100);
  s.ackAll(1);
  t.ok(s.log.includes('abort 1'), 'aborted');
  const failed = s.events.find((e) => e.type === 'checkpoint-failed');
  t.match(failed, { checkpointId: 1, reason: 'its metadata could not be written by the job master (ENOSPC): ENOSPC: no space left on device, write' }, 'the reason names the job master and the error code');
  t.equal(s.failure(), undefined, 'within the tolerance');
  s.coordinator.stop(true);
});

// ---------------------------------------------------------------------------------------
// Savepoints.

/** A savepoint writer that logs `write <id>` and returns the folder it "wrote". */
function writer(s: ReturnType<typeof setup>, error?: Error) {
  const written: CheckpointMetadata[] = [];
  const write = (meta: CheckpointMetadata): string => {
    s.log.push(`write ${meta.checkpointId}`);
    written.push(meta);
    if (error !== undefined) throw error;
    return `/sp/savepoint-${meta.checkpointId}`;
  };
  return { write, written };
}

interface Outcome<T> {
  settled: boolean;
  value?: T;
  error?: unknown;
}

/** Records how `promise` settles (attached at once: no unhandled rejection). */
function outcome<T>(promise: Promise<T>): Outcome<T> {
  const out: Outcome<T> = { settled: false };
  promise.then(
    (value) => Object.assign(out, { settled: true, value }),
    (error: unknown) => Object.assign(out, { settled: true, error }),
  );
  return out;
}

/** Lets settled promises run their callbacks. */
const flush = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

function savepointEvents(s: ReturnType<typeof setup>): JobEvent[] {
  return s.events.filter((e) => e.type === 'savepoint-completed');
}

t.test('a savepoint triggers at once during the min pause; completes, is written before the prune, notifies, resolves', async (t) => {
  const s = setup({ minPauseMs: 1000 });
  const w = writer(s);
  s.coordinator.start();
  s.clock.advance(100);
  s.ackAll(1);
  t.same(s.log, ['trigger 1', 'complete 1', 'prune 1', 'notify 1'], 'a periodic checkpoint; the min pause runs until 1100');
  const sp = outcome(s.coordinator.triggerSavepoint(false, w.write));
  t.same(s.log.slice(4), ['trigger 2'], 'triggered at once, with stop=false');
  s.clock.advance(500);
  t.same(s.log.slice(4), ['trigger 2'], 'nothing else triggered meanwhile (max concurrent 1)');
  s.ack('0/0', 2);
  await flush();
  t.notOk(sp.settled, 'pending until every subtask acks');
  s.ackAll(2);
  t.same(s.log.slice(4), ['trigger 2', 'complete 2', 'write 2', 'prune 1', 'notify 2'], 'metadata, savepoint folder, retention, notify');
  t.equal(w.written.length, 1);
  t.equal(w.written[0], s.completed[1], 'write gets the metadata storage.complete got');
  t.equal(w.written[0]!.checkpointId, 2);
  await flush();
  t.same(sp, { settled: true, value: { checkpointId: 2, path: '/sp/savepoint-2' } });
  t.same(savepointEvents(s), [{ type: 'savepoint-completed', checkpointId: 2, path: '/sp/savepoint-2', stop: false }]);
  t.ok(s.events.some((e) => e.type === 'checkpoint-completed' && e.checkpointId === 2), 'and a checkpoint-completed event');
  t.same(s.coordinator.completed.map((c) => c.checkpointId), [1, 2]);
  t.notOk(s.coordinator.isStopping);
  s.clock.advance(1100);
  t.ok(s.log.includes('trigger 3'), 'periodic checkpoints go on after the min pause');
  s.coordinator.stop(true);
});

t.test('a stop savepoint triggers at once with max concurrent reached; its completion ends checkpointing', async (t) => {
  const s = setup({ maxConcurrent: 1 });
  const w = writer(s);
  s.coordinator.start();
  s.clock.advance(100);
  const stop = outcome(s.coordinator.triggerSavepoint(true, w.write));
  t.same(s.log, ['trigger 1', 'trigger 2 stop'], 'triggered at once with checkpoint 1 in flight, with stop=true');
  t.ok(s.coordinator.isStopping);
  s.ackAll(1);
  t.same(s.log.slice(2), ['complete 1', 'notify 1'], 'no prune while the savepoint is in flight');
  s.ackAll(2);
  t.same(s.log.slice(4), ['complete 2', 'write 2', 'prune 1', 'notify 2']);
  await flush();
  t.same(stop, { settled: true, value: { checkpointId: 2, path: '/sp/savepoint-2' } });
  t.same(savepointEvents(s), [{ type: 'savepoint-completed', checkpointId: 2, path: '/sp/savepoint-2', stop: true }]);
  s.clock.advance(10_000);
  t.same(s.log.filter((l) => l.startsWith('trigger')), ['trigger 1', 'trigger 2 stop'], 'no periodic checkpoint after the stop');
  s.coordinator.stop(true);
});

t.test('declined and timed-out savepoints reject and do not count as failed checkpoints', async (t) => {
  const s = setup({ tolerableFailures: 0, timeoutMs: 300, intervalMs: 5000 });
  const w = writer(s);
  s.coordinator.start();
  const declined = outcome(s.coordinator.triggerSavepoint(false, w.write));
  s.coordinator.onDecline(1, 'subtask 1/0 is restarting');
  await flush();
  t.type(declined.error, SavepointFailedError);
  t.match(declined.error, { name: 'SavepointFailedError', message: 'Savepoint 1 failed: subtask 1/0 is restarting' });
  t.ok(s.log.includes('abort 1'), 'the subtasks drop its partial work');

  const timedOut = outcome(s.coordinator.triggerSavepoint(true, w.write));
  t.ok(s.coordinator.isStopping);
  s.clock.advance(299);
  await flush();
  t.notOk(timedOut.settled, 'not before the timeout');
  s.clock.advance(1);
  await flush();
  t.type(timedOut.error, SavepointFailedError);
  t.match((timedOut.error as Error).message, /^Savepoint 2 failed: not complete after 300 ms/);
  t.ok(s.log.includes('abort 2'));
  t.notOk(s.coordinator.isStopping, 'a timed-out stop lets the job go on');
  t.equal(s.failure(), undefined, 'two failed savepoints with tolerableFailures 0: the job goes on');
  t.same(w.written, [], 'nothing written');
  t.same(savepointEvents(s), []);
  t.same(s.events.filter((e) => e.type === 'checkpoint-failed').map((e) => (e as { checkpointId: number }).checkpointId), [1, 2]);

  // The first failed periodic checkpoint is the first counted one (the failed stop re-armed
  // the schedule: the next periodic trigger is an interval after it).
  s.clock.advance(5000); // trigger 3
  t.ok(s.log.includes('trigger 3'));
  s.clock.advance(300);
  t.match(s.failure()?.message, /^1 checkpoints failed in a row \(tolerable: 0\); the last: checkpoint 3 not complete after 300 ms/);
});

t.test('stop: no periodic checkpoint while it is in flight, no second request; a failed stop resets and checkpoints resume', async (t) => {
  const s = setup({ intervalMs: 100, timeoutMs: 1000 });
  const w = writer(s);
  s.coordinator.start();
  const stop = outcome(s.coordinator.triggerSavepoint(true, w.write));
  t.same(s.log, ['trigger 1 stop']);
  t.ok(s.coordinator.isStopping);
  s.clock.advance(500);
  t.same(s.log, ['trigger 1 stop'], 'no periodic trigger while stopping');

  const second = outcome(s.coordinator.triggerSavepoint(true, w.write));
  const plain = outcome(s.coordinator.triggerSavepoint(false, w.write));
  await flush();
  for (const [what, o] of [['a second stop', second], ['a savepoint', plain]] as const) {
    t.type(o.error, SavepointFailedError, `${what} while stopping rejects`);
    t.match((o.error as Error | undefined)?.message, /already stopping with savepoint 1/, what);
  }
  t.same(s.log, ['trigger 1 stop'], 'neither was triggered');
  t.notOk(stop.settled, 'the stop itself is still in flight');

  s.coordinator.onDecline(1, 'a sink could not pre-commit');
  await flush();
  t.match((stop.error as Error | undefined)?.message, /^Savepoint 1 failed: a sink could not pre-commit$/);
  t.notOk(s.coordinator.isStopping, 'the failed stop is over');
  t.same(s.log, ['trigger 1 stop', 'abort 1', 'prune 1'], 'aborted, and what it put into shared/ pruned');
  s.clock.advance(100);
  t.same(s.log.slice(3), ['trigger 2'], 'periodic checkpoints resume');
  s.ackAll(2);
  const again = outcome(s.coordinator.triggerSavepoint(true, w.write));
  t.ok(s.log.includes('trigger 3 stop'), 'a new stop is accepted');
  s.ackAll(3);
  await flush();
  t.same(again.value, { checkpointId: 3, path: '/sp/savepoint-3' });
  s.coordinator.stop(true);
});

t.test('write() throwing: a savepoint rejects though its checkpoint completes; a stop is aborted and the job goes on', async (t) => {
  await t.test('savepoint', async (t) => {
    const s = setup({ intervalMs: undefined });
    const w = writer(s, new Error('EACCES: permission denied, mkdir /sp/savepoint-1'));
    const sp = outcome(s.coordinator.triggerSavepoint(false, w.write));
    s.ackAll(1);
    t.same(s.log, ['trigger 1', 'complete 1', 'write 1', 'prune 1', 'notify 1'], 'the checkpoint completes and is notified');
    await flush();
    t.type(sp.error, SavepointFailedError);
    t.equal((sp.error as Error).message, 'Savepoint 1 failed: EACCES: permission denied, mkdir /sp/savepoint-1');
    t.same(savepointEvents(s), []);
    t.ok(s.events.some((e) => e.type === 'checkpoint-completed' && e.checkpointId === 1));
    t.same(s.coordinator.completed.map((c) => c.checkpointId), [1]);
    t.equal(s.failure(), undefined);
  });
  await t.test('stop', async (t) => {
    const s = setup({ intervalMs: 100 });
    const w = writer(s, new Error('ENOSPC: no space left on device'));
    s.coordinator.start();
    const stop = outcome(s.coordinator.triggerSavepoint(true, w.write));
    s.clock.advance(150);
    t.same(s.log, ['trigger 1 stop'], 'the periodic tick at 100 found the job stopping');
    s.ackAll(1);
    t.same(s.log, ['trigger 1 stop', 'complete 1', 'write 1', 'prune 1', 'abort 1'], 'abort instead of complete: the subtasks go on');
    t.notOk(s.log.includes('notify 1'));
    t.notOk(s.coordinator.isStopping);
    await flush();
    t.type(stop.error, SavepointFailedError);
    t.match((stop.error as Error).message, /ENOSPC: no space left on device/);
    t.same(savepointEvents(s), []);
    s.clock.advance(100);
    t.ok(s.log.includes('trigger 2'), 'periodic checkpoints resume');
    t.equal(s.failure(), undefined);
    s.coordinator.stop(true);
  });
});

t.test('stop(quiet, reason) and a finished source reject pending savepoints with the reason', async (t) => {
  await t.test('stop(true, reason)', async (t) => {
    const s = setup({ intervalMs: undefined });
    const w = writer(s);
    const plain = outcome(s.coordinator.triggerSavepoint(false, w.write));
    const stop = outcome(s.coordinator.triggerSavepoint(true, w.write));
    t.same(s.log, ['trigger 1', 'trigger 2 stop'], 'a stop may follow a plain savepoint in flight');
    s.coordinator.stop(true, 'the job was cancelled');
    await flush();
    t.equal((plain.error as Error | undefined)?.message, 'Savepoint 1 failed: the job was cancelled');
    t.equal((stop.error as Error | undefined)?.message, 'Savepoint 2 failed: the job was cancelled');
    t.type(plain.error, SavepointFailedError);
    t.same(s.log, ['trigger 1', 'trigger 2 stop'], 'quiet: no abort messages');
    s.ackAll(1);
    t.same(w.written, [], 'late acks complete nothing');
    const late = outcome(s.coordinator.triggerSavepoint(false, w.write));
    await flush();
    t.match((late.error as Error | undefined)?.message, /checkpointing has ended/);
  });
  await t.test('stop() without a reason', async (t) => {
    const s = setup({ intervalMs: undefined });
    const sp = outcome(s.coordinator.triggerSavepoint(false, writer(s).write));
    s.coordinator.stop();
    await flush();
    t.ok(s.log.includes('abort 1'), 'not quiet: aborted');
    t.match((sp.error as Error | undefined)?.message, /^Savepoint 1 failed: the job stopped before it completed/);
  });
  await t.test('subtasks ending their input while a stop-with-savepoint is in flight', async (t) => {
    const s = setup({ tolerableFailures: 0 });
    const w = writer(s);
    s.coordinator.start();
    const stop = outcome(s.coordinator.triggerSavepoint(true, w.write));
    s.ack('0/0', 1);
    s.coordinator.onInputEnded('0/0');
    s.coordinator.onInputEnded('1/0');
    t.notOk(s.log.some((l) => l.startsWith('trigger 2')), 'no final checkpoint while the stop is in flight');
    t.ok(s.log.includes('trigger 1 stop -> 1/0'), 'the stop reaches the subtask that ended directly');
    s.ack('1/0', 1);
    await flush();
    t.equal(stop.error, undefined);
    t.match(stop.value, { checkpointId: 1 });
    t.equal(s.failure(), undefined);
  });
});

t.test('without an interval: start() schedules nothing; savepoints and stops still work', async (t) => {
  const s = setup({ intervalMs: undefined });
  const w = writer(s);
  s.coordinator.start();
  t.equal(s.clock.armed, 0, 'no timer armed');
  s.clock.advance(1_000_000);
  t.same(s.log, [], 'no periodic checkpoint');
  const sp = outcome(s.coordinator.triggerSavepoint(false, w.write));
  t.same(s.log, ['trigger 1']);
  s.ackAll(1);
  await flush();
  t.same(sp.value, { checkpointId: 1, path: '/sp/savepoint-1' });
  t.equal(s.clock.armed, 0, 'nothing scheduled after it completes');
  const failedStop = outcome(s.coordinator.triggerSavepoint(true, w.write));
  s.coordinator.onDecline(2, 'busy');
  await flush();
  t.match((failedStop.error as Error | undefined)?.message, /^Savepoint 2 failed: busy$/);
  t.equal(s.clock.armed, 0, 'a failed stop schedules nothing either');
  s.clock.advance(1_000_000);
  t.same(s.log.filter((l) => l.startsWith('trigger')), ['trigger 1', 'trigger 2 stop']);
  const stop = outcome(s.coordinator.triggerSavepoint(true, w.write));
  s.ackAll(3);
  await flush();
  t.same(stop.value, { checkpointId: 3, path: '/sp/savepoint-3' });
  t.same(s.log.slice(-4), ['complete 3', 'write 3', 'prune 1', 'notify 3']);
});

// Fails against the current src: onAck's catch (meant for storage.complete) also catches
// a prune that throws in complete() after the metadata and the savepoint folder are
// durable, and turns the completed checkpoint into a failed one (abort, checkpoint-failed,
// savepoint rejected; a periodic one would count toward the tolerable failures).
t.test('a prune that throws after the savepoint is written does not undo the completed checkpoint', async (t) => {
  const s = setup({ intervalMs: undefined, tolerableFailures: 0 });
  const w = writer(s);
  s.storage.prune = () => {
    s.log.push('prune failed');
    throw new Error('EBUSY: resource busy or locked, unlink shared/v0-s0-x');
  };
  const sp = outcome(s.coordinator.triggerSavepoint(false, w.write));
  s.ackAll(1);
  await flush();
  t.same(s.log.slice(0, 4), ['trigger 1', 'complete 1', 'write 1', 'prune failed'], 'metadata durable, savepoint folder written');
  t.same(s.coordinator.completed.map((c) => c.checkpointId), [1], 'recorded as completed');
  t.ok(s.log.includes('notify 1'), 'the subtasks are told checkpoint 1 is complete');
  t.notOk(s.log.includes('abort 1'), 'a checkpoint whose metadata is durable is not aborted');
  t.same(s.events.filter((e) => e.type === 'checkpoint-failed'), [], 'nor reported as failed');
  t.same(sp.value, { checkpointId: 1, path: '/sp/savepoint-1' }, 'the savepoint that was written resolves');
  t.equal(s.failure(), undefined);
});

t.test('a decline from a failed asynchronous phase counts against the tolerance, a not-ready one does not; either prunes its files once nothing is in flight', async (t) => {
  const s = setup({ tolerableFailures: 1 });
  s.coordinator.start();
  s.clock.advance(100); // trigger 1
  s.coordinator.onDecline(1, 'the subtask is stopping');
  t.ok(s.log.includes('abort 1'));
  t.ok(s.log.includes('prune 1'), 'the declined checkpoint\'s shared files are pruned at once (nothing in flight)');
  s.clock.advance(100); // trigger 2
  s.coordinator.onDecline(2, 'declined by subtask 0 of vertex 1 in its asynchronous phase (ENOSPC): no space left on device', true);
  t.equal(s.failure(), undefined, 'one failed checkpoint is tolerated; the not-ready decline did not count');
  s.clock.advance(100); // trigger 3
  s.ackAll(3);
  t.ok(s.log.includes('complete 3'), 'a later checkpoint completes once space returns');
  s.clock.advance(100); // trigger 4
  s.coordinator.onDecline(4, 'declined (ENOSPC)', true);
  t.equal(s.failure(), undefined, 'the completed checkpoint reset the count');
  s.clock.advance(100); // trigger 5
  s.coordinator.onDecline(5, 'declined by subtask 0 of vertex 1 in its asynchronous phase (ENOSPC): no space left on device', true);
  t.match(s.failure()?.message, /2 checkpoints failed in a row \(tolerable: 1\).*checkpoint 5 declined by subtask 0 of vertex 1 in its asynchronous phase \(ENOSPC\)/);
  const failed = s.events.filter((e) => e.type === 'checkpoint-failed').map((e) => (e as { checkpointId: number }).checkpointId);
  t.same(failed, [1, 2, 4, 5], 'each decline is reported as a failed checkpoint');
});

t.test('the stats tracker sees checkpoints in flight, each ack with its time, completions and failures, and keeps the latest few', async (t) => {
  const s = setup({ timeoutMs: 1000, tolerableFailures: 10 });
  s.coordinator.start();
  s.clock.advance(100);
  t.same(s.tracker.inProgress().map((c) => [c.checkpointId, c.status, c.numSubtasks, c.acks.length, c.isSavepoint]), [[1, 'IN_PROGRESS', 2, 0, false]], 'triggered: in flight, no ack');
  s.clock.advance(7);
  s.ack('1/0', 1);
  t.same(s.tracker.inProgress()[0]!.acks.map((a) => [a.vertex, a.subtaskIndex, a.ackTimestamp, a.stats.bytesWritten]), [[1, 0, 107, 10]], 'one ack, at the clock time');
  s.clock.advance(3);
  s.ack('0/0', 1);
  t.same(s.tracker.inProgress(), [], 'complete: no longer in flight');
  const done = s.tracker.get(1)!;
  t.same([done.status, done.endTimestamp, done.acks.map((a) => `${a.vertex}/${a.subtaskIndex}@${a.ackTimestamp}`)], ['COMPLETED', 110, ['1/0@107', '0/0@110']]);

  s.clock.advance(100); // checkpoint 2 triggers at 210
  s.ack('0/0', 2);
  s.clock.advance(1000); // and times out
  t.same([s.tracker.get(2)!.status, s.tracker.get(2)!.acks.length], ['FAILED', 1], 'a timeout fails it, its acks kept');
  t.match(s.tracker.get(2)!.failure, /not complete after 1000 ms/);
  for (let id = 3; id <= 5; id++) {
    s.clock.advance(100);
    s.ackAll(id);
  }
  t.same([1, 2, 3, 4, 5].map((id) => s.tracker.get(id)?.status), [undefined, undefined, 'COMPLETED', 'COMPLETED', 'COMPLETED'], 'only the latest 3 ended checkpoints are kept');

  const savepoint = s.coordinator.triggerSavepoint(false, () => '/sp');
  savepoint.catch(() => {});
  const pending = s.tracker.inProgress();
  t.same(pending.map((c) => c.isSavepoint), [true], 'a savepoint in flight is marked');
  s.coordinator.stop(true, 'the job was cancelled');
  t.same(s.tracker.inProgress(), [], 'stop() ends what was in flight');
  t.same([s.tracker.get(pending[0]!.checkpointId)!.status, s.tracker.get(pending[0]!.checkpointId)!.failure], ['FAILED', 'the job was cancelled']);
  await t.rejects(savepoint);
});

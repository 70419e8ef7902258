// JobHistory: the job's state through its life (Flink's JobStatus names), the failure of
// each attempt, failed checkpoints and the latest restore, from engine events, with an
// injected clock; the list is bounded.
import t from 'tap';
import { JobHistory, historyEntriesMax } from '../../src/metrics/index.js';
import { JobCancelledError } from '../../src/runtime/index.js';

t.test('states: INITIALIZING, RUNNING, RESTARTING, RUNNING, CANCELLING, CANCELED', async (t) => {
  let now = 1000;
  const h = new JobHistory(500, () => now);
  t.equal(h.state(undefined), 'INITIALIZING', 'no attempt deployed yet');
  t.equal(h.state(0), 'RUNNING');
  now = 2000;
  h.record({ type: 'restarting', attempt: 1, delayMs: 50, cause: 'Subtask Map (1/2) failed: Error: boom' });
  t.equal(h.state(0), 'RESTARTING', 'attempt 0 failed, attempt 1 not deployed');
  t.equal(h.state(1), 'RUNNING', 'attempt 1 deployed');
  t.same(h.failures, [{ attempt: 0, timestamp: 2000, message: 'Subtask Map (1/2) failed: Error: boom', stacktrace: 'Subtask Map (1/2) failed: Error: boom', restarted: true }]);
  now = 2500;
  h.record({ type: 'restored', checkpointId: 7, attempt: 1 });
  t.same(h.restore, { checkpointId: 7, timestamp: 2500, isSavepoint: false });
  h.record({ type: 'checkpoint-failed', checkpointId: 8, reason: 'expired' });
  t.equal(h.numberOfFailedCheckpoints, 1);
  h.cancelling();
  t.equal(h.state(1), 'CANCELLING');
  now = 3000;
  h.end(new JobCancelledError('j'), true, 1);
  t.equal(h.state(1), 'CANCELED');
  t.equal(h.endTime, 3000);
  t.equal(h.failures.length, 1, 'a cancel is not a failure');
});

t.test('a failed job records its final failure; FINISHED without one; lists are bounded', async (t) => {
  const failed = new JobHistory(0, () => 10);
  failed.end(new Error('Subtask Sum (1/1) failed: RangeError: too big'), false, 3);
  t.equal(failed.state(3), 'FAILED');
  t.match(failed.failures[0], { attempt: 3, restarted: false, message: /RangeError/ });
  const finished = new JobHistory(0);
  finished.end(undefined, false, 0);
  t.equal(finished.state(0), 'FINISHED');
  const many = new JobHistory(0);
  for (let i = 0; i < historyEntriesMax + 5; i++) many.record({ type: 'checkpoint-failed', checkpointId: i, reason: 'x' });
  t.equal(many.failedCheckpoints.length, historyEntriesMax);
  t.equal(many.failedCheckpoints[0]!.checkpointId, 5, 'the oldest are dropped');
  t.equal(many.numberOfFailedCheckpoints, historyEntriesMax + 5, 'the count goes on');
});

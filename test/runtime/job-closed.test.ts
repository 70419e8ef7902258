// A job's `result` does not wait for its worker threads to exit (V8 frees each thread's
// heap as it exits: 12-25 ms of CPU a thread after a word count); `closed` settles once
// they have (runtime/job-master.ts `JobRun.closed`). Whether any worker thread is left is
// read from Node's diagnostic report, which lists the process's live worker threads.
import t from 'tap';
import { UsageError, UserFunctionError, runJob } from '../../src/index.js';
import type { JobEvent, JobHandle } from '../../src/index.js';
import { SubtaskPool } from '../../src/runtime/subtask-pool.js';

const threadTags = new URL('../jobs/thread-tags.js', import.meta.url).pathname;
const scenarios = new URL('../jobs/scenarios.js', import.meta.url);

/** Worker threads alive in this process (Node's diagnostic report, `workers`). */
function liveWorkers(): number {
  return (process.report.getReport() as unknown as { workers: unknown[] }).workers.length;
}

/** The order in which `result` and `closed` of `handle` settle, with result's outcome. */
async function settleOrder(handle: JobHandle): Promise<{ order: string[]; outcome: unknown }> {
  const order: string[] = [];
  let outcome: unknown;
  const result = handle.result.then(
    (r) => {
      outcome = r;
      order.push('result');
    },
    (e: unknown) => {
      outcome = e;
      order.push('result');
    },
  );
  const closed = handle.closed.then(() => order.push('closed'));
  await Promise.all([result, closed]);
  return { order, outcome };
}

t.test('a finished job: closed settles after result, and then none of its threads is left', async (t) => {
  // The test runner may have threads of its own: the job's are those above this count.
  const before = liveWorkers();
  // 3000 records at 6000/s: half a second, long enough to see the job's threads alive.
  const handle = runJob(threadTags, { parallelism: 2, slotSharing: false, args: ['--count', '3000', '--keys', '8', '--rate', '6000'] });
  let during = before;
  while (during === before && handle.metrics().subtasks.every((s) => !s.finished)) {
    await new Promise((resolve) => setTimeout(resolve, 20));
    during = liveWorkers();
  }
  t.ok(during > before, `the job's threads are seen while it runs (${during} against ${before})`);
  const { order, outcome } = await settleOrder(handle);
  t.same(order, ['result', 'closed']);
  t.equal((outcome as { collected: Record<string, unknown[]> }).collected['tagged']!.length, 3000, 'the job ran to its end');
  t.equal(liveWorkers(), before, 'every worker thread of the job has exited');
});

t.test('a job whose user function throws (no restarts): result rejects, closed settles, no thread is left', async (t) => {
  const before = liveWorkers();
  const handle = runJob(scenarios, { parallelism: 1, slotSharing: false, stateBackend: 'hashmap', args: ['blame', JSON.stringify({ n: 3000, mapThrowAt: 2345 })] });
  const { order, outcome } = await settleOrder(handle);
  t.same(order, ['result', 'closed']);
  t.type(outcome, UserFunctionError, 'the job failed with the map\'s throw');
  t.equal(liveWorkers(), before, 'every worker thread of the failed job has exited');
});

t.test('a job refused before any thread started: closed settles all the same', async (t) => {
  const handle = runJob('/nonexistent/job-closed.ts');
  const { order, outcome } = await settleOrder(handle);
  t.same(order, ['result', 'closed']);
  t.ok(outcome instanceof UsageError, 'a UsageError names the missing module');
});

t.test('threads that fail to end: the result stands, closed settles, a threads-unended event says why', async (t) => {
  const original = SubtaskPool.prototype.destroy;
  SubtaskPool.prototype.destroy = async function (this: SubtaskPool): Promise<void> {
    await original.call(this);
    throw new Error('a thread would not end');
  };
  t.teardown(() => {
    SubtaskPool.prototype.destroy = original;
  });
  const events: JobEvent[] = [];
  const handle = runJob(threadTags, { parallelism: 1, args: ['--count', '100', '--keys', '4'], onEvent: (e) => events.push(e) });
  const { order, outcome } = await settleOrder(handle);
  t.same(order, ['result', 'closed']);
  t.equal((outcome as { collected: Record<string, unknown[]> }).collected['tagged']!.length, 100, 'the job finished with all its records');
  t.same(
    events.filter((e) => e.type === 'threads-unended'),
    [{ type: 'threads-unended', reason: 'a thread would not end' }],
  );
});

// Rates and totals across restarts: a job whose worker threads are killed keeps totals
// that never go down (earlier attempts counted apart from the current one) and rates that
// are never negative, in the metrics, the progress line and the summary; and the rate
// arithmetic itself on hand-made readings.
import t from 'tap';
import { runJob } from '../../src/index.js';
import type { JobEvent, JobMetrics } from '../../src/index.js';
import { request } from '../helpers/http.js';
import { parsePrometheusText } from '../helpers/prometheus-text.js';
import { RateSampler, computeRates, operatorTotals, subtaskTotals } from '../../src/metrics/index.js';
import { progressFields } from '../../src/cli/progress.js';
import { summarize } from '../../src/cli/summary.js';
import { tempDir, waitFor } from '../helpers/checkpoints.js';
import { pacedCountsJob } from '../helpers/paced-counts.js';

/** A reading of one source operator on one subtask, `recordsOut` this attempt plus `earlier`. */
function reading(elapsedMs: number, attempt: number, recordsOut: number, earlier: number, idleMs: number): JobMetrics {
  const counts = { recordsIn: 0, recordsOut: earlier, bytesIn: 0, bytesOut: earlier * 10 };
  return {
    elapsedMs,
    attempt,
    operators: [{ uid: 'src', name: 'src', role: 'source', parallelism: 1, recordsIn: 0, recordsOut, recordsInErrors: 0, numLateRecordsDropped: 0, earlierAttempts: counts }],
    subtasks: [
      {
        vertex: 'src',
        vertexId: 0,
        subtaskIndex: 0,
        recordsIn: 0,
        recordsOut,
        bytesIn: 0,
        bytesOut: recordsOut * 10,
        earlierAttempts: counts,
        activeSince: undefined,
        activeUntil: undefined,
        backpressuredMs: 0,
        idleMs,
        finished: false,
        currentInputWatermark: undefined,
        eventTimeLagMs: undefined,
        operators: [{ uid: 'src', recordsIn: 0, recordsOut, numLateRecordsDropped: 0, earlierAttempts: { recordsIn: 0, recordsOut: earlier } }],
        state: { segments: 0, flushes: 0, compactions: 0, cacheHits: 0, cacheMisses: 0 },
      },
    ],
  };
}

t.test('rates over totals of every attempt: a restart that resets the attempt counts gives no negative rate', async (t) => {
  const a = reading(1000, 0, 5000, 0, 100);
  const b = reading(2000, 0, 10000, 0, 300);
  // Restart: the attempt's counts start at 0, the earlier attempts hold the 10000.
  const c = reading(3000, 1, 200, 10000, 10);
  const d = reading(4000, 1, 1200, 10000, 510);
  t.same(computeRates(undefined, a).operators[0], { numRecordsInPerSecond: 0, numRecordsOutPerSecond: 0 }, 'the first reading has no window');
  t.equal(computeRates(a, b).operators[0]!.numRecordsOutPerSecond, 5000);
  t.equal(computeRates(b, c).operators[0]!.numRecordsOutPerSecond, 200, 'across the restart: (10000 + 200) - 10000 per second, not -9800');
  t.equal(computeRates(b, c).subtasks.get('0/0')!.numRecordsOutPerSecond, 200);
  t.equal(computeRates(b, c).subtasks.get('0/0')!.numBytesOutPerSecond, 2000);
  t.same(computeRates(b, c).subtasks.get('0/0')!.idleTimeMsPerSecond, 0, 'time splits do not span attempts');
  const cd = computeRates(c, d).subtasks.get('0/0')!;
  t.same([cd.idleTimeMsPerSecond, cd.busyTimeMsPerSecond, cd.backPressuredTimeMsPerSecond], [500, 500, 0]);
  const sampler = new RateSampler(250);
  sampler.sample(a);
  t.equal(sampler.sample(reading(1100, 0, 9999, 0, 100)).atMs, 1000, 'a reading within the minimum window returns the previous rates');
});

t.test('killed workers: totals never go down and rates are never negative while the job restarts', async (t) => {
  const events: JobEvent[] = [];
  const handle = runJob(pacedCountsJob, {
    parallelism: 2,
    webPort: 0,
    onEvent: (e) => events.push(e),
    checkpointDir: tempDir(t, 'rr-ck'),
    checkpointIntervalMs: 100,
    killWorkerEveryMs: 1500,
    restartStrategy: 'fixed-delay:attempts=1000,delay=50ms',
    args: ['--count', '1000000000', '--keys', '8', '--output', tempDir(t, 'rr-out'), '--rate', '20000'],
  });
  handle.result.catch(() => {});
  t.teardown(async () => {
    handle.cancel();
    await handle.result.catch(() => {});
  });
  const sampler = new RateSampler(0);
  const problems: string[] = [];
  let previous: JobMetrics | undefined;
  let samples = 0;
  let restartsSeen = 0;
  let afterRestart = 0;
  const timer = setInterval(() => {
    const m = handle.metrics();
    const rates = sampler.sample(m);
    samples++;
    for (const r of rates.operators) if (r.numRecordsInPerSecond < 0 || r.numRecordsOutPerSecond < 0) problems.push(`negative operator rate at ${m.elapsedMs} ms`);
    for (const [key, r] of rates.subtasks) for (const [name, v] of Object.entries(r)) if (v < 0) problems.push(`${key} ${name} ${v} at ${m.elapsedMs} ms`);
    const fields = progressFields(m, rates);
    if (/-\d/.test(`${fields.inRate} ${fields.outRate} ${fields.operators} ${fields.backpressure}`)) problems.push(`progress line shows a negative number: ${JSON.stringify(fields)}`);
    if (previous !== undefined && previous.operators.length > 0) {
      m.operators.forEach((op, id) => {
        const now = operatorTotals(op);
        const before = operatorTotals(previous!.operators[id]!);
        if (now.recordsOut < before.recordsOut || now.recordsIn < before.recordsIn) problems.push(`${op.uid} total went down at ${m.elapsedMs} ms`);
      });
      for (const s of m.subtasks) {
        const p = previous.subtasks.find((x) => x.vertexId === s.vertexId && x.subtaskIndex === s.subtaskIndex);
        if (p !== undefined && subtaskTotals(s).bytesOut < subtaskTotals(p).bytesOut) problems.push(`subtask ${s.vertex}/${s.subtaskIndex} bytes went down`);
      }
    }
    if ((m.restarts ?? 0) > restartsSeen) restartsSeen = m.restarts ?? 0;
    if (restartsSeen >= 2) afterRestart++;
    previous = m;
  }, 50);
  t.teardown(() => clearInterval(timer));
  t.ok(await waitFor(() => afterRestart >= 20, 90_000), `two restarts and 20 readings after them (restarts ${restartsSeen}, ${samples} readings)`);
  clearInterval(timer);
  t.same(problems.slice(0, 5), [], 'no total went down, no rate was negative');
  const m = handle.metrics();
  // The REST API and /metrics tell the same story: restarts, the failure of each attempt, the latest restore.
  const url = handle.webUrl()!;
  const details = (await request(`${url}/jobs/${handle.jobId}`)).json;
  t.ok(details.numRestarts >= 2, `${details.numRestarts} restarts in /jobs/:id`);
  const exceptions = (await request(`${url}/jobs/${handle.jobId}/exceptions`)).json;
  t.ok(exceptions.exceptionHistory.entries.length >= 2 && exceptions.exceptionHistory.entries.every((e: any) => e.restarted === true && /Subtask .* failed/.test(e.stacktrace)), 'each restart has its failure, newest first');
  t.ok(exceptions.exceptionHistory.entries[0].timestamp >= exceptions.exceptionHistory.entries[1].timestamp);
  const restored = (await request(`${url}/jobs/${handle.jobId}/checkpoints`)).json.latest.restored;
  const restoredEvents = events.filter((e) => e.type === 'restored');
  if (restoredEvents.length > 0) t.match(restored, { id: (restoredEvents[restoredEvents.length - 1] as { checkpointId: number }).checkpointId, is_savepoint: false, restore_timestamp: Number });
  else t.equal(restored, null, 'no checkpoint to restore yet: no restore');
  const prom = parsePrometheusText((await request(`${url}/metrics`)).text);
  t.ok(prom.get('sluicegate_job_numRestarts')!.samples[0]!.value >= 2);
  t.equal(prom.get('sluicegate_job_lastCheckpointRestoreTimestamp')!.samples[0]!.value > 0, restoredEvents.length > 0, 'lastCheckpointRestoreTimestamp set with a restore');
  const source = m.operators.find((o) => o.role === 'source')!;
  t.ok(source.earlierAttempts.recordsOut > 0, `the earlier attempts' ${source.earlierAttempts.recordsOut} records are kept apart from this attempt's ${source.recordsOut}`);
  const active = m.subtasks.filter((s) => subtaskTotals(s).recordsIn + subtaskTotals(s).recordsOut > 0);
  t.ok(active.length > 0);
  t.same(
    active.filter((s) => !(s.activeSince !== undefined && s.activeUntil !== undefined && s.activeUntil >= s.activeSince)).map((s) => `${s.vertex} ${s.subtaskIndex}: ${s.activeSince}..${s.activeUntil}`),
    [],
    'every subtask that had records has an active span across attempts',
  );
});

t.test('the summary rates each operator over its active time, not the wall time with start-up', async (t) => {
  const count = 20_000;
  const result = await runJob(pacedCountsJob, { parallelism: 2, args: ['--count', String(count), '--keys', '8', '--output', tempDir(t, 'active-out'), '--rate', '10000'] }).result;
  const summary = summarize(result);
  const wallRate = count / (result.wallTimeMs / 1000);
  const source = summary.operators.find((o) => o.uid === 'numbers')!;
  t.ok(source.recordsPerSecond > wallRate, `source: ${source.recordsPerSecond} records/s over its active time, above ${wallRate.toFixed(0)} over the wall time`);
  for (const s of result.subtasks) t.ok(s.activeSince! >= Date.now() - result.wallTimeMs - 1000 && s.activeUntil! >= s.activeSince!, `${s.vertex} ${s.subtaskIndex}: active span inside the run`);
});

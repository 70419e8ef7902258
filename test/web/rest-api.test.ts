// The REST API, server-sent events and /metrics against a real running job (paced counts:
// a generator, a keyed running sum, a file sink): Flink's shapes, numbers consistent with
// the job's own metrics (what --json prints), 404s for bad ids, the Prometheus text
// parsed strictly, a savepoint and a cancel through the token.
import t, { type Test } from 'tap';
import fs from 'node:fs';
import path from 'node:path';
import { runJob } from '../../src/index.js';
import type { JobEvent, JobHandle } from '../../src/index.js';
import { JobCancelledError } from '../../src/runtime/index.js';
import { tempDir } from '../helpers/checkpoints.js';
import { readEvents, request, servedUrl } from '../helpers/http.js';
import { pacedCountsJob } from '../helpers/paced-counts.js';
import { parsePrometheusText } from '../helpers/prometheus-text.js';

/** Starts the paced-counts job with a web server on a free port; resolves once it serves. */
async function startServedJob(t: Test, extra: Record<string, unknown> = {}): Promise<{ handle: JobHandle; url: string; ck: string; events: JobEvent[] }> {
  const ck = tempDir(t, 'web-ck');
  const events: JobEvent[] = [];
  const handle = runJob(pacedCountsJob, {
    parallelism: 2,
    checkpointDir: ck,
    checkpointIntervalMs: 300,
    webPort: 0,
    onEvent: (e) => events.push(e),
    args: ['--count', '100000000', '--keys', '16', '--output', tempDir(t, 'web-out'), '--rate', '20000'],
    ...extra,
  });
  const url = await servedUrl(t, handle);
  t.match(url, /^http:\/\/127\.0\.0\.1:\d+$/, 'bound to 127.0.0.1 by default');
  const serving = events.find((e) => e.type === 'web-serving');
  const tokenFile = extra.webAllowActions === true ? {} : { tokenFile: path.join(ck, handle.jobId, 'web-token') };
  t.same(serving, { type: 'web-serving', jobId: handle.jobId, url, ...tokenFile }, 'the web-serving event names the URL (and the token file unless actions are allowed)');
  return { handle, url, ck, events };
}

/** Polls GET `route` until `ok(json)` holds (deadline `ms`); returns the last answer. */
async function until(url: string, route: string, ok: (json: any) => boolean, ms = 30_000, everyMs = 100): Promise<any> {
  let last: any;
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    last = (await request(`${url}${route}`)).json;
    if (ok(last)) return last;
    await new Promise((resolve) => setTimeout(resolve, everyMs));
  }
  throw new Error(`GET ${route} did not satisfy the condition within ${ms} ms; last: ${JSON.stringify(last).slice(0, 500)}`);
}

t.test('REST endpoints answer Flink shapes with numbers consistent with the job metrics', async (t) => {
  const { handle, url, ck } = await startServedJob(t);
  const jobId = handle.jobId;
  t.same((await request(`${url}/jobs`)).json.jobs.length, 1);
  const details = await until(url, `/jobs/${jobId}`, (j) => j.state === 'RUNNING' && j.vertices.every((v: any) => v.rates.numRecordsOutPerSecond > 0 || v.rates.numRecordsInPerSecond > 0));
  t.equal(details.jid, jobId);
  t.equal(details.name, 'paced-counts');
  t.equal(details['job-type'], 'STREAMING');
  t.equal(details['end-time'], -1);
  t.ok(details.vertices.length >= 2, `${details.vertices.length} vertices`);
  for (const v of details.vertices) {
    t.match(v.id, /^[0-9a-f]{32}$/, 'Flink-style vertex id');
    t.equal(v.parallelism, 2);
    t.match(v.metrics, { 'read-records': Number, 'write-records': Number, 'read-bytes': Number, 'write-bytes': Number, 'accumulated-busy-time': Number });
    t.match(v.rates, { numRecordsInPerSecond: Number, busyTimeMsPerSecond: Number, backPressuredTimeMsPerSecond: Number, backpressureLevel: /^(ok|low|high)$/ });
  }
  t.ok(details.vertices.some((v: any) => v.metrics['write-bytes'] > 0), 'bytes are counted');

  // Consistency: the REST totals lie between two readings of the job's own metrics.
  const before = handle.metrics();
  const rest = (await request(`${url}/jobs/${jobId}`)).json;
  const after = handle.metrics();
  const sinkVertex = rest.vertices[rest.vertices.length - 1];
  const sinkOp = (m: typeof before) => m.operators.find((o) => o.role === 'sink')!;
  t.ok(sinkVertex['metrics']['read-records'] >= sinkOp(before).recordsIn && sinkVertex['metrics']['read-records'] <= sinkOp(after).recordsIn, `sink read-records ${sinkVertex.metrics['read-records']} within [${sinkOp(before).recordsIn}, ${sinkOp(after).recordsIn}]`);

  const vertex = (await request(`${url}/jobs/${jobId}/vertices/${sinkVertex.id}`)).json;
  t.equal(vertex.id, sinkVertex.id);
  t.equal(vertex.subtasks.length, 2);
  t.match(vertex.subtasks[0], { subtask: 0, status: 'RUNNING', metrics: { 'read-records': Number }, rates: { idleTimeMsPerSecond: Number }, state: { segments: Number } });
  t.ok(vertex.operators.some((o: any) => o.uid === 'sink'), 'the chain lists its operators by uid');
  const bp = (await request(`${url}/jobs/${jobId}/vertices/${sinkVertex.id}/backpressure`)).json;
  t.match(bp, { status: 'ok', backpressureLevel: /^(ok|low|high)$/, subtasks: Array });

  const plan = (await request(`${url}/jobs/${jobId}/plan`)).json.plan;
  t.equal(plan.jid, jobId);
  t.equal(plan.nodes.length, details.vertices.length);
  t.ok(plan.nodes.some((n: any) => n.inputs?.some((i: any) => i.ship_strategy === 'HASH')), 'the keyBy edge is HASH');

  const checkpoints = await until(url, `/jobs/${jobId}/checkpoints`, (c) => c.counts.completed >= 1);
  t.match(checkpoints.latest.completed, { id: Number, status: 'COMPLETED', end_to_end_duration: Number, checkpointed_size: Number, state_size: Number, sync_duration: Number, async_duration: Number, alignment_duration: Number });
  t.equal(checkpoints.history.find((h: any) => h.status === 'COMPLETED').id, checkpoints.latest.completed.id, 'history is newest first (a checkpoint in flight before the completed ones)');
  t.same(checkpoints.history.map((h: any) => h.id), [...checkpoints.history.map((h: any) => h.id)].sort((a: number, b: number) => b - a), 'ids descend');
  t.equal(checkpoints.latest.restored, null);
  t.equal(checkpoints.latest.savepoint, null, 'no savepoint yet');

  // Checkpoint details (Flink's CheckpointStatistics with tasks, and per-subtask acks).
  const cpId = checkpoints.latest.completed.id;
  const cp = (await request(`${url}/jobs/${jobId}/checkpoints/details/${cpId}`)).json;
  t.match(cp, { className: '.CompletedCheckpointStatistics', id: cpId, status: 'COMPLETED', is_savepoint: false, num_subtasks: 2 * details.vertices.length, num_acknowledged_subtasks: 2 * details.vertices.length });
  t.same(Object.keys(cp.tasks).sort(), details.vertices.map((v: any) => v.id).sort(), 'tasks by every vertex id');
  for (const task of Object.values<any>(cp.tasks)) {
    t.match(task, { status: 'COMPLETED', num_subtasks: 2, num_acknowledged_subtasks: 2, checkpointed_size: Number, state_size: Number });
    t.ok(task.latest_ack_timestamp >= cp.trigger_timestamp && task.end_to_end_duration === task.latest_ack_timestamp - cp.trigger_timestamp, 'a task ends with its latest ack');
  }
  const sinkTask = (await request(`${url}/jobs/${jobId}/checkpoints/details/${cpId}/subtasks/${sinkVertex.id}`)).json;
  t.same(sinkTask.subtasks.map((x: any) => [x.index, x.status]), [[0, 'completed'], [1, 'completed']]);
  for (const x of sinkTask.subtasks) t.match(x, { ack_timestamp: Number, end_to_end_duration: Number, checkpoint: { sync: Number, async: Number }, alignment: { duration: Number }, unaligned_checkpoint: false });
  t.equal(sinkTask.summary.state_size.max, Math.max(...sinkTask.subtasks.map((x: any) => x.state_size)), 'the summary is over the subtasks');
  t.equal(sinkTask.state_size, sinkTask.subtasks.reduce((a: number, x: any) => a + x.state_size, 0), 'the vertex total sums its subtasks');
  for (const bad of ['abc', '0', '999999']) {
    const answer = await request(`${url}/jobs/${jobId}/checkpoints/details/${bad}`);
    t.equal(answer.status, 404, `checkpoint ${bad}: 404`);
    t.match(answer.json.errors[0], /checkpoint/i);
  }
  t.equal((await request(`${url}/jobs/${jobId}/checkpoints/details/${cpId}/subtasks/x`)).status, 404, 'a bad vertex id: 404');

  // A checkpoint in flight is counted and listed first (checkpoints every 300 ms; polled until one is caught).
  const caught = await until(url, `/jobs/${jobId}/checkpoints`, (c) => c.counts.in_progress >= 1, 30_000, 2);
  t.match(caught.history[0], { className: '.PendingCheckpointStatistics', status: 'IN_PROGRESS', id: Number, num_subtasks: 2 * details.vertices.length });
  t.ok(caught.history[0].num_acknowledged_subtasks < caught.history[0].num_subtasks, 'in flight: not every subtask has acked');
  t.equal(caught.counts.total, caught.counts.completed + caught.counts.failed + caught.counts.in_progress);
  t.same((await request(`${url}/jobs/nope/exceptions`)).status, 404);
  t.same((await request(`${url}/jobs/${jobId}/exceptions`)).json, { 'root-exception': null, timestamp: null, 'all-exceptions': [], truncated: false, exceptionHistory: { entries: [], truncated: false } });
  // Slot sharing: one slot (worker thread) per subtask index of the one default group.
  t.match((await request(`${url}/overview`)).json, { taskmanagers: 1, 'jobs-running': 1, 'slots-total': Math.max(...details.vertices.map((v: { parallelism: number }) => v.parallelism)) });
  const page = await request(`${url}/`);
  t.match(page.headers['content-type'], /^text\/html/, '/ serves the dashboard (test/e2e/dashboard.test.ts drives it)');
  t.match(page.headers['content-security-policy'], /^default-src 'self'/, 'every answer carries a self-only CSP');
  t.match((await request(`${url}/config`)).json, { features: { 'web-cancel': true, 'web-submit': false }, actions: 'token' }, "Flink's /config: actions through the token");

  // Bad ids: 404 with Flink's error body; the job goes on.
  for (const route of ['/jobs/nope', `/jobs/nope/checkpoints`, `/jobs/${jobId}/vertices/0123456789abcdef0123456789abcdef`, `/jobs/${jobId}/vertices/x/backpressure`, '/no/such/route', `/jobs/${jobId}/savepoints/nope`]) {
    const answer = await request(`${url}${route}`);
    t.equal(answer.status, 404, `${route}: 404`);
    t.match(answer.json, { errors: [String] });
  }
  t.equal((await request(`${url}/jobs/${jobId}`)).json.state, 'RUNNING', 'still running after the bad requests');

  // A savepoint through the token, then a cancel: the job ends CANCELED.
  const token = fs.readFileSync(path.join(ck, jobId, 'web-token'), 'utf8').trim();
  t.equal(fs.statSync(path.join(ck, jobId, 'web-token')).mode & 0o777, 0o600, 'the token file is owner-only');
  const auth = { authorization: `Bearer ${token}` };
  const target = tempDir(t, 'web-sp');
  const triggered = await request(`${url}/jobs/${jobId}/savepoints`, { method: 'POST', headers: auth, body: { 'target-directory': target } });
  t.equal(triggered.status, 202);
  const status = await until(url, `/jobs/${jobId}/savepoints/${triggered.json['request-id']}`, (s) => s.status.id === 'COMPLETED');
  t.ok(fs.existsSync(path.join(status.operation.location, '_metadata')), `savepoint written at ${status.operation.location}`);
  const afterSavepoint = (await request(`${url}/jobs/${jobId}/checkpoints`)).json;
  t.match(afterSavepoint.latest.savepoint, { is_savepoint: true, checkpoint_type: 'SAVEPOINT', status: 'COMPLETED', external_path: status.operation.location }, 'the savepoint is in the history with its folder');
  t.match((await request(`${url}/jobs/${jobId}/checkpoints/details/${afterSavepoint.latest.savepoint.id}`)).json, { is_savepoint: true, external_path: status.operation.location });
  const cancel = await request(`${url}/jobs/${jobId}/cancel`, { method: 'POST', headers: auth });
  t.equal(cancel.status, 202);
  await t.rejects(handle.result, JobCancelledError);
  t.equal(handle.observed.state(), 'CANCELED');
  t.notOk(fs.existsSync(path.join(ck, jobId, 'web-token')), 'the token file is removed with the server');
});

t.test('server-sent events push the job details about once a second, then end with the state', async (t) => {
  const { handle, url } = await startServedJob(t, { webAllowActions: true });
  const stream = readEvents(`${url}/jobs/${handle.jobId}/events`);
  t.match((await stream.headers)['content-type'], /^text\/event-stream/);
  const events = await stream.waitFor(3, 20_000);
  t.same(events.map((e) => e.event), ['job', 'job', 'job']);
  t.same(events.map((e) => e.id), ['1', '2', '3']);
  for (const e of events) {
    t.equal(e.data.jid, handle.jobId);
    t.ok(Array.isArray(e.data.vertices) && e.data.vertices.every((v: any) => typeof v.rates.numRecordsInPerSecond === 'number'));
  }

  // ?interval=2000: an event at every second reading (the same JSON as the every-reading stream's at that reading).
  t.equal((await request(`${url}/config`)).json['refresh-interval'], 3000, "GET /config's refresh-interval is Flink's default web.refresh-interval");
  const sparse = readEvents(`${url}/jobs/${handle.jobId}/events?interval=2000`);
  const firstEvery = stream.events.length;
  await sparse.waitFor(4, 30_000);
  const every = stream.events.slice(firstEvery).map((e) => e.data.now);
  const at = sparse.events.slice(1).map((e) => every.indexOf(e.data.now));
  t.ok(at.every((i) => i >= 0), `each later event of the sparse stream is a reading the every-reading stream also got: ${JSON.stringify(at)}`);
  t.same(at.slice(1).map((i, k) => i - at[k]!), [2, 2], 'two readings between events');
  for (const bad of ['-1', 'abc', '3600001', '1.5']) {
    const answer = await request(`${url}/jobs/${handle.jobId}/events?interval=${bad}`);
    t.equal(answer.status, 400, `interval=${bad}: 400`);
    t.match(answer.json.errors[0], /interval must be an integer number of ms/);
  }

  t.equal((await request(`${url}/jobs/${handle.jobId}`, { method: 'PATCH' })).status, 202, 'PATCH (Flink\'s cancel) with --web-allow-actions');
  await stream.ended;
  await sparse.ended;
  t.same(stream.events[stream.events.length - 1], { event: 'end', id: String(stream.events.length), data: { state: 'CANCELED' } });
  t.same(sparse.events[sparse.events.length - 1], { event: 'end', id: String(sparse.events.length), data: { state: 'CANCELED' } }, 'the sparse stream ends too');
});

t.test('/metrics is Prometheus text with Flink\'s metric names and scope labels', async (t) => {
  const { handle, url } = await startServedJob(t);
  await until(url, `/jobs/${handle.jobId}/checkpoints`, (c) => c.counts.completed >= 1);
  const answer = await request(`${url}/metrics`);
  t.equal(answer.status, 200);
  t.match(answer.headers['content-type'], /^text\/plain; version=0\.0\.4/);
  const families = parsePrometheusText(answer.text);
  const names = ['numRecordsIn', 'numRecordsOut', 'numRecordsInPerSecond', 'numRecordsOutPerSecond', 'numBytesIn', 'numBytesOut', 'busyTimeMsPerSecond', 'idleTimeMsPerSecond', 'backPressuredTimeMsPerSecond'];
  for (const name of names) {
    const family = families.get(`sluicegate_task_${name}`);
    t.ok(family !== undefined && family.samples.length === handle.metrics().subtasks.length, `sluicegate_task_${name}: one sample per subtask`);
    t.same(Object.keys(family!.samples[0]!.labels).sort(), ['job_id', 'job_name', 'subtask_index', 'task_id', 'task_name']);
  }
  for (const name of ['numRecordsIn', 'numRecordsOut', 'numLateRecordsDropped']) t.ok((families.get(`sluicegate_operator_${name}`)?.samples.length ?? 0) > 0, `operator ${name}`);
  t.same(families.get('sluicegate_operator_numRecordsOut')!.samples.find((s) => s.labels.operator_id === 'numbers')?.labels.subtask_index, '0');
  for (const name of ['numRestarts', 'lastCheckpointDuration', 'lastCheckpointSize', 'lastCheckpointFullSize', 'numberOfCompletedCheckpoints', 'numberOfFailedCheckpoints', 'numberOfInProgressCheckpoints', 'totalNumberOfCheckpoints', 'lastCheckpointRestoreTimestamp']) {
    const sample = families.get(`sluicegate_job_${name}`)?.samples[0];
    t.same(sample?.labels, { job_id: handle.jobId, job_name: 'paced-counts' }, `job ${name}`);
  }
  t.ok(families.get('sluicegate_job_numberOfCompletedCheckpoints')!.samples[0]!.value >= 1);
  const value = (name: string): number => families.get(`sluicegate_job_${name}`)!.samples[0]!.value;
  t.equal(value('totalNumberOfCheckpoints'), value('numberOfCompletedCheckpoints') + value('numberOfFailedCheckpoints') + value('numberOfInProgressCheckpoints'), 'total = completed + failed + in progress');
  t.ok(value('numberOfInProgressCheckpoints') <= 1, 'at most one checkpoint in flight (max concurrent 1)');
  t.equal(families.get('sluicegate_job_lastCheckpointRestoreTimestamp')!.samples[0]!.value, -1, 'no restore yet');
  const sourceOut = families.get('sluicegate_task_numBytesOut')!.samples.filter((s) => (s.labels.task_name ?? '').length > 0);
  t.ok(sourceOut.some((s) => s.value > 0), 'the source subtasks wrote bytes');
  t.throws(() => parsePrometheusText('x{a="b} 1\n'), /unterminated/, 'the parser is strict');
  t.equal(families.get('sluicegate_operator_latency')?.samples.length ?? 0, 0, 'no latency samples without latency tracking');
  const job = (await request(`${url}/jobs/${handle.jobId}`)).json;
  for (const v of job.vertices) {
    const vertex = (await request(`${url}/jobs/${handle.jobId}/vertices/${v.id}`)).json;
    t.same(vertex.operators.map((op: { latency: unknown }) => op.latency), vertex.operators.map(() => null), `${v.name}: latency null without tracking`);
  }
});

t.test('with latency tracking, operators behind the sources show latency percentiles in REST and /metrics', async (t) => {
  const { handle, url } = await startServedJob(t, { latencyTrackingIntervalMs: 20 });
  const job = await until(url, `/jobs/${handle.jobId}`, (j) => j.vertices?.length === 2);
  const [source, counts] = job.vertices as Array<{ id: string; name: string }>;
  const vertex = await until(url, `/jobs/${handle.jobId}/vertices/${counts!.id}`, (v) => v.operators.every((op: { latency: { count: number } | null }) => (op.latency?.count ?? 0) > 0));
  for (const op of vertex.operators as Array<{ name: string; latency: { count: number; p50: number; p95: number; p99: number; p999: number; max: number } }>) {
    const l = op.latency;
    t.ok(l.p50 >= 0 && l.p50 <= l.p95 && l.p95 <= l.p99 && l.p99 <= l.p999 && l.p999 <= l.max, `${op.name}: 0 <= p50 <= p95 <= p99 <= p99.9 <= max (${JSON.stringify(l)})`);
  }
  const sourceVertex = (await request(`${url}/jobs/${handle.jobId}/vertices/${source!.id}`)).json;
  t.equal(sourceVertex.operators[0].latency, null, 'no latency at the source itself (markers start there; operators chained to it may show some)');

  const families = parsePrometheusText((await request(`${url}/metrics`)).text);
  const samples = families.get('sluicegate_operator_latency')?.samples ?? [];
  const counted = families.get('sluicegate_operator_latency_count')?.samples ?? [];
  for (const op of vertex.operators as Array<{ uid: string; name: string }>) {
    const mine = samples.filter((s) => s.labels.operator_id === op.uid);
    t.same(mine.map((s) => s.labels.quantile).sort(), ['0.5', '0.95', '0.99', '0.999', '1'], `${op.name}: quantiles 0.5 to 0.999, and 1 for the max`);
    t.ok(mine.every((s) => s.value >= 0), `${op.name}: no negative latency`);
    t.ok((counted.find((s) => s.labels.operator_id === op.uid)?.value ?? 0) > 0, `${op.name}: a marker count`);
  }
  t.same(Object.keys(samples[0]!.labels).sort(), ['job_id', 'job_name', 'operator_id', 'operator_name', 'quantile', 'task_id', 'task_name'], 'Flink scope labels, no subtask_index: the histogram merges the subtasks');
  t.notOk(samples.some((s) => s.labels.operator_id === sourceVertex.operators[0].uid), 'none for the source');
});

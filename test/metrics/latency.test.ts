// Latency histograms with an injected clock: what an operator records, what a subtask
// posts (and when), and how the main thread merges subtasks and attempts into the
// per-operator summary of JobMetrics.
import t, { type Test } from 'tap';
import { hdrHistogram } from '../../src/metrics/hdr-histogram.js';
import { LatencyRegistry, withLatency } from '../../src/metrics/latency.js';
import type { LatencySummary } from '../../src/metrics/latency.js';
import { LatencyReporter, OperatorLatency, latencyPendingMax, latencyPostIntervalMs } from '../../src/metrics/latency-recorder.js';
import type { LatencyReport } from '../../src/metrics/latency-recorder.js';

/** An operator whose clock reads `now.value` (epoch ms). */
function recorder(node: number, now: { value: number }): OperatorLatency {
  return new OperatorLatency(node, () => now.value);
}

/** Within hdr-histogram's 3 significant digits (0.1 %) and the summary's 1 µs rounding. */
function near(t: Test, got: number, want: number, label: string): void {
  t.ok(Math.abs(got - want) <= want * 0.001 + 0.001, `${label}: ${got} ms, expected ${want} ms`);
}

/** A report of `op`'s pending latencies. */
function reportOf(op: OperatorLatency): LatencyReport {
  return { type: 'latency', latencies: [{ node: op.node, micros: op.takePending()! }] };
}

t.test('an operator records now - markedTime; the summary gives its percentiles and max in ms', async (t) => {
  const now = { value: 1_000_000 };
  const op = recorder(3, now);
  // Latencies 1..1000 ms (and 0.5 ms more for the largest), one marker each.
  for (let ms = 1; ms <= 1000; ms++) op.report(now.value - ms - (ms === 1000 ? 0.5 : 0));
  const registry = new LatencyRegistry(hdrHistogram);
  registry.update('1/0', 0, reportOf(op));
  const summary = registry.summaries().get(3)!;
  t.equal(summary.count, 1000);
  near(t, summary.p50, 500, 'p50');
  near(t, summary.p95, 950, 'p95');
  near(t, summary.p99, 990, 'p99');
  near(t, summary.p999, 999, 'p99.9');
  t.equal(summary.max, 1000.5, 'max is exact, not a bucket bound');
  const top = recorder(3, now);
  top.report(now.value - 878.451); // in a bucket whose highest equivalent value is 878.591 ms
  const one = new LatencyRegistry(hdrHistogram);
  one.update('1/0', 0, reportOf(top));
  t.same(one.summaries().get(3), { count: 1, p50: 878.451, p95: 878.451, p99: 878.451, p999: 878.451, max: 878.451 }, 'no percentile above the max');
  t.equal(op.takePending(), undefined, 'nothing to post when no marker arrived since the last post');
});

t.test('a marker from a clock slightly ahead counts as 0 ms, never negative', async (t) => {
  const now = { value: 5000 };
  const op = recorder(0, now);
  op.report(5000.004);
  op.report(4999.5);
  const registry = new LatencyRegistry(hdrHistogram);
  registry.update('0/0', 0, reportOf(op));
  const summary = registry.summaries().get(0)!;
  t.equal(summary.count, 2);
  t.equal(summary.p50, 0);
  t.equal(summary.max, 0.5);
});

t.test('a subtask posts new latencies at most once per interval, when an operator is full, and when forced', async (t) => {
  const now = { value: 0 };
  const a = recorder(1, now);
  const b = recorder(2, now);
  const posted: LatencyReport[] = [];
  const reporter = new LatencyReporter([a, b], (r) => posted.push(r));
  a.report(-1);
  reporter.maybePost(0);
  t.same(posted.map((p) => p.latencies.map((l) => [l.node, [...l.micros]])), [[[1, [1000]]]], 'only the operator that recorded is posted, in µs');
  a.report(-1);
  reporter.maybePost(latencyPostIntervalMs - 1);
  t.equal(posted.length, 1, 'not again within the interval');
  reporter.maybePost(latencyPostIntervalMs);
  t.equal(posted.length, 2, 'again once the interval passed');
  reporter.maybePost(latencyPostIntervalMs + 1, true);
  t.equal(posted.length, 2, 'a forced post with nothing new posts nothing');
  b.report(-2);
  reporter.maybePost(latencyPostIntervalMs + 2, true);
  t.same(posted[2]!.latencies.map((l) => l.node), [2], 'a forced post sends what is new');
  for (let i = 0; i < latencyPendingMax; i++) b.report(-3);
  reporter.maybePost(latencyPostIntervalMs + 3);
  t.equal(posted[3]?.latencies[0]?.micros.length, latencyPendingMax, 'an operator holding latencyPendingMax values posts within the interval');
});

t.test('the registry adds up reports, merges subtasks per operator, and drops an older attempt', async (t) => {
  const now = { value: 10_000 };
  const registry = new LatencyRegistry(hdrHistogram);
  const post = (key: string, attempt: number, node: number, latencies: number[]): void => {
    const op = recorder(node, now);
    for (const ms of latencies) op.report(now.value - ms);
    registry.update(key, attempt, reportOf(op));
  };
  post('2/0', 0, 4, [1, 2, 3]);
  post('2/1', 0, 4, [100]);
  let s = registry.summaries().get(4)!;
  t.equal(s.count, 4, 'two subtasks of one operator add up');
  t.equal(s.max, 100, 'max over subtasks');
  post('2/1', 0, 4, [7]); // a later report of the same attempt adds to it
  t.equal(registry.summaries().get(4)!.count, 5);
  post('2/0', 1, 5, [9]); // a restart: subtask 2/0's attempt-0 histograms go
  s = registry.summaries().get(4)!;
  t.equal(s.count, 2, 'only subtask 2/1 still holds node 4');
  t.equal(registry.summaries().get(5)!.count, 1);
  const operators = withLatency([{ name: 'a' }, { name: 'b' }, { name: 'c' }, { name: 'd' }, { name: 'e' }, { name: 'f' }] as Array<{ name: string; latency?: LatencySummary }>, registry.summaries());
  t.same(operators.map((o) => o.latency === undefined), [true, true, true, true, false, false], 'latency only on operators that recorded markers');
});

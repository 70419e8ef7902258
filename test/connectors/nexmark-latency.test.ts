// The latency pipeline of Nexmark q1 (src/benchmark/nexmark/latency.ts): every bid crosses
// the keyed shuffle once and reaches a latency sink, each sink subtask reports its count
// and histogram on the job's channel, and the reports merge; --latency with another query
// is a usage error.
import t from 'tap';
import { collectLatencyReports, mergeLatencyReports } from '../../src/benchmark/nexmark/latency.js';
import type { LatencyReport } from '../../src/benchmark/nexmark/latency.js';
import { NexmarkGenerator } from '../../src/connectors/nexmark/index.js';
import { findUserError } from '../../src/errors.js';
import { runJob } from '../../src/index.js';

const jobModule = new URL('../../src/benchmark/nexmark/job.js', import.meta.url);

t.test('q1 through keyBy(auction): every bid reaches a latency sink once; the sinks report and their histograms merge', async (t) => {
  const events = 30_000;
  const name = `nexmark-latency-test-${process.pid}`;
  const collector = collectLatencyReports(name, 2);
  const reports = collector.reports;
  t.teardown(() => collector.close());
  const result = await runJob(jobModule, { args: ['--query', 'q1', '--events', String(events), '--seed', '3', '--latency', name], parallelism: 2, stateBackend: 'hashmap' }).result;
  await collector.settled(30_000);
  t.equal(reports.length, 2, 'both sink subtasks reported');
  const generator = new NexmarkGenerator({ seed: 3 });
  let bids = 0;
  for (let i = 0; i < events; i++) if (generator.event(i).bid !== null) bids++;
  const { histogram, count } = mergeLatencyReports(reports);
  t.equal(count, bids, 'every bid once');
  t.ok(reports.every((r) => r.count > 0), 'both sink subtasks got bids (the shuffle spreads auctions)');
  t.equal(result.operators.find((o) => o.name === 'Latency')?.recordsIn, bids);
  // Records stamped in a sink's first second are not recorded: a short run may record none.
  t.ok(histogram === undefined || (histogram.totalCount <= count && histogram.minNonZeroValue >= 1), 'what was recorded: at most one value per record, in µs >= 1');
});

t.test('--latency with another query than q1 is a usage error', async (t) => {
  const error = await runJob(jobModule, { args: ['--query', 'q2', '--events', '10', '--latency', 'x'], parallelism: 1, stateBackend: 'hashmap' }).result.catch((e: unknown) => e);
  t.ok(error instanceof Error);
  t.match(String((error as Error).message), /--latency measures q1 only, got --query q2/);
  t.ok(findUserError(error) !== undefined, 'a usage error (sluice exits 2)');
});

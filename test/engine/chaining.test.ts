// Operator chaining and Flink's controls of it (graph/job-graph.ts `chainable`):
// `startNewChain()` cuts the chain before an operator, `disableChaining()` before and after
// it (on a sink too), `env.disableOperatorChaining()` everywhere. The chains a job runs
// (its vertices) are read from the job result, and every way of cutting them gives the
// same output: the final sum per key of a reference computed here, and one running sum
// per record that reached the sum.
import t from 'tap';
import type { Test } from 'tap';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { JobCancelledError, StreamExecutionEnvironment, UsageError, runJob } from '../../src/index.js';
import { buildJobGraph } from '../../src/graph/index.js';

const job = new URL('../jobs/chaining.js', import.meta.url);
const n = 5000;

/** The reference: kept records and the final sum per key of test/jobs/chaining.ts over 1..n. */
function reference(): { kept: number; sums: Map<number, number> } {
  const sums = new Map<number, number>();
  let kept = 0;
  for (let x = 1; x <= n; x++) {
    const d = x * 2;
    if (d % 3 === 0) continue;
    kept++;
    const v = d + 1;
    sums.set(v % 5, (sums.get(v % 5) ?? 0) + v);
  }
  return { kept, sums };
}

/** The vertices (chains) a run of `mode` ran, in order, and its output checked against the reference. */
async function run(t: Test, mode: string): Promise<string[]> {
  const result = await runJob(job, { parallelism: 2, stateBackend: 'hashmap', args: [mode, String(n)] }).result;
  const out = (result.collected['out'] ?? []) as string[];
  const { kept, sums } = reference();
  t.equal(out.length, kept, `${mode}: one running sum per kept record`);
  const finals = new Map<number, number>();
  for (const line of out) {
    const [key, sum] = line.split(' ').map(Number) as [number, number];
    finals.set(key, Math.max(finals.get(key) ?? 0, sum));
  }
  t.same([...finals].sort((a, b) => a[0] - b[0]), [...sums].sort((a, b) => a[0] - b[0]), `${mode}: the final sum of every key`);
  return [...new Set(result.subtasks.map((s) => s.vertex))];
}

t.test('chaining by default, and as startNewChain, disableChaining and disableOperatorChaining cut it, end to end', async (t) => {
  t.same(await run(t, 'chained'), ['Numbers -> Double -> Not a multiple of 3 -> Plus one', 'Sum per key -> Format -> Collect']);
  t.same(await run(t, 'new-chain'), ['Numbers -> Double', 'Not a multiple of 3 -> Plus one', 'Sum per key -> Format -> Collect'], 'startNewChain: the filter heads a chain the next map joins');
  t.same(await run(t, 'disabled'), ['Numbers -> Double', 'Not a multiple of 3', 'Plus one', 'Sum per key -> Format -> Collect'], 'disableChaining: the filter runs alone');
  t.same(await run(t, 'sink-apart'), ['Numbers -> Double -> Not a multiple of 3 -> Plus one', 'Sum per key -> Format', 'Collect'], "a sink's disableChaining");
  t.same(await run(t, 'env-off'), ['Numbers', 'Double', 'Not a multiple of 3', 'Plus one', 'Sum per key', 'Format', 'Collect'], 'disableOperatorChaining: every operator alone');
});

t.test('the plan fingerprint tells chaining settings apart (a worker must build the same chains)', async (t) => {
  const plan = (cut: (env: StreamExecutionEnvironment, mapped: ReturnType<StreamExecutionEnvironment['fromSequence']>) => void) => {
    const env = new StreamExecutionEnvironment(2);
    const mapped = env.fromSequence(1, 10).map((x: number) => x);
    cut(env, mapped as never);
    mapped.collect();
    return env;
  };
  const prints = [
    plan(() => undefined),
    plan((_, m) => m.startNewChain()),
    plan((_, m) => m.disableChaining()),
    plan((env) => env.disableOperatorChaining()),
  ].map((env) => env.plan.fingerprint());
  t.equal(new Set(prints).size, 4, 'four settings, four fingerprints');
  const env = plan((e) => e.disableOperatorChaining());
  t.equal(env.isChainingEnabled(), false);
  t.equal(new StreamExecutionEnvironment(1).isChainingEnabled(), true);
  const graph = buildJobGraph(env.plan, { defaultParallelism: 2, maxParallelism: undefined });
  t.equal(graph.vertices.length, 3, 'source, map and sink each a vertex');
  t.same(graph.edges.map((e) => e.partitioner), ['forward', 'forward'], 'the cut edges stay forward: subtask i feeds subtask i');
});

t.test('--resume refuses a checkpoint of the same job with its chaining changed', async (t) => {
  const ck = mkdtempSync(join(tmpdir(), 'sluicegate-chaining-ck-'));
  t.teardown(() => rmSync(ck, { recursive: true, force: true }));
  // Long enough to take a checkpoint; cancelled after the first completes.
  const long = String(5_000_000);
  const handle = runJob(job, {
    parallelism: 2,
    stateBackend: 'hashmap',
    checkpointDir: ck,
    checkpointIntervalMs: 50,
    args: ['chained', long],
    onEvent: (e) => {
      if (e.type === 'checkpoint-completed') handle.cancel();
    },
  });
  const cancelled = await handle.result.then(
    () => undefined,
    (e: unknown) => e,
  );
  t.type(cancelled, JobCancelledError, 'the first run was cancelled after a checkpoint');
  const refused = await runJob(job, { parallelism: 2, stateBackend: 'hashmap', checkpointDir: ck, resume: true, args: ['disabled', long] }).result.then(
    () => undefined,
    (e: unknown) => e,
  );
  t.type(refused, UsageError);
  t.match((refused as Error).message, /different job plan \(operators, uids, parallelism, slot sharing groups or chaining changed\)/);
});

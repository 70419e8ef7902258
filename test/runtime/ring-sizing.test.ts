// Automatic ring capacity (runtime/ring-sizing.ts): a 512 KiB budget per consuming subtask
// shared by the channels into it, 64-256 KiB per ring, and 64 KiB for a job that checkpoints;
// `ringSizeBytes` fixes every ring.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import { StreamExecutionEnvironment, UsageError, runJob } from '../../src/index.js';
import { buildJobGraph } from '../../src/graph/index.js';
import type { JobGraph } from '../../src/graph/index.js';
import { automaticRingSizeBytes, ringSizesBytes } from '../../src/runtime/ring-sizing.js';

const scenarios = new URL('../jobs/scenarios.js', import.meta.url);
const KiB = 1024;

/** Ring sizes of `graph`'s channels into vertex `vertex`, by consuming subtask. */
function sizesInto(graph: JobGraph, fixed: number | undefined, checkpoints = false): Map<string, number[]> {
  const consumerOf = (c: JobGraph['channels'][number]) => `${graph.nodes[graph.edges[c.edge]!.to]!.vertex}/${c.toSubtask}`;
  const sizes = ringSizesBytes(graph.channels, consumerOf, fixed, checkpoints);
  const out = new Map<string, number[]>();
  for (const c of graph.channels) {
    const gate = consumerOf(c);
    out.set(gate, [...(out.get(gate) ?? []), sizes[c.id]!]);
  }
  return out;
}

t.test('the gate budget over its channels, a power of two within 64-256 KiB', async (t) => {
  const expected: [number, number][] = [[1, 256], [2, 256], [3, 128], [4, 128], [5, 64], [8, 64], [16, 64], [1000, 64]];
  for (const [channels, kib] of expected) t.equal(automaticRingSizeBytes(channels), kib * KiB, `${channels} channels into a gate: ${kib} KiB each`);
  for (const bad of [0, -1, 1.5, Number.NaN]) t.throws(() => automaticRingSizeBytes(bad), RangeError, `${bad} channels is refused`);
});

t.test('every channel into a subtask counts, over all its input edges; a fixed size wins', async (t) => {
  const env = new StreamExecutionEnvironment(2);
  const a = env.fromSequence(1, 10).setParallelism(2);
  const b = env.fromSequence(1, 10).setParallelism(3);
  a.union(b).keyBy((x) => x).sum().setParallelism(2).collect();
  const narrow = new StreamExecutionEnvironment(8);
  narrow.fromSequence(1, 10).setParallelism(1).map((x) => x).collect('spread');
  narrow.fromSequence(1, 10).keyBy((x) => x).sum().collect('sums');

  const union = sizesInto(buildJobGraph(env.plan, { defaultParallelism: 2, maxParallelism: undefined }), undefined);
  const keyedGates = [...union].filter(([, sizes]) => sizes.length === 5);
  t.equal(keyedGates.length, 2, 'both keyed subtasks read 2 + 3 channels');
  for (const [gate, sizes] of keyedGates) t.same(sizes, Array(5).fill(64 * KiB), `${gate}: 5 channels, 64 KiB each`);

  const wide = sizesInto(buildJobGraph(narrow.plan, { defaultParallelism: 8, maxParallelism: undefined }), undefined);
  const gatesBySize = [...wide.values()].map((sizes) => `${sizes.length}x${sizes[0]! / KiB}`).sort();
  t.same(new Set(gatesBySize), new Set(['1x256', '8x64']), 'a channel alone into its subtask gets 256 KiB, a gate of 8 keyed channels 64 KiB each');

  const fixed = sizesInto(buildJobGraph(narrow.plan, { defaultParallelism: 8, maxParallelism: undefined }), 4096);
  t.ok([...fixed.values()].every((sizes) => sizes.every((s) => s === 4096)), 'ringSizeBytes sets every ring');
  const checkpointed = sizesInto(buildJobGraph(narrow.plan, { defaultParallelism: 8, maxParallelism: undefined }), undefined, true);
  t.ok([...checkpointed.values()].every((sizes) => sizes.every((s) => s === 64 * KiB)), 'a job that checkpoints keeps 64 KiB rings (barrier latency)');
  const both = sizesInto(buildJobGraph(narrow.plan, { defaultParallelism: 8, maxParallelism: undefined }), 1 << 20, true);
  t.ok([...both.values()].every((sizes) => sizes.every((s) => s === 1 << 20)), 'ringSizeBytes wins over the checkpointing rule');
});

t.test('end to end: a 100 KiB record crosses an automatic ring into a lone channel, not a gate of 5', async (t) => {
  const chars = 100 * KiB;
  const run = (params: Record<string, number>, ringSizeBytes?: number, checkpointDir?: string) =>
    runJob(scenarios, {
      parallelism: 1,
      stateBackend: 'hashmap',
      ...(ringSizeBytes === undefined ? {} : { ringSizeBytes }),
      ...(checkpointDir === undefined ? {} : { checkpointDir }),
      args: ['big-records', JSON.stringify({ n: 6, chars, ...params })],
    }).result;
  const lone = await run({ sources: 1, parallelism: 1 });
  t.same(lone.collected.collect, Array(6).fill(chars), 'one channel into the subtask: 256 KiB, the records arrive');
  const tooSmall = /A record of \d+ bytes does not fit a channel ring of 65536 bytes \(at most 65528 bytes per frame\): set ringSizeBytes to 131072 or more \(unset, rings are 64 KiB in a job with a checkpoint directory/;
  await t.rejects(run({ sources: 5, parallelism: 1 }), tooSmall, 'five channels into it: 64 KiB each, refused with what to do');
  await t.rejects(run({ sources: 1, parallelism: 1 }, 64 * KiB), tooSmall, 'ringSizeBytes: 65536 fixes the ring at 64 KiB');
  const checkpointDir = mkdtempSync(join(tmpdir(), 'ring-sizing-'));
  t.teardown(() => rmSync(checkpointDir, { recursive: true, force: true }));
  await t.rejects(run({ sources: 1, parallelism: 1 }, undefined, checkpointDir), tooSmall, 'a job with a checkpoint directory keeps 64 KiB rings');
  // With periodic checkpoints the default restart strategy retries without end: the record
  // that cannot fit fails again after every restore, so it is a usage error, never restarted.
  const events: string[] = [];
  const periodic = runJob(scenarios, {
    parallelism: 1,
    stateBackend: 'hashmap',
    checkpointDir,
    checkpointIntervalMs: 50,
    onEvent: (e) => {
      events.push(e.type);
      if (e.type === 'restarting') periodic.cancel(); // a restart is the failure: end the loop at once
    },
    args: ['big-records', JSON.stringify({ n: 6, chars, sources: 1, parallelism: 1 })],
  });
  const error = await periodic.result.then(() => undefined, (e: unknown) => e);
  t.type(error, UsageError, 'the job ends with a UsageError');
  t.match((error as Error).message, tooSmall);
  t.notOk(events.includes('restarting'), `no restart (events: ${events.join(', ') || 'none'})`);
  const raised = await run({ sources: 5, parallelism: 1 }, 512 * KiB);
  t.equal(raised.collected.collect!.length, 6, 'raising ringSizeBytes as told carries them');
});

// Slot sharing (runtime/slot-sharing.ts): subtask i of every vertex of a slot sharing group
// runs in slot i, one worker thread; `slotSharingGroup(name)` separates threads;
// `slotSharing: false` gives every subtask its own thread; a killed shared thread fails
// every subtask of its slot and the job restores exactly once.
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import type { Test } from 'tap';
import { JobCancelledError, StreamExecutionEnvironment, runJob } from '../../src/index.js';
import type { JobEvent } from '../../src/index.js';
import { buildJobGraph } from '../../src/graph/index.js';
import { assignSlots, busyThreads, loadedThreads, sharesSlots } from '../../src/runtime/slot-sharing.js';
import { cli } from '../helpers/cli.js';

const threadTags = new URL('../jobs/thread-tags.js', import.meta.url).pathname;
const busyNeighbour = new URL('../jobs/busy-neighbour.js', import.meta.url).pathname;

interface Tag {
  key: number;
  count: number;
  source: number;
  keyed: number;
}

function tags(collected: Record<string, unknown[]>): Tag[] {
  return (collected['tagged'] ?? []).map((line) => {
    const [key, count, source, keyed] = (line as string).split('\t').map(Number);
    return { key: key!, count: count!, source: source!, keyed: keyed! };
  });
}

/** Every key k's counts are exactly 1..n_k, once each (n_k: numbers below `count` that are k mod `keys`). */
function checkExactlyOnce(t: Test, rows: Tag[], count: number, keys: number): void {
  for (let k = 0; k < keys; k++) {
    const counts = rows.filter((r) => r.key === k).map((r) => r.count).sort((a, b) => a - b);
    const expected = Math.floor(count / keys) + (k < count % keys ? 1 : 0);
    t.same(counts, Array.from({ length: expected }, (_, i) => i + 1), `key ${k}: counts 1..${expected}, each once`);
  }
}

t.test('slots: subtask i of every vertex of a group, groups apart, one per subtask without sharing', async (t) => {
  const env = new StreamExecutionEnvironment(2);
  const keyed = env.fromCollection([1, 2, 3]).keyBy((x) => x).reduce((a, b) => a + b);
  keyed.map((x) => x).collect();
  const shared = buildJobGraph(env.plan, { defaultParallelism: 2, maxParallelism: undefined });
  // fromCollection is non-parallel: vertex 0 (the source) has 1 subtask, vertex 1 (reduce -> map -> sink) 2.
  t.same(shared.vertices.map((v) => [v.parallelism, v.slotSharingGroup]), [[1, 'default'], [2, 'default']]);
  const subtasks = shared.vertices.flatMap((v) => Array.from({ length: v.parallelism }, (_, i) => ({ vertex: v.id, subtaskIndex: i })));
  t.same(assignSlots(shared, subtasks, true), [
    { group: 'default', index: 0, subtasks: [0, 1] },
    { group: 'default', index: 1, subtasks: [2] },
  ], 'the source shares slot 0 with the keyed subtask 0');
  t.equal(assignSlots(shared, subtasks, false).length, 3, 'without sharing: one slot per subtask');

  keyed.slotSharingGroup('keyed');
  const apart = buildJobGraph(env.plan, { defaultParallelism: 2, maxParallelism: undefined });
  t.same(apart.vertices.map((v) => v.slotSharingGroup), ['default', 'keyed'], 'the reduce and what follows it inherit its group');
  t.same(assignSlots(apart, subtasks, true).map((s) => [s.group, s.index, s.subtasks]), [['default', 0, [0]], ['keyed', 0, [1]], ['keyed', 1, [2]]]);
  t.not(env.plan.fingerprint(), new StreamExecutionEnvironment(2).plan.fingerprint());
});

t.test('chains never span slot sharing groups (Flink: isChainable checks the group)', async (t) => {
  const env = new StreamExecutionEnvironment(1);
  env.fromCollection([1]).map((x) => x).slotSharingGroup('maps').filter(() => true).collect();
  const graph = buildJobGraph(env.plan, { defaultParallelism: 1, maxParallelism: undefined });
  t.same(graph.vertices.map((v) => [v.nodes.length, v.slotSharingGroup]), [[1, 'default'], [3, 'maps']], 'the map starts a new chain in its own group; the filter and the sink inherit it and chain to it');
  t.throws(() => env.fromCollection([1]).map((x) => x).slotSharingGroup(''), /slotSharingGroup\(\) expects a non-empty string/);
});

t.test('the default shares slots only when the subtasks outnumber the cores', async (t) => {
  t.equal(sharesSlots('auto', 4, 2), true, '4 subtasks on 2 cores: shared');
  t.equal(sharesSlots('auto', 2, 2), false, '2 subtasks on 2 cores: a thread each');
  t.equal(sharesSlots('auto', 4, 16), false, '4 subtasks on 16 cores: a thread each');
  t.equal(sharesSlots(true, 2, 16), true, 'true always shares');
  t.equal(sharesSlots(false, 64, 2), false, 'false never does');
});

t.test('which threads may be terminated, and how many are busy', async (t) => {
  const deployed = [
    { slot: 0, ended: false, threadId: 7 },
    { slot: 0, ended: false, threadId: undefined },
    { slot: 1, ended: false, threadId: 8 },
    { slot: 1, ended: true, threadId: 8 },
    { slot: 2, ended: true, threadId: 9 },
  ];
  t.same([...loadedThreads(deployed)], [8], 'not slot 0, one of whose subtasks is still loading; not an ended slot');
  t.equal(busyThreads(deployed, new Set([7, 8, 9])), 2, 'threads 7 and 8 run a slot with a loaded subtask');
});

t.test('a thread that died is not busy, though its slot has a subtask not yet seen to end: the pool warms a replacement', async (t) => {
  // Thread 8 was killed: the pool has dropped it, and the first of its slot's subtasks
  // failed the attempt while the second's port had not closed yet.
  const deployed = [
    { slot: 0, ended: false, threadId: 7 },
    { slot: 0, ended: false, threadId: 7 },
    { slot: 1, ended: true, threadId: 8 },
    { slot: 1, ended: false, threadId: 8 },
  ];
  t.equal(busyThreads(deployed, new Set([7])), 1, 'only the live thread 7 is busy');
  t.equal(busyThreads(deployed, new Set([7, 8])), 2, 'both, while 8 is alive');
});

for (const [name, options, args, expectThreads] of [
  ['slotSharing: true: 2 threads for 4 subtasks', { slotSharing: true }, [], 2],
  ['slotSharing: false: one thread per subtask', { slotSharing: false }, [], 4],
  [`the default with ${availableParallelism()} cores: ${4 > availableParallelism() ? 'shared (more subtasks than cores)' : 'a thread per subtask'}`, {}, [], 4 > availableParallelism() ? 2 : 4],
  ['slotSharingGroup("keyed"): the keyed part runs in threads of its own', { slotSharing: true }, ['--group', 'keyed'], 4],
] as const) {
  t.test(name, async (t) => {
    const count = 2000;
    const result = await runJob(threadTags, { parallelism: 2, ...options, args: ['--count', String(count), '--keys', '8', ...args] }).result;
    const rows = tags(result.collected);
    checkExactlyOnce(t, rows, count, 8);
    const sources = new Set(rows.map((r) => r.source));
    const keyed = new Set(rows.map((r) => r.keyed));
    t.equal(sources.size, 2, 'two source subtasks');
    t.equal(keyed.size, 2, 'two keyed subtasks');
    t.equal(new Set([...sources, ...keyed]).size, expectThreads, `${expectThreads} distinct worker threads`);
    if (expectThreads === 2) t.same([...sources].sort(), [...keyed].sort(), 'source subtask i and keyed subtask i share thread i');
    else t.same([...sources].filter((id) => keyed.has(id)), [], 'no source thread runs a keyed subtask');
  });
}

t.test('a killed shared thread fails every subtask of its slot; the job restores exactly once', async (t) => {
  const ck = mkdtempSync(join(tmpdir(), 'sluice-slots-'));
  t.teardown(() => rmSync(ck, { recursive: true, force: true }));
  const count = 12_000;
  const events: JobEvent[] = [];
  const result = await runJob(threadTags, {
    parallelism: 2,
    slotSharing: true,
    args: ['--count', String(count), '--keys', '8', '--rate', '3000'],
    checkpointDir: ck,
    checkpointIntervalMs: 100,
    restartStrategy: 'fixed-delay:attempts=1000,delay=0',
    killWorkerEveryMs: 900,
    onEvent: (e) => events.push(e),
  }).result;
  const kills = events.filter((e) => e.type === 'worker-killed').length;
  t.ok(kills >= 1 && result.restarts >= 1, `threads were killed (${kills}) and the job restarted (${result.restarts})`);
  // A kill ends one thread: both subtasks in it fail at once, and the restart's cause names one of them.
  const causes = events.flatMap((e) => (e.type === 'restarting' ? [e.cause] : []));
  t.ok(causes.length >= 1 && causes.every((c) => /Subtask .* failed/.test(c)), `restarts after subtask failures (${causes[0]})`);
  const rows = tags(result.collected);
  checkExactlyOnce(t, rows, count, 8);
  // Within every record's path, each subtask ran in a thread shared with its slot: the
  // threads seen over all attempts are 2 per attempt at most.
  const threads = new Set(rows.flatMap((r) => [r.source, r.keyed]));
  t.ok(threads.size <= 2 * (result.restarts + 1), `${threads.size} threads over ${result.restarts + 1} attempts`);
});

t.test('a subtask that never waits yields its shared thread: the other subtask of its slot runs (task/slot-yield.ts)', async (t) => {
  const handle = runJob(busyNeighbour, { parallelism: 1, slotSharing: true });
  t.teardown(() => handle.result.catch(() => undefined));
  const mapped = (): number => handle.metrics().operators.find((o) => o.name === 'Small map')?.recordsOut ?? 0;
  const deadline = Date.now() + 30_000;
  while (mapped() < 10_000 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 20));
  t.equal(mapped(), 10_000, 'the small pipeline mapped all its records beside the endless one, in the same thread');
  handle.cancel();
  await t.rejects(handle.result, JobCancelledError, 'the endless pipeline ran until cancelled');
});

t.test('sluice run --no-slot-sharing runs one thread per subtask, --slot-sharing one per slot, neither as many cores allow', async (t) => {
  for (const [flags, expected] of [[['--slot-sharing'], 2], [['--no-slot-sharing'], 4], [[], 4 > availableParallelism() ? 2 : 4]] as const) {
    const out = mkdtempSync(join(tmpdir(), 'sluice-slots-cli-'));
    t.teardown(() => rmSync(out, { recursive: true, force: true }));
    const run = await cli(['run', '-p', '2', ...flags, threadTags, '--count', '2000', '--keys', '8', '--output', out]);
    t.equal(run.code, 0, `exit 0 (${run.err.slice(0, 300)})`);
    const rows = readdirSync(out)
      .filter((f) => !f.startsWith('.'))
      .flatMap((f) => readFileSync(join(out, f), 'utf8').split('\n').filter((l) => l !== ''))
      .map((line) => {
        const [key, count, source, keyed] = line.split('\t').map(Number);
        return { key: key!, count: count!, source: source!, keyed: keyed! };
      });
    checkExactlyOnce(t, rows, 2000, 8);
    t.equal(new Set(rows.flatMap((r) => [r.source, r.keyed])).size, expected, `${flags.join(' ') || 'default'}: ${expected} threads`);
  }
});

/**
 * planRestore (runtime/restore-plan.ts): which part of a checkpoint or savepoint each new
 * subtask gets. Real job graphs are built from the public API (source "src" -> flatMap
 * "tally" -> keyBy -> process "count" -> text sink "sink"); old metadata is synthesized
 * with distinct LSM segment names, source splits, user operator lists (split "a", union
 * "b") and text sink state per old subtask, under random old chainings, vertex numbers and
 * parallelisms. A reference model checks every new subtask's restore: same parallelism
 * keeps each subtask's state; another parallelism rescales keyed state by key groups,
 * even-splits splits and split lists, copies union lists and has the master commit the
 * sink's pending files. Then the documented errors and what is not "state".
 * Replay one seed: SLUICE_SEED=<seed> npx tap --disable-coverage dist/test/runtime/restore-plan.test.js
 */
import { isDeepStrictEqual } from 'node:util';
import t from 'tap';
import { StreamExecutionEnvironment } from '../../src/api/index.js';
import type { CheckpointMetadata, KeyedStateHandle, SharedFileRef, SubtaskState } from '../../src/checkpoint/index.js';
import { UsageError } from '../../src/errors.js';
import { buildJobGraph } from '../../src/graph/index.js';
import type { JobGraph } from '../../src/graph/index.js';
import { planRestore } from '../../src/runtime/restore-plan.js';
import type { RestorePlan, RestoreSource } from '../../src/runtime/restore-plan.js';
import { keyGroupRangeForSubtask, operatorIndexForKeyGroup } from '../../src/state/key-group.js';
import type { SubtaskRestore } from '../../src/task/index.js';
import { sinkWriterStateList } from '../../src/task/index.js';
import { seededRandom, testSeed } from '../helpers/random.js';

const uids = ['src', 'tally', 'count', 'sink'] as const;
type Uid = (typeof uids)[number];
const sinkDir = '/out/restore-plan';

interface JobShape {
  /** Parallelism by uid. */
  parallelism: Record<Uid, number>;
  /** Set on the environment (and so on every operator). */
  maxParallelism?: number;
  /** Adopted from the restored state (JobGraphOptions.restoredMaxParallelism). */
  restoredMaxParallelism?: Record<string, number>;
  /** Uid of the flatMap (another one: the job lost "tally"). */
  tallyUid?: string;
  /** "count" as a plain map after rebalance(): no longer keyed. */
  countUnkeyed?: boolean;
}

/** The job graph of src -> tally -> keyBy -> count -> sink, as load-job.ts builds it. */
function buildGraph(shape: JobShape): JobGraph {
  const p = shape.parallelism;
  const env = new StreamExecutionEnvironment(p.src);
  if (shape.maxParallelism !== undefined) env.setMaxParallelism(shape.maxParallelism);
  const tally = env
    .fromSequence(0, 999)
    .uid('src')
    .setParallelism(p.src)
    .flatMap<number>((n, out) => out.collect(n))
    .uid(shape.tallyUid ?? 'tally')
    .setParallelism(p.tally);
  const counted = shape.countUnkeyed
    ? tally.rebalance().map((n: number) => n + 1)
    : tally.keyBy((n: number) => n % 97).process<number>({ processElement: (n, _ctx, out) => out.collect(n) });
  counted.uid('count').setParallelism(p.count).writeAsText(sinkDir).uid('sink').setParallelism(p.sink);
  return buildJobGraph(env.plan, {
    defaultParallelism: env.getParallelism(),
    maxParallelism: env.getMaxParallelism(),
    restoredMaxParallelism: shape.restoredMaxParallelism,
  });
}

const stats = { durationMs: 1, syncMs: 1, asyncMs: 1, alignmentMs: 0, bytesWritten: 0, fullSizeBytes: 0 };

function metadata(vertices: string[][], subtasks: SubtaskState[], maxParallelism: Record<string, number>, checkpointId = 7): CheckpointMetadata {
  return {
    jobId: 'old-job',
    checkpointId,
    kind: 'savepoint',
    mode: 'exactly-once',
    triggeredAt: 1_700_000_000_000,
    completedAt: 1_700_000_000_500,
    planFingerprint: 'old-fp',
    parallelism: Object.fromEntries(vertices.flatMap((v, i) => v.map((uid) => [uid, subtasks.filter((s) => s.vertex === i).length || 1]))),
    maxParallelism,
    vertices: vertices.map((v) => ({ uids: v })),
    subtasks,
    coordinatorState: {},
    stats,
  };
}

function source(meta: CheckpointMetadata, shared = false, filesDir = '/sp/savepoint-ab12cd-7/files'): RestoreSource {
  return { meta, filesDir, shared, describe: `savepoint /sp/savepoint-ab12cd-7` };
}

/** The graph's node of `uid` and its vertex. */
function nodeOf(graph: JobGraph, uid: string) {
  const node = graph.nodes.find((n) => n.uid === uid);
  if (node === undefined) throw new Error(`no node ${uid} in the graph`);
  return { node, vertex: graph.vertices[node.vertex]! };
}

/** The restores of `uid`'s vertex in the new job, in subtask order. */
function restoresOf(plan: RestorePlan, graph: JobGraph, uid: string): SubtaskRestore[] {
  const { vertex } = nodeOf(graph, uid);
  return Array.from({ length: vertex.parallelism }, (_, i) => plan.bySubtask.get(`${vertex.id}/${i}`)!);
}

// ---------------------------------------------------------------------------------------
// The model-based test.

interface OldJob {
  /** Old chains (uids head first), in old vertex order. */
  vertices: string[][];
  /** Old parallelism by uid (that of its old vertex). */
  parallelism: Record<Uid, number>;
  maxP: number;
  /** Per old subtask of "count": its segment list ([] = an empty LSM handle). */
  segments: SharedFileRef[][];
  /** Per old subtask of each uid: its operator state (undefined: none). */
  state: {
    src: Array<{ splits: unknown[] }>;
    tally: Array<{ lists: Record<string, { mode: string; items: unknown[] }> } | undefined>;
    sink: Array<{ lists: Record<string, { mode: string; items: unknown[] }>; committables?: Array<{ checkpointId: number; committables: unknown[] }> } | undefined>;
  };
  meta: CheckpointMetadata;
}

function randomOldJob(rand: () => number, pOld: number, newCountP: number): OldJob {
  const int = (lo: number, hi: number): number => lo + Math.floor(rand() * (hi - lo + 1));
  // Old chains: "count" always heads its chain (keyed); the other cuts are random.
  const chains: Uid[][] = [];
  let current: Uid[] = [];
  for (const uid of uids) {
    const cut = uid === 'count' || (uid !== 'src' && rand() < 0.3);
    if (cut && current.length > 0) chains.push(current);
    if (cut) current = [];
    current.push(uid);
  }
  chains.push(current);
  // Vertex numbers need not follow the chain order.
  const order = chains.map((c) => ({ c, k: rand() })).sort((a, b) => a.k - b.k).map((x) => x.c);
  const chainP = order.map(() => (rand() < 0.25 ? int(1, 6) : pOld));
  const parallelism = {} as Record<Uid, number>;
  order.forEach((c, v) => c.forEach((uid) => (parallelism[uid] = chainP[v]!)));
  const top = Math.max(parallelism.count, newCountP);
  const candidates = [top, 7, 10, 128].filter((m) => m >= top);
  const maxP = candidates[int(0, candidates.length - 1)]!;

  let segmentNo = 0;
  const segments = Array.from({ length: parallelism.count }, (_, j) =>
    Array.from({ length: rand() < 0.2 ? 0 : int(1, 3) }, () => ({ name: `seg-${j}-${segmentNo++}`, sizeBytes: int(100, 5000) })),
  );
  const src = Array.from({ length: parallelism.src }, (_, j) => ({
    splits: Array.from({ length: int(0, 4) }, (_, k) => ({ path: `/in/file-${j}`, start: k * 100, end: k * 100 + 99 })),
  }));
  const tally = Array.from({ length: parallelism.tally }, (_, j) =>
    rand() < 0.1
      ? undefined
      : {
          lists: {
            a: { mode: 'split', items: Array.from({ length: int(0, 5) }, (_, k) => `a-${j}-${k}`) },
            b: { mode: 'union', items: Array.from({ length: int(0, 3) }, (_, k) => ({ b: j, k })) },
          },
        },
  );
  const sink = Array.from({ length: parallelism.sink }, (_, j) =>
    rand() < 0.1
      ? undefined
      : {
          lists: { [sinkWriterStateList]: { mode: 'split', items: [{ subtaskIndex: j, nextPart: int(0, 9) }] } },
          ...(rand() < 0.5
            ? {}
            : { committables: [{ checkpointId: 7, committables: Array.from({ length: int(1, 2) }, (_, k) => ({ pending: `${sinkDir}/.part-${j}-${k}.pending`, final: `${sinkDir}/part-${j}-${k}` })) }] }),
        },
  );
  const subtasks: SubtaskState[] = [];
  order.forEach((chain, vertex) => {
    for (let j = 0; j < chainP[vertex]!; j++) {
      const operatorState: Record<string, unknown> = {};
      let keyedState: KeyedStateHandle | undefined;
      for (const uid of chain) {
        if (uid === 'count') keyedState = { kind: 'lsm', segments: segments[j]! };
        else if (uid === 'src') operatorState.src = src[j];
        else if (uid === 'tally' && tally[j] !== undefined) operatorState.tally = tally[j];
        else if (uid === 'sink' && sink[j] !== undefined) operatorState.sink = sink[j];
      }
      subtasks.push({ vertex, subtaskIndex: j, operatorState, keyedState });
    }
  });
  // The metadata's subtask order is not relied on.
  for (let i = subtasks.length - 1; i > 0; i--) {
    const k = int(0, i);
    [subtasks[i], subtasks[k]] = [subtasks[k]!, subtasks[i]!];
  }
  const maxParallelism = { src: 128, tally: 128, count: maxP, sink: 128 };
  const meta = metadata(order, subtasks, maxParallelism, int(1, 50));
  return { vertices: order, parallelism, maxP, segments, state: { src, tally, sink }, meta };
}

/** Checks that `parts` are `whole` cut into contiguous parts, in order, whose sizes differ by at most one. */
function evenSplitProblems(what: string, whole: unknown[], parts: unknown[][]): string[] {
  const problems: string[] = [];
  if (!isDeepStrictEqual(parts.flat(), whole)) problems.push(`${what}: parts ${JSON.stringify(parts)} do not concatenate to ${JSON.stringify(whole)}`);
  const sizes = parts.map((p) => p.length);
  if (Math.max(...sizes) - Math.min(...sizes) > 1) problems.push(`${what}: part sizes ${sizes} differ by more than one`);
  return problems;
}

/** Every difference between `plan` and the reference model of restoring `old` into `graph`. */
function modelProblems(old: OldJob, graph: JobGraph, plan: RestorePlan, src: RestoreSource): string[] {
  const problems: string[] = [];
  const expect = (ok: boolean, message: string): void => {
    if (!ok) problems.push(message);
  };
  const same = (actual: unknown, expected: unknown, what: string): void =>
    expect(isDeepStrictEqual(actual, expected), `${what}: got ${JSON.stringify(actual)}, expected ${JSON.stringify(expected)}`);

  // Every new subtask, restored at the checkpoint, from the given files.
  const keys = graph.vertices.flatMap((v) => Array.from({ length: v.parallelism }, (_, i) => `${v.id}/${i}`));
  same([...plan.bySubtask.keys()].sort(), [...keys].sort(), 'bySubtask keys');
  for (const [key, r] of plan.bySubtask) {
    same([r.checkpointId, r.filesDir, r.shared], [old.meta.checkpointId, src.filesDir, src.shared], `${key} checkpointId/filesDir/shared`);
  }
  same(plan.checkpointId, old.meta.checkpointId, 'plan.checkpointId');
  same(plan.dropped, [], 'dropped');

  const newP = (uid: Uid): number => nodeOf(graph, uid).node.parallelism;
  const hasState = {
    src: true,
    tally: old.state.tally.some((s) => s !== undefined),
    count: old.segments.some((s) => s.length > 0),
    sink: old.state.sink.some((s) => s !== undefined),
  };
  const rescaled = uids.filter((uid) => hasState[uid] && old.parallelism[uid] !== newP(uid));
  same([...plan.rescaled].sort(), [...rescaled].sort(), 'rescaled');

  // Operator state keys: exactly the vertex's uids that hold state.
  for (const v of graph.vertices) {
    const stateful = v.nodes.map((id) => graph.nodes[id]!.uid as Uid).filter((uid) => uid !== 'count' && hasState[uid]);
    for (let i = 0; i < v.parallelism; i++) {
      const r = plan.bySubtask.get(`${v.id}/${i}`);
      if (r === undefined) continue;
      // Every subtask of an operator with union lists gets them, with or without state of its own.
      const tallyUnions = old.state.tally.some((st) => st?.lists.b !== undefined);
      const expected = stateful.filter((uid) => {
        if (old.parallelism[uid] !== newP(uid)) return true;
        if (uid === 'tally' && tallyUnions) return true;
        return (uid === 'src' ? old.state.src[i] : uid === 'tally' ? old.state.tally[i] : old.state.sink[i]) !== undefined;
      });
      same(Object.keys(r.operatorState).sort(), expected.sort(), `${v.id}/${i} operatorState uids`);
      if (graph.nodes[v.head]!.uid !== 'count') same(r.keyed, undefined, `${v.id}/${i} keyed (not a keyed head)`);
    }
  }

  // Keyed state of "count".
  const count = restoresOf(plan, graph, 'count');
  const maxP = nodeOf(graph, 'count').node.maxParallelism;
  same(maxP, old.maxP, 'count max parallelism in the new graph');
  const pOld = old.parallelism.count;
  const pNew = newP('count');
  if (pOld === pNew) {
    count.forEach((r, i) => same(r.keyed, old.segments[i]!.length > 0 ? { kind: 'handle', handle: { kind: 'lsm', segments: old.segments[i] } } : undefined, `count/${i} keyed`));
  } else {
    const owners = new Map<number, number>(); // key group -> new subtask whose range holds it
    count.forEach((r, i) => {
      const range = keyGroupRangeForSubtask(maxP, pNew, i);
      const oldOwners = new Set<number>();
      for (let kg = range.start; kg <= range.end; kg++) {
        expect(!owners.has(kg), `key group ${kg} in the ranges of new subtasks ${owners.get(kg)} and ${i}`);
        owners.set(kg, i);
        expect(operatorIndexForKeyGroup(kg, pNew, maxP) === i, `key group ${kg} is routed to subtask ${operatorIndexForKeyGroup(kg, pNew, maxP)} but restored into ${i}`);
        oldOwners.add(operatorIndexForKeyGroup(kg, pOld, maxP));
      }
      const sources = [...oldOwners].sort((a, b) => a - b).map((j) => old.segments[j]!).filter((s) => s.length > 0);
      same(
        r.keyed,
        sources.length === 0 ? undefined : { kind: 'rescale', keyGroups: range, maxParallelism: maxP, sources: sources.map((segments) => ({ kind: 'lsm', segments })) },
        `count/${i} keyed`,
      );
    });
    for (let kg = 0; kg < maxP; kg++) expect(owners.has(kg), `key group ${kg} of ${maxP} is in no new subtask's range`);
    // Each old segment list goes to exactly the new subtasks whose ranges meet its own.
    old.segments.forEach((segs, j) => {
      if (segs.length === 0) return;
      const oldRange = keyGroupRangeForSubtask(maxP, pOld, j);
      const holders = count.flatMap((r, i) => (r.keyed?.kind === 'rescale' && r.keyed.sources.some((s) => s.kind === 'lsm' && isDeepStrictEqual(s.segments, segs)) ? [i] : []));
      const meeting = count.flatMap((_, i) => {
        const range = keyGroupRangeForSubtask(maxP, pNew, i);
        return range.start <= oldRange.end && oldRange.start <= range.end ? [i] : [];
      });
      same(holders, meeting, `new subtasks holding old subtask ${j}'s segments`);
    });
  }

  // Source splits.
  const srcRestores = restoresOf(plan, graph, 'src');
  if (old.parallelism.src === newP('src')) {
    srcRestores.forEach((r, i) => same(r.operatorState.src, old.state.src[i], `src/${i} state`));
  } else {
    const parts = srcRestores.map((r) => (r.operatorState.src as { splits: unknown[] }).splits);
    srcRestores.forEach((r, i) => same(Object.keys(r.operatorState.src as object), ['splits'], `src/${i} state fields`));
    problems.push(...evenSplitProblems('src splits', old.state.src.flatMap((s) => s.splits), parts));
  }

  // User operator lists of "tally".
  if (hasState.tally) {
    const tally = restoresOf(plan, graph, 'tally');
    if (old.parallelism.tally === newP('tally')) {
      // Split lists stay with their index; union lists go whole to every subtask (Flink).
      const present = old.state.tally.filter((s) => s !== undefined);
      const union = present.flatMap((s) => s.lists.b?.items ?? []);
      const anyUnion = present.some((s) => s.lists.b !== undefined);
      tally.forEach((r, i) => {
        const own = old.state.tally[i];
        if (!anyUnion) return same(r.operatorState.tally, own, `tally/${i} state`);
        const expected: Record<string, { mode: string; items: unknown[] }> = { b: { mode: 'union', items: union } };
        if (own?.lists.a !== undefined) expected.a = own.lists.a;
        same(r.operatorState.tally, { lists: expected }, `tally/${i} state: own split list, whole union list`);
      });
    } else {
      const present = old.state.tally.filter((s) => s !== undefined);
      const lists = tally.map((r) => (r.operatorState.tally as { lists: Record<string, { mode: string; items: unknown[] }> }).lists);
      lists.forEach((l, i) => {
        same(Object.keys(l).sort(), ['a', 'b'], `tally/${i} list names`);
        same([l.a?.mode, l.b?.mode], ['split', 'union'], `tally/${i} list modes`);
        same(l.b?.items, present.flatMap((s) => s.lists.b!.items), `tally/${i} union list b`);
      });
      problems.push(...evenSplitProblems('tally split list a', present.flatMap((s) => s.lists.a!.items), lists.map((l) => l.a?.items ?? [])));
    }
  }

  // Text sink (Sink V2): committables to the job master, writer states as a split list.
  const sink = restoresOf(plan, graph, 'sink');
  const byPath = (xs: unknown[]) => [...xs].sort((a, b) => ((a as { pending: string }).pending < (b as { pending: string }).pending ? -1 : 1));
  const committables = byPath(old.state.sink.flatMap((st) => st?.committables?.flatMap((c) => c.committables) ?? []));
  same(
    plan.commits.map((c) => ({ uid: c.uid, committables: byPath(c.committables) })),
    committables.length === 0 ? [] : [{ uid: 'sink', committables }],
    'every committable goes to the job master, once',
  );
  sink.forEach((r, i) => {
    const state = r.operatorState.sink as { committables?: unknown } | undefined;
    if (state !== undefined && 'committables' in state) problems.push(`sink/${i} still holds committables`);
  });
  if (hasState.sink && old.parallelism.sink === newP('sink')) {
    sink.forEach((r, i) => same(r.operatorState.sink, old.state.sink[i] === undefined ? undefined : { lists: old.state.sink[i]!.lists }, `sink/${i} state`));
  } else if (hasState.sink) {
    const writerStates = old.state.sink.flatMap((st) => st?.lists[sinkWriterStateList]?.items ?? []);
    const parts = sink.map((r) => (r.operatorState.sink as { lists: Record<string, { items: unknown[] }> }).lists[sinkWriterStateList]?.items ?? []);
    problems.push(...evenSplitProblems('sink writer states', writerStates, parts));
  }
  return problems;
}

t.test('model: state of random old jobs assigned to random new parallelisms', async (t) => {
  const base = testSeed(0x5e5709);
  const cases = 300;
  let sameCount = 0;
  let failed = false;
  let rescaledCount = 0;
  for (let c = 0; c < cases; c++) {
    const seed = (base + c * 7919) >>> 0;
    const rand = seededRandom(seed);
    const int = (lo: number, hi: number): number => lo + Math.floor(rand() * (hi - lo + 1));
    const pOld = int(1, 6);
    const pNew = rand() < 0.3 ? pOld : int(1, 6);
    const parallelism = Object.fromEntries(uids.map((uid) => [uid, rand() < 0.25 ? int(1, 6) : pNew])) as Record<Uid, number>;
    const old = randomOldJob(rand, pOld, parallelism.count);
    // The new job's max parallelism: set on the job, or adopted from the restored state.
    const shape: JobShape = rand() < 0.5 ? { parallelism, maxParallelism: old.maxP } : { parallelism, restoredMaxParallelism: old.meta.maxParallelism };
    const graph = buildGraph(shape);
    const src = source(old.meta, rand() < 0.5, `/files/${seed}`);
    const before = structuredClone(old.meta);
    const plan = planRestore(src, graph, { stateBackend: 'lsm', allowNonRestoredState: rand() < 0.5 });
    const problems = modelProblems(old, graph, plan, src);
    if (!isDeepStrictEqual(old.meta, before)) problems.push('planRestore changed the metadata');
    if (old.parallelism.count === parallelism.count) sameCount++;
    else rescaledCount++;
    const setting = `old chains ${JSON.stringify(old.vertices)} at ${JSON.stringify(old.parallelism)}, new ${JSON.stringify(parallelism)}, max parallelism ${old.maxP}`;
    t.strictSame(problems, [], `SLUICE_SEED=${base} case ${c} (case seed ${seed}): ${setting}`);
    failed = problems.length > 0;
    if (failed) break;
  }
  if (!failed) t.ok(sameCount > 20 && rescaledCount > 20, `both same (${sameCount}) and other (${rescaledCount}) keyed parallelism were drawn (seed ${base})`);
});

t.test('the graph the model builds: chains and uids', async (t) => {
  const graph = buildGraph({ parallelism: { src: 2, tally: 2, count: 3, sink: 3 }, maxParallelism: 10 });
  t.strictSame(
    graph.vertices.map((v) => v.nodes.map((id) => graph.nodes[id]!.uid)),
    [['src', 'tally'], ['count', 'sink']],
    'flatMap chains to the source, the sink to the keyed operator',
  );
  t.strictSame(graph.nodes.map((n) => [n.uid, n.keyed, n.maxParallelism]), [['src', false, 10], ['tally', false, 10], ['count', true, 10], ['sink', false, 10]]);
  const split = buildGraph({ parallelism: { src: 2, tally: 3, count: 3, sink: 1 }, restoredMaxParallelism: { count: 7 } });
  t.strictSame(split.vertices.map((v) => v.nodes.map((id) => split.nodes[id]!.uid)), [['src'], ['tally'], ['count'], ['sink']]);
  t.equal(nodeOf(split, 'count').node.maxParallelism, 7, 'max parallelism adopted from the restored state');
});

// ---------------------------------------------------------------------------------------
// Fixed cases: the old job ran src+tally and count+sink at parallelism 2, max parallelism 128.

const oldChains = [['src', 'tally'], ['count', 'sink']];
const segs = (j: number): SharedFileRef[] => [{ name: `seg-${j}-a`, sizeBytes: 10 }, { name: `seg-${j}-b`, sizeBytes: 20 }];

function fixedMeta(keyed: (j: number) => KeyedStateHandle | undefined = (j) => ({ kind: 'lsm', segments: segs(j) }), maxParallelism: Record<string, number> = { count: 128 }): CheckpointMetadata {
  const subtasks: SubtaskState[] = [];
  for (let j = 0; j < 2; j++) {
    subtasks.push({ vertex: 0, subtaskIndex: j, operatorState: { src: { splits: [`split-${j}`] }, tally: { lists: { a: { mode: 'split', items: [`a${j}`] } } } }, keyedState: undefined });
    subtasks.push({ vertex: 1, subtaskIndex: j, operatorState: { sink: { nextPart: 3 + j, pending: [] } }, keyedState: keyed(j) });
  }
  return metadata(oldChains, subtasks, maxParallelism);
}

const lsm = { stateBackend: 'lsm', allowNonRestoredState: false } as const;
const at = (p: number, extra: Partial<JobShape> = {}): JobGraph => buildGraph({ parallelism: { src: p, tally: p, count: p, sink: p }, maxParallelism: 128, ...extra });

/** Every uid that holds operator state, or keyed state, in some new subtask of `plan`. */
function assignedUids(plan: RestorePlan, graph: JobGraph): Set<string> {
  const out = new Set<string>();
  for (const v of graph.vertices) {
    for (let i = 0; i < v.parallelism; i++) {
      const r = plan.bySubtask.get(`${v.id}/${i}`)!;
      for (const uid of Object.keys(r.operatorState)) out.add(uid);
      if (r.keyed !== undefined) out.add(graph.nodes[v.head]!.uid);
    }
  }
  return out;
}

t.test('state of a uid the new job lacks: an error naming the uid and the fix, or dropped with allowNonRestoredState', async (t) => {
  const meta = fixedMeta();
  const graph = at(2, { tallyUid: 'tally-v2' });
  t.throws(
    () => planRestore(source(meta), graph, lsm),
    {
      name: 'UsageError',
      message:
        /^Cannot restore savepoint \/sp\/savepoint-ab12cd-7: it holds state of operator uid "tally", which this job does not have\. Give that operator its uid again \(\.uid\("tally"\)\), or pass allowNonRestoredState to start without that state$/,
    },
  );
  t.type(catchError(() => planRestore(source(meta), graph, lsm)), UsageError);

  const plan = planRestore(source(meta), graph, { stateBackend: 'lsm', allowNonRestoredState: true });
  t.strictSame(plan.dropped, ['tally']);
  t.strictSame([...assignedUids(plan, graph)].sort(), ['count', 'sink', 'src'], 'nothing of "tally" is assigned; the rest is');
  t.strictSame(plan.rescaled, [], 'same parallelism');

  // A lost keyed operator with allowNonRestoredState: no keyed state anywhere.
  const noCount = fixedMeta();
  noCount.vertices[1] = { uids: ['count-old', 'sink'] };
  noCount.maxParallelism = { 'count-old': 128 };
  t.throws(() => planRestore(source(noCount), graph, { stateBackend: 'lsm', allowNonRestoredState: false }), { message: /uid "count-old", which this job does not have/ });
  const dropped = planRestore(source(noCount), at(3), { stateBackend: 'lsm', allowNonRestoredState: true });
  t.strictSame(dropped.dropped, ['count-old']);
  t.notOk(assignedUids(dropped, at(3)).has('count'), 'the lost keyed state is assigned to no subtask');
  t.notOk(dropped.rescaled.includes('count-old'));
  t.ok(dropped.rescaled.includes('sink'), 'the sink of the same chain is still restored (rescaled)');
});

function catchError(fn: () => unknown): unknown {
  try {
    fn();
  } catch (error) {
    return error;
  }
  return undefined;
}

t.test('keyed state of an operator that is no longer keyed', async (t) => {
  const meta = fixedMeta();
  const graph = at(2, { countUnkeyed: true });
  t.equal(nodeOf(graph, 'count').node.keyed, false, 'count is a map after rebalance() now');
  t.throws(() => planRestore(source(meta), graph, lsm), {
    name: 'UsageError',
    message: /^Cannot restore savepoint \/sp\/savepoint-ab12cd-7: it holds state of operator uid "count", as a keyed operator, and it is no longer keyed here\. Give that operator its uid again/,
  });
  const plan = planRestore(source(meta), graph, { stateBackend: 'lsm', allowNonRestoredState: true });
  t.strictSame(plan.dropped, ['count']);
  t.ok([...plan.bySubtask.values()].every((r) => r.keyed === undefined), 'no keyed state assigned');
  t.strictSame([...assignedUids(plan, graph)].sort(), ['sink', 'src', 'tally']);
});

t.test('a changed max parallelism of a keyed uid', async (t) => {
  const meta = fixedMeta();
  t.throws(() => planRestore(source(meta), at(2, { maxParallelism: 256 }), lsm), {
    name: 'UsageError',
    message:
      /^Cannot restore savepoint \/sp\/savepoint-ab12cd-7: operator "count" has max parallelism 128 there and 256 in this job\. Max parallelism \(the number of key groups\) is fixed for the life of a job's keyed state: run with maxParallelism 128, or set that operator's max parallelism back to 128$/,
  });
  t.throws(() => planRestore(source(meta), at(3, { maxParallelism: 7 }), lsm), { message: /"count" has max parallelism 128 there and 7 in this job/ }, 'at another parallelism too');
  // Non-keyed operators' max parallelism does not matter.
  const other = fixedMeta(undefined, { count: 128, src: 16, tally: 16, sink: 16 });
  t.doesNotThrow(() => planRestore(source(other), at(2), lsm));
});

t.test('keyed state of the other state backend', async (t) => {
  t.throws(() => planRestore(source(fixedMeta()), at(2), { stateBackend: 'hashmap', allowNonRestoredState: false }), {
    name: 'UsageError',
    message: /^Cannot restore savepoint \/sp\/savepoint-ab12cd-7: operator "count" has keyed state of the lsm state backend; run with stateBackend lsm$/,
  });
  const heap = fixedMeta((j) => ({ kind: 'heap', file: { name: `heap-${j}`, sizeBytes: 50 } }));
  t.throws(() => planRestore(source(heap), at(2), lsm), {
    name: 'UsageError',
    message: /^Cannot restore savepoint \/sp\/savepoint-ab12cd-7: operator "count" has keyed state of the hashmap state backend; run with stateBackend hashmap$/,
  });
});

t.test('heap keyed state: the same handles at the same parallelism, the meeting old files at another', async (t) => {
  const heap = fixedMeta((j) => ({ kind: 'heap', file: { name: `heap-${j}`, sizeBytes: 50 } }));
  const hashmap = { stateBackend: 'hashmap', allowNonRestoredState: false } as const;
  const file = (j: number) => ({ kind: 'heap', file: { name: `heap-${j}`, sizeBytes: 50 } });
  const graph = at(2);
  const plan = planRestore(source(heap), graph, hashmap);
  t.strictSame(restoresOf(plan, graph, 'count').map((r) => r.keyed), [0, 1].map((j) => ({ kind: 'handle', handle: file(j) })), 'same parallelism: subtask i takes old subtask i heap file');
  t.strictSame(plan.rescaled, []);
  const one = at(1);
  const down = planRestore(source(heap), one, hashmap);
  const maxP = one.nodes.find((n) => n.uid === 'count')!.maxParallelism;
  t.strictSame(restoresOf(down, one, 'count').map((r) => r.keyed), [{ kind: 'rescale', keyGroups: { start: 0, end: maxP - 1 }, maxParallelism: maxP, sources: [file(0), file(1)] }], 'parallelism 1 reads both old files');
  t.ok(down.rescaled.includes('count'));
});

t.test('operators that held no state are not checked', async (t) => {
  // The old job also ran a stateless map and a keyed operator whose LSM handles are all empty.
  const meta = fixedMeta();
  meta.vertices.push({ uids: ['old-map', 'old-filter'] }, { uids: ['old-keyed'] }, { uids: ['old-idle'] });
  for (let j = 0; j < 2; j++) {
    meta.subtasks.push({ vertex: 2, subtaskIndex: j, operatorState: {}, keyedState: undefined });
    meta.subtasks.push({ vertex: 3, subtaskIndex: j, operatorState: {}, keyedState: { kind: 'lsm', segments: [] } });
  }
  meta.maxParallelism['old-keyed'] = 64;
  for (const p of [2, 3]) {
    const graph = at(p);
    const plan = planRestore(source(meta), graph, lsm);
    t.strictSame(plan.dropped, [], `parallelism ${p}: nothing dropped`);
    t.notOk(plan.rescaled.some((uid) => uid.startsWith('old-')), `parallelism ${p}: nothing of the old operators rescaled`);
  }
});

t.test('a keyed head whose segment lists are all empty holds no state', async (t) => {
  const empty = fixedMeta(() => ({ kind: 'lsm', segments: [] }));
  // Neither its backend, its max parallelism nor its keyedness is checked, and nothing is assigned.
  for (const [what, graph, options] of [
    ['at another parallelism and max parallelism', at(3, { maxParallelism: 7 }), lsm],
    ['with the hashmap backend', at(2), { stateBackend: 'hashmap', allowNonRestoredState: false }],
    ['no longer keyed', at(2, { countUnkeyed: true }), lsm],
  ] as const) {
    const plan = planRestore(source(empty), graph, options);
    t.ok([...plan.bySubtask.values()].every((r) => r.keyed === undefined), `${what}: no keyed state assigned`);
    t.notOk(plan.rescaled.includes('count'), `${what}: count not rescaled`);
    t.strictSame(plan.dropped, [], `${what}: nothing dropped`);
  }
  // Missing from the new job: no error either.
  const graph = at(2, { countUnkeyed: true });
  const renamed = fixedMeta(() => ({ kind: 'lsm', segments: [] }));
  renamed.vertices[1] = { uids: ['gone'] };
  for (const s of renamed.subtasks) if (s.vertex === 1) s.operatorState = {};
  t.strictSame(planRestore(source(renamed), graph, lsm).dropped, []);
});

t.test('other operator state that cannot be redistributed', async (t) => {
  const meta = fixedMeta();
  for (const s of meta.subtasks) if (s.vertex === 0) s.operatorState.tally = { offset: s.subtaskIndex };
  t.throws(() => planRestore(source(meta), at(3), lsm), {
    name: 'UsageError',
    message: /^Cannot restore savepoint \/sp\/savepoint-ab12cd-7: operator "tally" \(flatMap\) has state that cannot be redistributed from parallelism 2 to 3; restore it at parallelism 2$/,
  });
  const graph = at(2);
  const plan = planRestore(source(meta), graph, lsm);
  t.strictSame(restoresOf(plan, graph, 'tally').map((r) => r.operatorState.tally), [{ offset: 0 }, { offset: 1 }], 'kept at the same parallelism');
});

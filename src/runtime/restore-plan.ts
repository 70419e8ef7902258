/**
 * State assignment on restore: which part of a checkpoint or savepoint each new subtask
 * gets, as Flink's `StateAssignmentOperation`. Pure: reads metadata and the job graph,
 * touches no file.
 *
 * - **Matching by uid.** A savepoint's metadata names the operator uids of every chain
 *   (`vertices`). State is matched to the new job's operators by uid, whatever their
 *   chaining or vertex numbers now. State of a uid the job no longer has is an error, or
 *   dropped with `allowNonRestoredState` (Flink's `--allowNonRestoredState`); operators
 *   that held no state are not checked (as Flink skips empty operator states).
 * - **Keyed state** belongs to the chain head that ran it (the keyed operator). At the
 *   same parallelism subtask i takes old subtask i's handle. At another parallelism it
 *   takes, from every old subtask whose key groups intersect its own, that subtask's
 *   segments (LSM) or snapshot files (heap), to be read clipped to its key-group range
 *   (`lsm-rescale`, `heap-rescale`). Max parallelism
 *   (the number of key groups) must not change.
 * - **Operator state** at the same parallelism stays with its subtask index, except union
 *   lists, which every subtask receives whole on every restore (as Flink). At another
 *   parallelism: source splits (the remaining work) are concatenated in old-subtask order
 *   and split evenly (`redistributeOperatorState`, Flink's
 *   `RoundRobinOperatorStateRepartitioner`); user operator lists by their own mode (even
 *   split or union).
 * - **Sinks** (Sink V2): the committables a sink operator's state holds (prepared at a
 *   checkpoint, maybe not yet committed) are taken out of it and committed by the job
 *   master before deployment (`commits`), so each is committed exactly once, whatever the
 *   parallelism; the writer states are lists (even split).
 * - **Source enumerators**: the state the metadata holds for a source uid
 *   (`coordinatorState`) restores its enumerator; a source uid the old job did not have
 *   starts fresh.
 * - **Finished subtasks** (FLIP-147): a subtask restores as finished when its old subtask
 *   had finished its input. At another parallelism, a vertex whose old subtasks all
 *   finished restores finished; one where only some had is refused (its finished part
 *   would run `endInput` again).
 */
import { optionNamer } from '../option-names.js';
import type { OptionStyle } from '../option-names.js';
import { UsageError } from '../errors.js';
import type { CheckpointMetadata, KeyedStateHandle, SubtaskState } from '../checkpoint/index.js';
import type { JobGraph } from '../graph/index.js';
import { keyGroupRangeForSubtask } from '../state/key-group.js';
import { redistributeOperatorState } from '../state/operator-state.js';
import type { OperatorStateSnapshot } from '../state/operator-state.js';
import type { SubtaskRestore } from '../task/index.js';
import { sinkWriterStateList } from '../task/index.js';

/** Where the state comes from. */
export interface RestoreSource {
  meta: CheckpointMetadata;
  /** Absolute folder of the files the metadata names. */
  filesDir: string;
  /** The names are this job's shared/ names (a checkpoint of this job), not a savepoint's. */
  shared: boolean;
  /** For messages: `savepoint /sp/savepoint-ab12cd34-7-0a1b2c` or `checkpoint 7`. */
  describe: string;
  /** The savepoint folder, for a savepoint. */
  savepointPath?: string;
  /** Completed checkpoints newer than this one, skipped as damaged (`--resume` fell back past them). */
  fellBackPast?: number[];
}

export interface RestorePlan {
  checkpointId: number;
  /** By `vertex/subtask` of the new job: every subtask (restored ones start at the checkpoint's epoch). */
  bySubtask: Map<string, SubtaskRestore>;
  /** Uids whose state was redistributed to another parallelism. */
  rescaled: string[];
  /** Uids whose state was dropped (`allowNonRestoredState`). */
  dropped: string[];
  /** Committables of the restored checkpoint, by sink uid: the job master commits them before deployment. */
  commits: Array<{ uid: string; committables: unknown[] }>;
  /**
   * Writer states of every old subtask of each sink uid, in old-subtask order, before any
   * redistribution: what a committer's `rollback` gets on a fallback restore.
   */
  sinkWriterStates: Map<string, unknown[]>;
  /** Enumerator state by source uid, for sources the restored job had (`{ state }`, state may be undefined for metadata version 2). */
  enumerators: Map<string, { state: unknown }>;
}

export interface RestorePlanOptions {
  stateBackend: 'hashmap' | 'lsm';
  allowNonRestoredState: boolean;
  /** How messages name the options to change; default runJob's names. */
  optionStyle?: OptionStyle;
}

/** An operator's own state, when it is a user function's operator lists. */
interface ListsState {
  lists: OperatorStateSnapshot;
}

/** Every union list of the old subtasks' `{ lists }` states, items in old-subtask order; undefined if none. */
function unionLists(olds: readonly unknown[]): OperatorStateSnapshot | undefined {
  const out: OperatorStateSnapshot = {};
  let any = false;
  for (const o of olds) {
    if (typeof o !== 'object' || o === null || !('lists' in o)) continue;
    for (const [name, list] of Object.entries((o as ListsState).lists)) {
      if (list.mode !== 'union') continue;
      any = true;
      (out[name] ??= { mode: 'union', items: [] }).items.push(...list.items);
    }
  }
  return any ? out : undefined;
}

const backendName = (h: KeyedStateHandle): 'lsm' | 'hashmap' => (h.kind === 'heap' ? 'hashmap' : 'lsm');

function hasContent(h: KeyedStateHandle | undefined): h is KeyedStateHandle {
  return h !== undefined && (h.kind === 'heap' || h.segments.length > 0);
}

/**
 * Assigns `source`'s state to the subtasks of `graph`.
 * @throws UsageError naming the savepoint and the fix: state of an operator uid the job
 *   lacks (without allowNonRestoredState), a changed max parallelism, keyed state of the
 *   other state backend.
 */
export function planRestore(source: RestoreSource, graph: JobGraph, options: RestorePlanOptions): RestorePlan {
  const { describe } = source;
  const cannot = (why: string): UsageError => new UsageError(`Cannot restore ${describe}: ${why}`);
  const n = optionNamer(options.optionStyle ?? 'api');
  const sinkUids = new Set(graph.nodes.filter((n) => n.plan.op.kind === 'sink').map((n) => n.uid));
  const { meta, commits } = takeCommittables(source.meta, sinkUids);
  // Old subtask states by old vertex, in subtask order.
  const oldByVertex = meta.vertices.map(() => [] as SubtaskState[]);
  for (const s of meta.subtasks) oldByVertex[s.vertex]!.push(s);
  for (const list of oldByVertex) list.sort((a, b) => a.subtaskIndex - b.subtaskIndex);
  const oldVertexOf = new Map<string, number>();
  meta.vertices.forEach((v, i) => v.uids.forEach((uid) => oldVertexOf.set(uid, i)));
  const nodeByUid = new Map(graph.nodes.map((n) => [n.uid, n]));

  // Which uids hold state: operator state of their own, or keyed state as a chain head.
  const keyedUids = new Set<string>();
  const operatorUids = new Set<string>();
  meta.vertices.forEach((v, i) => {
    if (oldByVertex[i]!.some((s) => hasContent(s.keyedState))) keyedUids.add(v.uids[0]!);
    for (const uid of v.uids) if (oldByVertex[i]!.some((s) => s.operatorState[uid] !== undefined)) operatorUids.add(uid);
  });
  const enumeratorUids = new Set(Object.keys(meta.coordinatorState));
  const dropped = new Set<string>();
  for (const uid of new Set([...keyedUids, ...operatorUids, ...enumeratorUids, ...commits.map((c) => c.uid)])) {
    const node = nodeByUid.get(uid);
    const lost = node === undefined ? 'which this job does not have' : keyedUids.has(uid) && !node.keyed ? 'as a keyed operator, and it is no longer keyed here' : undefined;
    if (lost === undefined) continue;
    if (options.allowNonRestoredState) {
      dropped.add(uid);
      continue;
    }
    throw cannot(
      `it holds state of operator uid "${uid}", ${lost}. Give that operator its uid again (.uid("${uid}")), ` +
        `or pass ${n('allowNonRestoredState')} to start without that state`,
    );
  }
  for (const uid of keyedUids) {
    if (dropped.has(uid)) continue;
    const node = nodeByUid.get(uid)!;
    const old = meta.maxParallelism[uid];
    if (old !== undefined && old !== node.maxParallelism) {
      throw cannot(
        `operator "${uid}" has max parallelism ${old} there and ${node.maxParallelism} in this job. Max parallelism (the number of ` +
          `key groups) is fixed for the life of a job's keyed state: run with ${n('maxParallelism')} ${old}, or set that operator's max parallelism back to ${old}`,
      );
    }
    for (const s of oldByVertex[oldVertexOf.get(uid)!]!) {
      const h = s.keyedState;
      if (hasContent(h) && backendName(h) !== options.stateBackend) {
        throw cannot(`operator "${uid}" has keyed state of the ${backendName(h)} state backend; run with ${n('stateBackend')} ${backendName(h)}`);
      }
    }
  }

  const bySubtask = new Map<string, SubtaskRestore>();
  const rescaled = new Set<string>();
  for (const vertex of graph.vertices) {
    const p = vertex.parallelism;
    const restores: SubtaskRestore[] = Array.from({ length: p }, () => ({
      checkpointId: meta.checkpointId,
      filesDir: source.filesDir,
      shared: source.shared,
      operatorState: {},
      finished: false,
      keyed: undefined,
    }));
    // Finished subtasks (FLIP-147), by the old vertex of the chain head.
    const headOld = oldVertexOf.get(graph.nodes[vertex.head]!.uid);
    if (headOld !== undefined) {
      const olds = oldByVertex[headOld]!;
      const finished = olds.filter((s) => s.finished === true).length;
      if (olds.length === p) olds.forEach((s, i) => (restores[i]!.finished = s.finished === true));
      else if (finished === olds.length && finished > 0) restores.forEach((r) => (r.finished = true));
      else if (finished > 0) {
        throw cannot(
          `${finished} of the ${olds.length} subtasks of "${vertex.name}" had finished their input, the others had not; ` +
            `restore it at parallelism ${olds.length} (a partly finished operator cannot be rescaled)`,
        );
      }
    }
    // Keyed state of the chain head.
    const head = graph.nodes[vertex.head]!;
    if (keyedUids.has(head.uid) && !dropped.has(head.uid)) {
      const olds = oldByVertex[oldVertexOf.get(head.uid)!]!;
      if (olds.length === p) {
        olds.forEach((s, i) => {
          if (hasContent(s.keyedState)) restores[i]!.keyed = { kind: 'handle', handle: s.keyedState };
        });
      } else {
        rescaled.add(head.uid);
        const maxP = head.maxParallelism;
        const oldRanges = olds.map((_, j) => keyGroupRangeForSubtask(maxP, olds.length, j));
        for (let i = 0; i < p; i++) {
          const range = keyGroupRangeForSubtask(maxP, p, i);
          const sources: KeyedStateHandle[] = [];
          olds.forEach((s, j) => {
            const r = oldRanges[j]!;
            if (r.start <= range.end && range.start <= r.end && hasContent(s.keyedState)) sources.push(s.keyedState);
          });
          if (sources.length > 0) restores[i]!.keyed = { kind: 'rescale', keyGroups: range, maxParallelism: maxP, sources };
        }
      }
    }
    // Operator state of every node in the chain.
    for (const id of vertex.nodes) {
      const node = graph.nodes[id]!;
      if (!operatorUids.has(node.uid) || dropped.has(node.uid)) continue;
      const olds = oldByVertex[oldVertexOf.get(node.uid)!]!.map((s) => s.operatorState[node.uid]);
      if (olds.length === p) {
        const unions = unionLists(olds);
        olds.forEach((state, i) => {
          if (unions === undefined) {
            if (state !== undefined) restores[i]!.operatorState[node.uid] = state;
            return;
          }
          // Union lists go to every subtask even at the same parallelism (Flink: each
          // subtask gets the complete list on every restore); split lists stay per index.
          const own = (state as ListsState | undefined)?.lists ?? {};
          const lists: OperatorStateSnapshot = structuredClone(unions);
          for (const [name, list] of Object.entries(own)) if (list.mode === 'split') lists[name] = structuredClone(list);
          restores[i]!.operatorState[node.uid] = { lists } satisfies ListsState;
        });
        continue;
      }
      rescaled.add(node.uid);
      const op = node.plan.op;
      if (op.kind === 'source') {
        const items = olds.flatMap((o) => (o as { splits?: unknown[] } | undefined)?.splits ?? []);
        const parts = redistributeOperatorState([{ splits: { mode: 'split', items } }], p);
        parts.forEach((part, i) => (restores[i]!.operatorState[node.uid] = { splits: part.splits!.items }));
      } else if (olds.every((o) => o === undefined || (typeof o === 'object' && o !== null && 'lists' in o))) {
        const parts = redistributeOperatorState(olds.map((o) => (o as ListsState | undefined)?.lists ?? {}), p);
        parts.forEach((lists, i) => (restores[i]!.operatorState[node.uid] = { lists } satisfies ListsState));
      } else {
        throw cannot(`operator "${node.uid}" (${op.kind}) has state that cannot be redistributed from parallelism ${olds.length} to ${p}; restore it at parallelism ${olds.length}`);
      }
    }
    restores.forEach((r, i) => bySubtask.set(`${vertex.id}/${i}`, r));
  }
  const enumerators = new Map<string, { state: unknown }>();
  for (const n of graph.nodes) {
    if (n.plan.op.kind !== 'source' || !oldVertexOf.has(n.uid)) continue;
    enumerators.set(n.uid, { state: meta.coordinatorState[n.uid] });
  }
  const sinkWriterStates = new Map<string, unknown[]>();
  for (const s of meta.subtasks) {
    for (const uid of sinkUids) {
      const items = (s.operatorState[uid] as ListsState | undefined)?.lists?.[sinkWriterStateList]?.items;
      if (items !== undefined && !dropped.has(uid)) (sinkWriterStates.get(uid) ?? sinkWriterStates.set(uid, []).get(uid)!).push(...items);
    }
  }
  return {
    checkpointId: meta.checkpointId,
    sinkWriterStates,
    bySubtask,
    rescaled: [...rescaled],
    dropped: [...dropped],
    commits: commits.filter((c) => !dropped.has(c.uid)),
    enumerators,
  };
}

/**
 * Takes the committables out of the sink operators' states (see the file comment): the
 * metadata as subtasks get it, and the committables per sink uid. A text sink state of
 * metadata version 2 (`{ nextPart, pending }`) becomes a writer state and its pending files.
 */
function takeCommittables(meta: CheckpointMetadata, sinkUids: ReadonlySet<string>): { meta: CheckpointMetadata; commits: Array<{ uid: string; committables: unknown[] }> } {
  const byUid = new Map<string, unknown[]>();
  const subtasks = meta.subtasks.map((s) => {
    const operatorState: Record<string, unknown> = {};
    for (const [uid, state] of Object.entries(s.operatorState)) {
      if (!sinkUids.has(uid) || state === null || typeof state !== 'object') {
        operatorState[uid] = state;
        continue;
      }
      const st = state as { lists?: unknown; committables?: Array<{ committables: unknown[] }>; nextPart?: number; pending?: unknown[] };
      const committables = Array.isArray(st.committables) ? st.committables.flatMap((c) => c.committables) : Array.isArray(st.pending) ? st.pending : [];
      if (committables.length > 0) (byUid.get(uid) ?? byUid.set(uid, []).get(uid)!).push(...committables);
      if (st.lists !== undefined) operatorState[uid] = { lists: st.lists };
      else if (typeof st.nextPart === 'number') {
        operatorState[uid] = { lists: { [sinkWriterStateList]: { mode: 'split', items: [{ subtaskIndex: s.subtaskIndex, nextPart: st.nextPart }] } } };
      }
    }
    return { ...s, operatorState };
  });
  return { meta: { ...meta, subtasks }, commits: [...byUid].map(([uid, committables]) => ({ uid, committables })) };
}

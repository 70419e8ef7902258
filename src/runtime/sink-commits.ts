/**
 * Commits of Sink V2 committables in the job master (main thread): those a restored
 * checkpoint holds, before any subtask of the new attempt starts, and, for jobs without a
 * final checkpoint, those the sinks hand over when every subtask has finished. Each sink's
 * committer is created here for the purpose (`createCommitter({ subtaskIndex: undefined })`)
 * and closed after. Commits are idempotent by contract (connectors/sink.ts), so committing
 * what a subtask may already have committed is safe.
 */
import type { Committer, Sink } from '../connectors/index.js';
import type { GraphNode, JobGraph } from '../graph/index.js';

/** The Sink V2 sinks of the job with a committer (two-phase), in graph order. */
function twoPhaseSinks(graph: JobGraph): Array<{ node: GraphNode; sink: Sink<unknown> }> {
  const out: Array<{ node: GraphNode; sink: Sink<unknown> }> = [];
  for (const node of graph.nodes) {
    const op = node.plan.op;
    if (op.kind !== 'sink' || op.sink.kind !== 'sink') continue;
    const sink = op.sink.sink as Sink<unknown>;
    if (typeof sink.createCommitter === 'function') out.push({ node, sink });
  }
  return out;
}

/** The job master's committer of `sink` (closed by the caller), or undefined when it makes none. */
function masterCommitter(node: GraphNode, sink: Sink<unknown>): Committer<unknown> | undefined {
  return sink.createCommitter?.({ subtaskIndex: undefined, parallelism: node.parallelism });
}

/**
 * The two-phase sinks whose committer cannot take back what it published (no `rollback`):
 * a fallback restore would duplicate their output. As `"name" (uid u)` phrases.
 */
export async function sinksWithoutRollback(graph: JobGraph): Promise<string[]> {
  const names: string[] = [];
  for (const { node, sink } of twoPhaseSinks(graph)) {
    const committer = masterCommitter(node, sink);
    if (committer === undefined) continue;
    try {
      if (typeof committer.rollback !== 'function') names.push(`"${node.name}" (uid ${node.uid})`);
    } finally {
      await committer.close?.();
    }
  }
  return names;
}

/**
 * A fallback restore (connectors/sink.ts, item 5): every two-phase sink with a `rollback`
 * takes back what it published after `restoredCheckpointId` (undefined: everything),
 * given the writer states of that checkpoint by sink uid. Sinks without one are skipped
 * (the caller refused the restore or accepted duplicates).
 * @throws the committer's error, naming the sink.
 */
export async function rollbackInMaster(
  graph: JobGraph,
  restoredCheckpointId: number | undefined,
  checkpointIds: readonly number[],
  writerStates: ReadonlyMap<string, unknown[]>,
): Promise<void> {
  for (const { node, sink } of twoPhaseSinks(graph)) {
    const committer = masterCommitter(node, sink);
    if (committer === undefined) continue;
    try {
      await committer.rollback?.({ restoredCheckpointId, checkpointIds: [...checkpointIds], writerStates: writerStates.get(node.uid) ?? [] });
    } catch (error) {
      const after = restoredCheckpointId === undefined ? 'since the job started' : `after checkpoint ${restoredCheckpointId}`;
      throw new Error(`Sink "${node.name}" (uid ${node.uid}) could not take back what it published ${after}: ${(error as Error).message}`, { cause: error });
    } finally {
      await committer.close?.();
    }
  }
}

/**
 * Commits `commits` (committables by sink uid) with each sink's committer.
 * @throws the committer's error, naming the sink.
 */
export async function commitInMaster(graph: JobGraph, commits: ReadonlyArray<{ uid: string; committables: unknown[] }>): Promise<void> {
  for (const { uid, committables } of commits) {
    if (committables.length === 0) continue;
    const node = graph.nodes.find((n) => n.uid === uid);
    const op = node?.plan.op;
    if (node === undefined || op?.kind !== 'sink' || op.sink.kind !== 'sink') continue;
    const sink = op.sink.sink as Sink<unknown>;
    const committer = sink.createCommitter?.({ subtaskIndex: undefined, parallelism: node.parallelism });
    if (committer === undefined) continue;
    try {
      await committer.commit(committables);
    } catch (error) {
      throw new Error(`Sink "${node.name}" (uid ${uid}) could not commit ${committables.length} committables in the job master: ${(error as Error).message}`, { cause: error });
    } finally {
      await committer.close?.();
    }
  }
}

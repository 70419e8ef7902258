/**
 * Commits of Sink V2 committables in the job master (main thread): those a restored
 * checkpoint holds, before any subtask of the new attempt starts, and, for jobs without a
 * final checkpoint, those the sinks hand over when every subtask has finished. Each sink's
 * committer is created here for the purpose (`createCommitter({ subtaskIndex: undefined })`)
 * and closed after. Commits are idempotent by contract (connectors/sink.ts), so committing
 * what a subtask may already have committed is safe.
 */
import type { Sink } from '../connectors/index.js';
import type { JobGraph } from '../graph/index.js';

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

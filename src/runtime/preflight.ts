/**
 * Checks in the main thread before the first deployment: what a subtask would otherwise
 * find only when it starts, and every restart find again (a checkpoint directory that is
 * a file, an output folder that cannot be written). Each mistake is a UsageError of one
 * line naming the path and what to do. Source inputs are checked where their enumerators
 * start, also before deployment (attempt.ts); sinks check themselves in
 * `Sink.initializeGlobal` (Flink's `InitializeOnMaster`).
 */
import { resolve } from 'node:path';
import type { Sink } from '../connectors/index.js';
import { directoryProblem } from '../directories.js';
import { UsageError, findUserError } from '../errors.js';
import { optionName } from '../option-names.js';
import type { JobGraph } from '../graph/index.js';
import type { ResolvedOptions } from './options.js';

/**
 * @throws UsageError when the checkpoint or savepoint directory cannot be written, naming
 * the option as the caller knows it (`--checkpoint-dir` from the CLI, `checkpointDir` from runJob).
 */
export function checkEngineDirectories(options: ResolvedOptions): void {
  const dirs = [
    ['Checkpoint directory', 'checkpointDir', options.checkpointing?.dir],
    ['Savepoint directory', 'savepointDir', options.savepointDir],
  ] as const;
  for (const [what, option, dir] of dirs) {
    if (dir === undefined) continue;
    const problem = directoryProblem(dir);
    if (problem !== undefined) throw new UsageError(`${what} ${resolve(dir)} ${problem}: pass a writable directory with ${optionName(option, options.optionStyle)}`);
  }
}

/**
 * Runs `initializeGlobal` of every sink that has one, in plan order.
 * @throws the sink's non-recoverable error (a UsageError) as it is; any other throw as an
 * Error naming the sink.
 */
export async function initializeSinks(graph: JobGraph): Promise<void> {
  for (const node of graph.nodes) {
    const op = node.plan.op;
    if (op.kind !== 'sink' || op.sink.kind !== 'sink') continue;
    const sink = op.sink.sink as Sink<unknown>;
    if (sink.initializeGlobal === undefined) continue;
    try {
      await sink.initializeGlobal({ parallelism: node.parallelism });
    } catch (error) {
      const userError = findUserError(error);
      if (userError !== undefined) throw userError;
      throw new Error(`Sink "${node.name}" (uid ${node.uid}) failed in initializeGlobal: ${(error as Error).message}`, { cause: error });
    }
  }
}

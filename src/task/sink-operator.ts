/**
 * The sink operator: runs a Sink V2 writer and, for two-phase sinks, its committer in the
 * subtask, as Flink's `SinkWriterOperator` + `CommitterOperator` fused. Its operator state
 * (under its uid) is
 *   `{ lists: { 'sink-writer': split list of writer states }, committables: [{ checkpointId, committables }] }`
 * where `committables` are those prepared at each checkpoint and not yet known to be
 * committed. The job master commits them all on a restore (runtime/restore-plan.ts), so a
 * restored sink operator starts with none.
 */
import type { Committer, SinkWriter } from '../connectors/index.js';
import type { GraphNode } from '../graph/index.js';
import { ChainOperator } from './operators.js';
import type { OperatorEnvironment } from './operators.js';

/** Name of the writer-state list in a sink operator's state. */
export const sinkWriterStateList = 'sink-writer';

/** Committables of one checkpoint (operator state, and the `finished` message). */
export interface CheckpointCommittables {
  checkpointId: number;
  committables: unknown[];
}

/** Checkpoint id that tags committables prepared at the end of input of a job without a final checkpoint. */
export const endOfInputCheckpointId = Number.MAX_SAFE_INTEGER;

export class SinkOperator extends ChainOperator {
  /** Prepared and not yet committed, oldest first. */
  private pending: CheckpointCommittables[] = [];

  constructor(
    node: GraphNode,
    env: OperatorEnvironment,
    readonly writer: SinkWriter<unknown>,
    private readonly committer: Committer<unknown> | undefined,
  ) {
    super(node, env);
  }

  protected process(record: unknown): void {
    this.writer.write(record);
  }

  /**
   * Checkpoint n's synchronous phase (at its barrier): flush, prepare the committables of
   * what was written since the last barrier, snapshot the writer. Returns the state.
   */
  snapshotSink(checkpointId: number): unknown {
    this.writer.flush(false);
    const prepared = this.writer.prepareCommit?.() ?? [];
    if (prepared.length > 0) this.pending.push({ checkpointId, committables: prepared });
    const writerState = this.writer.snapshotState?.(checkpointId) ?? [];
    const state: { lists?: Record<string, { mode: 'split'; items: unknown[] }>; committables?: CheckpointCommittables[] } = {};
    if (writerState.length > 0) state.lists = { [sinkWriterStateList]: { mode: 'split', items: writerState } };
    if (this.pending.length > 0) state.committables = this.pending.map((p) => ({ checkpointId: p.checkpointId, committables: [...p.committables] }));
    return state.lists === undefined && state.committables === undefined ? undefined : state;
  }

  /** Checkpoint n is complete: commit every committable of checkpoints up to n. */
  async notifyComplete(checkpointId: number): Promise<void> {
    const ready = this.pending.filter((p) => p.checkpointId <= checkpointId);
    if (ready.length === 0) return;
    const committables = ready.flatMap((p) => p.committables);
    if (this.committer !== undefined) await this.committer.commit(committables);
    (this.writer as { committed?: (c: unknown[]) => void }).committed?.(committables);
    this.pending = this.pending.filter((p) => p.checkpointId > checkpointId);
  }

  /** End of input: push everything out (Flink's `flush(true)`). */
  override endInput(): void {
    this.writer.flush(true);
  }

  /**
   * A job without a final checkpoint (no periodic checkpoints): after `endInput`, the
   * committables left for the job master to commit when every subtask has finished.
   */
  finalCommittables(): unknown[] {
    const prepared = this.writer.prepareCommit?.() ?? [];
    return [...this.pending.flatMap((p) => p.committables), ...prepared];
  }

  /** Normal end: close the writer and committer. */
  override async close(): Promise<void> {
    await this.writer.close();
    await this.committer?.close?.();
  }

  /** After a cancel: the writer discards what no completed checkpoint covers (see SinkWriter.close). */
  async abort(): Promise<void> {
    await (this.writer as { close(discard?: boolean): void | Promise<void> }).close(true);
    await this.committer?.close?.();
  }
}

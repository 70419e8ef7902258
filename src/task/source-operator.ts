/**
 * The head of a source chain: drives a `SourceReader` (FLIP-27) inside the mailbox loop,
 * as Flink's `SourceOperator`. The reader's splits are this operator's state
 * (`{ splits }` under its uid: even-split on rescale); split requests and registration go
 * to the enumerator in the job master over the control port, and assignments come back
 * as control mails, in order with checkpoint triggers.
 */
import type { InputStatus, ReaderOutput, Source, SourceReader, SourceSplit } from '../connectors/index.js';
import type { GraphNode } from '../graph/index.js';
import { ChainOperator } from './operators.js';
import type { OperatorEnvironment } from './operators.js';

/** Calls of `pollNext` per turn at most, when calls emit nothing but say 'more'. */
export const pollCallsPerTurnMax = 1024;

export class SourceOperator extends ChainOperator {
  private reader: SourceReader<unknown, SourceSplit> | undefined;
  private readonly output: ReaderOutput<unknown> = { collect: this.emit };
  /** True once `pollNext` said 'end'. */
  ended = false;

  constructor(
    node: GraphNode,
    env: OperatorEnvironment,
    private readonly source: Source<unknown, SourceSplit, unknown>,
    /** Sends a message to this source's enumerator in the job master. */
    private readonly toEnumerator: (message: { type: 'readerRegistered' } | { type: 'splitRequest' }) => void,
  ) {
    super(node, env);
  }

  protected process(record: unknown): void {
    this.emit(record);
  }

  /** Creates and starts the reader, hands it the restored splits, then registers it. */
  override async open(): Promise<void> {
    this.reader = this.source.createReader({
      subtaskIndex: this.env.subtaskIndex,
      parallelism: this.node.parallelism,
      sendSplitRequest: () => this.toEnumerator({ type: 'splitRequest' }),
    });
    await this.reader.start();
    const restored = (this.env.restoredState(this.node.uid) as { splits?: SourceSplit[] } | undefined)?.splits;
    if (restored !== undefined && restored.length > 0) this.reader.addSplits(restored);
    this.toEnumerator({ type: 'readerRegistered' });
  }

  /**
   * Polls the reader until it has emitted `maxRecords`, `stop()` says the outputs are
   * backed up, or it has nothing now ('nothing') or ever ('end').
   */
  poll(maxRecords: number, stop: () => boolean): InputStatus {
    const reader = this.reader!;
    const before = this.recordsOut;
    for (let calls = 0; calls < pollCallsPerTurnMax; calls++) {
      const status = reader.pollNext(this.output);
      if (status === 'end') this.ended = true;
      if (status !== 'more' || this.recordsOut - before >= maxRecords || stop()) return status;
    }
    return 'more';
  }

  /** Resolves when the reader may have more after 'nothing'. */
  isAvailable(): Promise<void> {
    return this.reader!.isAvailable();
  }

  addSplits(splits: SourceSplit[]): void {
    this.reader!.addSplits(splits);
  }

  notifyNoMoreSplits(): void {
    this.reader!.notifyNoMoreSplits();
  }

  /** The reader's splits with their positions (operator state). */
  snapshotSplits(checkpointId: number): SourceSplit[] {
    return this.reader!.snapshotState(checkpointId);
  }

  notifyCheckpointComplete(checkpointId: number): void {
    this.reader?.notifyCheckpointComplete?.(checkpointId);
  }

  /** Where the record emitted last came from (built-in readers know), for failures. */
  position(): string | undefined {
    return (this.reader as { position?: () => string } | undefined)?.position?.();
  }

  /** Lines a format skipped as bad (Flink's `numRecordsInErrors`). */
  get numRecordsInErrors(): number {
    return (this.reader as { numRecordsInErrors?: number } | undefined)?.numRecordsInErrors ?? 0;
  }

  override async close(): Promise<void> {
    await this.reader?.close();
  }
}

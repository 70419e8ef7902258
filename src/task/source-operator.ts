/**
 * The head of a source chain: drives a `SourceReader` (FLIP-27) inside the mailbox loop,
 * as Flink's `SourceOperator`. The reader's splits are this operator's state
 * (`{ splits }` under its uid: even-split on rescale); split requests and registration go
 * to the enumerator in the job master over the control port, and assignments come back
 * as control mails, in order with checkpoint triggers.
 */
import type { InputStatus, ReaderOutput, Source, SourceReader, SourceSplit } from '../connectors/index.js';
import type { GraphNode } from '../graph/index.js';
import { OutputWatermarks } from '../time/index.js';
import type { GeneratedOutput, TimestampAssigner, WatermarkStrategy } from '../time/index.js';
import { ChainOperator } from './operators.js';
import type { OperatorEnvironment } from './operators.js';
import { assignTimestamp } from './timestamps-operator.js';
import type { PeriodicWatermarkEmitter } from './timestamps-operator.js';

/** Calls of `pollNext` per turn at most, when calls emit nothing but say 'more'. */
export const pollCallsPerTurnMax = 1024;

export class SourceOperator extends ChainOperator implements PeriodicWatermarkEmitter {
  private reader: SourceReader<unknown, SourceSplit> | undefined;
  private output!: ReaderOutput<unknown>;
  /** Per-split generators (with a watermark strategy). */
  private watermarks: OutputWatermarks<unknown> | undefined;
  private assigner: TimestampAssigner<unknown> | undefined;
  private readonly splitOutputs = new Map<string, ReaderOutput<unknown>>();
  /** True once `pollNext` said 'end'. */
  ended = false;

  constructor(
    node: GraphNode,
    env: OperatorEnvironment,
    private readonly source: Source<unknown, SourceSplit, unknown>,
    /** Sends a message to this source's enumerator in the job master. */
    private readonly toEnumerator: (message: { type: 'readerRegistered' } | { type: 'splitRequest' }) => void,
    /** Timestamps and watermarks per split (`fromSource`), or none. */
    private readonly strategy: WatermarkStrategy<unknown> | undefined = undefined,
  ) {
    super(node, env);
  }

  /**
   * An output whose records get the generator of `id` ('' for the reader's single output),
   * made on the first record, so an unused output never holds the watermark back.
   */
  private makeOutput(id: string): ReaderOutput<unknown> {
    const ts = this.env.timestamp;
    const emit = this.emit;
    const watermarks = this.watermarks;
    const split = {
      createOutputForSplit: (splitId: string) => this.splitOutput(splitId),
      releaseOutputForSplit: (splitId: string) => {
        this.splitOutputs.delete(splitId);
        this.watermarks?.release(splitId);
      },
    };
    if (watermarks === undefined) {
      return {
        collect: (record, timestampMs) => {
          ts.value = timestampMs === undefined ? NaN : timestampMs;
          emit(record);
        },
        ...split,
      };
    }
    let generated: GeneratedOutput<unknown> | undefined;
    return {
      collect: (record, timestampMs) => {
        const t = assignTimestamp(this.node.name, this.assigner, record, timestampMs === undefined ? NaN : timestampMs);
        ts.value = t;
        (generated ??= watermarks.output(id)).onEvent(record, t);
        emit(record);
      },
      ...split,
    };
  }

  private splitOutput(splitId: string): ReaderOutput<unknown> {
    let out = this.splitOutputs.get(splitId);
    if (out === undefined) {
      out = this.makeOutput(splitId);
      this.splitOutputs.set(splitId, out);
    }
    return out;
  }

  /** Every auto-watermark interval: each split's generator. */
  periodicEmit(): void {
    this.watermarks?.periodicEmit();
  }

  /** The combined watermark so far (-Infinity without a strategy). */
  get currentWatermark(): number {
    return this.watermarks?.current ?? -Infinity;
  }

  protected process(record: unknown): void {
    this.emit(record);
  }

  /** Creates and starts the reader, hands it the restored splits, then registers it. */
  override async open(): Promise<void> {
    if (this.strategy !== undefined) {
      const context = { currentProcessingTime: () => this.env.clock.now() };
      this.assigner = this.strategy.createTimestampAssigner(context);
      this.watermarks = new OutputWatermarks(this.strategy, context, {
        emitWatermark: (ts) => this.forwardWatermark(ts),
        emitIdle: (idle) => this.forwardIdle(idle),
      });
    }
    this.output = this.makeOutput('');
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

/**
 * `assignTimestampsAndWatermarks(strategy)`: stamps each record with the strategy's
 * timestamp assigner and generates watermarks with one generator per subtask. Flink:
 * `TimestampsAndWatermarksOperator`.
 *
 * Watermarks and idleness from upstream are dropped (this operator decides event time
 * from here on), except the maximum watermark of the end of input, which goes on so that
 * every event-time timer downstream fires.
 */
import { UsageError, previewRecord } from '../errors.js';
import type { GraphNode } from '../graph/index.js';
import { OutputWatermarks } from '../time/index.js';
import type { GeneratedOutput, TimestampAssigner, WatermarkGeneratorContext, WatermarkStrategy } from '../time/index.js';
import { ChainOperator } from './operators.js';
import type { OperatorEnvironment } from './operators.js';

/** A generator the task calls every auto-watermark interval. */
export interface PeriodicWatermarkEmitter {
  periodicEmit(): void;
}

/**
 * The timestamp a strategy gives `record`: the assigner's result, or the record's own.
 * @throws UsageError naming the operator and the record when it is not a finite number
 *   (an assigner returning NaN, a string, nothing) or when a record has none at all.
 */
export function assignTimestamp<T>(operatorName: string, assigner: TimestampAssigner<T> | undefined, record: T, own: number): number {
  const previous = own === own ? own : undefined; // NaN: none
  if (assigner === undefined) {
    if (previous === undefined) {
      throw new UsageError(`"${operatorName}" got record ${previewRecord(record)} without a timestamp: give its WatermarkStrategy a timestamp assigner (withTimestampAssigner((record) => ms))`);
    }
    return previous;
  }
  const ts = assigner(record, previous);
  if (typeof ts !== 'number' || !Number.isFinite(ts)) {
    throw new UsageError(
      `The timestamp assigner of "${operatorName}" returned ${typeof ts === 'number' ? String(ts) : `a ${typeof ts}`} for record ${previewRecord(record)}: it must return ms since the epoch as a finite number`,
    );
  }
  return ts;
}

export class TimestampsAndWatermarksOperator extends ChainOperator implements PeriodicWatermarkEmitter {
  private assigner: TimestampAssigner<unknown> | undefined;
  private watermarks!: OutputWatermarks<unknown>;
  private output!: GeneratedOutput<unknown>;

  constructor(node: GraphNode, env: OperatorEnvironment, private readonly strategy: WatermarkStrategy<unknown>) {
    super(node, env);
  }

  override async open(): Promise<void> {
    const context: WatermarkGeneratorContext = { currentProcessingTime: () => this.env.clock.now() };
    this.assigner = this.strategy.createTimestampAssigner(context);
    this.watermarks = new OutputWatermarks(this.strategy, context, {
      emitWatermark: (ts) => this.forwardWatermark(ts),
      emitIdle: (idle) => this.forwardIdle(idle),
    });
    this.output = this.watermarks.output('');
  }

  protected process(record: unknown): void {
    const ts = assignTimestamp(this.node.name, this.assigner, record, this.env.timestamp.value);
    this.env.timestamp.value = ts;
    this.output.onEvent(record, ts);
    this.emit(record);
  }

  /** Upstream watermarks are dropped, but for the end of input's. */
  override processWatermark(timestampMs: number): void {
    if (timestampMs === Infinity) this.forwardWatermark(timestampMs);
  }

  override processIdle(): void {}

  periodicEmit(): void {
    this.watermarks.periodicEmit();
  }
}

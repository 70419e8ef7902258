/**
 * The output side of watermark generation: one generator per output (a source split, or
 * a whole subtask of `assignTimestampsAndWatermarks`), combined into the watermark and
 * status the operator emits. Flink: `WatermarkOutputMultiplexer` with
 * `ProgressiveTimestampsAndWatermarks` (split-aware watermarking of FLIP-27 sources).
 *
 * - Each output's watermark only advances; the combined watermark is the minimum over the
 *   outputs that are not idle, and it only advances. An output that has not emitted yet
 *   holds the combination back (its watermark is -Infinity).
 * - When every output is idle, the operator's output is idle; the next watermark or
 *   record of any output makes it active again.
 * - Released outputs (finished splits) are dropped from the combination.
 */
import type { WatermarkGenerator, WatermarkGeneratorContext, WatermarkOutput, WatermarkStrategy } from './watermark-strategy.js';

/** Where the combination goes: the operator's downstream. */
export interface CombinedWatermarkSink {
  emitWatermark(timestampMs: number): void;
  emitIdle(idle: boolean): void;
}

/** One output's generator and state. */
export class GeneratedOutput<T> implements WatermarkOutput {
  watermark = -Infinity;
  idle = false;
  constructor(
    private readonly owner: OutputWatermarks<T>,
    readonly generator: WatermarkGenerator<T>,
  ) {}
  emitWatermark(timestampMs: number): void {
    if (this.idle) this.idle = false;
    if (timestampMs > this.watermark) this.watermark = timestampMs;
    this.owner.update();
  }
  markIdle(): void {
    if (this.idle) return;
    this.idle = true;
    this.owner.update();
  }
  markActive(): void {
    if (!this.idle) return;
    this.idle = false;
    this.owner.update();
  }
  /** A record with its timestamp: to the generator. */
  onEvent(record: T, timestampMs: number): void {
    this.generator.onEvent(record, timestampMs, this);
  }
}

export class OutputWatermarks<T> {
  private readonly outputs = new Map<string, GeneratedOutput<T>>();
  private combined = -Infinity;
  private idle = false;

  constructor(
    private readonly strategy: WatermarkStrategy<T>,
    private readonly context: WatermarkGeneratorContext,
    private readonly sink: CombinedWatermarkSink,
  ) {}

  /** The output of `id` (a split id, or '' for the operator's single output); made on first use. */
  output(id: string): GeneratedOutput<T> {
    let out = this.outputs.get(id);
    if (out === undefined) {
      out = new GeneratedOutput(this, this.strategy.createWatermarkGenerator(this.context));
      this.outputs.set(id, out);
    }
    return out;
  }

  /** Drops a finished split's output. */
  release(id: string): void {
    if (this.outputs.delete(id)) this.update();
  }

  /** Every auto-watermark interval: each generator's periodic emission. */
  periodicEmit(): void {
    for (const out of this.outputs.values()) out.generator.onPeriodicEmit(out);
  }

  /** The combined watermark emitted so far. */
  get current(): number {
    return this.combined;
  }

  /** Recombines after an output changed; emits what advanced or changed status. */
  update(): void {
    let min = Infinity;
    let anyActive = false;
    for (const out of this.outputs.values()) {
      if (out.idle) continue;
      anyActive = true;
      if (out.watermark < min) min = out.watermark;
    }
    const idle = this.outputs.size > 0 && !anyActive;
    if (idle !== this.idle) {
      this.idle = idle;
      this.sink.emitIdle(idle);
    }
    if (anyActive && min > this.combined) {
      this.combined = min;
      this.sink.emitWatermark(min);
    }
  }
}

/**
 * How a stream's records get event timestamps and how watermarks are generated. Flink:
 * `WatermarkStrategy`, `WatermarkGenerator`, `TimestampAssigner`,
 * `BoundedOutOfOrdernessWatermarks`, `AscendingTimestampsWatermarks`,
 * `WatermarksWithIdleness`.
 *
 * A strategy is immutable configuration, built in every thread from the job module. The
 * runtime asks it for a fresh generator per output (per source split, or per subtask of
 * `assignTimestampsAndWatermarks`) and calls `onEvent` for every record and
 * `onPeriodicEmit` every auto-watermark interval (`env.getConfig().setAutoWatermarkInterval`,
 * 200 ms by default). Watermarks only advance: an emitted value at or below the last is
 * dropped. Times are ms since the epoch.
 */

/** Where a generator emits. Flink: `WatermarkOutput`. */
export interface WatermarkOutput {
  /** Event time has progressed to `timestampMs`: no record with a timestamp <= it is expected. */
  emitWatermark(timestampMs: number): void;
  /** This output is idle: it does not hold back the watermark of operators downstream. */
  markIdle(): void;
  /** Active again (also implied by the next emitted watermark). */
  markActive(): void;
}

/** Generates watermarks from events and from time. Flink: `WatermarkGenerator`. */
export interface WatermarkGenerator<T> {
  /** Every record, with its (assigned) timestamp. */
  onEvent(event: T, eventTimestampMs: number, output: WatermarkOutput): void;
  /** Every auto-watermark interval. */
  onPeriodicEmit(output: WatermarkOutput): void;
}

/** What a generator or assigner factory gets. Flink: `WatermarkGeneratorSupplier.Context`. */
export interface WatermarkGeneratorContext {
  /** Processing time, ms since the epoch (injectable in tests). */
  currentProcessingTime(): number;
}

/**
 * The event timestamp of a record, ms since the epoch. `recordTimestampMs` is the
 * timestamp the record already has (from its source, or an earlier assignment), if any.
 * Flink: `TimestampAssigner.extractTimestamp(element, recordTimestamp)`.
 */
export type TimestampAssigner<T> = (element: T, recordTimestampMs: number | undefined) => number;

/**
 * Watermark = the largest timestamp seen - out-of-orderness - 1 (Flink's rule: records at
 * exactly that bound are still on time). Emits nothing before the first record.
 */
export class BoundedOutOfOrdernessWatermarks<T> implements WatermarkGenerator<T> {
  private maxTimestamp = -Infinity;

  /** @throws RangeError unless `outOfOrdernessMs` is a finite number >= 0. */
  constructor(readonly outOfOrdernessMs: number) {
    checkDuration('forBoundedOutOfOrderness(maxOutOfOrdernessMs)', outOfOrdernessMs);
  }

  onEvent(_event: T, eventTimestampMs: number): void {
    if (eventTimestampMs > this.maxTimestamp) this.maxTimestamp = eventTimestampMs;
  }

  onPeriodicEmit(output: WatermarkOutput): void {
    if (this.maxTimestamp !== -Infinity) output.emitWatermark(this.maxTimestamp - this.outOfOrdernessMs - 1);
  }
}

/** Timestamps never go backwards: the watermark trails the largest by 1 ms. Flink: `AscendingTimestampsWatermarks`. */
export class AscendingTimestampsWatermarks<T> extends BoundedOutOfOrdernessWatermarks<T> {
  constructor() {
    super(0);
  }
}

/** No watermarks at all. Flink: `NoWatermarksGenerator`. */
export class NoWatermarksGenerator<T> implements WatermarkGenerator<T> {
  onEvent(): void {}
  onPeriodicEmit(): void {}
}

/**
 * Marks the output idle when no record came for `idleTimeoutMs` of processing time, and
 * active again with the next record; otherwise delegates. Flink: `WatermarksWithIdleness`.
 */
export class WatermarksWithIdleness<T> implements WatermarkGenerator<T> {
  private lastActivity: number;
  private idle = false;

  constructor(
    private readonly inner: WatermarkGenerator<T>,
    private readonly idleTimeoutMs: number,
    private readonly context: WatermarkGeneratorContext,
  ) {
    this.lastActivity = context.currentProcessingTime();
  }

  onEvent(event: T, eventTimestampMs: number, output: WatermarkOutput): void {
    this.lastActivity = this.context.currentProcessingTime();
    if (this.idle) {
      this.idle = false;
      output.markActive();
    }
    this.inner.onEvent(event, eventTimestampMs, output);
  }

  onPeriodicEmit(output: WatermarkOutput): void {
    if (!this.idle && this.context.currentProcessingTime() - this.lastActivity >= this.idleTimeoutMs) {
      this.idle = true;
      output.markIdle();
    }
    if (!this.idle) this.inner.onPeriodicEmit(output);
  }
}

function checkDuration(what: string, ms: unknown): void {
  if (typeof ms !== 'number' || !Number.isFinite(ms) || ms < 0) {
    throw new RangeError(`${what} must be a duration in ms, a finite number >= 0, got ${String(ms)}`);
  }
}

interface StrategySpec<T> {
  kind: 'noWatermarks' | 'monotonous' | 'boundedOutOfOrderness' | 'generator' | 'ingestionTime';
  generator: (context: WatermarkGeneratorContext) => WatermarkGenerator<T>;
  assigner: ((context: WatermarkGeneratorContext) => TimestampAssigner<T>) | undefined;
  idlenessMs: number | undefined;
}

const watermarkStrategyBrand = Symbol.for('sluicegate.WatermarkStrategy');

/** See the file comment. Build one with the static methods, refine with `with...`. */
export class WatermarkStrategy<T> {
  /**
   * Marks strategies; `Symbol.for`, so that `instanceof WatermarkStrategy` holds for a
   * strategy of another copy of the library: tsx gives a TypeScript job module its own
   * copy of `sluicegate`.
   */
  private readonly [watermarkStrategyBrand] = true;

  static [Symbol.hasInstance](value: unknown): boolean {
    return typeof value === 'object' && value !== null && (value as { [watermarkStrategyBrand]?: unknown })[watermarkStrategyBrand] === true;
  }

  private constructor(private readonly spec: StrategySpec<T>) {}

  /** No timestamps are assigned and no watermarks generated. Flink: `noWatermarks()`. */
  static noWatermarks<T>(): WatermarkStrategy<T> {
    return new WatermarkStrategy<T>({ kind: 'noWatermarks', generator: () => new NoWatermarksGenerator<T>(), assigner: undefined, idlenessMs: undefined });
  }

  /** Timestamps only ascend. Flink: `forMonotonousTimestamps()`. */
  static forMonotonousTimestamps<T>(): WatermarkStrategy<T> {
    return new WatermarkStrategy<T>({ kind: 'monotonous', generator: () => new AscendingTimestampsWatermarks<T>(), assigner: undefined, idlenessMs: undefined });
  }

  /**
   * Records may come up to `maxOutOfOrdernessMs` late. Flink: `forBoundedOutOfOrderness(Duration)`.
   * @throws RangeError for a negative or non-finite duration.
   */
  static forBoundedOutOfOrderness<T>(maxOutOfOrdernessMs: number): WatermarkStrategy<T> {
    checkDuration('WatermarkStrategy.forBoundedOutOfOrderness(maxOutOfOrdernessMs)', maxOutOfOrdernessMs);
    return new WatermarkStrategy<T>({
      kind: 'boundedOutOfOrderness',
      generator: () => new BoundedOutOfOrdernessWatermarks<T>(maxOutOfOrdernessMs),
      assigner: undefined,
      idlenessMs: undefined,
    });
  }

  /** A generator of one's own. Flink: `forGenerator(WatermarkGeneratorSupplier)`. */
  static forGenerator<T>(supplier: (context: WatermarkGeneratorContext) => WatermarkGenerator<T>): WatermarkStrategy<T> {
    if (typeof supplier !== 'function') throw new TypeError('WatermarkStrategy.forGenerator() expects a function (context) => WatermarkGenerator');
    return new WatermarkStrategy<T>({ kind: 'generator', generator: supplier, assigner: undefined, idlenessMs: undefined });
  }

  /**
   * Ingestion time: each record is stamped with the processing time at which this
   * strategy sees it (at the source, or at `assignTimestampsAndWatermarks`), and watermarks
   * follow (monotonous). Flink's former `TimeCharacteristic.IngestionTime`.
   */
  static forIngestionTime<T>(): WatermarkStrategy<T> {
    return new WatermarkStrategy<T>({
      kind: 'ingestionTime',
      generator: () => new AscendingTimestampsWatermarks<T>(),
      assigner: (context) => () => context.currentProcessingTime(),
      idlenessMs: undefined,
    });
  }

  /**
   * The same strategy with timestamps taken from the records: `assigner(record,
   * recordTimestamp)` returns ms since the epoch. Flink: `withTimestampAssigner`.
   */
  withTimestampAssigner(assigner: TimestampAssigner<T>): WatermarkStrategy<T> {
    if (typeof assigner !== 'function') throw new TypeError('withTimestampAssigner() expects a function (record, recordTimestamp) => ms');
    return new WatermarkStrategy<T>({ ...this.spec, assigner: () => assigner });
  }

  /**
   * The same strategy, marking an output idle after `idleTimeoutMs` of processing time
   * without records, so it does not hold back event time downstream. Flink: `withIdleness`.
   * @throws RangeError unless the timeout is a finite number > 0.
   */
  withIdleness(idleTimeoutMs: number): WatermarkStrategy<T> {
    checkDuration('withIdleness(idleTimeoutMs)', idleTimeoutMs);
    if (idleTimeoutMs === 0) throw new RangeError('withIdleness(idleTimeoutMs) must be > 0 ms, got 0');
    return new WatermarkStrategy<T>({ ...this.spec, idlenessMs: idleTimeoutMs });
  }

  /** True unless this is `noWatermarks()`: the runtime then tracks timestamps and emits periodically. */
  get generatesWatermarks(): boolean {
    return this.spec.kind !== 'noWatermarks';
  }

  /** @internal A fresh generator for one output (a source split, a subtask). */
  createWatermarkGenerator(context: WatermarkGeneratorContext): WatermarkGenerator<T> {
    const generator = this.spec.generator(context);
    return this.spec.idlenessMs === undefined ? generator : new WatermarksWithIdleness(generator, this.spec.idlenessMs, context);
  }

  /** @internal The assigner, or undefined to keep each record's own timestamp. */
  createTimestampAssigner(context: WatermarkGeneratorContext): TimestampAssigner<T> | undefined {
    return this.spec.assigner?.(context);
  }
}

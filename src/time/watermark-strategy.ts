/**
 * How a stream's records get event timestamps and watermarks. Flink: `WatermarkStrategy`.
 *
 * Built so far: `noWatermarks()`, the strategy of a stream that does not use event time
 * (what every stream does today). Timestamp assigners, bounded out-of-orderness and
 * idleness arrive with event time (see docs/architecture.md, Time).
 */
export class WatermarkStrategy<T> {
  private constructor(
    /** Which strategy this is. */
    readonly kind: 'noWatermarks',
  ) {}

  /** No timestamps and no watermarks. Flink: `WatermarkStrategy.noWatermarks()`. */
  static noWatermarks<T>(): WatermarkStrategy<T> {
    return new WatermarkStrategy<T>('noWatermarks');
  }

  /** @internal Keeps T in the type (a strategy is for records of type T). */
  protected readonly recordType?: (record: T) => void;
}

/**
 * Tumbling windows: back-to-back windows of one size, `[offset + k * size, offset + (k+1) * size)`;
 * each element falls in exactly one. Flink: `TumblingEventTimeWindows`,
 * `TumblingProcessingTimeWindows` (without window staggering).
 */
import type { WindowAssigner, WindowAssignerContext } from './api.js';
import { checkMs, checkOffset } from './checks.js';
import { TimeWindowAssigner } from './time-window-assigner.js';
import { TimeWindow } from './window.js';

abstract class TumblingWindows extends TimeWindowAssigner implements WindowAssigner<unknown, TimeWindow> {
  readonly kind = 'tumbling' as const;
  /** Equal to `size`: consecutive windows start `size` apart. */
  readonly slide: number;

  protected constructor(
    eventTime: boolean,
    /** Window length, ms, > 0. */
    readonly size: number,
    /** Shift of the window starts from multiples of `size`, ms, |offset| < size (e.g. a time zone). */
    readonly offset: number,
  ) {
    super(eventTime);
    this.slide = size;
  }

  /** Flink's rules: integer ms, size > 0, |offset| < size. @throws RangeError */
  protected static check(where: string, size: number, offset: number): void {
    checkMs(where, 'size', size);
    checkOffset(where, offset, 'size', size);
  }

  /** The one window containing the element's time. */
  assignWindows(_element: unknown, timestamp: number, context: WindowAssignerContext): TimeWindow[] {
    const start = TimeWindow.getWindowStartWithOffset(this.timeOf(timestamp, context), this.offset, this.size);
    return [new TimeWindow(start, start + this.size)];
  }
}

/** Tumbling windows by event timestamp; fires by watermark (`EventTimeTrigger`). */
export class TumblingEventTimeWindows extends TumblingWindows {
  private constructor(size: number, offset: number) {
    super(true, size, offset);
  }

  /**
   * @param size window length, ms (integer > 0).
   * @param offset shift of window starts, ms (integer, |offset| < size), e.g. `-Time.hours(8)`
   *   for days in UTC+8.
   * @throws RangeError when the arguments break those rules.
   */
  static of(size: number, offset = 0): TumblingEventTimeWindows {
    TumblingWindows.check('TumblingEventTimeWindows.of', size, offset);
    return new TumblingEventTimeWindows(size, offset);
  }

  toString(): string {
    return `TumblingEventTimeWindows(${this.size})`;
  }
}

/** Tumbling windows by the processing-time clock at arrival; fires by the clock (`ProcessingTimeTrigger`). */
export class TumblingProcessingTimeWindows extends TumblingWindows {
  private constructor(size: number, offset: number) {
    super(false, size, offset);
  }

  /** As `TumblingEventTimeWindows.of`. @throws RangeError */
  static of(size: number, offset = 0): TumblingProcessingTimeWindows {
    TumblingWindows.check('TumblingProcessingTimeWindows.of', size, offset);
    return new TumblingProcessingTimeWindows(size, offset);
  }

  toString(): string {
    return `TumblingProcessingTimeWindows(${this.size})`;
  }
}

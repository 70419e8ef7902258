/**
 * Sliding windows: windows of length `size` starting every `slide` ms, at
 * `offset + k * slide`. An element falls in about `size / slide` windows (none when it lies
 * in a gap of a slide larger than the size). Flink: `SlidingEventTimeWindows`,
 * `SlidingProcessingTimeWindows`.
 */
import type { WindowAssigner, WindowAssignerContext } from './api.js';
import { checkMs, checkOffset } from './checks.js';
import { TimeWindowAssigner } from './time-window-assigner.js';
import { TimeWindow } from './window.js';

abstract class SlidingWindows extends TimeWindowAssigner implements WindowAssigner<unknown, TimeWindow> {
  readonly kind = 'sliding' as const;

  protected constructor(
    eventTime: boolean,
    /** Window length, ms, > 0. */
    readonly size: number,
    /** Distance between window starts, ms, > 0 (may exceed `size`). */
    readonly slide: number,
    /** Shift of the window starts from multiples of `slide`, ms, |offset| < slide. */
    readonly offset: number,
  ) {
    super(eventTime);
  }

  /** Flink's rules: integer ms, size > 0, slide > 0, |offset| < slide. @throws RangeError */
  protected static check(where: string, size: number, slide: number, offset: number): void {
    checkMs(where, 'size', size);
    checkMs(where, 'slide', slide);
    checkOffset(where, offset, 'slide', slide);
  }

  /**
   * The windows containing the element's time, in Flink's order: the latest start first,
   * then each earlier start down to the first window still containing the time.
   */
  assignWindows(_element: unknown, timestamp: number, context: WindowAssignerContext): TimeWindow[] {
    const time = this.timeOf(timestamp, context);
    const windows: TimeWindow[] = [];
    for (let start = TimeWindow.getWindowStartWithOffset(time, this.offset, this.slide); start > time - this.size; start -= this.slide) {
      windows.push(new TimeWindow(start, start + this.size));
    }
    return windows;
  }
}

/** Sliding windows by event timestamp; fires by watermark (`EventTimeTrigger`). */
export class SlidingEventTimeWindows extends SlidingWindows {
  private constructor(size: number, slide: number, offset: number) {
    super(true, size, slide, offset);
  }

  /**
   * @param size window length, ms (integer > 0).
   * @param slide distance between window starts, ms (integer > 0; larger than `size` samples).
   * @param offset shift of window starts, ms (integer, |offset| < slide).
   * @throws RangeError when the arguments break those rules.
   */
  static of(size: number, slide: number, offset = 0): SlidingEventTimeWindows {
    SlidingWindows.check('SlidingEventTimeWindows.of', size, slide, offset);
    return new SlidingEventTimeWindows(size, slide, offset);
  }

  toString(): string {
    return `SlidingEventTimeWindows(${this.size}, ${this.slide})`;
  }
}

/** Sliding windows by the processing-time clock at arrival; fires by the clock (`ProcessingTimeTrigger`). */
export class SlidingProcessingTimeWindows extends SlidingWindows {
  private constructor(size: number, slide: number, offset: number) {
    super(false, size, slide, offset);
  }

  /** As `SlidingEventTimeWindows.of`. @throws RangeError */
  static of(size: number, slide: number, offset = 0): SlidingProcessingTimeWindows {
    SlidingWindows.check('SlidingProcessingTimeWindows.of', size, slide, offset);
    return new SlidingProcessingTimeWindows(size, slide, offset);
  }

  toString(): string {
    return `SlidingProcessingTimeWindows(${this.size}, ${this.slide})`;
  }
}

/**
 * Session windows: each element opens `[time, time + gap)`, and windows that overlap or
 * touch merge, so a session ends after `gap` ms without elements. The gap is fixed
 * (`withGap`) or read from each element (`withDynamicGap`). Flink: `EventTimeSessionWindows`,
 * `ProcessingTimeSessionWindows`, `DynamicEventTimeSessionWindows`,
 * `DynamicProcessingTimeSessionWindows`, `SessionWindowTimeGapExtractor`.
 */
import { previewRecord } from '../../errors.js';
import type { MergingWindowAssigner, WindowAssignerContext } from './api.js';
import { checkMs, describeValue } from './checks.js';
import { TimeWindowAssigner } from './time-window-assigner.js';
import { TimeWindow } from './window.js';

/** The session gap of an element, ms: a function or an object with `extract`. Flink: `SessionWindowTimeGapExtractor`. */
export type SessionWindowTimeGapExtractor<T> = ((element: T) => number) | { extract(element: T): number };

abstract class SessionWindows<T> extends TimeWindowAssigner implements MergingWindowAssigner<T, TimeWindow> {
  readonly kind = 'session' as const;
  readonly merging = true as const;

  /** The element's gap, ms. */
  protected abstract gapOf(element: T): number;

  /** The one window `[time, time + gap)`. */
  assignWindows(element: T, timestamp: number, context: WindowAssignerContext): TimeWindow[] {
    const time = this.timeOf(timestamp, context);
    return [new TimeWindow(time, time + this.gapOf(element))];
  }

  /** `TimeWindow.mergeWindows`: overlapping or touching windows merge. */
  mergeWindows(windows: readonly TimeWindow[], callback: (toMerge: TimeWindow[], mergeResult: TimeWindow) => void): void {
    TimeWindow.mergeWindows(windows, callback);
  }
}

abstract class StaticSessionWindows extends SessionWindows<unknown> {
  protected constructor(
    eventTime: boolean,
    /** Inactivity that ends a session, ms, > 0. */
    readonly gap: number,
  ) {
    super(eventTime);
  }

  protected gapOf(): number {
    return this.gap;
  }
}

abstract class DynamicSessionWindows<T> extends SessionWindows<T> {
  private readonly extract: (element: T) => number;

  protected constructor(eventTime: boolean, extractor: SessionWindowTimeGapExtractor<T>) {
    super(eventTime);
    if (typeof extractor === 'function') this.extract = extractor;
    else if (extractor !== null && typeof extractor === 'object' && typeof extractor.extract === 'function') this.extract = (e) => extractor.extract(e);
    else throw new TypeError(`${this.toString()}: the gap extractor must be a function (element) => gapMs or an object with extract(element), got ${previewRecord(extractor)}`);
  }

  /** @throws RangeError when the extractor returns anything but an integer > 0. */
  protected gapOf(element: T): number {
    const gap = this.extract(element);
    if (typeof gap !== 'number' || !Number.isSafeInteger(gap) || gap <= 0) {
      throw new RangeError(`${this.toString()}: the gap extractor returned ${describeValue(gap)} for element ${previewRecord(element)}; a session gap must be a whole number of ms > 0`);
    }
    return gap;
  }
}

/** Sessions by event timestamp with a fixed gap; fire by watermark (`EventTimeTrigger`). */
export class EventTimeSessionWindows extends StaticSessionWindows {
  private constructor(gap: number) {
    super(true, gap);
  }

  /** @param gap ms, an integer > 0. @throws RangeError otherwise. */
  static withGap(gap: number): EventTimeSessionWindows {
    checkMs('EventTimeSessionWindows.withGap', 'gap', gap);
    return new EventTimeSessionWindows(gap);
  }

  /** Sessions whose gap each element gives (ms, integer > 0, checked per element). */
  static withDynamicGap<T>(extractor: SessionWindowTimeGapExtractor<T>): DynamicEventTimeSessionWindows<T> {
    return DynamicEventTimeSessionWindows.withDynamicGap(extractor);
  }

  toString(): string {
    return `EventTimeSessionWindows(${this.gap})`;
  }
}

/** Sessions by processing time at arrival with a fixed gap; fire by the clock (`ProcessingTimeTrigger`). */
export class ProcessingTimeSessionWindows extends StaticSessionWindows {
  private constructor(gap: number) {
    super(false, gap);
  }

  /** @param gap ms, an integer > 0. @throws RangeError otherwise. */
  static withGap(gap: number): ProcessingTimeSessionWindows {
    checkMs('ProcessingTimeSessionWindows.withGap', 'gap', gap);
    return new ProcessingTimeSessionWindows(gap);
  }

  /** Sessions whose gap each element gives (ms, integer > 0, checked per element). */
  static withDynamicGap<T>(extractor: SessionWindowTimeGapExtractor<T>): DynamicProcessingTimeSessionWindows<T> {
    return DynamicProcessingTimeSessionWindows.withDynamicGap(extractor);
  }

  toString(): string {
    return `ProcessingTimeSessionWindows(${this.gap})`;
  }
}

/** Event-time sessions with a gap per element. @throws (per element) RangeError for a bad gap. */
export class DynamicEventTimeSessionWindows<T> extends DynamicSessionWindows<T> {
  private constructor(extractor: SessionWindowTimeGapExtractor<T>) {
    super(true, extractor);
  }

  /** @throws TypeError when `extractor` is neither a function nor has `extract`. */
  static withDynamicGap<T>(extractor: SessionWindowTimeGapExtractor<T>): DynamicEventTimeSessionWindows<T> {
    return new DynamicEventTimeSessionWindows(extractor);
  }

  toString(): string {
    return 'DynamicEventTimeSessionWindows()';
  }
}

/** Processing-time sessions with a gap per element. @throws (per element) RangeError for a bad gap. */
export class DynamicProcessingTimeSessionWindows<T> extends DynamicSessionWindows<T> {
  private constructor(extractor: SessionWindowTimeGapExtractor<T>) {
    super(false, extractor);
  }

  /** @throws TypeError when `extractor` is neither a function nor has `extract`. */
  static withDynamicGap<T>(extractor: SessionWindowTimeGapExtractor<T>): DynamicProcessingTimeSessionWindows<T> {
    return new DynamicProcessingTimeSessionWindows(extractor);
  }

  toString(): string {
    return 'DynamicProcessingTimeSessionWindows()';
  }
}

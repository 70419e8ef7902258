/**
 * The two kinds of window: `TimeWindow`, an interval of time, and `GlobalWindow`, the one
 * window holding everything. Flink: `org.apache.flink.streaming.api.windowing.windows`.
 */
import type { Window } from './api.js';

/**
 * The half-open interval `[start, end)` of ms (event or processing time). Flink: `TimeWindow`.
 * REQUIRES integer `start` < `end` within 2^53 (not checked: windows are made per record;
 * assigners check their arguments instead).
 */
export class TimeWindow implements Window {
  constructor(
    readonly start: number,
    readonly end: number,
  ) {}

  getStart(): number {
    return this.start;
  }

  getEnd(): number {
    return this.end;
  }

  /** `end - 1`: the last ms in the window. */
  maxTimestamp(): number {
    return this.end - 1;
  }

  /** `[start, end]`. */
  namespace(): readonly number[] {
    return [this.start, this.end];
  }

  equals(other: Window): boolean {
    return other instanceof TimeWindow && other.start === this.start && other.end === this.end;
  }

  /**
   * True when the windows overlap or touch: Flink's test is `start <= other.end && end >=
   * other.start`, inclusive at both ends, so `[0, 10)` and `[10, 20)` intersect (and merge,
   * in sessions).
   */
  intersects(other: TimeWindow): boolean {
    return this.start <= other.end && this.end >= other.start;
  }

  /** The smallest window containing both. */
  cover(other: TimeWindow): TimeWindow {
    return new TimeWindow(Math.min(this.start, other.start), Math.max(this.end, other.end));
  }

  toString(): string {
    return `TimeWindow{start=${this.start}, end=${this.end}}`;
  }

  /**
   * The start of the window of length `windowSize` (ms, > 0), with windows starting at
   * `offset + k * windowSize` for integers k, that contains `timestamp`. Works for negative
   * timestamps and offsets (the remainder is taken toward zero, as Java's `%`, then
   * corrected). Flink: `TimeWindow.getWindowStartWithOffset`.
   */
  static getWindowStartWithOffset(timestamp: number, offset: number, windowSize: number): number {
    const remainder = (timestamp - offset) % windowSize;
    const start = remainder < 0 ? timestamp - (remainder + windowSize) : timestamp - remainder;
    return start === 0 ? 0 : start; // no -0
  }

  /**
   * Merges overlapping windows (`intersects`, so touching ones too): sorts `windows` by
   * start, sweeps them into groups, and calls `callback(group, cover)` for every group of
   * two or more distinct windows, in start order. Equal windows count once. Flink:
   * `TimeWindow.mergeWindows`.
   */
  static mergeWindows(windows: readonly TimeWindow[], callback: (toMerge: TimeWindow[], mergeResult: TimeWindow) => void): void {
    const sorted = [...windows].sort((a, b) => a.start - b.start || a.end - b.end);
    let group: TimeWindow[] = [];
    let cover: TimeWindow | undefined;
    const flush = (): void => {
      if (cover !== undefined && group.length > 1) callback(group, cover);
    };
    for (const w of sorted) {
      if (cover !== undefined && cover.intersects(w)) {
        cover = cover.cover(w);
        if (!group.some((g) => g.equals(w))) group.push(w);
      } else {
        flush();
        group = [w];
        cover = w;
      }
    }
    flush();
  }
}

/**
 * The single window of `GlobalWindows`: it holds every element and never ends. Flink:
 * `GlobalWindow` (`maxTimestamp` is Long.MAX_VALUE there, Number.MAX_SAFE_INTEGER here).
 */
export class GlobalWindow implements Window {
  private static readonly instance = new GlobalWindow();
  private static readonly ns: readonly number[] = Object.freeze([]);

  private constructor() {}

  /** The one instance. */
  static get(): GlobalWindow {
    return GlobalWindow.instance;
  }

  maxTimestamp(): number {
    return Number.MAX_SAFE_INTEGER;
  }

  /** `[]`. */
  namespace(): readonly number[] {
    return GlobalWindow.ns;
  }

  equals(other: Window): boolean {
    return other instanceof GlobalWindow;
  }

  toString(): string {
    return 'GlobalWindow';
  }
}

/**
 * An in-memory `OnMergeContext` for testing triggers (and, for the window operator's
 * author, anything else that drives them): a manual clock and watermark, timers recorded
 * per window and time domain, and partitioned state per window namespace and descriptor
 * name. Point it at a window with `forWindow(w)` before each trigger call; for `onMerge`,
 * set the merged windows with `merging(w, mergedWindows)`. `advance` plays the timer
 * service: it moves a clock and fires the due timers, earliest first.
 */
import type { OnMergeContext, PartitionedStateStore, TriggerResult, Window } from '../../../src/time/windows/api.js';
import type {
  AggregatingState,
  AggregatingStateDescriptor,
  ListState,
  MapState,
  ReducingState,
  ReducingStateDescriptor,
  ValueState,
} from '../../../src/state/api.js';

export type Domain = 'event' | 'processing';

/** One timer fired by `advance`: when, for which window, and what the trigger said. */
export interface Firing {
  time: number;
  window: Window;
  result: TriggerResult;
}
const nsKey = (w: Window): string => JSON.stringify(w.namespace());

export class FakeTriggerContext implements OnMergeContext {
  processingTime = 0;
  watermark = -Infinity;
  window: Window | undefined;
  mergedWindows: Window[] = [];
  /** `${namespace json}@${time}` per domain. */
  readonly timers: Record<Domain, Set<string>> = { event: new Set(), processing: new Set() };
  /** Cells by `${namespace json}/${descriptor name}`: a value, an accumulator, an array or a Map. */
  readonly cells = new Map<string, unknown>();
  /** The windows timers were set for, by namespace json. */
  private readonly timerWindows = new Map<string, Window>();

  /** Sets the current window; returns this for chaining. */
  forWindow(window: Window): this {
    this.window = window;
    return this;
  }

  /** Sets the current window and the windows being merged into it (for `onMerge`). */
  merging(window: Window, mergedWindows: Window[]): this {
    this.window = window;
    this.mergedWindows = mergedWindows;
    return this;
  }

  /** The timers of `window` in `domain`, ascending. */
  timersOf(window: Window, domain: Domain): number[] {
    const prefix = `${nsKey(window)}@`;
    return [...this.timers[domain]]
      .filter((t) => t.startsWith(prefix))
      .map((t) => Number(t.slice(prefix.length)))
      .sort((a, b) => a - b);
  }

  /**
   * Moves the watermark (`event`) or the clock (`processing`) to `timeMs` (never back), then
   * fires as Flink's timer service does: while some timer of `domain` is at or before
   * `timeMs`, removes the earliest (ties by window namespace) and calls `onTimer(time,
   * window)` with this context pointed at that window, so timers registered meanwhile fire
   * too when due. Returns the firings in order.
   * @throws Error after `maxFirings` firings: a trigger that re-registers a due timer would
   *   make a real timer service loop forever.
   */
  advance(domain: Domain, timeMs: number, onTimer: (time: number, window: Window) => TriggerResult, maxFirings = 10_000): Firing[] {
    if (domain === 'event') this.watermark = Math.max(this.watermark, timeMs);
    else this.processingTime = Math.max(this.processingTime, timeMs);
    const firings: Firing[] = [];
    for (;;) {
      const due = [...this.timers[domain]]
        .map((id) => ({ id, ns: id.slice(0, id.lastIndexOf('@')), time: Number(id.slice(id.lastIndexOf('@') + 1)) }))
        .filter((x) => x.time <= timeMs)
        .sort((a, b) => a.time - b.time || (a.ns < b.ns ? -1 : a.ns > b.ns ? 1 : 0))[0];
      if (due === undefined) return firings;
      if (firings.length >= maxFirings) throw new Error(`FakeTriggerContext: more than ${maxFirings} ${domain} timers fired up to ${timeMs} (the last at ${due.time} for ${due.ns}): a timer re-registered at or before the time it fired at`);
      this.timers[domain].delete(due.id);
      const window = this.timerWindows.get(due.ns)!;
      this.forWindow(window);
      firings.push({ time: due.time, window, result: onTimer(due.time, window) });
    }
  }

  /** The raw cell of state `name` of `window` (undefined when empty). */
  cell(window: Window, name: string): unknown {
    return this.cells.get(`${nsKey(window)}/${name}`);
  }

  getCurrentProcessingTime(): number {
    return this.processingTime;
  }
  getCurrentWatermark(): number {
    return this.watermark;
  }
  registerProcessingTimeTimer(timeMs: number): void {
    this.timer('processing', timeMs, true);
  }
  registerEventTimeTimer(timeMs: number): void {
    this.timer('event', timeMs, true);
  }
  deleteProcessingTimeTimer(timeMs: number): void {
    this.timer('processing', timeMs, false);
  }
  deleteEventTimeTimer(timeMs: number): void {
    this.timer('event', timeMs, false);
  }

  readonly getPartitionedState: PartitionedStateStore = {
    getState: <T>(d: { name: string; defaultValue?: T }): ValueState<T> => {
      const c = this.bind(d.name);
      return { value: () => (c.get() as T | undefined) ?? d.defaultValue, update: (v) => c.set(v), clear: () => c.set(undefined) };
    },
    getListState: <T>(d: { name: string }): ListState<T> => {
      const c = this.bind(d.name);
      const list = (): T[] => (c.get() as T[] | undefined) ?? [];
      return {
        get: () => [...list()],
        add: (v) => c.set([...list(), v]),
        addAll: (vs) => c.set([...list(), ...vs]),
        update: (vs) => c.set(vs.length === 0 ? undefined : [...vs]),
        clear: () => c.set(undefined),
      };
    },
    getMapState: <K, V>(d: { name: string }): MapState<K, V> => {
      const c = this.bind(d.name);
      const map = (): Map<K, V> => {
        let m = c.get() as Map<K, V> | undefined;
        if (m === undefined) c.set((m = new Map()));
        return m;
      };
      return {
        get: (k) => map().get(k),
        put: (k, v) => void map().set(k, v),
        putAll: (es) => {
          for (const [k, v] of es) map().set(k, v);
        },
        remove: (k) => void map().delete(k),
        contains: (k) => map().has(k),
        entries: () => map().entries(),
        keys: () => map().keys(),
        values: () => map().values(),
        isEmpty: () => map().size === 0,
        clear: () => c.set(undefined),
      };
    },
    getReducingState: <T>(d: Omit<ReducingStateDescriptor<T>, 'kind'>): ReducingState<T> => {
      const c = this.bind(d.name);
      return {
        get: () => c.get() as T | undefined,
        add: (v) => c.set(c.get() === undefined ? v : d.reduce(c.get() as T, v)),
        clear: () => c.set(undefined),
      };
    },
    getAggregatingState: <IN, ACC, OUT>(d: Omit<AggregatingStateDescriptor<IN, ACC, OUT>, 'kind'>): AggregatingState<IN, OUT> => {
      const c = this.bind(d.name);
      return {
        get: () => (c.get() === undefined ? undefined : d.aggregate.getResult(c.get() as ACC)),
        add: (v) => c.set(d.aggregate.add(v, (c.get() as ACC | undefined) ?? d.aggregate.createAccumulator())),
        clear: () => c.set(undefined),
      };
    },
  };

  /** Folds the merged windows' cells of the descriptor into the current window's, as Flink's `mergeNamespaces`. */
  mergePartitionedState(d: Omit<ReducingStateDescriptor<any>, 'kind'> | Omit<AggregatingStateDescriptor<any, any, any>, 'kind'>): void {
    let merge: (a: unknown, b: unknown) => unknown;
    if ('reduce' in d && typeof d.reduce === 'function') merge = d.reduce;
    else if ('aggregate' in d && typeof d.aggregate?.merge === 'function') merge = d.aggregate.merge.bind(d.aggregate);
    else throw new TypeError(`mergePartitionedState: state "${(d as { name: string }).name}" is neither reducing nor aggregating with merge`);
    const target = this.bind(d.name);
    for (const w of this.mergedWindows) {
      const key = `${nsKey(w)}/${d.name}`;
      const value = this.cells.get(key);
      if (value === undefined) continue;
      this.cells.delete(key);
      target.set(target.get() === undefined ? value : merge(target.get(), value));
    }
  }

  private current(): Window {
    if (this.window === undefined) throw new Error('FakeTriggerContext: call forWindow(w) first');
    return this.window;
  }

  private timer(domain: Domain, timeMs: number, add: boolean): void {
    if (!Number.isSafeInteger(timeMs)) throw new RangeError(`FakeTriggerContext: timer at ${timeMs} is not an integer ms`);
    const window = this.current();
    this.timerWindows.set(nsKey(window), window);
    const id = `${nsKey(window)}@${timeMs}`;
    if (add) this.timers[domain].add(id);
    else this.timers[domain].delete(id);
  }

  private bind(name: string): { get(): unknown; set(v: unknown): void } {
    const key = `${nsKey(this.current())}/${name}`;
    return {
      get: () => this.cells.get(key),
      set: (v) => (v === undefined ? this.cells.delete(key) : this.cells.set(key, v)),
    };
  }
}

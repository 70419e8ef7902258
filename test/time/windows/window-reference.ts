// A brute-force reference of Flink's window semantics, written independently of the
// operator: windows found by enumerating candidate starts, sessions by merging
// intervals, each window keeping its elements as a list (whatever the window function),
// results recomputed from the elements at every firing, and Flink's rules for triggers
// (EventTimeTrigger, ProcessingTimeTrigger, CountTrigger, PurgingTrigger,
// ContinuousEventTimeTrigger), evictors (CountEvictor, TimeEvictor), cleanup at
// maxTimestamp + allowedLateness, late windows and late elements.

/** An input element: key, id (unique), value, and a dynamic session gap. */
export interface Elem {
  k: string | number;
  id: number;
  v: number;
  g: number;
}

export type AssignerConfig =
  | { kind: 'tumbling'; eventTime: boolean; size: number; offset: number }
  | { kind: 'sliding'; eventTime: boolean; size: number; slide: number; offset: number }
  | { kind: 'session'; eventTime: boolean; gap: number }
  | { kind: 'dynamic-session'; eventTime: true }
  | { kind: 'global' };

export type TriggerConfig = 'default' | 'count' | 'purging-count' | 'purging-default' | 'continuous';
export type EvictorConfig = undefined | { kind: 'count'; n: number; after: boolean } | { kind: 'time'; ms: number; after: boolean };
export type FunctionConfig = 'reduce' | 'reduce-plain' | 'aggregate' | 'aggregate-plain' | 'process';

export interface ReferenceConfig {
  assigner: AssignerConfig;
  trigger: TriggerConfig;
  countN: number;
  intervalMs: number;
  evictor: EvictorConfig;
  fn: FunctionConfig;
  lateness: number;
  lateTag: boolean;
}

export const globalMaxTimestamp = Number.MAX_SAFE_INTEGER;

interface Item {
  e: Elem;
  ts: number;
}

interface RefWindow {
  key: string | number;
  /** [start, end], or [] for the global window. */
  ns: number[];
  items: Item[];
  count: number;
  fireTime: number | undefined;
  eventTimers: Set<number>;
  processingTimers: Set<number>;
}

const mod = (a: number, m: number): number => ((a % m) + m) % m;

export class WindowReference {
  watermark = -Infinity;
  now = 0;
  readonly main: Array<{ value: unknown; timestamp: number }> = [];
  readonly late: Array<{ value: unknown; timestamp: number }> = [];
  lateDropped = 0;
  private readonly windows = new Map<string, RefWindow>();

  constructor(private readonly c: ReferenceConfig) {}

  private get eventTime(): boolean {
    const a = this.c.assigner;
    return a.kind !== 'global' && a.eventTime;
  }

  private maxTs(w: RefWindow | number[]): number {
    const ns = Array.isArray(w) ? w : w.ns;
    return ns.length === 0 ? globalMaxTimestamp : ns[1]! - 1;
  }

  private cleanupTime(ns: number[]): number {
    if (ns.length === 0) return globalMaxTimestamp;
    return this.eventTime ? this.maxTs(ns) + this.c.lateness : this.maxTs(ns);
  }

  private id(key: string | number, ns: number[]): string {
    return JSON.stringify([key, ns]);
  }

  /** Every window [s, s + size) with s = offset (mod slide) that holds `t`, by enumeration. */
  private assign(e: Elem, t: number): number[][] {
    const a = this.c.assigner;
    if (a.kind === 'global') return [[]];
    if (a.kind === 'session') return [[t, t + a.gap]];
    if (a.kind === 'dynamic-session') return [[t, t + e.g]];
    const slide = a.kind === 'tumbling' ? a.size : a.slide;
    const out: number[][] = [];
    for (let s = t - a.size - slide; s <= t; s++) {
      if (mod(s - a.offset, slide) === 0 && s <= t && t < s + a.size) out.push([s, s + a.size]);
    }
    return out;
  }

  element(e: Elem, timestamp: number): void {
    const t = this.eventTime ? timestamp : this.now;
    const merging = this.c.assigner.kind === 'session' || this.c.assigner.kind === 'dynamic-session';
    let skipped = true;
    for (const ns of this.assign(e, t)) {
      const w = merging ? this.mergeIn(e.k, ns) : this.windowAt(e.k, ns);
      if (w === undefined) continue;
      skipped = false;
      w.items.push({ e, ts: timestamp });
      this.act(w, this.onElement(w, timestamp));
      const cleanup = this.cleanupTime(w.ns);
      if (cleanup !== globalMaxTimestamp) (this.eventTime ? w.eventTimers : w.processingTimers).add(cleanup);
    }
    if (skipped && this.eventTime && timestamp + this.c.lateness <= this.watermark) {
      if (this.c.lateTag) this.late.push({ value: e, timestamp });
      else this.lateDropped++;
    }
  }

  private isLate(ns: number[]): boolean {
    return this.eventTime && this.cleanupTime(ns) <= this.watermark;
  }

  private fresh(key: string | number, ns: number[]): RefWindow {
    return { key, ns, items: [], count: 0, fireTime: undefined, eventTimers: new Set(), processingTimers: new Set() };
  }

  private windowAt(key: string | number, ns: number[]): RefWindow | undefined {
    if (this.isLate(ns)) return undefined;
    const id = this.id(key, ns);
    let w = this.windows.get(id);
    if (w === undefined) {
      w = this.fresh(key, ns);
      this.windows.set(id, w);
    }
    return w;
  }

  /** Sessions: the window `ns` merged with every in-flight window of `key` it touches. */
  private mergeIn(key: string | number, ns: number[]): RefWindow | undefined {
    let [start, end] = ns as [number, number];
    const merged: RefWindow[] = [];
    for (let grew = true; grew; ) {
      grew = false;
      for (const w of this.windows.values()) {
        if (w.key !== key || merged.includes(w)) continue;
        // TimeWindow.intersects: touching windows merge.
        if (w.ns[0]! <= end && w.ns[1]! >= start) {
          merged.push(w);
          start = Math.min(start, w.ns[0]!);
          end = Math.max(end, w.ns[1]!);
          grew = true;
        }
      }
    }
    if (merged.length === 0) return this.windowAt(key, ns);
    if (merged.length === 1 && merged[0]!.ns[0] === start && merged[0]!.ns[1] === end) return merged[0];
    const result = this.fresh(key, [start, end]);
    for (const m of merged) {
      this.windows.delete(this.id(key, m.ns));
      result.items.push(...m.items);
    }
    this.windows.set(this.id(key, result.ns), result);
    this.onMerge(result, merged);
    return result;
  }

  private baseTrigger(): 'default' | 'count' | 'continuous' {
    const t = this.c.trigger;
    return t === 'purging-count' ? 'count' : t === 'purging-default' ? 'default' : t;
  }

  private purging(): boolean {
    return this.c.trigger === 'purging-count' || this.c.trigger === 'purging-default';
  }

  private registerNextFire(w: RefWindow, time: number): void {
    const next = Math.min(time + this.c.intervalMs, this.maxTs(w));
    w.fireTime = w.fireTime === undefined ? next : Math.min(w.fireTime, next);
    w.eventTimers.add(next);
  }

  /** 'fire', or 'continue'. */
  private onElement(w: RefWindow, ts: number): boolean {
    switch (this.baseTrigger()) {
      case 'default':
        if (this.c.assigner.kind === 'global') return false;
        if (!this.eventTime) {
          w.processingTimers.add(this.maxTs(w));
          return false;
        }
        if (this.maxTs(w) <= this.watermark) return true;
        w.eventTimers.add(this.maxTs(w));
        return false;
      case 'count':
        w.count++;
        if (w.count >= this.c.countN) {
          w.count = 0;
          return true;
        }
        return false;
      case 'continuous':
        if (this.maxTs(w) <= this.watermark) return true;
        w.eventTimers.add(this.maxTs(w));
        if (w.fireTime === undefined) this.registerNextFire(w, ts - (ts % this.c.intervalMs));
        return false;
    }
  }

  private onMerge(result: RefWindow, merged: RefWindow[]): void {
    switch (this.baseTrigger()) {
      case 'default':
        if (this.eventTime && this.maxTs(result) > this.watermark) result.eventTimers.add(this.maxTs(result));
        if (!this.eventTime && this.maxTs(result) > this.now) result.processingTimers.add(this.maxTs(result));
        return;
      case 'count':
        result.count = merged.reduce((s, m) => s + m.count, 0);
        return;
      case 'continuous': {
        const fires = merged.map((m) => m.fireTime).filter((x): x is number => x !== undefined);
        if (fires.length > 0) {
          result.fireTime = Math.min(...fires);
          result.eventTimers.add(result.fireTime);
        }
        return;
      }
    }
  }

  private onEventTime(w: RefWindow, time: number): boolean {
    switch (this.baseTrigger()) {
      case 'default':
        return this.eventTime && this.c.assigner.kind !== 'global' && time === this.maxTs(w);
      case 'count':
        return false;
      case 'continuous':
        if (time === this.maxTs(w)) return true;
        if (w.fireTime === time) {
          w.fireTime = undefined;
          this.registerNextFire(w, time);
          return true;
        }
        return false;
    }
  }

  private onProcessingTime(): boolean {
    return this.baseTrigger() === 'default' && !this.eventTime && this.c.assigner.kind !== 'global';
  }

  private act(w: RefWindow, fire: boolean): void {
    if (!fire) return;
    this.fire(w);
    if (this.purging()) w.items = [];
  }

  private evict(items: Item[]): void {
    const ev = this.c.evictor!;
    if (ev.kind === 'count') {
      if (items.length > ev.n) items.splice(0, items.length - ev.n);
      return;
    }
    if (items.length === 0) return;
    const cutoff = Math.max(...items.map((i) => i.ts)) - ev.ms;
    for (let i = items.length - 1; i >= 0; i--) if (items[i]!.ts <= cutoff) items.splice(i, 1);
  }

  private fire(w: RefWindow): void {
    if (w.items.length === 0) return;
    const items = w.items.slice();
    const ev = this.c.evictor;
    if (ev !== undefined && !ev.after) this.evict(items);
    if (items.length > 0 || this.c.fn === 'process') this.main.push({ value: this.result(w, items), timestamp: this.maxTs(w) });
    if (ev !== undefined && ev.after) this.evict(items);
    w.items = items;
  }

  private result(w: RefWindow, items: Item[]): unknown {
    const sum = items.reduce((s, i) => s + i.e.v, 0);
    const n = items.length;
    switch (this.c.fn) {
      case 'reduce':
      case 'aggregate':
        return [w.key, w.ns, sum, n];
      case 'reduce-plain':
        return { k: w.key, id: Math.min(...items.map((i) => i.e.id)), v: sum, g: Math.max(...items.map((i) => i.e.g)), n };
      case 'aggregate-plain':
        return [sum, n];
      case 'process':
        return [w.key, w.ns, items.map((i) => i.e.id).sort((a, b) => a - b)];
    }
  }

  /** Fires the due timers of `domain` in time order, as the watermark or clock reached `upTo`. */
  private fireTimers(domain: 'event' | 'processing', upTo: number): void {
    for (;;) {
      let next: RefWindow | undefined;
      let time = Infinity;
      for (const w of this.windows.values()) {
        for (const t of domain === 'event' ? w.eventTimers : w.processingTimers) {
          if (t <= upTo && t < time) {
            time = t;
            next = w;
          }
        }
      }
      if (next === undefined) return;
      (domain === 'event' ? next.eventTimers : next.processingTimers).delete(time);
      this.act(next, domain === 'event' ? this.onEventTime(next, time) : this.onProcessingTime());
      if ((domain === 'event') === this.eventTime && time === this.cleanupTime(next.ns)) this.windows.delete(this.id(next.key, next.ns));
    }
  }

  advanceWatermark(w: number): void {
    if (w <= this.watermark) return;
    this.watermark = w;
    this.fireTimers('event', w);
  }

  advanceClock(now: number): void {
    this.now = now;
    this.fireTimers('processing', now);
  }
}

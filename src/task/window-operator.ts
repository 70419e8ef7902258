/**
 * The window operator: Flink's `WindowOperator` (and `EvictingWindowOperator`) on a keyed
 * stream. Elements go to the windows their assigner gives; a trigger decides when a
 * window fires (the window function runs over its contents) and purges; a cleanup timer
 * at `maxTimestamp + allowedLateness` (event time) or `maxTimestamp` (processing time)
 * clears the window for good. Merging assigners (sessions) keep a `MergingWindowSet` per
 * key and merge window contents and trigger state as windows merge.
 *
 * State: everything is keyed state, so it is checkpointed, restored and rescaled by key
 * group like any other: window contents and trigger state under `[key, window namespace]`
 * (window-state.ts), the merging window set under the key, and timers (the trigger's and
 * the cleanup timers) under `[key, window namespace]` in the operator's timer queues, so
 * one timer per (key, window, time) as in Flink.
 *
 * Rules kept from Flink: an element is dropped for a window whose cleanup time the
 * watermark passed ("late window"); an element that went to no window and whose
 * `timestamp + allowedLateness <= watermark` is late: it goes to the late-data side
 * output, else it is counted in `numLateRecordsDropped`. Outputs carry the window's
 * `maxTimestamp()` as their timestamp.
 */
import type { Collector } from '../api/index.js';
import { refuseAsyncResult } from '../errors.js';
import type { GraphNode } from '../graph/index.js';
import type { KeyedStateBackend, StateKey, ValueState } from '../state/api.js';
import type { FiredTimer } from '../time/index.js';
import { isFire, isMergingAssigner, isPurge } from '../time/windows/api.js';
import type {
  EvictorContext,
  MergingWindowAssigner,
  OnMergeContext,
  PartitionedStateStore,
  Trigger,
  TriggerResult,
  Window,
  WindowAssigner,
  WindowAssignerContext,
} from '../time/windows/api.js';
import { MergingWindowSet } from '../time/windows/merging-window-set.js';
import type { WindowSpec } from '../time/windows/spec.js';
import { WindowOperatorBase } from './window-operator-base.js';
import type { OperatorEnvironment } from './operators.js';
import { mergeStateNamespaces, scopedStore, windowContents } from './window-state.js';
import type { WindowContents } from './window-state.js';

/**
 * A copy of a plain record (arrays and plain objects, deeply; structuredClone), or the
 * record itself for anything else (class instances would lose their prototype).
 */
function ownCopy(record: unknown): unknown {
  if (record === null || typeof record !== 'object') return record;
  const proto = Object.getPrototypeOf(record);
  return Array.isArray(record) || proto === Object.prototype || proto === null ? structuredClone(record) : record;
}

/** Largest time a timer can have; a window whose cleanup time reaches it is never cleaned (GlobalWindow). */
const maxTime = Number.MAX_SAFE_INTEGER;

type MergingSetSnapshot = Array<[readonly number[], readonly number[]]>;

export class WindowOperator extends WindowOperatorBase {
  private contents!: WindowContents;
  private mergingSets: ValueState<MergingSetSnapshot> | undefined;
  private readonly assigner: WindowAssigner<unknown, Window>;
  private readonly trigger: Trigger<unknown, Window>;
  private readonly eventTime: boolean;
  private readonly lateness: number;
  /** Windows being merged into `window` (for `mergePartitionedState`). */
  private mergedWindows: readonly Window[] = [];
  private triggerState!: PartitionedStateStore;
  private readonly triggerContext: OnMergeContext;
  private readonly assignerContext: WindowAssignerContext;
  private readonly evictorContext: EvictorContext;

  constructor(node: GraphNode, env: OperatorEnvironment, spec: WindowSpec) {
    super(node, env, spec);
    this.assigner = spec.assigner;
    this.trigger = spec.trigger ?? spec.assigner.getDefaultTrigger();
    this.eventTime = spec.assigner.isEventTime();
    this.lateness = spec.allowedLatenessMs;
    const clock = env.clock;
    const self = this;
    this.assignerContext = { getCurrentProcessingTime: () => clock.now() };
    this.evictorContext = {
      getCurrentProcessingTime: () => clock.now(),
      getCurrentWatermark: () => self.timers.currentWatermark(),
    };
    this.triggerContext = {
      getCurrentProcessingTime: () => clock.now(),
      getCurrentWatermark: () => self.timers.currentWatermark(),
      registerEventTimeTimer: (t) => self.timers.registerEventTimeTimer(t),
      registerProcessingTimeTimer: (t) => self.timers.registerProcessingTimeTimer(t),
      deleteEventTimeTimer: (t) => self.timers.deleteEventTimeTimer(t),
      deleteProcessingTimeTimer: (t) => self.timers.deleteProcessingTimeTimer(t),
      get getPartitionedState() {
        return self.triggerState;
      },
      mergePartitionedState: (d) =>
        mergeStateNamespaces(
          self.env.backend,
          self.node.uid,
          d,
          self.keyGroup,
          self.windowKey,
          self.mergedWindows.map((w) => self.keyOf(w)),
        ),
    };
  }

  override async open(): Promise<void> {
    const backend = this.env.backend;
    const uid = this.node.uid;
    this.contents = windowContents(backend, uid, this.spec.fn, this.spec.evictor !== undefined);
    this.triggerState = scopedStore(backend, uid, () => ({ key: this.windowKey, keyGroup: this.keyGroup }), true);
    if (isMergingAssigner(this.assigner)) {
      if (!this.trigger.canMerge()) {
        throw new TypeError(`${this.node.name}: the trigger ${this.trigger} cannot merge, and ${this.assigner} merges windows: use a trigger whose canMerge() is true`);
      }
      this.mergingSets = backend.getValueState(uid, { name: 'merging-window-set', kind: 'value' });
    }
    await super.open();
  }

  /** The backend key of window `w` of the current key. */
  private keyOf(w: Window): StateKey {
    return [this.key, w.namespace()];
  }

  /** Makes `w` the current window: trigger state, window state and timers go to it. */
  private setWindow(w: Window): void {
    this.window = w;
    this.windowKey = this.keyOf(w);
  }

  /** The contents of window `w` (its state window for merging assigners) are current. */
  private enterContents(stateWindow: Window): void {
    this.env.backend.setCurrentKey(this.keyOf(stateWindow), this.keyGroup);
  }

  protected process(record: unknown): void {
    const ts = this.eventTime ? this.env.timestamp.value : this.env.clock.now();
    const elementTs = this.env.timestamp.value;
    const windows = this.assigner.assignWindows(record, ts, this.assignerContext);
    let skipped = true;
    if (this.mergingSets !== undefined) {
      const set = this.mergingSet();
      for (const w of windows) {
        const actual = set.addWindow(w, (mergeResult, merged, stateResult, mergedStateWindows) => this.merge(mergeResult, merged, stateResult, mergedStateWindows));
        if (this.isWindowLate(actual)) {
          set.retireWindow(actual);
          continue;
        }
        skipped = false;
        const stateWindow = set.getStateWindow(actual);
        if (stateWindow === undefined) throw new Error(`window ${actual} has no state window (merging window set out of step)`);
        this.onElement(record, elementTs, actual, stateWindow);
      }
      this.persist(set);
    } else {
      let first = true;
      for (const w of windows) {
        if (this.isWindowLate(w)) continue;
        skipped = false;
        // On the heap backend a window stores the record object itself: give each further
        // window its own copy, or a reduce that updates its first argument in place (as
        // Flink's examples do) would change every window holding the record.
        this.onElement(first ? record : ownCopy(record), elementTs, w, w);
        first = false;
      }
    }
    if (skipped && this.isElementLate(elementTs)) {
      if (this.lateTag !== undefined) this.emitSide(this.lateTag.id, record);
      else this.numLateRecordsDropped++;
    }
  }

  private onElement(record: unknown, timestamp: number, window: Window, stateWindow: Window): void {
    this.enterContents(stateWindow);
    this.contents.add(record, timestamp);
    this.setWindow(window);
    const result = this.trigger.onElement(record, timestamp, window, this.triggerContext);
    this.act(result, window, stateWindow);
    this.registerCleanupTimer(window);
  }

  /** Fires and/or purges `window` (contents in `stateWindow`) as `result` says. */
  private act(result: TriggerResult, window: Window, stateWindow: Window): void {
    if (isFire(result)) {
      this.enterContents(stateWindow);
      if (this.spec.evictor !== undefined) this.fireEvicting(window, stateWindow);
      else {
        const elements = this.contents.elements();
        if (elements !== undefined) this.emitWindowContents(window, elements);
      }
    }
    if (isPurge(result)) {
      this.enterContents(stateWindow);
      this.contents.clear();
    }
  }

  private fireEvicting(window: Window, stateWindow: Window): void {
    const evictor = this.spec.evictor!;
    const items = this.contents.timestamped();
    if (items === undefined) return;
    evictor.evictBefore(items, items.length, window, this.evictorContext);
    const fn = this.spec.fn;
    let input: unknown[] = items.map((x) => x.value);
    if (input.length > 0 && fn.kind === 'reduce') input = [input.reduce((a, b) => fn.reduce(a, b))];
    else if (input.length > 0 && fn.kind === 'aggregate') {
      let acc = fn.aggregate.createAccumulator();
      for (const v of input) acc = fn.aggregate.add(v, acc);
      input = [fn.aggregate.getResult(acc)];
    }
    // Flink calls the function even when the evictor left nothing (process sees []);
    // reduce and aggregate have no result for an empty window.
    if (input.length > 0 || fn.kind === 'process') this.emitWindowContents(window, input);
    evictor.evictAfter(items, items.length, window, this.evictorContext);
    this.enterContents(stateWindow);
    this.contents.set(items);
  }

  /** Runs the window function over `elements`; outputs carry `window.maxTimestamp()`. */
  private emitWindowContents(window: Window, elements: unknown[]): void {
    this.setWindow(window);
    this.env.timestamp.value = window.maxTimestamp();
    const process = this.spec.fn.process;
    if (process === undefined) {
      for (const e of elements) this.emit(e);
      return;
    }
    refuseAsyncResult(process.process(this.key, this.processContext, elements, this.out as Collector<unknown>), this.node.name, "the window function's process()");
  }

  /** Flink's `WindowOperator.cleanupTime`. */
  private cleanupTime(w: Window): number {
    if (!this.eventTime) return w.maxTimestamp();
    const t = w.maxTimestamp() + this.lateness;
    return t >= w.maxTimestamp() && t <= maxTime ? t : maxTime;
  }

  private registerCleanupTimer(w: Window): void {
    const t = this.cleanupTime(w);
    if (t === maxTime) return;
    this.setWindow(w);
    if (this.eventTime) this.timers.registerEventTimeTimer(t);
    else this.timers.registerProcessingTimeTimer(t);
  }

  private deleteCleanupTimer(w: Window): void {
    const t = this.cleanupTime(w);
    if (t === maxTime) return;
    this.setWindow(w);
    if (this.eventTime) this.timers.deleteEventTimeTimer(t);
    else this.timers.deleteProcessingTimeTimer(t);
  }

  private isWindowLate(w: Window): boolean {
    return this.eventTime && this.cleanupTime(w) <= this.timers.currentWatermark();
  }

  private isElementLate(timestamp: number): boolean {
    return this.eventTime && timestamp + this.lateness <= this.timers.currentWatermark();
  }

  /** Windows merged (sessions): Flink's `MergingWindowSet.MergeFunction` in `processElement`. */
  private merge(mergeResult: Window, merged: Window[], stateResult: Window, mergedStateWindows: Window[]): void {
    const watermark = this.timers.currentWatermark();
    // Flink checks event time only: merging only extends windows, so this is an operator bug.
    if (this.eventTime && this.cleanupTime(mergeResult) <= watermark) {
      throw new Error(`${this.node.name}: windows ${merged.join(', ')} merged into ${mergeResult}, which is already late (allowed lateness ${this.lateness} ms, watermark ${watermark})`);
    }
    this.setWindow(mergeResult);
    this.mergedWindows = merged;
    this.trigger.onMerge(mergeResult, this.triggerContext);
    this.mergedWindows = [];
    for (const m of merged) {
      this.setWindow(m);
      this.trigger.clear(m, this.triggerContext);
      this.deleteCleanupTimer(m);
    }
    this.contents.merge(this.keyGroup, this.keyOf(stateResult), mergedStateWindows.map((w) => this.keyOf(w)));
  }

  private mergingSet(): MergingWindowSet<Window> {
    this.env.backend.setCurrentKey(this.key, this.keyGroup);
    return new MergingWindowSet(this.assigner as MergingWindowAssigner<unknown, Window>, this.mergingSets!.value() ?? []);
  }

  private persist(set: MergingWindowSet<Window>): void {
    if (!set.changed) return;
    this.env.backend.setCurrentKey(this.key, this.keyGroup);
    const snapshot = set.snapshot();
    if (snapshot.length === 0) this.mergingSets!.clear();
    else this.mergingSets!.update(snapshot);
  }

  /** Fires one timer; a throw out of it is blamed on this operator (see `blame`). */
  protected readonly fire = this.blamingThrows((timer: FiredTimer) => this.fireTimer(timer));

  private fireTimer(timer: FiredTimer): void {
    const [key, ns] = timer.key as [StateKey, readonly number[]];
    this.key = key;
    this.keyGroup = timer.keyGroup;
    const window = this.assigner.windowOf(ns);
    let set: MergingWindowSet<Window> | undefined;
    let stateWindow: Window = window;
    if (this.mergingSets !== undefined) {
      set = this.mergingSet();
      const sw = set.getStateWindow(window);
      // A timer of a window merged away since: nothing to do (Flink does the same).
      if (sw === undefined) return;
      stateWindow = sw;
    }
    this.setWindow(window);
    const eventTimer = timer.domain === 'EVENT_TIME';
    const result = eventTimer
      ? this.trigger.onEventTime(timer.timestampMs, window, this.triggerContext)
      : this.trigger.onProcessingTime(timer.timestampMs, window, this.triggerContext);
    this.act(result, window, stateWindow);
    if (eventTimer === this.eventTime && this.cleanupTime(window) === timer.timestampMs) this.clearAllState(window, stateWindow, set);
    if (set !== undefined) this.persist(set);
  }

  /** The window is done: contents, trigger state, window state, its place in the merging set. */
  private clearAllState(window: Window, stateWindow: Window, set: MergingWindowSet<Window> | undefined): void {
    this.enterContents(stateWindow);
    this.contents.clear();
    this.setWindow(window);
    this.trigger.clear(window, this.triggerContext);
    this.spec.fn.process?.clear?.(this.processContext);
    set?.retireWindow(window);
  }
}

export type { KeyedStateBackend };

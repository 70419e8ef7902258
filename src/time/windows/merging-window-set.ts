/**
 * The in-flight windows of one key under a merging assigner (sessions), and for each the
 * *state window*: the window whose namespace holds its contents. When windows merge, the
 * result keeps the state window of one of the merged windows, so merging moves only the
 * other windows' state, never renames a namespace. Flink: `MergingWindowSet`.
 *
 * Invariant: no two in-flight windows would merge (each `addWindow` merges all it touches).
 * Persistence is plain data: `[window namespace, state window namespace]` pairs, which the
 * window operator keeps in keyed state; `changed` tells it whether to write them back.
 */
import type { MergingWindowAssigner, Window } from './api.js';

/**
 * Called for each merge, after the set is updated: `mergedWindows` (the in-flight windows
 * merged into `mergeResult`; never the added window itself), `stateWindowResult` (the state
 * window of `mergeResult`, one of the merged windows' state windows) and `mergedStateWindows`
 * (the other merged windows' state windows, whose contents the operator must move into
 * `stateWindowResult`). Flink: `MergingWindowSet.MergeFunction`.
 */
export type MergeFunction<W> = (mergeResult: W, mergedWindows: W[], stateWindowResult: W, mergedStateWindows: W[]) => void;

/** A persisted set: `[window namespace, state window namespace]` pairs. */
export type MergingWindowSetData = Array<[readonly number[], readonly number[]]>;

interface Entry<W> {
  window: W;
  stateWindow: W;
}

const keyOf = (w: Window): string => w.namespace().join(',');

export class MergingWindowSet<W extends Window> {
  private readonly mapping = new Map<string, Entry<W>>();
  /** The persisted pairs' fingerprint, computed only when something changed (the window operator builds a set per record). */
  private baseline: string | undefined;
  private readonly restored: ReadonlyArray<readonly [readonly number[], readonly number[]]>;
  private dirty = false;

  /**
   * @param restored the pairs `snapshot()` returned (empty for a key without windows).
   * @throws RangeError (from `assigner.windowOf`) for a namespace the assigner cannot read.
   */
  constructor(
    private readonly assigner: MergingWindowAssigner<any, W>,
    restored: ReadonlyArray<readonly [readonly number[], readonly number[]]> = [],
  ) {
    for (const [ns, stateNs] of restored) {
      const window = assigner.windowOf(ns);
      this.mapping.set(keyOf(window), { window, stateWindow: assigner.windowOf(stateNs) });
    }
    this.restored = restored;
  }

  /** True when the mapping differs from the one restored (or last `markPersisted`). */
  get changed(): boolean {
    if (!this.dirty) return false;
    this.baseline ??= fingerprintOf(this.restored.map(([ns, stateNs]) => [ns.join(','), stateNs.join(',')]));
    return this.fingerprint() !== this.baseline;
  }

  /** The operator wrote `snapshot()` back: `changed` is false until the next change. */
  markPersisted(): void {
    this.baseline = this.fingerprint();
    this.dirty = false;
  }

  /** The pairs to persist, in no particular order. */
  snapshot(): MergingWindowSetData {
    return [...this.mapping.values()].map((e) => [e.window.namespace(), e.stateWindow.namespace()]);
  }

  /** The in-flight windows, in no particular order. */
  windows(): W[] {
    return [...this.mapping.values()].map((e) => e.window);
  }

  /** The state window of in-flight window `window`, or undefined when it is not in flight. */
  getStateWindow(window: W): W | undefined {
    return this.mapping.get(keyOf(window))?.stateWindow;
  }

  /**
   * Removes `window` from the in-flight windows (it fired and was purged for good).
   * @throws Error when it is not in flight (an operator bug).
   */
  retireWindow(window: W): void {
    if (!this.mapping.delete(keyOf(window))) throw new Error(`Window ${window.toString()} is not in the in-flight window set`);
    this.dirty = true;
  }

  /**
   * Adds `newWindow` (an element's window), merging it with the in-flight windows it
   * overlaps, and returns the window the element belongs to: `newWindow` itself, or the
   * merge result. Calls `mergeFunction` for each merge, except when `newWindow` falls
   * inside one in-flight window without extending it (nothing to merge: that window is
   * returned). Adding a window already in flight returns it and changes nothing (Flink
   * would map it to itself again, losing a merged window's state window).
   */
  addWindow(newWindow: W, mergeFunction: MergeFunction<W>): W {
    const existing = this.mapping.get(keyOf(newWindow));
    if (existing !== undefined) return existing.window;
    const groups: Array<[W[], W]> = [];
    this.assigner.mergeWindows([...this.windows(), newWindow], (toMerge, mergeResult) => groups.push([toMerge, mergeResult]));
    let resultWindow = newWindow;
    let mergedNewWindow = false;
    let changed = false;
    for (const [group, mergeResult] of groups) {
      const mergedWindows = group.filter((w) => !w.equals(newWindow));
      if (mergedWindows.length !== group.length) {
        resultWindow = mergeResult;
        mergedNewWindow = true;
      }
      const entries = mergedWindows.map((w) => this.mapping.get(keyOf(w)));
      const first = entries[0];
      if (first === undefined || entries.some((e) => e === undefined)) throw new Error(`MergingWindowSet: ${this.assigner.toString()} merged windows that are not in flight`);
      const stateWindowResult = first.stateWindow;
      for (const w of mergedWindows) this.mapping.delete(keyOf(w));
      this.mapping.set(keyOf(mergeResult), { window: mergeResult, stateWindow: stateWindowResult });
      const mergedStateWindows = entries.slice(1).map((e) => e!.stateWindow);
      const swallowed = mergedWindows.length === 1 && mergedWindows[0]!.equals(mergeResult);
      if (!swallowed) {
        changed = true;
        mergeFunction(mergeResult, mergedWindows, stateWindowResult, mergedStateWindows);
      }
    }
    if (!mergedNewWindow) {
      changed = true;
      this.mapping.set(keyOf(newWindow), { window: newWindow, stateWindow: newWindow });
    }
    // A window swallowed by one in flight leaves the mapping as it was.
    if (changed) this.dirty = true;
    return resultWindow;
  }

  private fingerprint(): string {
    return fingerprintOf([...this.mapping.values()].map((e) => [keyOf(e.window), keyOf(e.stateWindow)]));
  }
}

/** Order-free identity of `[window key, state window key]` pairs. */
function fingerprintOf(pairs: ReadonlyArray<readonly [string, string]>): string {
  return pairs
    .map(([w, sw]) => `${w}>${sw}`)
    .sort()
    .join(';');
}

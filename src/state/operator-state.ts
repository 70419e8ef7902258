/**
 * Operator (non-keyed) state, as Flink's `OperatorStateStore`: named lists of items per
 * subtask (source offsets, sink transactions) that are redistributed when parallelism
 * changes.
 * - `getListState(name)`: even split. On restore all old subtasks' items are
 *   concatenated in subtask order and cut into contiguous near-equal parts.
 * - `getUnionListState(name)`: union. Every new subtask receives all items.
 * A snapshot is plain data (cbor-x encodable); items are deep-copied in and out with
 * `structuredClone`, so later mutation of a returned list never changes a snapshot.
 */
import type { ListState } from './api.js';

export type RedistributionMode = 'split' | 'union';

/** One named list in a snapshot. */
export interface OperatorListSnapshot {
  mode: RedistributionMode;
  items: unknown[];
}

/** One subtask's operator state: state name -> list. */
export type OperatorStateSnapshot = Record<string, OperatorListSnapshot>;

class OperatorListState<T> implements ListState<T> {
  constructor(readonly mode: RedistributionMode, private items: T[]) {}
  get(): T[] {
    return structuredClone(this.items);
  }
  add(value: T): void {
    this.items.push(structuredClone(value));
  }
  addAll(values: readonly T[]): void {
    for (const v of values) this.add(v);
  }
  update(values: readonly T[]): void {
    this.items = structuredClone([...values]);
  }
  clear(): void {
    this.items = [];
  }
}

export class OperatorStateStore {
  private readonly lists = new Map<string, OperatorListState<unknown>>();
  private readonly restored: OperatorStateSnapshot;

  /** `restored`: this subtask's part after `redistributeOperatorState`, or nothing. */
  constructor(restored: OperatorStateSnapshot = {}) {
    this.restored = structuredClone(restored);
  }

  /** Even-split list state `name`. Throws `TypeError` if `name` is registered as union. */
  getListState<T>(name: string): ListState<T> {
    return this.get<T>(name, 'split');
  }

  /** Union list state `name`. Throws `TypeError` if `name` is registered as split. */
  getUnionListState<T>(name: string): ListState<T> {
    return this.get<T>(name, 'union');
  }

  private get<T>(name: string, mode: RedistributionMode): ListState<T> {
    const existing = this.lists.get(name) ?? this.fromRestored(name, mode);
    if (existing.mode !== mode) {
      throw new TypeError(`Operator state "${name}" is ${existing.mode} list state, not ${mode}: use another name`);
    }
    return existing as OperatorListState<T>;
  }

  private fromRestored(name: string, mode: RedistributionMode): OperatorListState<unknown> {
    const snap = this.restored[name];
    const list = new OperatorListState<unknown>(snap?.mode ?? mode, snap?.items ?? []);
    this.lists.set(name, list);
    return list;
  }

  /**
   * Plain-data snapshot of every list, including restored lists not yet accessed (so a
   * state survives a run that did not touch it).
   */
  snapshot(): OperatorStateSnapshot {
    const out: OperatorStateSnapshot = structuredClone(this.restored);
    for (const [name, list] of this.lists) out[name] = { mode: list.mode, items: list.get() };
    return out;
  }
}

/**
 * Redistributes operator state from old subtasks (index = old subtask) to
 * `newParallelism` new ones. Even split: all items concatenated in old-subtask order,
 * cut into contiguous parts whose sizes differ by at most one (earlier parts larger).
 * Union: every new subtask gets all items, in old-subtask order. Pure function.
 * Throws `RangeError` for a bad parallelism or a name with conflicting modes.
 * Idea: Flink's `RoundRobinOperatorStateRepartitioner`.
 */
export function redistributeOperatorState(
  snapshotsByOldSubtask: readonly OperatorStateSnapshot[],
  newParallelism: number,
): OperatorStateSnapshot[] {
  if (!Number.isSafeInteger(newParallelism) || newParallelism < 1) {
    throw new RangeError(`newParallelism must be an integer >= 1, got ${String(newParallelism)}`);
  }
  const merged = new Map<string, OperatorListSnapshot>();
  for (const snapshot of snapshotsByOldSubtask) {
    for (const [name, list] of Object.entries(snapshot)) {
      const acc = merged.get(name) ?? { mode: list.mode, items: [] };
      if (acc.mode !== list.mode) throw new RangeError(`Operator state "${name}" is both split and union in the snapshots`);
      acc.items.push(...list.items);
      merged.set(name, acc);
    }
  }
  const out: OperatorStateSnapshot[] = Array.from({ length: newParallelism }, () => ({}));
  for (const [name, { mode, items }] of merged) {
    for (let i = 0; i < newParallelism; i++) {
      out[i]![name] = { mode, items: structuredClone(mode === 'union' ? items : evenPart(items, i, newParallelism)) };
    }
  }
  return out;
}

/** Part `i` of `n` contiguous parts of `items`; the first `length % n` parts get one more. */
function evenPart<T>(items: readonly T[], i: number, n: number): T[] {
  const base = Math.floor(items.length / n);
  const extra = items.length % n;
  const start = i * base + Math.min(i, extra);
  return items.slice(start, start + base + (i < extra ? 1 : 0));
}

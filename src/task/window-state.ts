/**
 * Keyed state scoped to one window: Flink's state namespaces, built on a backend without
 * them. A window's state lives under the key `[key, window.namespace()]` set current with
 * the key group of `key` (descriptors say `namespaced: true`, so a rescale groups cells by
 * `key`). Every state handle here sets its key before each access, so handles of several
 * windows (a trigger's, the function's, the operator's own) may be used in any order.
 *
 * Also the window contents: how elements of a window are kept (one reduced value, one
 * accumulator, or the list of elements) and how contents of merging windows combine.
 * Flink: `WindowOperator`'s `windowState` (an `InternalAppendingState` per namespace) and
 * `InternalMergingState.mergeNamespaces`.
 */
import type {
  AggregatingState,
  AggregatingStateDescriptor,
  KeyedStateBackend,
  ListState,
  MapState,
  ReducingState,
  ReducingStateDescriptor,
  StateKey,
  ValueState,
} from '../state/api.js';
import type { PartitionedStateStore, TimestampedValue } from '../time/windows/api.js';
import type { WindowFunctionSpec } from '../time/windows/spec.js';

/** Where a store's state lives now: the backend key and its key group. */
export type ScopeKey = () => { key: StateKey; keyGroup: number };

/** Wraps every method of `state` to set the scope's key first. */
function scoped<S extends object>(backend: KeyedStateBackend, scope: ScopeKey, state: S): S {
  const out: Record<string, unknown> = {};
  const enter = (): void => {
    const { key, keyGroup } = scope();
    backend.setCurrentKey(key, keyGroup);
  };
  for (const name of methodNames(state)) {
    const method = (state as Record<string, (...args: unknown[]) => unknown>)[name]!;
    out[name] = (...args: unknown[]) => {
      enter();
      return method.apply(state, args);
    };
  }
  return out as S;
}

function methodNames(o: object): string[] {
  const names = new Set<string>();
  for (let p: object | null = o; p !== null && p !== Object.prototype; p = Object.getPrototypeOf(p)) {
    for (const n of Object.getOwnPropertyNames(p)) {
      if (n !== 'constructor' && typeof (o as Record<string, unknown>)[n] === 'function') names.add(n);
    }
  }
  return [...names];
}

/**
 * A `PartitionedStateStore` of operator `uid` whose key is `scope()` at each access.
 * `namespaced`: the scope's keys are `[key, namespace]` pairs (window state).
 */
export function scopedStore(backend: KeyedStateBackend, uid: string, scope: ScopeKey, namespaced: boolean): PartitionedStateStore {
  const cache = new Map<string, unknown>();
  const get = <S extends object>(kind: string, name: string, make: () => S): S => {
    const id = `${kind}/${name}`;
    let s = cache.get(id) as S | undefined;
    if (s === undefined) {
      s = scoped(backend, scope, make());
      cache.set(id, s);
    }
    return s;
  };
  const ns = namespaced ? { namespaced: true } : {};
  return {
    getState: (d) => get('value', d.name, () => backend.getValueState(uid, { ...d, ...ns, kind: 'value' })),
    getListState: (d) => get('list', d.name, () => backend.getListState(uid, { ...d, ...ns, kind: 'list' })),
    getMapState: (d) => get('map', d.name, () => backend.getMapState(uid, { ...d, ...ns, kind: 'map' })),
    getReducingState: (d) => get('reducing', d.name, () => backend.getReducingState(uid, { ...d, ...ns, kind: 'reducing' })),
    getAggregatingState: (d) => get('aggregating', d.name, () => backend.getAggregatingState(uid, { ...d, ...ns, kind: 'aggregating' })),
  };
}

/**
 * Merges reducing state `d` of windows `sources` into `target` (namespaced keys of the
 * current key). Flink: `InternalMergingState.mergeNamespaces`; Flink also merges
 * aggregating state, which this does not (its accumulator is not readable through
 * `AggregatingState`).
 * @throws TypeError for another kind of descriptor.
 */
export function mergeStateNamespaces(
  backend: KeyedStateBackend,
  uid: string,
  d: Omit<ReducingStateDescriptor<any>, 'kind'> | Omit<AggregatingStateDescriptor<any, any, any>, 'kind'>,
  keyGroup: number,
  target: StateKey,
  sources: readonly StateKey[],
): void {
  if ('reduce' in d && typeof d.reduce === 'function') {
    // The raw accumulated value sits in a value state of the same registration: read it
    // through a reducing handle (get returns the value, add reduces).
    const s: ReducingState<unknown> = backend.getReducingState(uid, { ...d, namespaced: true, kind: 'reducing' });
    for (const source of sources) {
      backend.setCurrentKey(source, keyGroup);
      const v = s.get();
      if (v === undefined) continue;
      s.clear();
      backend.setCurrentKey(target, keyGroup);
      s.add(v);
    }
    return;
  }
  throw new TypeError(
    `mergePartitionedState("${(d as { name?: string }).name}") merges reducing state only ({ name, reduce }): keep mergeable trigger state in a ReducingState`,
  );
}

/**
 * The contents of windows of one operator: elements added at the current scope's key.
 * `elements()` returns what the window function gets (undefined when the window is empty):
 * the reduced value, the aggregate's result, or the elements in arrival order.
 */
export interface WindowContents {
  add(value: unknown, timestamp: number): void;
  /** The window function's input, or undefined when nothing was added. */
  elements(): unknown[] | undefined;
  /** With an evictor: the elements with their timestamps; replace them with `set`. */
  timestamped(): TimestampedValue<unknown>[] | undefined;
  set(values: readonly TimestampedValue<unknown>[]): void;
  clear(): void;
  /** Moves the contents of `sources` into `target` (keys of windows of the current key). */
  merge(keyGroup: number, target: StateKey, sources: readonly StateKey[]): void;
}

/** Internal state name of window contents (Flink's "window-contents"). */
export const contentsStateName = 'window-contents';

/**
 * Window contents for a window function, kept in the backend under the current key.
 * With an evictor every element is kept (with its timestamp) and reduce or aggregate
 * run over what the evictor leaves, at firing (Flink's `EvictingWindowOperator`).
 */
export function windowContents(backend: KeyedStateBackend, uid: string, fn: WindowFunctionSpec, evicting: boolean): WindowContents {
  const name = contentsStateName;
  if (evicting || fn.kind === 'process') {
    const list: ListState<unknown> = backend.getListState(uid, { name, kind: 'list', namespaced: true });
    const fold = (values: unknown[]): unknown[] => {
      if (fn.kind === 'reduce') return [values.reduce((a, b) => fn.reduce(a, b))];
      if (fn.kind === 'aggregate') {
        let acc = fn.aggregate.createAccumulator();
        for (const v of values) acc = fn.aggregate.add(v, acc);
        return [fn.aggregate.getResult(acc)];
      }
      return values;
    };
    return {
      add: (value, timestamp) => list.add(evicting ? [value, timestamp] : value),
      elements: () => {
        const items = list.get();
        if (items.length === 0) return undefined;
        return fold(evicting ? items.map((x) => (x as [unknown, number])[0]) : items);
      },
      timestamped: () => {
        const items = list.get() as Array<[unknown, number]>;
        return items.length === 0 ? undefined : items.map(([value, timestamp]) => ({ value, timestamp }));
      },
      set: (values) => list.update(values.map((v) => [v.value, v.timestamp])),
      clear: () => list.clear(),
      merge: (keyGroup, target, sources) => {
        for (const source of sources) {
          backend.setCurrentKey(source, keyGroup);
          const items = list.get();
          if (items.length === 0) continue;
          list.clear();
          backend.setCurrentKey(target, keyGroup);
          list.addAll(items);
        }
      },
    };
  }
  const cell: ValueState<unknown> = backend.getValueState(uid, { name, kind: 'value', namespaced: true });
  const reduce: (a: unknown, b: unknown) => unknown =
    fn.kind === 'reduce' ? fn.reduce : (a, b) => mergeAccumulators(fn.aggregate, a, b);
  return {
    add: (value) => {
      const current = cell.value();
      if (fn.kind === 'reduce') cell.update(current === undefined ? value : fn.reduce(current, value));
      else cell.update(fn.aggregate.add(value, current === undefined ? fn.aggregate.createAccumulator() : current));
    },
    elements: () => {
      const current = cell.value();
      if (current === undefined) return undefined;
      return [fn.kind === 'reduce' ? current : fn.aggregate.getResult(current)];
    },
    timestamped: () => undefined,
    set: () => {
      throw new Error('window contents without an evictor hold no elements');
    },
    clear: () => cell.clear(),
    merge: (keyGroup, target, sources) => {
      for (const source of sources) {
        backend.setCurrentKey(source, keyGroup);
        const v = cell.value();
        if (v === undefined) continue;
        cell.clear();
        backend.setCurrentKey(target, keyGroup);
        const t = cell.value();
        cell.update(t === undefined ? v : reduce(t, v));
      }
    },
  };
}

function mergeAccumulators(f: { merge?: (a: any, b: any) => any }, a: unknown, b: unknown): unknown {
  if (f.merge === undefined) throw new TypeError('merging windows (sessions) need AggregateFunction.merge(a, b)');
  return f.merge(a, b);
}

export type { AggregatingState, MapState };

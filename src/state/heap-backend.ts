/**
 * Keyed state on the JavaScript heap, as Flink's `HashMapStateBackend`: values are kept as
 * objects (no serialization), so reads and writes are cheap and state must fit in memory.
 * The LSM backend (lsm-backend.ts) is the choice for state larger than memory.
 *
 * Layout: one `Map` per registered state, from the current key's string form to the value.
 * With TTL, a value is wrapped as `{ value, refreshedAtMs }`.
 */
import assert from 'node:assert/strict';
import type {
  AggregatingState,
  AggregatingStateDescriptor,
  Clock,
  KeyedStateBackend,
  ListState,
  ListStateDescriptor,
  MapState,
  MapStateDescriptor,
  ReducingState,
  ReducingStateDescriptor,
  StateKey,
  StateTtlConfig,
  ValueState,
  ValueStateDescriptor,
} from './api.js';
import { systemClock } from './api.js';

interface Stamped {
  value: unknown;
  refreshedAtMs: number;
}

/** Maps a key to a string that is equal exactly when the keys are equal. */
export function keyIdentity(key: unknown): string {
  switch (typeof key) {
    case 'string':
      return `s${key}`;
    case 'number':
      return `n${key}`;
    case 'bigint':
      return `b${key}`;
    case 'boolean':
      return key ? 't' : 'f';
    default:
      break;
  }
  if (key instanceof Uint8Array) return `u${Buffer.from(key.buffer, key.byteOffset, key.byteLength).toString('base64')}`;
  if (Array.isArray(key)) return `a[${key.map(keyIdentity).join(',')}]`;
  throw new TypeError(`State key ${String(key)} is not a string, number, bigint, boolean, Uint8Array or array`);
}

/**
 * One registered state's per-key cells, with TTL applied on access. Values are kept as is
 * (with TTL: wrapped with their refresh time), so readers see the stored object.
 */
class Cells {
  readonly cells = new Map<string, unknown>();

  constructor(
    private readonly backend: HeapKeyedStateBackend,
    private readonly ttl: StateTtlConfig | undefined,
  ) {}

  get(id: string): unknown {
    const stored = this.cells.get(id);
    if (stored === undefined || this.ttl === undefined) return stored;
    const stamped = stored as Stamped;
    const now = this.backend.clock.nowMs();
    if (now - stamped.refreshedAtMs >= this.ttl.ttlMs) {
      this.cells.delete(id);
      return undefined;
    }
    if (this.ttl.updateType === 'OnReadAndWrite') stamped.refreshedAtMs = now;
    return stamped.value;
  }

  set(id: string, value: unknown): void {
    if (this.ttl === undefined) this.cells.set(id, value);
    else this.cells.set(id, { value, refreshedAtMs: this.backend.clock.nowMs() } satisfies Stamped);
  }

  delete(id: string): void {
    this.cells.delete(id);
  }
}

export interface HeapBackendOptions {
  clock?: Clock;
}

/** Keyed state in `Map`s on the heap. See the file comment. */
export class HeapKeyedStateBackend implements KeyedStateBackend {
  readonly clock: Clock;
  private currentKey: StateKey | undefined;
  private currentId = '';
  private readonly states = new Map<string, { kind: string; handle: unknown }>();

  constructor(options: HeapBackendOptions = {}) {
    this.clock = options.clock ?? systemClock;
  }

  setCurrentKey(key: StateKey, _keyGroup: number): void {
    this.currentKey = key;
    this.currentId = keyIdentity(key);
  }

  getCurrentKey(): StateKey | undefined {
    return this.currentKey;
  }

  /** The current key's identity. REQUIRES: setCurrentKey was called. */
  currentKeyId(): string {
    if (this.currentKey === undefined) {
      throw new Error('Keyed state was accessed outside a keyed context: use it on a keyBy() stream');
    }
    return this.currentId;
  }

  private register<S>(operatorUid: string, name: string, kind: string, make: () => S): S {
    const id = `${operatorUid}/${name}`;
    const existing = this.states.get(id);
    if (existing !== undefined) {
      if (existing.kind !== kind) {
        throw new TypeError(
          `State "${name}" of operator ${operatorUid} is registered as ${existing.kind} state, not ${kind}: use another name`,
        );
      }
      return existing.handle as S;
    }
    const handle = make();
    this.states.set(id, { kind, handle });
    return handle;
  }

  getValueState<T>(operatorUid: string, d: ValueStateDescriptor<T>): ValueState<T> {
    return this.register(operatorUid, d.name, 'value', () => {
      const cells = new Cells(this, d.ttl);
      return {
        value: () => (cells.get(this.currentKeyId()) as T | undefined) ?? d.defaultValue,
        update: (value: T) => cells.set(this.currentKeyId(), value),
        clear: () => cells.delete(this.currentKeyId()),
      };
    });
  }

  getListState<T>(operatorUid: string, d: ListStateDescriptor<T>): ListState<T> {
    return this.register(operatorUid, d.name, 'list', () => {
      const cells = new Cells(this, d.ttl);
      const list = () => (cells.get(this.currentKeyId()) as T[] | undefined) ?? [];
      return {
        get: () => list().slice(),
        add: (value: T) => cells.set(this.currentKeyId(), [...list(), value]),
        addAll: (values: readonly T[]) => cells.set(this.currentKeyId(), [...list(), ...values]),
        update: (values: readonly T[]) =>
          values.length === 0 ? cells.delete(this.currentKeyId()) : cells.set(this.currentKeyId(), values.slice()),
        clear: () => cells.delete(this.currentKeyId()),
      };
    });
  }

  getMapState<K, V>(operatorUid: string, d: MapStateDescriptor<K, V>): MapState<K, V> {
    return this.register(operatorUid, d.name, 'map', () => new HeapMapState<K, V>(this, new Cells(this, d.ttl)));
  }

  getReducingState<T>(operatorUid: string, d: ReducingStateDescriptor<T>): ReducingState<T> {
    return this.register(operatorUid, d.name, 'reducing', () => {
      const cells = new Cells(this, d.ttl);
      return {
        get: () => cells.get(this.currentKeyId()) as T | undefined,
        add: (value: T) => {
          const id = this.currentKeyId();
          const current = cells.get(id) as T | undefined;
          cells.set(id, current === undefined ? value : d.reduce(current, value));
        },
        clear: () => cells.delete(this.currentKeyId()),
      };
    });
  }

  getAggregatingState<IN, ACC, OUT>(
    operatorUid: string,
    d: AggregatingStateDescriptor<IN, ACC, OUT>,
  ): AggregatingState<IN, OUT> {
    return this.register(operatorUid, d.name, 'aggregating', () => {
      const cells = new Cells(this, d.ttl);
      return {
        get: () => {
          const acc = cells.get(this.currentKeyId()) as ACC | undefined;
          return acc === undefined ? undefined : d.aggregate.getResult(acc);
        },
        add: (value: IN) => {
          const id = this.currentKeyId();
          const acc = (cells.get(id) as ACC | undefined) ?? d.aggregate.createAccumulator();
          cells.set(id, d.aggregate.add(value, acc));
        },
        clear: () => cells.delete(this.currentKeyId()),
      };
    });
  }

  async close(): Promise<void> {
    this.states.clear();
  }
}

/** MapState over a per-key `Map` of `keyIdentity(mapKey) -> [mapKey, value]`. */
class HeapMapState<K, V> implements MapState<K, V> {
  constructor(
    private readonly backend: HeapKeyedStateBackend,
    private readonly cells: Cells,
  ) {}

  private map(create: boolean): Map<string, [K, V]> | undefined {
    const id = this.backend.currentKeyId();
    let map = this.cells.get(id) as Map<string, [K, V]> | undefined;
    if (map === undefined && create) {
      map = new Map();
      this.cells.set(id, map);
    }
    return map;
  }

  get(key: K): V | undefined {
    return this.map(false)?.get(keyIdentity(key))?.[1];
  }
  put(key: K, value: V): void {
    this.map(true)!.set(keyIdentity(key), [key, value]);
    this.touch();
  }
  putAll(entries: Iterable<readonly [K, V]>): void {
    const map = this.map(true)!;
    for (const [k, v] of entries) map.set(keyIdentity(k), [k, v]);
    this.touch();
  }
  remove(key: K): void {
    const map = this.map(false);
    if (map === undefined) return;
    map.delete(keyIdentity(key));
    if (map.size === 0) this.clear();
  }
  contains(key: K): boolean {
    return this.map(false)?.has(keyIdentity(key)) ?? false;
  }
  *entries(): IterableIterator<[K, V]> {
    const map = this.map(false);
    if (map === undefined) return;
    for (const [k, v] of [...map.values()]) yield [k, v];
  }
  *keys(): IterableIterator<K> {
    for (const [k] of this.entries()) yield k;
  }
  *values(): IterableIterator<V> {
    for (const [, v] of this.entries()) yield v;
  }
  isEmpty(): boolean {
    return (this.map(false)?.size ?? 0) === 0;
  }
  clear(): void {
    this.cells.delete(this.backend.currentKeyId());
  }
  /** A write refreshes the TTL timestamp of the whole map, as a write does in Flink. */
  private touch(): void {
    const id = this.backend.currentKeyId();
    const map = this.cells.get(id);
    assert(map instanceof Map);
    this.cells.set(id, map);
  }
}

/**
 * Keyed state on the JavaScript heap, as Flink's `HashMapStateBackend`: values are kept as
 * objects (no serialization), so reads and writes are cheap and state must fit in memory.
 * The LSM backend (lsm-backend.ts) is the choice for state larger than memory.
 *
 * Layout: one `Map` per registered state, from the current key's string form to the value.
 * With TTL, a value is wrapped as `{ value, refreshedAtMs }`.
 */
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
    return this.register(operatorUid, d.name, 'map', () => new HeapMapState<K, V>(this, new Cells(this, undefined), d.ttl));
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

/**
 * MapState over a per-key `Map` of `keyIdentity(mapKey) -> entry`. TTL applies to each
 * entry, as in Flink (and the LSM backend): an entry expires on its own.
 */
interface MapEntry<K, V> {
  key: K;
  value: V;
  refreshedAtMs: number;
}

class HeapMapState<K, V> implements MapState<K, V> {
  constructor(
    private readonly backend: HeapKeyedStateBackend,
    private readonly cells: Cells,
    private readonly ttl: StateTtlConfig | undefined,
  ) {}

  private map(create: boolean): Map<string, MapEntry<K, V>> | undefined {
    const id = this.backend.currentKeyId();
    let map = this.cells.get(id) as Map<string, MapEntry<K, V>> | undefined;
    if (map === undefined && create) {
      map = new Map();
      this.cells.set(id, map);
    }
    return map;
  }

  /** The live entry for `id`, dropping it if expired and refreshing it on read if asked. */
  private live(map: Map<string, MapEntry<K, V>>, id: string, now: number): MapEntry<K, V> | undefined {
    const entry = map.get(id);
    if (entry === undefined || this.ttl === undefined) return entry;
    if (now - entry.refreshedAtMs >= this.ttl.ttlMs) {
      map.delete(id);
      return undefined;
    }
    if (this.ttl.updateType === 'OnReadAndWrite') entry.refreshedAtMs = now;
    return entry;
  }

  private dropIfEmpty(map: Map<string, MapEntry<K, V>>): void {
    if (map.size === 0) this.cells.delete(this.backend.currentKeyId());
  }

  get(key: K): V | undefined {
    const map = this.map(false);
    if (map === undefined) return undefined;
    const entry = this.live(map, keyIdentity(key), this.backend.clock.nowMs());
    if (entry === undefined) this.dropIfEmpty(map);
    return entry?.value;
  }
  put(key: K, value: V): void {
    this.map(true)!.set(keyIdentity(key), { key, value, refreshedAtMs: this.backend.clock.nowMs() });
  }
  putAll(entries: Iterable<readonly [K, V]>): void {
    const map = this.map(true)!;
    const now = this.backend.clock.nowMs();
    for (const [key, value] of entries) map.set(keyIdentity(key), { key, value, refreshedAtMs: now });
  }
  remove(key: K): void {
    const map = this.map(false);
    if (map === undefined) return;
    map.delete(keyIdentity(key));
    this.dropIfEmpty(map);
  }
  contains(key: K): boolean {
    const map = this.map(false);
    return map !== undefined && this.live(map, keyIdentity(key), this.backend.clock.nowMs()) !== undefined;
  }
  /** A snapshot of the live entries when iteration starts (removal while iterating is safe). */
  *entries(): IterableIterator<[K, V]> {
    const map = this.map(false);
    if (map === undefined) return;
    const now = this.backend.clock.nowMs();
    const live: [K, V][] = [];
    for (const id of [...map.keys()]) {
      const entry = this.live(map, id, now);
      if (entry !== undefined) live.push([entry.key, entry.value]);
    }
    this.dropIfEmpty(map);
    yield* live;
  }
  *keys(): IterableIterator<K> {
    for (const [k] of this.entries()) yield k;
  }
  *values(): IterableIterator<V> {
    for (const [, v] of this.entries()) yield v;
  }
  isEmpty(): boolean {
    for (const _ of this.entries()) return false;
    return true;
  }
  clear(): void {
    this.cells.delete(this.backend.currentKeyId());
  }
}

/**
 * Keyed state in an LSM store, as Flink's `EmbeddedRocksDBStateBackend`: every access
 * serializes, so state can exceed memory and snapshots are segment files.
 *
 * Layout (key-encoding.ts): `keyGroup | stateId | escape(cbor(key)) | [mapKey]`.
 * - ValueState, ReducingState, AggregatingState: one entry per key.
 * - ListState: one entry per key holding the whole array. Chosen over one entry per
 *   element because `get()` (window firing) is then one point read, TTL is one stamp,
 *   and restore needs no per-key sequence counter; the cost is that `add` rewrites the
 *   list (O(length)). Flink avoids that with a RocksDB merge operator: future work.
 * - MapState: one entry per map entry, key suffix = serialized map key, so entries
 *   iterate in serialized-key order and TTL applies per entry (as Flink's TtlMapState).
 * TTL: the value carries its refresh time (ms, the injected clock); an expired value is
 * never returned, is deleted when read, and is dropped by compaction through the store's
 * compaction filter.
 */
import { Encoder } from 'cbor-x';
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
  StateSerializer,
  StateBackendStats,
  StateTtlConfig,
  ValueState,
  ValueStateDescriptor,
} from './api.js';
import { systemClock } from './api.js';
import {
  composeKey,
  decodeStateValue,
  encodeStateValue,
  escapeKey,
  stateIdOf,
  stateIdOfKey,
  valueStampTtl,
} from './key-encoding.js';
import { LsmStore, prefixEnd, type LsmStoreOptions } from './lsm/index.js';

/** Flink's cap on max parallelism; key groups are u16 in keys. */
const maxParallelismLimit = 32768;

export interface LsmKeyedStateBackendOptions {
  /** Directory of the store's segment files (one backend per directory). */
  dir: string;
  /** Processing-time clock for TTL; default `systemClock`. */
  clock?: Clock;
  /** Key groups must be in [0, maxParallelism); default 32768, range 1..32768. */
  maxParallelism?: number;
  /** Store tuning and restore (`segments`, `retainSegment`); the backend sets the filter. */
  store?: Omit<LsmStoreOptions, 'compactionFilter'>;
}

const cbor = new Encoder({ useRecords: false, copyBuffers: true });
const cborSerializer: StateSerializer<any> = {
  serialize: (value) => cbor.encode(value),
  deserialize: (bytes) => cbor.decode(bytes),
};

function validate(o: LsmKeyedStateBackendOptions): void {
  if (typeof o !== 'object' || o === null) throw new TypeError('LsmKeyedStateBackend options must be an object');
  if (typeof o.dir !== 'string' || o.dir.length === 0) {
    throw new RangeError(`LsmKeyedStateBackend option dir must be a non-empty path, got ${String(o.dir)}`);
  }
  const p = o.maxParallelism;
  if (p !== undefined && (!Number.isSafeInteger(p) || p < 1 || p > maxParallelismLimit)) {
    throw new RangeError(`LsmKeyedStateBackend option maxParallelism must be an integer in [1, ${maxParallelismLimit}], got ${String(p)}`);
  }
  if (o.clock !== undefined && typeof o.clock?.nowMs !== 'function') {
    throw new TypeError('LsmKeyedStateBackend option clock must have a nowMs() method');
  }
}

function validateTtl(name: string, ttl: StateTtlConfig | undefined): void {
  if (ttl === undefined) return;
  if (!(typeof ttl.ttlMs === 'number' && ttl.ttlMs > 0 && Number.isFinite(ttl.ttlMs))) {
    throw new RangeError(`State "${name}": ttl.ttlMs must be a finite number > 0, got ${String(ttl.ttlMs)}`);
  }
  if (ttl.updateType !== 'OnCreateAndWrite' && ttl.updateType !== 'OnReadAndWrite') {
    throw new RangeError(`State "${name}": ttl.updateType must be OnCreateAndWrite or OnReadAndWrite, got ${String(ttl.updateType)}`);
  }
}

interface Registration {
  operatorUid: string;
  name: string;
  kind: string;
  handle: unknown;
}

export class LsmKeyedStateBackend implements KeyedStateBackend {
  readonly store: LsmStore;
  readonly clock: Clock;
  readonly maxParallelism: number;
  private currentKey: StateKey | undefined;
  private currentKeyGroup = 0;
  private currentEscaped: Uint8Array | undefined;
  private readonly keyCodec = new Encoder({ useRecords: false });
  /** state id -> registration; ids are hashes, so collisions are checked here. */
  private readonly states = new Map<number, Registration>();
  private readonly ttlById = new Map<number, StateTtlConfig>();

  /** Throws `RangeError`/`TypeError` for bad options, `CorruptSegmentError` on restore. */
  constructor(options: LsmKeyedStateBackendOptions) {
    validate(options);
    this.clock = options.clock ?? systemClock;
    this.maxParallelism = options.maxParallelism ?? maxParallelismLimit;
    this.store = LsmStore.open(options.dir, { ...options.store, compactionFilter: (k, v) => this.isExpiredEntry(k, v) });
  }

  /** Compaction filter: true for entries of TTL states whose refresh time has expired. */
  private isExpiredEntry(key: Uint8Array, value: Uint8Array): boolean {
    if (value[0] !== valueStampTtl) return false;
    const ttl = this.ttlById.get(stateIdOfKey(key));
    if (ttl === undefined) return false;
    return this.isExpired(decodeStateValue(value).refreshedAtMs, ttl);
  }

  isExpired(refreshedAtMs: number | undefined, ttl: StateTtlConfig): boolean {
    return refreshedAtMs !== undefined && this.clock.nowMs() - refreshedAtMs >= ttl.ttlMs;
  }

  setCurrentKey(key: StateKey, keyGroup: number): void {
    if (!Number.isInteger(keyGroup) || keyGroup < 0 || keyGroup >= this.maxParallelism) {
      throw new RangeError(`Key group ${keyGroup} is outside [0, ${this.maxParallelism}) (max parallelism)`);
    }
    if (key !== this.currentKey || this.currentEscaped === undefined) {
      this.currentEscaped = escapeKey(this.keyCodec.encode(key));
    }
    this.currentKey = key;
    this.currentKeyGroup = keyGroup;
  }

  getCurrentKey(): StateKey | undefined {
    return this.currentKey;
  }

  /** Store key of state `stateId` for the current key, plus `suffix`. */
  keyFor(stateId: number, suffix?: Uint8Array): Uint8Array {
    if (this.currentEscaped === undefined) {
      throw new Error('Keyed state was accessed outside a keyed context: use it on a keyBy() stream');
    }
    return composeKey(this.currentKeyGroup, stateId, this.currentEscaped, suffix);
  }

  private register<S>(operatorUid: string, d: { name: string; ttl?: StateTtlConfig }, kind: string, make: (c: StateCell) => S): S {
    const id = stateIdOf(operatorUid, d.name);
    const existing = this.states.get(id);
    if (existing !== undefined) {
      if (existing.operatorUid !== operatorUid || existing.name !== d.name) {
        throw new RangeError(
          `State "${d.name}" of operator ${operatorUid} hashes to the same id (${id}) as "${existing.name}" of ${existing.operatorUid}: rename one of them`,
        );
      }
      if (existing.kind !== kind) {
        throw new TypeError(`State "${d.name}" of operator ${operatorUid} is registered as ${existing.kind} state, not ${kind}: use another name`);
      }
      return existing.handle as S;
    }
    validateTtl(d.name, d.ttl);
    if (d.ttl !== undefined) this.ttlById.set(id, d.ttl);
    const handle = make(new StateCell(this, id, d.ttl));
    this.states.set(id, { operatorUid, name: d.name, kind, handle });
    return handle;
  }

  getValueState<T>(operatorUid: string, d: ValueStateDescriptor<T>): ValueState<T> {
    return this.register(operatorUid, d, 'value', (c) => new LsmValueState(c, d.serializer ?? cborSerializer, d.defaultValue));
  }

  getListState<T>(operatorUid: string, d: ListStateDescriptor<T>): ListState<T> {
    return this.register(operatorUid, d, 'list', (c) => new LsmListState(c, d.serializer ?? cborSerializer));
  }

  getMapState<K, V>(operatorUid: string, d: MapStateDescriptor<K, V>): MapState<K, V> {
    return this.register(operatorUid, d, 'map', (c) => new LsmMapState(c, d.keySerializer ?? cborSerializer, d.serializer ?? cborSerializer));
  }

  getReducingState<T>(operatorUid: string, d: ReducingStateDescriptor<T>): ReducingState<T> {
    return this.register(operatorUid, d, 'reducing', (c) => new LsmReducingState(c, d.serializer ?? cborSerializer, d.reduce));
  }

  getAggregatingState<IN, ACC, OUT>(operatorUid: string, d: AggregatingStateDescriptor<IN, ACC, OUT>): AggregatingState<IN, OUT> {
    return this.register(operatorUid, d, 'aggregating', (c) => new LsmAggregatingState(c, d.serializer ?? cborSerializer, d.aggregate));
  }

  /** One bounded flush or compaction step; true if more work is pending. */
  maintenanceStep(): boolean {
    return this.store.maintenanceStep();
  }

  stats(): StateBackendStats {
    const s = this.store.stats();
    return {
      segmentCount: s.segmentCount,
      flushCount: s.flushCount,
      compactionCount: s.compactionCount,
      blockCacheHits: s.blockCacheHits,
      blockCacheMisses: s.blockCacheMisses,
    };
  }

  async close(): Promise<void> {
    this.store.close();
    this.states.clear();
  }
}

/**
 * One registered state's access to its entries for the current key, with TTL applied:
 * reads drop expired entries, `OnReadAndWrite` rewrites the stamp on read.
 */
class StateCell {
  constructor(
    readonly backend: LsmKeyedStateBackend,
    readonly stateId: number,
    readonly ttl: StateTtlConfig | undefined,
  ) {}

  key(suffix?: Uint8Array): Uint8Array {
    return this.backend.keyFor(this.stateId, suffix);
  }

  /** Payload bytes of `key`, or undefined if absent or expired. */
  read(key: Uint8Array): Uint8Array | undefined {
    const stored = this.backend.store.get(key);
    return stored === undefined ? undefined : this.live(key, stored);
  }

  /** Applies TTL to a stored value read at `key`: undefined if expired. */
  live(key: Uint8Array, stored: Uint8Array): Uint8Array | undefined {
    const { payload, refreshedAtMs } = decodeStateValue(stored);
    if (this.ttl === undefined) return payload;
    if (this.backend.isExpired(refreshedAtMs, this.ttl)) {
      this.backend.store.delete(key);
      return undefined;
    }
    if (this.ttl.updateType === 'OnReadAndWrite') this.write(key, payload);
    return payload;
  }

  write(key: Uint8Array, payload: Uint8Array): void {
    const stamp = this.ttl === undefined ? undefined : this.backend.clock.nowMs();
    this.backend.store.put(key, encodeStateValue(payload, stamp));
  }

  remove(key: Uint8Array): void {
    this.backend.store.delete(key);
  }

  /** Live entries under the current key's prefix, as [suffix, payload], materialized. */
  entries(): [Uint8Array, Uint8Array][] {
    const prefix = this.key();
    const out: [Uint8Array, Uint8Array][] = [];
    const raw = [...this.backend.store.scan(prefix, prefixEnd(prefix))];
    for (const [k, v] of raw) {
      const payload = this.live(k, v);
      if (payload !== undefined) out.push([k.subarray(prefix.length), payload]);
    }
    return out;
  }
}

class LsmValueState<T> implements ValueState<T> {
  constructor(
    private readonly cell: StateCell,
    private readonly serializer: StateSerializer<T>,
    private readonly defaultValue: T | undefined,
  ) {}
  value(): T | undefined {
    const bytes = this.cell.read(this.cell.key());
    return bytes === undefined ? this.defaultValue : this.serializer.deserialize(bytes);
  }
  /** `update(undefined)` clears, as Flink's `update(null)`. */
  update(value: T): void {
    if (value === undefined) this.clear();
    else this.cell.write(this.cell.key(), this.serializer.serialize(value));
  }
  clear(): void {
    this.cell.remove(this.cell.key());
  }
}

class LsmListState<T> implements ListState<T> {
  private readonly arrays: StateSerializer<T[]>;
  constructor(
    private readonly cell: StateCell,
    serializer: StateSerializer<T>,
  ) {
    this.arrays = serializer === cborSerializer ? cborSerializer : elementwise(serializer);
  }
  get(): T[] {
    const bytes = this.cell.read(this.cell.key());
    return bytes === undefined ? [] : this.arrays.deserialize(bytes);
  }
  add(value: T): void {
    this.addAll([value]);
  }
  addAll(values: readonly T[]): void {
    if (values.length === 0) return;
    this.update([...this.get(), ...values]);
  }
  /** An empty list clears the state, as Flink. */
  update(values: readonly T[]): void {
    if (values.length === 0) this.clear();
    else this.cell.write(this.cell.key(), this.arrays.serialize(values.slice()));
  }
  clear(): void {
    this.cell.remove(this.cell.key());
  }
}

/** A list serializer from an element serializer: cbor array of the elements' bytes. */
function elementwise<T>(s: StateSerializer<T>): StateSerializer<T[]> {
  return {
    serialize: (values) => cbor.encode(values.map((v) => s.serialize(v))),
    deserialize: (bytes) => (cbor.decode(bytes) as Uint8Array[]).map((b) => s.deserialize(b)),
  };
}

class LsmMapState<K, V> implements MapState<K, V> {
  constructor(
    private readonly cell: StateCell,
    private readonly keys_: StateSerializer<K>,
    private readonly values_: StateSerializer<V>,
  ) {}
  private entryKey(key: K): Uint8Array {
    return this.cell.key(this.keys_.serialize(key));
  }
  get(key: K): V | undefined {
    const bytes = this.cell.read(this.entryKey(key));
    return bytes === undefined ? undefined : this.values_.deserialize(bytes);
  }
  put(key: K, value: V): void {
    this.cell.write(this.entryKey(key), this.values_.serialize(value));
  }
  putAll(entries: Iterable<readonly [K, V]>): void {
    for (const [k, v] of entries) this.put(k, v);
  }
  remove(key: K): void {
    this.cell.remove(this.entryKey(key));
  }
  contains(key: K): boolean {
    return this.cell.read(this.entryKey(key)) !== undefined;
  }
  /** A snapshot taken when iteration starts: writes during iteration are safe. */
  *entries(): IterableIterator<[K, V]> {
    for (const [k, v] of this.cell.entries()) yield [this.keys_.deserialize(k), this.values_.deserialize(v)];
  }
  *keys(): IterableIterator<K> {
    for (const [k] of this.cell.entries()) yield this.keys_.deserialize(k);
  }
  *values(): IterableIterator<V> {
    for (const [, v] of this.cell.entries()) yield this.values_.deserialize(v);
  }
  isEmpty(): boolean {
    const prefix = this.cell.key();
    for (const [k, v] of this.cell.backend.store.scan(prefix, prefixEnd(prefix))) {
      if (this.cell.live(k, v) !== undefined) return false;
    }
    return true;
  }
  clear(): void {
    const prefix = this.cell.key();
    const keys = [...this.cell.backend.store.scan(prefix, prefixEnd(prefix))].map(([k]) => k);
    for (const k of keys) this.cell.remove(k);
  }
}

class LsmReducingState<T> implements ReducingState<T> {
  constructor(
    private readonly cell: StateCell,
    private readonly serializer: StateSerializer<T>,
    private readonly reduce: (a: T, b: T) => T,
  ) {}
  get(): T | undefined {
    const bytes = this.cell.read(this.cell.key());
    return bytes === undefined ? undefined : this.serializer.deserialize(bytes);
  }
  add(value: T): void {
    const current = this.get();
    this.cell.write(this.cell.key(), this.serializer.serialize(current === undefined ? value : this.reduce(current, value)));
  }
  clear(): void {
    this.cell.remove(this.cell.key());
  }
}

class LsmAggregatingState<IN, ACC, OUT> implements AggregatingState<IN, OUT> {
  constructor(
    private readonly cell: StateCell,
    private readonly serializer: StateSerializer<ACC>,
    private readonly aggregate: AggregatingStateDescriptor<IN, ACC, OUT>['aggregate'],
  ) {}
  private accumulator(): ACC | undefined {
    const bytes = this.cell.read(this.cell.key());
    return bytes === undefined ? undefined : this.serializer.deserialize(bytes);
  }
  get(): OUT | undefined {
    const acc = this.accumulator();
    return acc === undefined ? undefined : this.aggregate.getResult(acc);
  }
  add(value: IN): void {
    const acc = this.accumulator() ?? this.aggregate.createAccumulator();
    this.cell.write(this.cell.key(), this.serializer.serialize(this.aggregate.add(value, acc)));
  }
  clear(): void {
    this.cell.remove(this.cell.key());
  }
}

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
 * - Timers (`timers()`, lsm-timers.ts): one entry per timer, state `_timers/<domain>` of
 *   the operator, key `keyGroup | stateId | ordered timestamp | escape(cbor(key))`.
 * Hot path (issue 11, native-notes.md §3): Value, Reducing and Aggregating states read and
 * write the current key through a per-state map from string keys to mutable-memtable
 * entries (lsm-hot-keys.ts) and write default-serialized integers in place; the bytes
 * stored are the same as through the general path.
 * TTL: the value carries its refresh time (ms, the injected clock); an expired value is
 * never returned, is deleted when read, and is dropped by compaction through the store's
 * compaction filter.
 *
 * Snapshots (checkpoints) are the store's (lsm/store.ts, "Snapshots"): `snapshot()`
 * freezes the memtable; the job's `step()` flushes in bounded steps until the segment
 * list is captured, then reports each file with the checkpoint-storage name it was
 * restored from, if any. Restore links the given files into `dir` under fresh local names
 * and remembers local name -> shared name, so segments that survive from the restore are
 * not uploaded again (incremental checkpoints across restores). A segment compaction
 * writes is new and has no shared name.
 *
 * Rescaling (restore kind 'lsm-rescale', Flink's `RocksDBIncrementalRestoreOperation`
 * with key-group clipping): keys begin with the u16 big-endian key group, so one new
 * subtask's key groups [start, end] are the key range [be16(start), be16(end + 1)). An
 * old subtask whose key groups lie wholly in that range (scaling in) is taken over as it
 * is, its segments linked; from every other one the store copies the live entries of the
 * range (segments opened read-only) into one new segment (LsmStore.restoreClipped). The
 * old subtasks owned disjoint key-group ranges, which is checked. TTL stamps and values
 * are copied byte for byte. No restored segment has a shared name: the next checkpoint
 * uploads them.
 */
import type { Encoder } from 'cbor-x';
import { newCborEncoder } from '../cbor-x.js';
import type {
  TimeDomain,
  TimerQueue,
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
  SnapshotFiles,
  StateKey,
  StateRestore,
  StateSerializer,
  StateSnapshotJob,
  StateBackendStats,
  StateTtlConfig,
  ValueState,
  ValueStateDescriptor,
} from './api.js';
import { systemClock } from './api.js';
import { escapedFastKey } from './cbor-fast.js';
import {
  composeKey,
  composeStringKey,
  decodeStateValue,
  escapeKey,
  stateIdOf,
  stateIdOfKey,
  statePrefixSizeBytes,
  unescapeKey,
  valueStampTtl,
} from './key-encoding.js';
import { StateCell } from './lsm-state-cell.js';
import { LsmValueCodec } from './lsm-value-codec.js';
import path from 'node:path';
import { LsmStore, prefixEnd, type LsmStoreOptions } from './lsm/index.js';
import type { StoreSnapshot } from './lsm/store.js';
import { LsmTimerQueue, timerCacheEntriesPerKeyGroupDefault, timerCacheEntriesPerKeyGroupMax } from './lsm-timers.js';
import { checkUserStateName, timerStateName } from './timers.js';

/** Flink's cap on max parallelism; key groups are u16 in keys. */
const maxParallelismLimit = 32768;

export interface LsmKeyedStateBackendOptions {
  /** Directory of the store's segment files (one backend per directory). */
  dir: string;
  /** Processing-time clock for TTL; default `systemClock`. */
  clock?: Clock;
  /** Key groups must be in [0, maxParallelism); default 32768, range 1..32768. */
  maxParallelism?: number;
  /**
   * Timer entry keys cached per key group and timer queue (lsm-timers.ts), 1..4096,
   * default 32. Flink: `state.backend.rocksdb.timer-service.cache-size` (128).
   */
  timerCacheEntriesPerKeyGroup?: number;
  /** Store tuning (and `segments`, `retainSegment`); the backend sets the filter. */
  store?: Omit<LsmStoreOptions, 'compactionFilter'>;
  /**
   * Restore from a snapshot's segment files (kind 'lsm'), already in place: they are hard
   * linked (or copied) into `dir` under fresh names and not changed. Or rescale (kind
   * 'lsm-rescale'): keep the key groups `keyGroups` (within [0, maxParallelism)) of
   * several old subtasks' segment files, which are read and not changed. Excludes
   * `store.segments`.
   */
  restore?: StateRestore;
}

/** Made at the first value that needs it (cbor-x loads at its first use, ../cbor-x.ts). */
let cbor: Encoder | undefined;
const stateCodec = (): Encoder => (cbor ??= newCborEncoder({ useRecords: false, copyBuffers: true }));
const cborSerializer: StateSerializer<any> = {
  serialize: (value) => (cbor ?? stateCodec()).encode(value),
  deserialize: (bytes) => (cbor ?? stateCodec()).decode(bytes),
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
  const c = o.timerCacheEntriesPerKeyGroup;
  if (c !== undefined && (!Number.isInteger(c) || c < 1 || c > timerCacheEntriesPerKeyGroupMax)) {
    throw new RangeError(`LsmKeyedStateBackend option timerCacheEntriesPerKeyGroup must be an integer in [1, ${timerCacheEntriesPerKeyGroupMax}], got ${String(c)}`);
  }
  const r = o.restore;
  if (r === undefined) return;
  if (r.kind === 'lsm') {
    if (!Array.isArray(r.segments) || r.segments.some((x) => typeof x?.path !== 'string' || (x.sharedName !== undefined && typeof x.sharedName !== 'string'))) {
      throw new TypeError('LsmKeyedStateBackend option restore.segments must be an array of { path, sharedName? } strings');
    }
  } else if (r.kind === 'lsm-rescale') {
    validateRescale(r, p ?? maxParallelismLimit);
  } else {
    throw new TypeError(`LsmKeyedStateBackend cannot restore a ${String(r.kind)} snapshot: restore it with the backend that wrote it`);
  }
  if (o.store?.segments !== undefined) throw new RangeError('LsmKeyedStateBackend: give restore or store.segments, not both');
}

type RescaleRestore = Extract<StateRestore, { kind: 'lsm-rescale' }>;

function validateRescale(r: RescaleRestore, maxParallelism: number): void {
  const g = r.keyGroups;
  if (typeof g !== 'object' || g === null || !Number.isSafeInteger(g.start) || !Number.isSafeInteger(g.end) || g.start < 0 || g.end < g.start || g.end >= maxParallelism) {
    throw new RangeError(
      `LsmKeyedStateBackend option restore.keyGroups must be an inclusive range { start, end } with ` +
        `0 <= start <= end < maxParallelism (${maxParallelism}), got ${JSON.stringify(g)}: use keyGroupRangeForSubtask()`,
    );
  }
  const ok = Array.isArray(r.sources) && r.sources.every((s) => Array.isArray(s?.segments) && s.segments.every((x) => typeof x?.path === 'string'));
  if (!ok) throw new TypeError('LsmKeyedStateBackend option restore.sources must be an array of { segments: [{ path }] }, one per old subtask');
}

/** Big-endian u16 bytes of a key group: the first two bytes of every key in that group. */
function keyGroupPrefix(keyGroup: number): Uint8Array {
  return Uint8Array.of(keyGroup >>> 8, keyGroup & 0xff);
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
  private readonly timerCacheEntriesPerKeyGroup: number;
  private currentKey: StateKey | undefined;
  private currentKeyGroup = 0;
  private hasCurrentKey = false;
  /** `escapeKey(cbor(currentKey))`, computed on first use after the key changed. */
  private currentEscaped: Uint8Array | undefined;
  /**
   * Changes whenever the current key or key group does: a state's composed key for the
   * current key (`StateCell.key()`) is reused while it stays the same, so the reads and
   * writes of one record compose it once.
   */
  currentKeyVersion = 0;
  /** Made at the first key that is neither a short ASCII string nor a 32-bit integer. */
  private keyCodec: Encoder | undefined;
  /** state id -> registration; ids are hashes, so collisions are checked here. */
  private readonly states = new Map<number, Registration>();
  private readonly ttlById = new Map<number, StateTtlConfig>();
  /** Local segment name -> its name in checkpoint storage, for segments from a restore. */
  private readonly sharedNames = new Map<string, string>();

  /**
   * Throws `RangeError`/`TypeError` for bad options, `CorruptSegmentError` for a damaged
   * restored segment, an `Error` naming a missing one or (rescale) overlapping sources.
   */
  constructor(options: LsmKeyedStateBackendOptions) {
    validate(options);
    this.clock = options.clock ?? systemClock;
    this.maxParallelism = options.maxParallelism ?? maxParallelismLimit;
    this.timerCacheEntriesPerKeyGroup = options.timerCacheEntriesPerKeyGroup ?? timerCacheEntriesPerKeyGroupDefault;
    const storeOptions: LsmStoreOptions = { ...options.store, compactionFilter: (k, v) => this.isExpiredEntry(k, v) };
    if (options.restore?.kind === 'lsm') {
      const from = options.restore.segments;
      const { store, names } = LsmStore.restore(options.dir, from.map((x) => x.path), storeOptions);
      names.forEach((name, i) => {
        const sharedName = from[i]!.sharedName;
        if (sharedName !== undefined) this.sharedNames.set(name, sharedName);
      });
      this.store = store;
    } else if (options.restore?.kind === 'lsm-rescale') {
      const { keyGroups, sources } = options.restore;
      const paths = sources.map((src) => src.segments.map((x) => x.path));
      // end + 1 <= maxParallelism <= 32768 always fits the u16 prefix.
      const { store } = LsmStore.restoreClipped(options.dir, paths, keyGroupPrefix(keyGroups.start), keyGroupPrefix(keyGroups.end + 1), storeOptions);
      this.store = store;
    } else {
      this.store = LsmStore.open(options.dir, storeOptions);
    }
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

  /** Entries are keyed by key group first (state/lsm-key.ts). */
  readonly readsKeyGroup = true;

  setCurrentKey(key: StateKey, keyGroup: number): void {
    if (!Number.isInteger(keyGroup) || keyGroup < 0 || keyGroup >= this.maxParallelism) {
      throw new RangeError(`Key group ${keyGroup} is outside [0, ${this.maxParallelism}) (max parallelism)`);
    }
    if (key !== this.currentKey || keyGroup !== this.currentKeyGroup || !this.hasCurrentKey) {
      this.currentKey = key;
      this.currentKeyGroup = keyGroup;
      this.currentEscaped = undefined;
      this.hasCurrentKey = true;
      this.currentKeyVersion++;
    }
  }

  getCurrentKey(): StateKey | undefined {
    return this.currentKey;
  }

  /** The key group given with the current key (0 before any). */
  getCurrentKeyGroup(): number {
    return this.currentKeyGroup;
  }

  /** Store key of state `stateId` for the current key, plus `suffix`. */
  keyFor(stateId: number, suffix?: Uint8Array): Uint8Array {
    if (!this.hasCurrentKey) {
      throw new Error('Keyed state was accessed outside a keyed context: use it on a keyBy() stream');
    }
    const key = this.currentKey;
    if (suffix === undefined && this.currentEscaped === undefined && typeof key === 'string') {
      const composed = composeStringKey(this.currentKeyGroup, stateId, key);
      if (composed !== undefined) return composed;
    }
    this.currentEscaped ??= escapedFastKey(key) ?? escapeKey((this.keyCodec ??= newCborEncoder({ useRecords: false })).encode(key));
    return composeKey(this.currentKeyGroup, stateId, this.currentEscaped, suffix);
  }

  /**
   * The handle registered for (operatorUid, name) as `kind`, or undefined when the id is
   * free. Throws `RangeError` when another state holds the id, `TypeError` for another kind.
   */
  private registered(operatorUid: string, name: string, kind: string): unknown {
    const existing = this.states.get(stateIdOf(operatorUid, name));
    if (existing === undefined) return undefined;
    if (existing.operatorUid !== operatorUid || existing.name !== name) {
      throw new RangeError(
        `State "${name}" of operator ${operatorUid} hashes to the same id (${stateIdOf(operatorUid, name)}) as "${existing.name}" of ${existing.operatorUid}: rename one of them`,
      );
    }
    if (existing.kind !== kind) {
      throw new TypeError(`State "${name}" of operator ${operatorUid} is registered as ${existing.kind} state, not ${kind}: use another name`);
    }
    return existing.handle;
  }

  private register<S>(operatorUid: string, d: { name: string; ttl?: StateTtlConfig }, kind: string, make: (c: StateCell) => S): S {
    checkUserStateName(operatorUid, d.name);
    const existing = this.registered(operatorUid, d.name, kind);
    if (existing !== undefined) return existing as S;
    const id = stateIdOf(operatorUid, d.name);
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

  /**
   * The LSM timer queue of `operatorUid` in `domain` (lsm-timers.ts); its index is built on
   * first use. Throws `RangeError` for a bad domain or when the timers' state id collides
   * with a registered state's.
   */
  timers(operatorUid: string, domain: TimeDomain): TimerQueue {
    const name = timerStateName(domain);
    const existing = this.registered(operatorUid, name, 'timers');
    if (existing !== undefined) return existing as TimerQueue;
    const id = stateIdOf(operatorUid, name);
    const queue = new LsmTimerQueue(this.store, id, this.maxParallelism, this.timerCacheEntriesPerKeyGroup);
    this.states.set(id, { operatorUid, name, kind: 'timers', handle: queue });
    return queue;
  }

  applyToAllKeys(operatorUid: string, stateName: string, fn: (key: StateKey) => void): void {
    const id = stateIdOf(operatorUid, stateName);
    const registration = this.states.get(id);
    if (registration === undefined || registration.operatorUid !== operatorUid || registration.name !== stateName || registration.kind === 'timers') {
      throw new TypeError(`State "${stateName}" of operator ${operatorUid} is not registered: get it from the runtime context in open() first`);
    }
    const keys: Array<{ key: StateKey; keyGroup: number }> = [];
    for (let keyGroup = 0; keyGroup < this.maxParallelism; keyGroup++) {
      const prefix = composeKey(keyGroup, id, new Uint8Array(0));
      let last: Uint8Array | undefined;
      for (const [k] of this.store.scan(prefix, prefixEnd(prefix))) {
        const { raw, end } = unescapeKey(k, statePrefixSizeBytes);
        // Map state holds several entries per key: one call per key.
        const escaped = k.subarray(statePrefixSizeBytes, end);
        if (last !== undefined && Buffer.compare(last, escaped) === 0) continue;
        last = escaped;
        keys.push({ key: (this.keyCodec ??= newCborEncoder({ useRecords: false })).decode(raw) as StateKey, keyGroup });
      }
    }
    for (const { key, keyGroup } of keys) {
      this.setCurrentKey(key, keyGroup);
      fn(key);
    }
  }

  /** One bounded flush or compaction step; true if more work is pending. */
  maintenanceStep(): boolean {
    return this.store.maintenanceStep();
  }

  /**
   * Freezes the memtable; the job flushes what was frozen in bounded steps and then
   * reports the segment list. Compaction pauses until the list is captured; files it
   * names are kept until `release()`. Several jobs may be pending at once.
   */
  snapshot(checkpointId: number): StateSnapshotJob {
    if (!Number.isSafeInteger(checkpointId) || checkpointId < 0) {
      throw new RangeError(`Checkpoint id must be a non-negative integer, got ${String(checkpointId)}`);
    }
    return new LsmSnapshotJob(this.store.beginSnapshot(), this.store.dir, this.sharedNames);
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

class LsmSnapshotJob implements StateSnapshotJob {
  private files: SnapshotFiles | undefined;

  constructor(
    private readonly snap: StoreSnapshot,
    private readonly dir: string,
    private readonly sharedNames: ReadonlyMap<string, string>,
  ) {}

  step(): SnapshotFiles | undefined {
    if (this.snap.released) throw new Error('LSM snapshot step() after release(): take a new snapshot');
    if (this.files !== undefined) return this.files;
    const captured = this.snap.step();
    if (captured === undefined) return undefined;
    this.files = {
      kind: 'lsm',
      segments: captured.map(({ name, sizeBytes }) => ({
        localPath: path.join(this.dir, name),
        sizeBytes,
        sharedName: this.sharedNames.get(name),
      })),
    };
    return this.files;
  }

  release(): void {
    this.snap.release();
  }
}

/** The value codec of a state with `serializer` (integer fast path for the default). */
function codecOf<T>(serializer: StateSerializer<T>): LsmValueCodec<T> {
  return new LsmValueCodec(serializer, serializer === cborSerializer);
}

class LsmValueState<T> implements ValueState<T> {
  private readonly codec: LsmValueCodec<T>;
  constructor(
    private readonly cell: StateCell,
    serializer: StateSerializer<T>,
    private readonly defaultValue: T | undefined,
  ) {
    this.codec = codecOf(serializer);
  }
  value(): T | undefined {
    const value = this.cell.readCurrent(this.codec);
    return value === undefined ? this.defaultValue : value;
  }
  /** `update(undefined)` clears, as Flink's `update(null)`. */
  update(value: T): void {
    if (value === undefined) this.clear();
    else this.cell.writeCurrent(this.codec, value);
  }
  clear(): void {
    this.cell.removeCurrent();
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
    serialize: (values) => (cbor ?? stateCodec()).encode(values.map((v) => s.serialize(v))),
    deserialize: (bytes) => ((cbor ?? stateCodec()).decode(bytes) as Uint8Array[]).map((b) => s.deserialize(b)),
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
  private readonly codec: LsmValueCodec<T>;
  constructor(
    private readonly cell: StateCell,
    serializer: StateSerializer<T>,
    private readonly reduce: (a: T, b: T) => T,
  ) {
    this.codec = codecOf(serializer);
  }
  get(): T | undefined {
    return this.cell.readCurrent(this.codec);
  }
  add(value: T): void {
    const current = this.get();
    this.cell.writeCurrent(this.codec, current === undefined ? value : this.reduce(current, value));
  }
  clear(): void {
    this.cell.removeCurrent();
  }
}

class LsmAggregatingState<IN, ACC, OUT> implements AggregatingState<IN, OUT> {
  private readonly codec: LsmValueCodec<ACC>;
  constructor(
    private readonly cell: StateCell,
    serializer: StateSerializer<ACC>,
    private readonly aggregate: AggregatingStateDescriptor<IN, ACC, OUT>['aggregate'],
  ) {
    this.codec = codecOf(serializer);
  }
  private accumulator(): ACC | undefined {
    return this.cell.readCurrent(this.codec);
  }
  get(): OUT | undefined {
    const acc = this.accumulator();
    return acc === undefined ? undefined : this.aggregate.getResult(acc);
  }
  add(value: IN): void {
    const acc = this.accumulator() ?? this.aggregate.createAccumulator();
    this.cell.writeCurrent(this.codec, this.aggregate.add(value, acc));
  }
  clear(): void {
    this.cell.removeCurrent();
  }
}

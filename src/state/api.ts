/**
 * Keyed state API, as Flink's `org.apache.flink.api.common.state`: every state object is
 * scoped to the key of the record being processed (the backend's current key), and is
 * registered once per operator by a descriptor (name, optional default, optional TTL).
 *
 * All calls are synchronous: a process function reads and writes state inline, as in
 * Flink. A backend may block on disk (the LSM backend reads segments with `readSync`).
 */

/** Values and keys must be cbor-x encodable (plain data, Map, typed arrays, bigint). */
export type StateValue = unknown;

/** Single value per key. Flink: `ValueState`. */
export interface ValueState<T> {
  /** The value for the current key, or the descriptor's default, or `undefined`. */
  value(): T | undefined;
  update(value: T): void;
  clear(): void;
}

/** A list per key. Flink: `ListState`. `get()` returns `[]` when empty (never undefined). */
export interface ListState<T> {
  get(): T[];
  add(value: T): void;
  addAll(values: readonly T[]): void;
  /** Replaces the whole list. */
  update(values: readonly T[]): void;
  clear(): void;
}

/** A map per key. Iteration order is the backend's (LSM: serialized key order; heap: insertion order). Flink: `MapState`. */
export interface MapState<K, V> {
  get(key: K): V | undefined;
  put(key: K, value: V): void;
  putAll(entries: Iterable<readonly [K, V]>): void;
  remove(key: K): void;
  contains(key: K): boolean;
  entries(): IterableIterator<[K, V]>;
  keys(): IterableIterator<K>;
  values(): IterableIterator<V>;
  isEmpty(): boolean;
  clear(): void;
}

/** Values added are folded with the descriptor's reduce function. Flink: `ReducingState`. */
export interface ReducingState<T> {
  get(): T | undefined;
  add(value: T): void;
  clear(): void;
}

/** Values added are folded into an accumulator. Flink: `AggregatingState`. */
export interface AggregatingState<IN, OUT> {
  get(): OUT | undefined;
  add(value: IN): void;
  clear(): void;
}

/**
 * Flink's `AggregateFunction`: the accumulator must be cbor-x encodable. `merge` combines
 * two accumulators (session windows and sliced sliding windows need it).
 */
export interface AggregateFunction<IN, ACC, OUT> {
  createAccumulator(): ACC;
  add(value: IN, accumulator: ACC): ACC;
  getResult(accumulator: ACC): OUT;
  merge?(a: ACC, b: ACC): ACC;
}

/**
 * State time-to-live, processing time. Flink: `StateTtlConfig`.
 * - `ttlMs`: how long a value lives after its last refresh, milliseconds, > 0.
 * - `updateType`: which accesses refresh the timestamp.
 * Expired values are never returned; they are removed lazily and by compaction.
 */
export interface StateTtlConfig {
  ttlMs: number;
  updateType: 'OnCreateAndWrite' | 'OnReadAndWrite';
}

/** A (de)serializer for state values; the default is cbor-x. */
export interface StateSerializer<T> {
  serialize(value: T): Uint8Array;
  deserialize(bytes: Uint8Array): T;
}

interface DescriptorBase {
  /** Unique per operator; the state's identity in checkpoints. */
  name: string;
  ttl?: StateTtlConfig;
  /**
   * @internal Keys of this state are `[key, namespace]` pairs (the window operator's
   * per-window state, Flink's state namespace), set current with the key group of `key`:
   * a rescale assigns each cell by its key's group, not the pair's.
   */
  namespaced?: boolean;
}
export interface ValueStateDescriptor<T> extends DescriptorBase {
  kind: 'value';
  defaultValue?: T;
  serializer?: StateSerializer<T>;
}
export interface ListStateDescriptor<T> extends DescriptorBase {
  kind: 'list';
  serializer?: StateSerializer<T>;
}
export interface MapStateDescriptor<K, V> extends DescriptorBase {
  kind: 'map';
  keySerializer?: StateSerializer<K>;
  serializer?: StateSerializer<V>;
}
export interface ReducingStateDescriptor<T> extends DescriptorBase {
  kind: 'reducing';
  reduce: (a: T, b: T) => T;
  serializer?: StateSerializer<T>;
}
export interface AggregatingStateDescriptor<IN, ACC, OUT> extends DescriptorBase {
  kind: 'aggregating';
  aggregate: AggregateFunction<IN, ACC, OUT>;
  serializer?: StateSerializer<ACC>;
}
export type StateDescriptor =
  | ValueStateDescriptor<any>
  | ListStateDescriptor<any>
  | MapStateDescriptor<any, any>
  | ReducingStateDescriptor<any>
  | AggregatingStateDescriptor<any, any, any>;

/** The key whose state is being read; set by the runtime before each record. */
export type StateKey = string | number | bigint | boolean | readonly unknown[] | Uint8Array;

/** The two clocks timers can follow, as Flink's `TimeDomain`: watermarks, or the wall clock. */
export type TimeDomain = 'event' | 'processing';

/** A timer as `TimerQueue.pollDue` hands it out: the caller owns the object. */
export interface Timer {
  key: StateKey;
  /** `assignToKeyGroup(key, maxParallelism)`, as given to `add`. */
  keyGroup: number;
  /** ms since the epoch (an integer, possibly negative). */
  timestampMs: number;
}

/**
 * One keyed operator's timers in one time domain: a priority queue by timestamp that is
 * also a set, at most one timer per (key, timestamp). Flink: `KeyGroupedInternalPriorityQueue`
 * with `TimerHeapInternalTimer` (heap: `HeapPriorityQueueSet`; RocksDB:
 * `RocksDBCachingPriorityQueueSet`); the namespace Flink keeps per timer is not modelled.
 *
 * Timestamps are ms since the epoch: integers with |t| <= Number.MAX_SAFE_INTEGER (-0 is
 * taken as 0); any other value is refused with a `RangeError` naming it. Keys are state
 * keys; `keyGroup` must be `assignToKeyGroup(key, maxParallelism)`, in [0, maxParallelism)
 * (a `RangeError` otherwise, where the backend can tell). Ties on the timestamp fire in a
 * fixed order, (timestamp, key group, key) with keys ordered by their serialized form (heap:
 * the identity string; LSM: the escaped CBOR bytes), that does not depend on the order of
 * `add` calls, so a restored queue fires as the original would.
 * All calls are synchronous; LSM queues read and write the store inline.
 */
export interface TimerQueue {
  /** Adds timer (key, timestampMs); a no-op when it exists. */
  add(key: StateKey, keyGroup: number, timestampMs: number): void;
  /** Removes timer (key, timestampMs) if present. */
  delete(key: StateKey, keyGroup: number, timestampMs: number): void;
  /** The earliest timestamp, or undefined when empty. O(1). */
  peekTimestamp(): number | undefined;
  /**
   * Removes and returns the earliest timer if its timestamp <= `upToMs` (any number but
   * NaN, +-Infinity included: `Infinity` drains the queue), else undefined and nothing
   * changes. O(log n) on the heap; on the LSM one delete (a tombstone), plus one seek in
   * the polled key group when its cache of first timers runs empty (lsm-timers.ts).
   * @throws RangeError for NaN.
   */
  pollDue(upToMs: number): Timer | undefined;
  /** Number of timers (tests, metrics). LSM: after a restore, the first call counts them by a scan. */
  size(): number;
}

/**
 * One subtask's keyed state. The runtime calls `setCurrentKey` before it hands a record
 * to a keyed operator; every state object reads and writes the current key's entry.
 * State objects returned by the getters stay valid for the life of the backend.
 *
 * `operatorUid` scopes state names: two operators of one chain may both have "count".
 */
export interface KeyedStateBackend {
  /**
   * Whether `setCurrentKey` reads its key group. When false the caller may pass -1 instead
   * of hashing the key (a record's key group then costs nothing where nothing needs it):
   * the heap backend finds entries by key and computes key groups where a restore needs
   * them; the LSM backend keys its entries by key group.
   */
  readonly readsKeyGroup: boolean;
  /**
   * REQUIRES: 0 <= keyGroup < maxParallelism and keyGroup = assignToKeyGroup(key), or
   * keyGroup = -1 when `readsKeyGroup` is false.
   */
  setCurrentKey(key: StateKey, keyGroup: number): void;
  getCurrentKey(): StateKey | undefined;
  getValueState<T>(operatorUid: string, d: ValueStateDescriptor<T>): ValueState<T>;
  getListState<T>(operatorUid: string, d: ListStateDescriptor<T>): ListState<T>;
  getMapState<K, V>(operatorUid: string, d: MapStateDescriptor<K, V>): MapState<K, V>;
  getReducingState<T>(operatorUid: string, d: ReducingStateDescriptor<T>): ReducingState<T>;
  getAggregatingState<IN, ACC, OUT>(
    operatorUid: string,
    d: AggregatingStateDescriptor<IN, ACC, OUT>,
  ): AggregatingState<IN, OUT>;
  /**
   * Calls `fn(key)` once for every key that has a value in state `stateName` of
   * `operatorUid`, with that key current (its state reads and writes go to it). Keys are
   * collected first, so `fn` may change state. Flink: `KeyedStateBackend.applyToAllKeys`.
   * @throws TypeError when no state of that name is registered (get it in `open` first).
   */
  applyToAllKeys(operatorUid: string, stateName: string, fn: (key: StateKey) => void): void;
  /**
   * The timers of operator `operatorUid` in time domain `domain`: the same object for the
   * same arguments for the life of the backend. Timers are keyed state: snapshots carry
   * them, restores bring them back and rescaling hands each to the subtask owning its key
   * group. Flink: `InternalTimerServiceImpl`'s two queues over `KeyGroupedInternalPriorityQueue`.
   * @throws RangeError for a domain other than 'event' or 'processing'; (LSM) a RangeError
   *   when the timers' state id collides with a registered state's (rename the operator).
   */
  timers(operatorUid: string, domain: TimeDomain): TimerQueue;
  /** Background work in bounded steps (flush, compaction); returns true if more is pending. */
  maintenanceStep?(): boolean;
  /**
   * Synchronous phase of a snapshot for checkpoint `checkpointId`: captures the state as
   * of this call, cheaply (LSM: freeze the memtable; heap: serialize). Records may be
   * processed right after it returns; later writes never leak into this snapshot. The
   * returned job must be stepped to completion (or abandoned) and then released.
   * Flink: `SnapshotStrategy#syncPrepareResources`.
   */
  snapshot(checkpointId: number): StateSnapshotJob;
  /** Counters of an on-disk backend, for metrics; absent for heap state. */
  stats?(): StateBackendStats;
  /** Releases files and memory. The backend is unusable afterwards. */
  close(): Promise<void>;
}

/** Files of a finished snapshot, for the caller to put into checkpoint storage. */
export type SnapshotFiles =
  /**
   * Segment files, oldest first. `sharedName` is set when the segment came from a
   * restore (it is already in checkpoint storage under that name): do not upload it
   * again. Otherwise undefined. `localPath` is absolute or relative as the backend's
   * `dir`; `sizeBytes` is the file's size.
   */
  | { kind: 'lsm'; segments: Array<{ localPath: string; sizeBytes: number; sharedName: string | undefined }> }
  /** One file holding all heap state (format: heap-backend.ts file comment). */
  | { kind: 'heap'; localPath: string; sizeBytes: number };

/** The asynchronous phase of one snapshot. Flink: `SnapshotStrategy` / `AsyncSnapshotCallable`. */
export interface StateSnapshotJob {
  /**
   * One bounded step of the asynchronous phase (the mailbox loop calls it every turn,
   * between record batches). Returns the files once the snapshot is complete (the same
   * value on later calls), undefined while work remains. Never blocks for long (bounded
   * like maintenanceStep). Throws if called after `release()` or after the backend closed.
   */
  step(): SnapshotFiles | undefined;
  /**
   * The caller has put the files into checkpoint storage (hard links made), or gave up:
   * release pins (resume paused compaction, allow deferred deletions, delete a heap temp
   * file). The files may be deleted right after. Idempotent.
   */
  release(): void;
}

/** What a backend restores from: files already linked/copied into place by the caller. */
export type StateRestore =
  /**
   * Segment files, oldest first, with the name each has in this job's checkpoint storage
   * (absent for a savepoint's files: the next checkpoint uploads them).
   */
  | { kind: 'lsm'; segments: Array<{ path: string; sharedName?: string }> }
  /** The file a heap snapshot wrote. */
  | { kind: 'heap'; path: string }
  /**
   * Rescaling (LSM only): the state of several old subtasks, keeping only the key groups
   * in `keyGroups` (inclusive range, Flink's `KeyGroupRange`). Each source lists one old
   * subtask's segment files, oldest first; they are read, never changed or deleted (they
   * may be hard links into checkpoint storage). Old subtasks whose range does not
   * intersect `keyGroups` may be listed or left out. Flink:
   * `RocksDBIncrementalRestoreOperation` with key-group range clipping.
   */
  | { kind: 'lsm-rescale'; keyGroups: { start: number; end: number }; sources: Array<{ segments: Array<{ path: string }> }> }
  /**
   * Rescaling (heap only): several old subtasks' heap snapshot files, read only, keeping
   * the cells whose key's key group, `assignToKeyGroup(key, maxParallelism)`, lies in
   * `keyGroups` (inclusive range); states are merged by id. `maxParallelism` is the one the
   * files were written with (key identities hold the keys, not their groups). Files of old
   * subtasks whose range does not intersect `keyGroups` may be listed or left out; two
   * files holding the same key group of `keyGroups` (one file listed twice, say) are
   * refused as overlapping. Flink: `HeapRestoreOperation` with key-group ranges.
   */
  | { kind: 'heap-rescale'; keyGroups: { start: number; end: number }; maxParallelism: number; paths: string[] };

/** On-disk state figures, cumulative since the backend opened. */
export interface StateBackendStats {
  /** Live segment files now. */
  segmentCount: number;
  /** Memtables flushed to segments. */
  flushCount: number;
  /** Compaction merges completed. */
  compactionCount: number;
  /** Block reads served from the cache, and from disk. */
  blockCacheHits: number;
  blockCacheMisses: number;
}

/** A clock in milliseconds, injectable for TTL tests. */
export interface Clock {
  nowMs(): number;
}
export const systemClock: Clock = { nowMs: () => Date.now() };

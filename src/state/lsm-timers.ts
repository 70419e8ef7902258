/**
 * Timers in the LSM store, after Flink's `RocksDBCachingPriorityQueueSet` under
 * `KeyGroupPartitionedPriorityQueue`: each timer is one entry of the store, and a small
 * in-memory index over key groups finds the earliest one.
 *
 * Design:
 * - Entry key `keyGroup | stateId | ordered timestamp | escape(cbor(key))`, value one
 *   byte (key-encoding.ts, native-notes.md §3 "Timers"). The key group comes first, as for
 *   all keyed state, so checkpoints (incremental), restores and key-group-clipped rescales
 *   carry timers with no code of their own. Within a key group a timer state's entries
 *   sort by (timestamp, key): the group's earliest timer is its first entry.
 * - Per key group holding timers, a cache of its first entry keys (the backend option
 *   `timerCacheEntriesPerKeyGroup`, default 32; Flink's `OrderedByteArraySetCache` holds
 *   128), and `KeyGroupIndex`, a binary min-heap of those groups by (timestamp of the first
 *   entry, key group), as Flink's `KeyGroupPartitionedPriorityQueue` keeps a heap of
 *   per-key-group queues. `peekTimestamp` reads the heap's top.
 * - `pollDue` deletes the top group's first cached entry (a tombstone in the memtable); when
 *   the group's cache runs empty it is refilled by one seek from the entry just deleted,
 *   so tombstones of earlier polls are never walked over.
 * - `add` and `delete` at or below a group's last cached entry (or anywhere, when the
 *   cache holds the whole group) are decided by the cache; beyond it they read the entry
 *   first (a point read: memtable, then bloom filters). Either way duplicates write
 *   nothing, deletes of absent timers write no tombstone, and `size()` stays exact.
 * - The caches and index are built on first use: at most one seek per key group of
 *   [0, maxParallelism) (the backend does not know its own range; runs of empty groups
 *   are skipped by one seek) and a short scan per group holding timers. The count is
 *   taken on the first `size()` call (scanning the groups whose cache is not complete)
 *   and kept up to date afterwards.
 *
 * Invariants: `caches[g]` is undefined exactly when group g has no timer entry, else holds
 * the group's smallest entry keys ascending: every entry <= the last cached one is cached,
 * and all are when `complete`; the index holds exactly the groups with a cache, each with
 * the timestamp of its first entry; `count`, when known, is the number of timer entries.
 * Keys come back decoded from CBOR: -0 comes back as 0 (with the key group of -0), as
 * every LSM state key does.
 */
import assert from 'node:assert/strict';
import type { Encoder } from 'cbor-x';
import { newCborEncoder } from '../cbor-x.js';
import type { StateKey, Timer, TimerQueue } from './api.js';
import { escapedFastKey } from './cbor-fast.js';
import {
  composeKey,
  composeTimerKey,
  encodeStateValue,
  escapeKey,
  stateIdOfKey,
  timerPrefixSizeBytes,
  timerTimestampOfKey,
  unescapeKey,
} from './key-encoding.js';
import { compareBytes, keyGroupOf, prefixEnd, type LsmStore } from './lsm/index.js';
import { checkPollBound, checkTimerKeyGroup, checkTimerTimestamp } from './timers.js';

/** The value of every timer entry: stamp 0, no payload. Shared; never mutated. */
const timerValue = encodeStateValue(new Uint8Array(0), undefined);

/**
 * Default of the entry keys cached per key group (Flink's RocksDB queue caches 128,
 * `state.backend.rocksdb.timer-service.cache-size`). More saves seeks (one per this many
 * polls of a group) and store reads for adds and deletes inside the cached part; it costs
 * memory, up to this many keys (~100 bytes each) per key group that holds timers, and a
 * longer array splice per cached add or delete.
 */
export const timerCacheEntriesPerKeyGroupDefault = 32;
/** Upper bound of the option, a guard against a cache the size of the queue. */
export const timerCacheEntriesPerKeyGroupMax = 4096;

/**
 * A binary min-heap of key groups by (timestamp of their first timer, key group). Arrays
 * sized by max parallelism; `pos[g]` is the heap slot of group g, or -1.
 */
class KeyGroupIndex {
  private readonly firstTs: Float64Array;
  private readonly heap: Int32Array;
  private readonly pos: Int32Array;
  private length = 0;

  constructor(maxParallelism: number) {
    this.firstTs = new Float64Array(maxParallelism);
    this.heap = new Int32Array(maxParallelism);
    this.pos = new Int32Array(maxParallelism).fill(-1);
  }

  /** The key group holding the earliest timer, or -1 when there is none. */
  top(): number {
    return this.length === 0 ? -1 : this.heap[0]!;
  }
  firstTimestampOf(group: number): number {
    return this.firstTs[group]!;
  }

  /** Sets (or changes) the timestamp of group g's first timer. */
  set(g: number, timestampMs: number): void {
    this.firstTs[g] = timestampMs;
    let i = this.pos[g]!;
    if (i < 0) {
      i = this.length++;
      this.heap[i] = g;
      this.pos[g] = i;
    }
    this.siftDown(this.siftUp(i));
  }

  /** Removes group g (it holds no timer any more). */
  remove(g: number): void {
    const i = this.pos[g]!;
    assert.ok(i >= 0, `key group ${g} is not in the timer index`);
    this.pos[g] = -1;
    const last = this.heap[--this.length]!;
    if (i === this.length) return;
    this.heap[i] = last;
    this.pos[last] = i;
    this.siftDown(this.siftUp(i));
  }

  private before(a: number, b: number): boolean {
    const ta = this.firstTs[a]!;
    const tb = this.firstTs[b]!;
    return ta < tb || (ta === tb && a < b);
  }

  private place(i: number, g: number): void {
    this.heap[i] = g;
    this.pos[g] = i;
  }

  /** Moves the group at slot i up; returns its final slot. */
  private siftUp(i: number): number {
    const g = this.heap[i]!;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      const p = this.heap[parent]!;
      if (!this.before(g, p)) break;
      this.place(i, p);
      i = parent;
    }
    this.place(i, g);
    return i;
  }

  private siftDown(i: number): void {
    const g = this.heap[i]!;
    for (;;) {
      let child = 2 * i + 1;
      if (child >= this.length) break;
      if (child + 1 < this.length && this.before(this.heap[child + 1]!, this.heap[child]!)) child++;
      const c = this.heap[child]!;
      if (!this.before(c, g)) break;
      this.place(i, c);
      i = child;
    }
    this.place(i, g);
  }
}

/**
 * The first entry keys of one key group's timers, ascending (Flink:
 * `OrderedByteArraySetCache`). Invariants: every timer entry of the group that is <= the
 * last cached one is cached; `complete`: every entry of the group is cached; never empty
 * (a group without timers has no cache).
 */
interface GroupCache {
  entries: Uint8Array[];
  complete: boolean;
}

/** Slot of `entry` in the ascending `entries`, or where it would go. */
function search(entries: readonly Uint8Array[], entry: Uint8Array): { at: number; found: boolean } {
  let lo = 0;
  let hi = entries.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (compareBytes(entries[mid]!, entry) < 0) lo = mid + 1;
    else hi = mid;
  }
  return { at: lo, found: lo < entries.length && compareBytes(entries[lo]!, entry) === 0 };
}

export class LsmTimerQueue implements TimerQueue {
  /** Made at the first key that is neither a short ASCII string nor a 32-bit integer (cbor-x loads at its first use, ../cbor-x.ts). */
  private keyCodec: Encoder | undefined;
  /** Built on first use (`ensureIndex`), with the caches. */
  private index: KeyGroupIndex | undefined;
  /** Per key group; once the index is built, undefined exactly when the group has no timers. */
  private readonly caches: (GroupCache | undefined)[];
  private count: number | undefined;

  /**
   * REQUIRES: `stateId` is `stateIdOf(operatorUid, '_timers/<domain>')`, registered with the
   * backend; 1 <= cacheEntriesPerKeyGroup <= timerCacheEntriesPerKeyGroupMax.
   */
  constructor(
    private readonly store: LsmStore,
    private readonly stateId: number,
    private readonly maxParallelism: number,
    private readonly cacheEntriesPerKeyGroup = timerCacheEntriesPerKeyGroupDefault,
  ) {
    assert.ok(Number.isInteger(cacheEntriesPerKeyGroup) && cacheEntriesPerKeyGroup >= 1 && cacheEntriesPerKeyGroup <= timerCacheEntriesPerKeyGroupMax);
    this.caches = new Array<GroupCache | undefined>(maxParallelism).fill(undefined);
  }

  add(key: StateKey, keyGroup: number, timestampMs: number): void {
    const entry = this.entryKey(key, keyGroup, timestampMs);
    const index = this.ensureIndex();
    const cache = this.caches[keyGroup];
    if (cache === undefined) {
      this.write(entry);
      this.caches[keyGroup] = { entries: [entry], complete: true };
      index.set(keyGroup, timerTimestampOfKey(entry));
      return;
    }
    const { entries } = cache;
    if (!cache.complete && compareBytes(entry, entries[entries.length - 1]!) > 0) {
      // Beyond the cached part: only the store knows whether it exists.
      if (this.store.get(entry) === undefined) this.write(entry);
      return;
    }
    const { at, found } = search(entries, entry);
    if (found) return;
    this.write(entry);
    entries.splice(at, 0, entry);
    if (entries.length > this.cacheEntriesPerKeyGroup) {
      entries.pop();
      cache.complete = false;
    }
    if (at === 0) index.set(keyGroup, timerTimestampOfKey(entry));
  }

  delete(key: StateKey, keyGroup: number, timestampMs: number): void {
    const entry = this.entryKey(key, keyGroup, timestampMs);
    this.ensureIndex();
    const cache = this.caches[keyGroup];
    if (cache === undefined) return;
    const { entries } = cache;
    if (!cache.complete && compareBytes(entry, entries[entries.length - 1]!) > 0) {
      if (this.store.get(entry) !== undefined) this.erase(entry);
      return;
    }
    const { at, found } = search(entries, entry);
    if (!found) return;
    this.erase(entry);
    entries.splice(at, 1);
    if (at === 0) this.firstChanged(keyGroup, cache, entry);
  }

  peekTimestamp(): number | undefined {
    const index = this.ensureIndex();
    const g = index.top();
    return g < 0 ? undefined : index.firstTimestampOf(g);
  }

  pollDue(upToMs: number): Timer | undefined {
    checkPollBound(upToMs);
    const index = this.ensureIndex();
    const g = index.top();
    if (g < 0) return undefined;
    const timestampMs = index.firstTimestampOf(g);
    if (timestampMs > upToMs) return undefined;
    const cache = this.caches[g]!;
    const entry = cache.entries.shift()!;
    this.erase(entry);
    this.firstChanged(g, cache, entry);
    const { raw } = unescapeKey(entry, timerPrefixSizeBytes);
    return { key: (this.keyCodec ??= newCborEncoder({ useRecords: false, copyBuffers: true })).decode(raw) as StateKey, keyGroup: g, timestampMs };
  }

  size(): number {
    if (this.count === undefined) {
      this.ensureIndex();
      let n = 0;
      for (const [g, cache] of this.caches.entries()) {
        if (cache === undefined) continue;
        if (cache.complete) n += cache.entries.length;
        else for (const _ of this.store.scanPrefix(this.groupPrefix(g))) n++;
      }
      this.count = n;
    }
    return this.count;
  }

  private write(entry: Uint8Array): void {
    this.store.put(entry, timerValue);
    if (this.count !== undefined) this.count++;
  }

  private erase(entry: Uint8Array): void {
    this.store.delete(entry);
    if (this.count !== undefined) this.count--;
  }

  /** The entry key of a timer, after checking its arguments (`RangeError`). */
  private entryKey(key: StateKey, keyGroup: number, timestampMs: number): Uint8Array {
    const t = checkTimerTimestamp(timestampMs);
    checkTimerKeyGroup(keyGroup, this.maxParallelism);
    return composeTimerKey(keyGroup, this.stateId, t, escapedFastKey(key) ?? escapeKey((this.keyCodec ??= newCborEncoder({ useRecords: false, copyBuffers: true })).encode(key)));
  }

  /** `keyGroup | stateId`: the prefix of one key group's timers. */
  private groupPrefix(g: number): Uint8Array {
    return composeKey(g, this.stateId, new Uint8Array(0));
  }

  /**
   * Group g's first cached entry went (`removed`, now a tombstone in the store): update the
   * index, refilling an emptied cache from the store by one seek from `removed`.
   */
  private firstChanged(g: number, cache: GroupCache, removed: Uint8Array): void {
    const index = this.index!;
    if (cache.entries.length === 0 && !cache.complete) {
      const loaded = this.load(g, removed);
      if (loaded !== undefined) {
        this.caches[g] = loaded;
        index.set(g, timerTimestampOfKey(loaded.entries[0]!));
        return;
      }
    } else if (cache.entries.length > 0) {
      index.set(g, timerTimestampOfKey(cache.entries[0]!));
      return;
    }
    this.caches[g] = undefined;
    index.remove(g);
  }

  /** Up to `cacheEntriesPerKeyGroup` entries of group g from `start` on, or undefined if none. */
  private load(g: number, start: Uint8Array): GroupCache | undefined {
    const entries: Uint8Array[] = [];
    for (const [k] of this.store.scan(start, prefixEnd(this.groupPrefix(g)))) {
      assert.ok(keyGroupOf(k) === g);
      entries.push(k);
      if (entries.length === this.cacheEntriesPerKeyGroup) break;
    }
    return entries.length === 0 ? undefined : { entries, complete: entries.length < this.cacheEntriesPerKeyGroup };
  }

  /**
   * The index, built on first use. A scan without an upper bound from `g | stateId` reads
   * the group's timers (up to the cache size) and stops at the first entry that is not
   * one: another state's in group g, or an entry of a later group, which skips every group
   * between (they hold no entry at all: key groups outside the subtask's range, say). So
   * at most one seek per key group of [0, maxParallelism).
   */
  private ensureIndex(): KeyGroupIndex {
    if (this.index !== undefined) return this.index;
    const index = new KeyGroupIndex(this.maxParallelism);
    let g = 0;
    while (g < this.maxParallelism) {
      const entries: Uint8Array[] = [];
      /** Group of the first entry after g's timers that is not a timer of g; -1: none read. */
      let nextGroup = -1;
      for (const [k] of this.store.scan(this.groupPrefix(g))) {
        if (keyGroupOf(k) !== g || stateIdOfKey(k) !== this.stateId) {
          nextGroup = keyGroupOf(k);
          break;
        }
        entries.push(k);
        if (entries.length === this.cacheEntriesPerKeyGroup) break;
      }
      if (entries.length > 0) {
        this.caches[g] = { entries, complete: nextGroup >= 0 };
        index.set(g, timerTimestampOfKey(entries[0]!));
      } else if (nextGroup < 0) break; // nothing at or after g
      g = entries.length > 0 || nextGroup <= g ? g + 1 : nextGroup;
    }
    this.index = index;
    return index;
  }
}

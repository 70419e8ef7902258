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
 * - `KeyGroupIndex`: for every key group holding timers, its first entry (bytes and
 *   timestamp), in a binary min-heap over key groups ordered by (timestamp, key group).
 *   Flink keeps a heap of per-key-group queues the same way
 *   (`KeyGroupPartitionedPriorityQueue`); we cache one element per group where Flink's
 *   RocksDB queue caches up to 128, so every poll pays one seek.
 * - `add` and `delete` read the entry first (a point read, usually the memtable or a bloom
 *   filter miss) so duplicates write nothing, deletes of absent timers write no tombstone,
 *   and `size()` stays exact. `pollDue` deletes the group's first entry and seeks the next
 *   one from it, so the tombstones of earlier polls are never walked over.
 * - The index is built on first use: one seek per key group in [0, maxParallelism) (the
 *   backend does not know its own range). The count is taken by a scan on the first
 *   `size()` call and kept up to date afterwards.
 *
 * Invariants: `index` holds exactly the key groups with at least one timer entry, each
 * with its smallest entry key; `count`, when known, is the number of timer entries.
 * Keys come back decoded from CBOR: -0 comes back as 0 (with the key group of -0), as
 * every LSM state key does.
 */
import assert from 'node:assert/strict';
import { Encoder } from 'cbor-x';
import type { StateKey, Timer, TimerQueue } from './api.js';
import {
  composeKey,
  composeTimerKey,
  encodeStateValue,
  escapeKey,
  timerPrefixSizeBytes,
  timerTimestampOfKey,
  unescapeKey,
} from './key-encoding.js';
import { compareBytes, keyGroupOf, prefixEnd, type LsmStore } from './lsm/index.js';
import { checkPollBound, checkTimerKeyGroup, checkTimerTimestamp } from './timers.js';

/** The value of every timer entry: stamp 0, no payload. Shared; never mutated. */
const timerValue = encodeStateValue(new Uint8Array(0), undefined);

/**
 * A binary min-heap of key groups by (timestamp of their first timer, key group), with
 * each group's first entry key. Arrays sized by max parallelism; `pos[g]` is the heap slot
 * of group g or -1.
 */
class KeyGroupIndex {
  private readonly firstKey: (Uint8Array | undefined)[];
  private readonly firstTs: Float64Array;
  private readonly heap: Int32Array;
  private readonly pos: Int32Array;
  private length = 0;

  constructor(maxParallelism: number) {
    this.firstKey = new Array<Uint8Array | undefined>(maxParallelism).fill(undefined);
    this.firstTs = new Float64Array(maxParallelism);
    this.heap = new Int32Array(maxParallelism);
    this.pos = new Int32Array(maxParallelism).fill(-1);
  }

  /** The key group holding the earliest timer, or -1 when there is none. */
  top(): number {
    return this.length === 0 ? -1 : this.heap[0]!;
  }
  firstKeyOf(group: number): Uint8Array | undefined {
    return this.firstKey[group];
  }
  firstTimestampOf(group: number): number {
    return this.firstTs[group]!;
  }

  /** Sets (or replaces) group g's first entry. */
  set(g: number, key: Uint8Array, timestampMs: number): void {
    this.firstKey[g] = key;
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
    this.firstKey[g] = undefined;
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

export class LsmTimerQueue implements TimerQueue {
  private readonly keyCodec = new Encoder({ useRecords: false, copyBuffers: true });
  private index: KeyGroupIndex | undefined;
  private count: number | undefined;

  /** REQUIRES: `stateId` is `stateIdOf(operatorUid, '_timers/<domain>')`, registered with the backend. */
  constructor(
    private readonly store: LsmStore,
    private readonly stateId: number,
    private readonly maxParallelism: number,
  ) {}

  add(key: StateKey, keyGroup: number, timestampMs: number): void {
    const entry = this.entryKey(key, keyGroup, timestampMs);
    const index = this.ensureIndex();
    if (this.store.get(entry) !== undefined) return;
    this.store.put(entry, timerValue);
    if (this.count !== undefined) this.count++;
    const first = index.firstKeyOf(keyGroup);
    if (first === undefined || compareBytes(entry, first) < 0) index.set(keyGroup, entry, timerTimestampOfKey(entry));
  }

  delete(key: StateKey, keyGroup: number, timestampMs: number): void {
    const entry = this.entryKey(key, keyGroup, timestampMs);
    const index = this.ensureIndex();
    if (this.store.get(entry) === undefined) return;
    this.store.delete(entry);
    if (this.count !== undefined) this.count--;
    if (compareBytes(entry, index.firstKeyOf(keyGroup)!) === 0) this.refill(index, keyGroup, entry);
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
    const entry = index.firstKeyOf(g)!;
    this.store.delete(entry);
    if (this.count !== undefined) this.count--;
    this.refill(index, g, entry);
    const { raw } = unescapeKey(entry, timerPrefixSizeBytes);
    return { key: this.keyCodec.decode(raw) as StateKey, keyGroup: g, timestampMs };
  }

  size(): number {
    if (this.count === undefined) {
      let n = 0;
      for (let g = 0; g < this.maxParallelism; g++) {
        const prefix = this.groupPrefix(g);
        for (const _ of this.store.scan(prefix, prefixEnd(prefix))) n++;
      }
      this.count = n;
    }
    return this.count;
  }

  /** The entry key of a timer, after checking its arguments (`RangeError`). */
  private entryKey(key: StateKey, keyGroup: number, timestampMs: number): Uint8Array {
    const t = checkTimerTimestamp(timestampMs);
    checkTimerKeyGroup(keyGroup, this.maxParallelism);
    return composeTimerKey(keyGroup, this.stateId, t, escapeKey(this.keyCodec.encode(key)));
  }

  /** `keyGroup | stateId`: the prefix of one key group's timers. */
  private groupPrefix(g: number): Uint8Array {
    return composeKey(g, this.stateId, new Uint8Array(0));
  }

  /**
   * Group g's first entry was `deleted` (now a tombstone): seek the next one from there and
   * put it in the index, or drop the group when it has none.
   */
  private refill(index: KeyGroupIndex, g: number, deleted: Uint8Array): void {
    const next = this.store.first(deleted, prefixEnd(this.groupPrefix(g)));
    if (next === undefined) index.remove(g);
    else index.set(g, next[0], timerTimestampOfKey(next[0]));
  }

  /** The index, built on first use by one seek per key group. */
  private ensureIndex(): KeyGroupIndex {
    if (this.index !== undefined) return this.index;
    const index = new KeyGroupIndex(this.maxParallelism);
    for (let g = 0; g < this.maxParallelism; g++) {
      const prefix = this.groupPrefix(g);
      const first = this.store.first(prefix, prefixEnd(prefix));
      if (first === undefined) continue;
      assert.ok(keyGroupOf(first[0]) === g);
      index.set(g, first[0], timerTimestampOfKey(first[0]));
    }
    this.index = index;
    return index;
  }
}

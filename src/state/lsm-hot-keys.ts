/**
 * One state's index from string keys to their entries in the LSM store's mutable memtable:
 * a record whose key was read or written since the last freeze finds its entry with one
 * `Map` look-up of the key string, without composing, hashing or probing its store key.
 * The word count's counting subtask spends most of its state time on exactly that look-up
 * (native-notes.md §3, "Keyed state in the running word count"). Idea: RocksDB's row
 * cache, here of entry handles rather than copies, so it can never return a stale value.
 *
 * Deferred integers: an integer written over an owned value of the same encoded length is
 * kept in the slot (`defer`) and its bytes are written in place only by `writeBack`,
 * which the store calls before anything else reads the mutable memtable (a freeze, so a
 * snapshot or a flush; a scan). A count updated a thousand times between two freezes is
 * then encoded once, and its reads and writes touch neither the entry nor its value bytes
 * (separate objects: cache misses on a large key set). Idea: a write-back cache.
 *
 * Invariants: every slot's entry belongs to the mutable memtable of `generation` and is
 * the entry of (this state, the string, `slot.keyGroup`); the map is emptied when the
 * store's `memtableGeneration` moves on (a freeze or close), after `writeBack`, so an
 * entry of a frozen memtable is never written. A dirty slot's entry is owned and its
 * value is `slot.length` bytes long: every other write of the key goes through the state
 * cell, which calls `forget` or `clean` (lsm-state-cell.ts). Entries are never removed
 * from a memtable, so a cached entry stays the key's newest version (a tombstone shows as
 * `value === null`). Size: at most one slot per key of the mutable memtable.
 */
import assert from 'node:assert/strict';
import type { DeferredWrites, LsmStore } from './lsm/store.js';
import type { MemtableEntry } from './lsm/memtable.js';
import { storedFastInt } from './lsm-value-codec.js';

/** 2^32: a memtable entry's `abbrev` divided by it is its key's first two bytes. */
const keyGroupScale = 2 ** 32;

/** A cached entry, and its deferred integer when `dirty`. */
export interface HotSlot {
  readonly entry: MemtableEntry;
  readonly keyGroup: number;
  /** Length of the entry's owned value, bytes; -1 when the memtable does not own it. */
  length: number;
  /** The key's value when `dirty` (newer than the entry's bytes). */
  value: number;
  dirty: boolean;
}

export class HotKeys implements DeferredWrites {
  private readonly slots = new Map<string, HotSlot>();
  /** Slots that were dirty when last added; `writeBack` skips the ones cleaned since. */
  private readonly dirty: HotSlot[] = [];
  /** The store's `memtableGeneration` the slots belong to. */
  generation = -1;

  constructor(private readonly store: LsmStore) {
    store.addDeferredWrites(this);
  }

  /** The current slot of `key` in `keyGroup`, or undefined when not cached. */
  get(key: string, keyGroup: number): HotSlot | undefined {
    if (this.generation !== this.store.memtableGeneration) {
      this.reset();
      return undefined;
    }
    const slot = this.slots.get(key);
    if (slot === undefined) return undefined;
    if (slot.keyGroup !== keyGroup) {
      // The same string in another key group: the caller's slow path will cache that
      // entry in place of this one, and must not find this one's bytes stale.
      if (slot.dirty) this.writeSlot(slot);
      return undefined;
    }
    return slot;
  }

  /**
   * Caches the mutable memtable's entry of `storeKey` (this state's key for `key`), if
   * the memtable has one. REQUIRES: `hash === hashBytes(storeKey)`; no dirty slot of `key`.
   */
  remember(key: string, storeKey: Uint8Array, hash: number): void {
    if (this.generation !== this.store.memtableGeneration) this.reset();
    const entry = this.store.mutableEntry(storeKey, hash);
    if (entry === undefined) return;
    const slot: HotSlot = { entry, keyGroup: Math.floor(entry.abbrev / keyGroupScale), length: this.store.ownedValueLength(entry), value: 0, dirty: false };
    this.slots.set(key, slot);
  }

  /** Keeps `value` (a fast-path integer whose stored value is `slot.length` bytes) for `writeBack`. */
  defer(slot: HotSlot, value: number): void {
    slot.value = value;
    if (!slot.dirty) {
      slot.dirty = true;
      this.dirty.push(slot);
    }
  }

  /**
   * The entry of `slot` was just written by the cell (after it set `slot.dirty = false`):
   * its bytes are current, `length` is its new owned length.
   */
  clean(slot: HotSlot): void {
    slot.length = this.store.ownedValueLength(slot.entry);
  }

  /** Drops the slot of `key`, which `get` just returned (its entry is about to be written in a way the slot cannot follow, e.g. deleted). */
  forget(key: string): void {
    const slot = this.slots.get(key);
    if (slot === undefined) return;
    slot.dirty = false;
    this.slots.delete(key);
  }

  /** Writes every deferred integer into its entry's bytes, in place. */
  writeBack(): void {
    for (let i = 0; i < this.dirty.length; i++) {
      const slot = this.dirty[i]!;
      if (slot.dirty) this.writeSlot(slot);
    }
    this.dirty.length = 0;
  }

  private writeSlot(slot: HotSlot): void {
    slot.dirty = false;
    const written = this.store.overwriteEntry(slot.entry, this.generation, storedFastInt(slot.value));
    assert.ok(written, 'a deferred integer could not be written in place');
  }

  /** A new generation: a freeze wrote the deferred integers back first; a close drops them with the memtable. */
  private reset(): void {
    this.slots.clear();
    this.dirty.length = 0;
    this.generation = this.store.memtableGeneration;
  }
}

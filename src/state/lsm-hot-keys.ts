/**
 * One state's index from string keys to their entries in the LSM store's mutable memtable:
 * a record whose key was read or written since the last freeze finds its entry with one
 * `Map` look-up of the key string, without composing, hashing or probing its store key,
 * and rewrites an integer value in place (`LsmStore.overwriteEntry`). The word count's
 * counting subtask spends most of its state time on exactly that look-up (native-notes.md
 * §3, "Keyed state in the running word count"). Idea: RocksDB's row cache, here of entry
 * handles rather than copies, so it can never return a stale value.
 *
 * Invariants: every cached entry belongs to the mutable memtable of `generation` and is
 * the entry of (this state, the string, the key group in its key's first two bytes); the
 * map is emptied when the store's `memtableGeneration` moves on (a freeze or close), so
 * an entry of a frozen memtable is never written. Entries are never removed from a
 * memtable, so a cached entry stays the key's newest version (a tombstone shows as
 * `value === null`). Size: at most one map entry per key of the mutable memtable.
 */
import type { LsmStore } from './lsm/index.js';
import type { MemtableEntry } from './lsm/memtable.js';

/** 2^32: a memtable entry's `abbrev` divided by it is its key's first two bytes. */
const keyGroupScale = 2 ** 32;

export class HotKeys {
  private readonly entries = new Map<string, MemtableEntry>();
  /** The store's `memtableGeneration` the entries belong to. */
  generation = -1;

  constructor(private readonly store: LsmStore) {}

  /** The current entry of `key` in `keyGroup`, or undefined when not cached. */
  get(key: string, keyGroup: number): MemtableEntry | undefined {
    if (this.generation !== this.store.memtableGeneration) {
      this.entries.clear();
      this.generation = this.store.memtableGeneration;
      return undefined;
    }
    const entry = this.entries.get(key);
    if (entry === undefined || Math.floor(entry.abbrev / keyGroupScale) !== keyGroup) return undefined;
    return entry;
  }

  /**
   * Caches the mutable memtable's entry of `storeKey` (this state's key for `key`), if
   * the memtable has one. REQUIRES: `hash === hashBytes(storeKey)`.
   */
  remember(key: string, storeKey: Uint8Array, hash: number): void {
    if (this.generation !== this.store.memtableGeneration) {
      this.entries.clear();
      this.generation = this.store.memtableGeneration;
    }
    const entry = this.store.mutableEntry(storeKey, hash);
    if (entry !== undefined) this.entries.set(key, entry);
  }
}

/**
 * A hash index over byte keys: point look-ups of a memtable's entries in O(1) instead of
 * a skip-list search (O(log n) byte comparisons, each a cache miss on a large list).
 * Idea: RocksDB's hash-indexed memtables (`HashSkipListRep`, and `inplace_update_support`
 * which overwrites the value of an existing key where it lies).
 *
 * Open addressing with linear probing over a power-of-two table of entry numbers; the
 * caller gives each key's 32-bit hash (`hashBytes`), computed once per store access and
 * reused for the bloom filters. Entries are never removed (a memtable keeps a tombstone
 * as a value), so no deletion markers are needed.
 *
 * Invariants: slot i holds 0 (empty) or 1 + an entry number, with that entry's key hash;
 * the table is at most half full, so every probe ends at an empty slot; each entry is in
 * exactly one slot.
 */
import assert from 'node:assert/strict';

/** Initial table size, slots; it doubles whenever it would be more than half full. */
const initialSlotCount = 64;

/**
 * Maps each entry's `key` to the entry. The table interleaves per slot the key's hash
 * and 1 + the entry's number (0: empty), so a probe reads one cache line.
 */
export class HashIndex<T extends { readonly key: Uint8Array }> {
  private table = new Int32Array(2 * initialSlotCount);
  private readonly entries: T[] = [];

  /** Number of entries held. */
  get count(): number {
    return this.entries.length;
  }

  /** The entry whose key equals `key`, or undefined. REQUIRES: `hash === hashBytes(key)`. */
  get(key: Uint8Array, hash: number): T | undefined {
    const table = this.table;
    const mask = (table.length >>> 1) - 1;
    const h = hash | 0;
    for (let i = h & mask; ; i = (i + 1) & mask) {
      const entry = table[2 * i + 1]!;
      if (entry === 0) return undefined;
      if (table[2 * i] === h) {
        const found = this.entries[entry - 1]!;
        if (equalBytes(found.key, key)) return found;
      }
    }
  }

  /**
   * Adds `entry`. REQUIRES: no entry with an equal key (checked by `get` first) and
   * `hash === hashBytes(entry.key)`.
   */
  add(entry: T, hash: number): void {
    if ((this.entries.length + 1) * 2 > this.table.length >>> 1) this.grow();
    this.entries.push(entry);
    this.place(hash | 0, this.entries.length);
  }

  private place(h: number, entryPlusOne: number): void {
    const table = this.table;
    const mask = (table.length >>> 1) - 1;
    let i = h & mask;
    while (table[2 * i + 1] !== 0) i = (i + 1) & mask;
    table[2 * i] = h;
    table[2 * i + 1] = entryPlusOne;
  }

  private grow(): void {
    const old = this.table;
    this.table = new Int32Array(old.length * 2);
    for (let i = 0; i < old.length; i += 2) if (old[i + 1] !== 0) this.place(old[i]!, old[i + 1]!);
    assert.ok(this.entries.length * 2 < this.table.length >>> 1, 'hash index growth');
  }
}

/** Byte equality (same length, same bytes). */
export function equalBytes(a: Uint8Array, b: Uint8Array): boolean {
  const n = a.length;
  if (n !== b.length) return false;
  for (let i = 0; i < n; i++) if (a[i] !== b[i]) return false;
  return true;
}

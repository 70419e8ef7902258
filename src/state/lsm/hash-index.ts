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
 * Invariants: `slots[i]` is 0 (empty) or 1 + an entry number; the table is at most half
 * full (`count * 2 <= slots.length`), so every probe ends at an empty slot; the entry
 * number of a key is in `slotHashes`' twin `slots`, its hash in `slotHashes[i]`.
 */
import assert from 'node:assert/strict';

/** Initial table size, slots; it doubles whenever it would be more than half full. */
const initialSlotCount = 64;

export class HashIndex<T> {
  private slots = new Int32Array(initialSlotCount);
  private slotHashes = new Int32Array(initialSlotCount);
  private readonly keys: Uint8Array[] = [];
  private readonly values: T[] = [];

  /** Number of keys held. */
  get count(): number {
    return this.keys.length;
  }

  /** The value of `key`, or undefined. REQUIRES: `hash === hashBytes(key)`. */
  get(key: Uint8Array, hash: number): T | undefined {
    const mask = this.slots.length - 1;
    const h = hash | 0;
    for (let i = h & mask; ; i = (i + 1) & mask) {
      const slot = this.slots[i]!;
      if (slot === 0) return undefined;
      if (this.slotHashes[i] === h && equalBytes(this.keys[slot - 1]!, key)) return this.values[slot - 1];
    }
  }

  /**
   * Adds `key -> value`. REQUIRES: `key` absent (checked by `get` first) and
   * `hash === hashBytes(key)`. Keeps a reference to `key`.
   */
  add(key: Uint8Array, hash: number, value: T): void {
    if ((this.keys.length + 1) * 2 > this.slots.length) this.grow();
    this.keys.push(key);
    this.values.push(value);
    this.place(hash | 0, this.keys.length);
  }

  private place(h: number, slot: number): void {
    const mask = this.slots.length - 1;
    let i = h & mask;
    while (this.slots[i] !== 0) i = (i + 1) & mask;
    this.slots[i] = slot;
    this.slotHashes[i] = h;
  }

  private grow(): void {
    const oldSlots = this.slots;
    const oldHashes = this.slotHashes;
    this.slots = new Int32Array(oldSlots.length * 2);
    this.slotHashes = new Int32Array(oldSlots.length * 2);
    for (let i = 0; i < oldSlots.length; i++) if (oldSlots[i] !== 0) this.place(oldHashes[i]!, oldSlots[i]!);
    assert.ok(this.keys.length * 2 < this.slots.length, 'hash index growth');
  }
}

/** Byte equality (same length, same bytes). */
export function equalBytes(a: Uint8Array, b: Uint8Array): boolean {
  const n = a.length;
  if (n !== b.length) return false;
  for (let i = 0; i < n; i++) if (a[i] !== b[i]) return false;
  return true;
}

/**
 * The memtable: a skip list of byte keys in ascending unsigned order, holding the newest
 * value (or tombstone) per key, with a running byte size. Idea: LevelDB's `MemTable`
 * over its `SkipList` (Pugh 1990), p = 1/4.
 *
 * Point reads and writes go through a hash index (hash-index.ts) to a key's node and
 * never search the list; a write to an existing key replaces the node's value (RocksDB's
 * `inplace_update_support`: no older version of the key can be needed, because a
 * snapshot freezes the memtable and writes then go to a new one), and `overwrite` even
 * rewrites the value's bytes in place. A new key is indexed at once and linked into the
 * list, with the other new keys in sorted order, when a cursor next needs the order
 * (RocksDB's vector memtable sorts on iteration likewise). Cursors walk the list.
 *
 * Invariants: level-0 list is strictly ascending; every node at level i is also on all
 * levels below; the index holds the list's nodes plus `pending` (new, not yet linked);
 * `sizeBytes` = sum over nodes of key + value + a fixed overhead. A memtable becomes
 * immutable (`frozen`) before it is flushed and its keys and values never change after
 * (its first cursor may still link pending nodes, which changes no content).
 */
import assert from 'node:assert/strict';
import { hashBytes } from './bloom.js';
import { compareBytes } from './bytes.js';
import { memtableEntryOverheadBytes, skiplistLevelsMax } from './constants.js';
import type { Cursor } from './cursor.js';
import { HashIndex } from './hash-index.js';

/** A memtable entry as `entry()` hands it out: read its value, write through `overwriteEntry`. */
export interface MemtableEntry {
  readonly key: Uint8Array;
  /** `abbreviate(key)`: its integer part above 2^32 is the key's first two bytes (the key group). */
  readonly abbrev: number;
  readonly value: Uint8Array | null;
}

interface Node extends MemtableEntry {
  readonly key: Uint8Array;
  /** `abbreviate(key)`: orders most node pairs without reading the key's bytes. */
  readonly abbrev: number;
  value: Uint8Array | null;
  /** The memtable allocated `value` (`overwrite`) and may rewrite its bytes in place. */
  owned: boolean;
  next: (Node | undefined)[];
}

/** Key order of two nodes: abbreviations first, bytes on a tie. */
function compareNodes(a: Node, b: Node): number {
  if (a.abbrev !== b.abbrev) return a.abbrev < b.abbrev ? -1 : 1;
  return compareBytes(a.key, b.key);
}

/** Bytes of a key that `abbreviate` packs: 6 fit a double's 53-bit integers exactly. */
const abbrevSizeBytes = 6;

/**
 * The first 6 bytes of `key` as a big-endian integer, zero-padded: if
 * `abbreviate(a) < abbreviate(b)` then `a < b` (unsigned byte order); equal
 * abbreviations need the full comparison. Idea: PostgreSQL's abbreviated sort keys. Each
 * search step then reads one node instead of a node, its key and the key's bytes.
 */
function abbreviate(key: Uint8Array): number {
  let n = 0;
  for (let i = 0; i < abbrevSizeBytes; i++) n = n * 256 + (i < key.length ? key[i]! : 0);
  return n;
}

export class Memtable {
  private readonly head: Node = { key: new Uint8Array(0), abbrev: 0, value: null, owned: false, next: [] };
  private level = 1;
  private rand = 0x9e3779b9;
  private readonly index = new HashIndex<Node>();
  /**
   * The last key array `get` found and its node: a write of the very same array (a
   * read-modify-write of one record) skips the index probe. Stays valid because a
   * memtable never drops or moves a node.
   */
  private lastKey: Uint8Array | undefined;
  private lastNode: Node | undefined;
  /** Indexed nodes not yet linked into the skip list (`linkPending`), in insertion order. */
  private pending: Node[] = [];
  /** Approximate heap bytes held, see `memtableEntryOverheadBytes`. */
  sizeBytes = 0;
  entryCount = 0;
  frozen = false;

  constructor() {
    for (let i = 0; i < skiplistLevelsMax; i++) this.head.next.push(undefined);
  }

  private randomLevel(): number {
    // xorshift32: deterministic, cheap; two bits per level give p = 1/4.
    let x = this.rand;
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    this.rand = x >>> 0;
    let level = 1;
    while (level < skiplistLevelsMax && (x & 3) === 0) {
      level++;
      x >>>= 2;
    }
    return level;
  }

  /** Fills `update` with the last node before `key` per level; returns the level-0 successor. */
  private findGreaterOrEqual(key: Uint8Array, update?: Node[]): Node | undefined {
    const abbrev = abbreviate(key);
    let node = this.head;
    for (let i = this.level - 1; i >= 0; i--) {
      let next = node.next[i];
      while (next !== undefined && (next.abbrev < abbrev || (next.abbrev === abbrev && compareBytes(next.key, key) < 0))) {
        node = next;
        next = node.next[i];
      }
      if (update !== undefined) update[i] = node;
    }
    return node.next[0];
  }

  /**
   * Inserts or replaces. `value === null` writes a tombstone. Keeps references.
   * REQUIRES: `hash === hashBytes(key)` when given.
   */
  put(key: Uint8Array, value: Uint8Array | null, hash = hashBytes(key)): void {
    assert.ok(!this.frozen, 'write to a frozen memtable');
    const found = this.find(key, hash);
    if (found !== undefined) this.replace(found, value, false);
    else this.insert(key, value, false, hash);
  }

  /**
   * Writes `key -> a copy of value`, which the memtable owns: the next `overwrite` of the
   * key copies its bytes into that copy when the lengths match (no allocation), so the
   * caller may reuse `value` at once. A value that `get` or a cursor returned for `key`
   * is valid until the key's next write. Keeps a reference to `key`.
   * REQUIRES: `hash === hashBytes(key)`.
   */
  overwrite(key: Uint8Array, value: Uint8Array, hash: number): void {
    assert.ok(!this.frozen, 'write to a frozen memtable');
    const found = this.find(key, hash);
    if (found === undefined) this.insert(key, value.slice(), true, hash);
    else if (found.owned && found.value !== null && found.value.length === value.length) found.value.set(value);
    else this.replace(found, value.slice(), true);
  }

  private replace(node: Node, value: Uint8Array | null, owned: boolean): void {
    this.sizeBytes += (value === null ? 0 : value.length) - (node.value === null ? 0 : node.value.length);
    node.value = value;
    node.owned = owned;
  }

  /** A new key: indexed now, linked into the list by the next `linkPending`. */
  private insert(key: Uint8Array, value: Uint8Array | null, owned: boolean, hash: number): void {
    const valueBytes = value === null ? 0 : value.length;
    const node: Node = { key, abbrev: abbreviate(key), value, owned, next: [] };
    this.index.add(node, hash);
    this.pending.push(node);
    this.sizeBytes += key.length + valueBytes + memtableEntryOverheadBytes;
    this.entryCount++;
  }

  /**
   * Links the keys inserted since the last call into the skip list, in ascending order:
   * consecutive searches then walk the same, cached, path (a random insertion order
   * misses the cache at almost every step of a large list). Changes no key or value, so
   * it may run on a frozen memtable (its first cursor, the flush's, links it).
   */
  private linkPending(): void {
    if (this.pending.length === 0) return;
    const nodes = this.pending.sort(compareNodes);
    this.pending = [];
    const update: Node[] = new Array<Node>(skiplistLevelsMax).fill(this.head);
    for (const node of nodes) {
      const successor = this.findGreaterOrEqual(node.key, update);
      assert.ok(successor === undefined || compareBytes(successor.key, node.key) !== 0, 'memtable key linked twice');
      const height = this.randomLevel();
      if (height > this.level) {
        for (let i = this.level; i < height; i++) update[i] = this.head;
        this.level = height;
      }
      node.next = new Array<Node | undefined>(height);
      for (let i = 0; i < height; i++) {
        node.next[i] = update[i]!.next[i];
        update[i]!.next[i] = node;
      }
    }
  }

  /**
   * `undefined`: key absent here; `null`: tombstone here; else the value.
   * REQUIRES: `hash === hashBytes(key)` when given.
   */
  get(key: Uint8Array, hash = hashBytes(key)): Uint8Array | null | undefined {
    const node = this.index.get(key, hash);
    if (node === undefined) return undefined;
    this.lastKey = key;
    this.lastNode = node;
    return node.value;
  }

  /** The entry of `key` here, or undefined (for `overwriteEntry`). REQUIRES: `hash === hashBytes(key)`. */
  entry(key: Uint8Array, hash: number): MemtableEntry | undefined {
    return this.find(key, hash);
  }

  /** The length of `entry`'s value when this memtable owns it, else -1. */
  ownedValueLength(entry: MemtableEntry): number {
    const node = entry as Node;
    return node.owned && node.value !== null ? node.value.length : -1;
  }

  /**
   * `overwrite` of an entry of this memtable found earlier: copies `value` into the
   * entry's owned value when the lengths match and returns true; else changes nothing and
   * returns false (then use `overwrite`).
   */
  overwriteEntry(entry: MemtableEntry, value: Uint8Array): boolean {
    assert.ok(!this.frozen, 'write to a frozen memtable');
    const node = entry as Node;
    if (!node.owned || node.value === null || node.value.length !== value.length) return false;
    node.value.set(value);
    return true;
  }

  /** The node of `key`, or undefined. */
  private find(key: Uint8Array, hash: number): Node | undefined {
    return key === this.lastKey ? this.lastNode : this.index.get(key, hash);
  }

  /** A cursor at the first key >= `start` (or the first key). */
  cursor(start?: Uint8Array): Cursor {
    this.linkPending();
    const first = start === undefined ? this.head.next[0] : this.findGreaterOrEqual(start);
    return new MemtableCursor(first);
  }
}

/**
 * Level-0 walk. A concurrent put into a mutable memtable may or may not be seen by an
 * open cursor; the cursor never skips or repeats existing keys.
 */
class MemtableCursor implements Cursor {
  constructor(private node: Node | undefined) {}
  valid(): boolean {
    return this.node !== undefined;
  }
  key(): Uint8Array {
    assert.ok(this.node !== undefined);
    return this.node.key;
  }
  value(): Uint8Array | null {
    assert.ok(this.node !== undefined);
    return this.node.value;
  }
  next(): void {
    assert.ok(this.node !== undefined);
    this.node = this.node.next[0];
  }
  close(): void {
    this.node = undefined;
  }
}

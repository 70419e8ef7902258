/**
 * The memtable: a skip list of byte keys in ascending unsigned order, holding the newest
 * value (or tombstone) per key, with a running byte size. Idea: LevelDB's `MemTable`
 * over its `SkipList` (Pugh 1990), p = 1/4.
 *
 * Invariants: level-0 list is strictly ascending; every node at level i is also on all
 * levels below; `sizeBytes` = sum over nodes of key + value + a fixed overhead.
 * A memtable becomes immutable (`frozen`) before it is flushed and never changes after.
 */
import assert from 'node:assert/strict';
import { compareBytes } from './bytes.js';
import { memtableEntryOverheadBytes, skiplistLevelsMax } from './constants.js';
import type { Cursor } from './cursor.js';

interface Node {
  key: Uint8Array;
  value: Uint8Array | null;
  next: (Node | undefined)[];
}

export class Memtable {
  private readonly head: Node = { key: new Uint8Array(0), value: null, next: [] };
  private level = 1;
  private rand = 0x9e3779b9;
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
    let node = this.head;
    for (let i = this.level - 1; i >= 0; i--) {
      let next = node.next[i];
      while (next !== undefined && compareBytes(next.key, key) < 0) {
        node = next;
        next = node.next[i];
      }
      if (update !== undefined) update[i] = node;
    }
    return node.next[0];
  }

  /** Inserts or replaces. `value === null` writes a tombstone. Keeps references. */
  put(key: Uint8Array, value: Uint8Array | null): void {
    assert.ok(!this.frozen, 'write to a frozen memtable');
    const update: Node[] = new Array<Node>(skiplistLevelsMax).fill(this.head);
    const found = this.findGreaterOrEqual(key, update);
    const valueBytes = value === null ? 0 : value.length;
    if (found !== undefined && compareBytes(found.key, key) === 0) {
      this.sizeBytes += valueBytes - (found.value === null ? 0 : found.value.length);
      found.value = value;
      return;
    }
    const height = this.randomLevel();
    if (height > this.level) this.level = height;
    const node: Node = { key, value, next: new Array<Node | undefined>(height) };
    for (let i = 0; i < height; i++) {
      node.next[i] = update[i]!.next[i];
      update[i]!.next[i] = node;
    }
    this.sizeBytes += key.length + valueBytes + memtableEntryOverheadBytes;
    this.entryCount++;
  }

  /** `undefined`: key absent here; `null`: tombstone here; else the value. */
  get(key: Uint8Array): Uint8Array | null | undefined {
    const node = this.findGreaterOrEqual(key);
    if (node === undefined || compareBytes(node.key, key) !== 0) return undefined;
    return node.value;
  }

  /** A cursor at the first key >= `start` (or the first key). */
  cursor(start?: Uint8Array): Cursor {
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

/**
 * Sorted cursors over key/value entries, and the merge of several into one.
 * A `null` value is a tombstone. Idea: LevelDB's `Iterator` and `MergingIterator`.
 */
import assert from 'node:assert/strict';
import { compareBytes } from './bytes.js';

/**
 * A forward cursor in ascending key order with distinct keys.
 * `key()` and `value()` REQUIRE `valid()`; the arrays returned stay valid (they are never
 * overwritten) but must not be mutated.
 */
export interface Cursor {
  valid(): boolean;
  key(): Uint8Array;
  /** The value bytes, or `null` for a tombstone. */
  value(): Uint8Array | null;
  next(): void;
  /** Releases what the cursor holds (segment references). Idempotent. */
  close(): void;
}

/**
 * Merges cursors ordered newest first: for equal keys the newest source wins and the
 * older entries are skipped. Tombstones are passed through (compaction needs them).
 * Stops before `end` (exclusive) when given. Min search is linear over the sources:
 * a store has few (memtables + segments, bounded by the compaction policy).
 */
export class MergingCursor implements Cursor {
  private current = -1;

  constructor(
    private readonly sources: readonly Cursor[],
    private readonly end?: Uint8Array,
  ) {
    this.pick();
  }

  private pick(): void {
    let best = -1;
    let bestKey: Uint8Array | undefined;
    for (let i = 0; i < this.sources.length; i++) {
      const s = this.sources[i]!;
      if (!s.valid()) continue;
      const k = s.key();
      if (bestKey === undefined || compareBytes(k, bestKey) < 0) {
        best = i;
        bestKey = k;
      }
    }
    if (bestKey !== undefined && this.end !== undefined && compareBytes(bestKey, this.end) >= 0) {
      best = -1;
    }
    this.current = best;
  }

  valid(): boolean {
    return this.current >= 0;
  }

  key(): Uint8Array {
    assert.ok(this.current >= 0, 'key() on an exhausted cursor');
    return this.sources[this.current]!.key();
  }

  value(): Uint8Array | null {
    assert.ok(this.current >= 0, 'value() on an exhausted cursor');
    return this.sources[this.current]!.value();
  }

  next(): void {
    const key = this.key();
    for (const s of this.sources) {
      if (s.valid() && compareBytes(s.key(), key) === 0) s.next();
    }
    this.pick();
  }

  close(): void {
    this.current = -1;
    for (const s of this.sources) s.close();
  }
}

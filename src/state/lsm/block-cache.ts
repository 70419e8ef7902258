/**
 * LRU cache of data blocks (raw payloads, decoded once a cursor reads them; see
 * `CachedBlock`) with a byte budget (LevelDB's block cache): a `Map`
 * for lookup plus an intrusive doubly linked list in recency order, so a hit, an insert
 * and an eviction are O(1). (Re-inserting into a `Map` to track recency made evictions
 * skip over the Map's deleted slots: at 1 M keys that cut cached reads to ~10 k/s.)
 * Keyed by `segment id * 2^32 + block index` (a number, so no string per read); segment
 * ids are never reused by a store and stay below 2^21.
 */
import assert from 'node:assert/strict';
import type { CachedBlock } from './block.js';

/** Multiplier of the segment id in a cache key: block indexes stay below it. */
export const blockCacheSegmentScale = 2 ** 32;

interface Entry {
  key: number;
  block: CachedBlock;
  newer: Entry | undefined;
  older: Entry | undefined;
}

export class BlockCache {
  private readonly entries = new Map<number, Entry>();
  private newest: Entry | undefined;
  private oldest: Entry | undefined;
  sizeBytes = 0;
  hits = 0;
  misses = 0;

  constructor(readonly capacityBytes: number) {
    assert.ok(Number.isSafeInteger(capacityBytes) && capacityBytes >= 0);
  }

  get(key: number): CachedBlock | undefined {
    const e = this.entries.get(key);
    if (e === undefined) {
      this.misses++;
      return undefined;
    }
    this.hits++;
    this.unlink(e);
    this.pushNewest(e);
    return e.block;
  }

  /**
   * Inserts, or replaces the block under `key` (charging the new size: a raw block
   * upgraded to a decoded one). A block larger than the whole budget is not cached.
   */
  set(key: number, block: CachedBlock): void {
    if (block.sizeBytes > this.capacityBytes) return;
    this.remove(key);
    const e: Entry = { key, block, newer: undefined, older: undefined };
    this.entries.set(key, e);
    this.pushNewest(e);
    this.sizeBytes += block.sizeBytes;
    while (this.sizeBytes > this.capacityBytes && this.oldest !== undefined) this.remove(this.oldest.key);
    assert.ok(this.sizeBytes >= 0 && this.sizeBytes <= this.capacityBytes);
  }

  /** Drops every block of one segment (called when the segment is closed). */
  evictSegment(segmentId: number): void {
    for (const key of [...this.entries.keys()]) {
      if (Math.floor(key / blockCacheSegmentScale) === segmentId) this.remove(key);
    }
  }

  private remove(key: number): void {
    const e = this.entries.get(key);
    if (e === undefined) return;
    this.entries.delete(key);
    this.unlink(e);
    this.sizeBytes -= e.block.sizeBytes;
  }

  private pushNewest(e: Entry): void {
    e.older = this.newest;
    e.newer = undefined;
    if (this.newest !== undefined) this.newest.newer = e;
    this.newest = e;
    if (this.oldest === undefined) this.oldest = e;
  }

  private unlink(e: Entry): void {
    if (e.newer !== undefined) e.newer.older = e.older;
    else this.newest = e.older;
    if (e.older !== undefined) e.older.newer = e.newer;
    else this.oldest = e.newer;
    e.newer = e.older = undefined;
  }
}

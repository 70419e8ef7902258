/**
 * LRU cache of decoded data blocks with a byte budget (LevelDB's block cache).
 * A JavaScript `Map` keeps insertion order: a hit re-inserts, eviction takes the first.
 * Keyed by `segment id * 2^32 + block index` (a number: faster Map lookups than a
 * string); segment ids are never reused by a store and stay below 2^21.
 */
import assert from 'node:assert/strict';
import type { DecodedBlock } from './block.js';

/** Multiplier of the segment id in a cache key: block indexes stay below it. */
export const blockCacheSegmentScale = 2 ** 32;

export class BlockCache {
  private readonly blocks = new Map<number, DecodedBlock>();
  sizeBytes = 0;
  hits = 0;
  misses = 0;

  constructor(readonly capacityBytes: number) {
    assert.ok(Number.isSafeInteger(capacityBytes) && capacityBytes >= 0);
  }

  get(key: number): DecodedBlock | undefined {
    const block = this.blocks.get(key);
    if (block === undefined) {
      this.misses++;
      return undefined;
    }
    this.hits++;
    this.blocks.delete(key);
    this.blocks.set(key, block);
    return block;
  }

  /** Inserts (a block larger than the whole budget is not cached). */
  set(key: number, block: DecodedBlock): void {
    if (block.sizeBytes > this.capacityBytes) return;
    const old = this.blocks.get(key);
    if (old !== undefined) {
      this.sizeBytes -= old.sizeBytes;
      this.blocks.delete(key);
    }
    this.blocks.set(key, block);
    this.sizeBytes += block.sizeBytes;
    for (const [k, b] of this.blocks) {
      if (this.sizeBytes <= this.capacityBytes) break;
      this.blocks.delete(k);
      this.sizeBytes -= b.sizeBytes;
    }
    assert.ok(this.sizeBytes >= 0 && this.sizeBytes <= this.capacityBytes);
  }

  /** Drops every block of one segment (called when the segment is retired). */
  evictSegment(segmentId: number): void {
    for (const [k, b] of this.blocks) {
      if (Math.floor(k / blockCacheSegmentScale) !== segmentId) continue;
      this.blocks.delete(k);
      this.sizeBytes -= b.sizeBytes;
    }
  }
}

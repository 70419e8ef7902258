/**
 * Data blocks: sorted entries with prefix compression, built up to about
 * `blockSizeBytes` and decoded whole into arrays for binary search.
 * Idea: LevelDB's `BlockBuilder`, simplified: no restart points, because a block is
 * decoded once into the block cache and searched there.
 *
 * Entry: `varint shared | varint unsharedLength | varint valueTag | key[shared..] | value`
 * with `valueTag = 0` for a tombstone (no value bytes) and `value length + 1` otherwise.
 */
import assert from 'node:assert/strict';
import { ByteReader, ByteWriter, compareBytes } from './bytes.js';
import { blockCacheEntryOverheadBytes } from './constants.js';

/** A decoded data block. `values[i] === null` is a tombstone. Views must not be mutated. */
export interface DecodedBlock {
  keys: Uint8Array[];
  values: (Uint8Array | null)[];
  /** Heap bytes charged to the block cache. */
  sizeBytes: number;
}

export class BlockBuilder {
  private readonly out = new ByteWriter();
  private lastKey: Uint8Array | undefined;
  entryCount = 0;

  get sizeBytes(): number {
    return this.out.length;
  }

  /** REQUIRES: `key` > every key added since the last reset. */
  add(key: Uint8Array, value: Uint8Array | null): void {
    const last = this.lastKey;
    assert.ok(last === undefined || compareBytes(last, key) < 0, 'block keys out of order');
    let shared = 0;
    if (last !== undefined) {
      const n = Math.min(last.length, key.length);
      while (shared < n && last[shared] === key[shared]) shared++;
    }
    this.out.varint(shared);
    this.out.varint(key.length - shared);
    this.out.varint(value === null ? 0 : value.length + 1);
    this.out.bytes(key.subarray(shared));
    if (value !== null) this.out.bytes(value);
    this.lastKey = key;
    this.entryCount++;
  }

  /** The payload built so far; valid until `reset()`. */
  payload(): Buffer {
    return this.out.view();
  }

  reset(): void {
    this.out.reset();
    this.lastKey = undefined;
    this.entryCount = 0;
  }
}

/**
 * Decodes a block payload. Values are views into `payload` (no copy).
 * Throws `RangeError` on malformed input (the caller names the file).
 */
export function decodeBlock(payload: Uint8Array): DecodedBlock {
  const r = new ByteReader(payload);
  const keys: Uint8Array[] = [];
  const values: (Uint8Array | null)[] = [];
  let last = new Uint8Array(0);
  while (!r.done) {
    const shared = r.varint();
    const unshared = r.varint();
    const tag = r.varint();
    if (shared > last.length) throw new RangeError(`shared prefix ${shared} > previous key`);
    const key = new Uint8Array(shared + unshared);
    key.set(last.subarray(0, shared));
    key.set(r.take(unshared), shared);
    if (keys.length > 0 && compareBytes(last, key) >= 0) throw new RangeError('keys out of order');
    keys.push(key);
    values.push(tag === 0 ? null : r.take(tag - 1));
    last = key;
  }
  const sizeBytes = payload.length + keys.length * blockCacheEntryOverheadBytes;
  return { keys, values, sizeBytes };
}

/** Index of the first key >= `key` in a decoded block (keys.length if none). */
export function lowerBound(keys: readonly Uint8Array[], key: Uint8Array): number {
  let lo = 0;
  let hi = keys.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (compareBytes(keys[mid]!, key) < 0) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/**
 * Data blocks: sorted entries with prefix compression, built up to about
 * `blockSizeBytes`. Point reads search the raw payload in place (`findInBlock`);
 * cursors decode a block whole into arrays (`decodeBlock`) and binary-search those.
 * Idea: LevelDB's `BlockBuilder`, simplified: no restart points (the format predates the
 * in-place search; `findInBlock` gets by without them, see there).
 *
 * Entry: `varint shared | varint unsharedLength | varint valueTag | key[shared..] | value`
 * with `valueTag = 0` for a tombstone (no value bytes) and `value length + 1` otherwise.
 */
import assert from 'node:assert/strict';
import { ByteWriter, compareBytes } from './bytes.js';
import { blockCacheEntryOverheadBytes } from './constants.js';

/** A decoded data block. `values[i] === null` is a tombstone. Views must not be mutated. */
export interface DecodedBlock {
  keys: Uint8Array[];
  values: (Uint8Array | null)[];
  /** Heap bytes charged to the block cache. */
  sizeBytes: number;
}

/**
 * A data block as the block cache holds it: the CRC-checked payload, plus its decoded
 * arrays once a cursor needed them (point reads never decode). `decoded.values` are
 * views into `payload`. `sizeBytes` is what the cache charges: the payload and one entry
 * overhead while raw, `decoded.sizeBytes` (payload plus an overhead per key) once decoded.
 */
export interface CachedBlock {
  readonly payload: Uint8Array;
  readonly decoded: DecodedBlock | undefined;
  readonly sizeBytes: number;
}

/** A cache entry for a payload not decoded yet. */
export function rawCachedBlock(payload: Uint8Array): CachedBlock {
  return { payload, decoded: undefined, sizeBytes: payload.length + blockCacheEntryOverheadBytes };
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

/** End of the varint last read by `varintAt` (module state: the scan is synchronous). */
let varintEnd = 0;

/** The varint at `pos`; sets `varintEnd`. Throws `RangeError` past `end` or beyond 8 bytes. */
function varintAt(buf: Uint8Array, pos: number, end: number): number {
  let result = 0;
  let scale = 1;
  for (let i = 0; i < 8; i++) {
    if (pos >= end) throw new RangeError('varint runs past the end');
    const b = buf[pos++]!;
    result += (b & 0x7f) * scale;
    if (b < 0x80) {
      varintEnd = pos;
      return result;
    }
    scale *= 0x80;
  }
  throw new RangeError('varint longer than 8 bytes');
}

/**
 * The header of the entry last read by `readEntry`, as payload positions: the key suffix
 * is `[suffix, valueStart)`, the value `[valueStart, next)` (empty for a tombstone,
 * `tag === 0`), the next entry starts at `next`. Module state, reused (reads are
 * synchronous and no entry outlives the next call).
 */
const entry = { shared: 0, unshared: 0, tag: 0, suffix: 0, valueStart: 0, next: 0 };

/**
 * Reads the entry header at `pos` into `entry`. Throws `RangeError` when the entry runs
 * past `end` or shares more than `previousLength` bytes (the previous key's length, 0
 * for the first entry).
 */
function readEntry(payload: Uint8Array, pos: number, end: number, previousLength: number): void {
  const shared = varintAt(payload, pos, end);
  const unshared = varintAt(payload, varintEnd, end);
  const tag = varintAt(payload, varintEnd, end);
  const suffix = varintEnd;
  const valueStart = suffix + unshared;
  const next = tag === 0 ? valueStart : valueStart + tag - 1;
  if (next > end) throw new RangeError(`entry at ${pos} runs past the end`);
  if (shared > previousLength) throw new RangeError(`shared prefix ${shared} > previous key`);
  entry.shared = shared;
  entry.unshared = unshared;
  entry.tag = tag;
  entry.suffix = suffix;
  entry.valueStart = valueStart;
  entry.next = next;
}

/**
 * Decodes a block payload. Values are views into `payload` (no copy); each key is one
 * new array, filled byte by byte (no temporary subarrays: typed-array views cost more
 * than copying a few dozen bytes). Throws `RangeError` on malformed input (the caller
 * names the file).
 */
export function decodeBlock(payload: Uint8Array): DecodedBlock {
  const end = payload.length;
  const keys: Uint8Array[] = [];
  const values: (Uint8Array | null)[] = [];
  let last = new Uint8Array(0);
  let pos = 0;
  while (pos < end) {
    readEntry(payload, pos, end, last.length);
    const { shared, unshared, suffix, valueStart, next } = entry;
    const key = new Uint8Array(shared + unshared);
    for (let i = 0; i < shared; i++) key[i] = last[i]!;
    for (let i = 0; i < unshared; i++) key[shared + i] = payload[suffix + i]!;
    if (keys.length > 0 && compareBytes(last, key) >= 0) throw new RangeError('keys out of order');
    keys.push(key);
    values.push(entry.tag === 0 ? null : payload.subarray(valueStart, next));
    last = key;
    pos = next;
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

/**
 * Point lookup in a raw block payload, without decoding it: no key is rebuilt and
 * nothing is allocated but the returned view.
 *
 * Returns the value as a view into `payload` (do not mutate; it lives as long as the
 * payload), `null` when the key's entry is a tombstone, `undefined` when the block has
 * no entry for `key`. Throws `RangeError` on a malformed payload: an entry running past
 * the end, a first entry with a shared prefix, a shared prefix longer than the previous
 * key, or keys out of order where the scan compares them (the caller names the file).
 *
 * How: a linear scan (LevelDB's `Block::Iter::Seek` does the same between restart
 * points; blocks have none, so the scan starts at entry 0) that keeps `matched`, the
 * length of the common prefix of `key` and the previous entry's key, which sorts before
 * `key`, so the two differ at byte `matched` (or that key ends there). An entry sharing
 * more than `matched` bytes with its predecessor agrees with it at byte `matched`, so it
 * sorts before `key` too and its suffix is skipped unread. An entry sharing `shared <=
 * matched` bytes agrees with `key` on `[0, shared)`, and all its bytes from `shared` on
 * are its suffix, so it is compared against `key` straight from the payload. The first
 * entry that sorts after `key` ends the search. Equal to `lowerBound` over
 * `decodeBlock(payload).keys` on every well-formed block (test/state/lsm-block.test.ts).
 */
export function findInBlock(payload: Uint8Array, key: Uint8Array): Uint8Array | null | undefined {
  const end = payload.length;
  const keyLength = key.length;
  let pos = 0;
  let matched = 0;
  let previousLength = 0;
  while (pos < end) {
    readEntry(payload, pos, end, previousLength);
    const { shared, unshared, suffix, valueStart, next } = entry;
    const length = shared + unshared;
    if (shared <= matched) {
      const n = length < keyLength ? length : keyLength;
      const delta = suffix - shared; // payload index of the entry's byte i is delta + i
      let i = shared;
      while (i < n && payload[delta + i] === key[i]) i++;
      if (i < n ? payload[delta + i]! > key[i]! : length > keyLength) return undefined; // entry > key
      if (length === keyLength && i === n) return entry.tag === 0 ? null : payload.subarray(valueStart, next);
      // The entry sorts before `key`; it must also sort after its predecessor, which
      // agrees with `key` on [0, matched).
      if (i < matched) throw new RangeError('keys out of order');
      matched = i;
    }
    previousLength = length;
    pos = next;
  }
  return undefined;
}

/**
 * Converts one state's values to and from stored LSM values (`stamp | [refreshedAtMs] |
 * payload`, key-encoding.ts) through the state's serializer. With the default (cbor)
 * serializer, integers of cbor-fast.ts's range are written and read without cbor-x and
 * straight into / out of the stored array: same bytes, no allocation per read (no
 * payload view) and, through `encodeToScratch` and `LsmStore.overwrite`, none per write
 * once the key is in the memtable. Any other value or serializer goes through the
 * serializer.
 */
import type { StateSerializer } from './api.js';
import { fastIntSizeBytes, isFastInt, readFastInt, writeFastInt } from './cbor-fast.js';
import assert from 'node:assert/strict';
import { encodeStateValue, statePayloadOffset, stateValueWithRoom, valueStampNone } from './key-encoding.js';

/** Longest stored value of the scratch path: stamp byte and a 5-byte integer. */
const scratchSizeBytesMax = 1 + 5;

export class LsmValueCodec<T> {
  /**
   * @param serializer the state's serializer.
   * @param cborDefault true when `serializer` is the backend's cbor-x serializer, whose
   *   bytes the integer fast path reproduces exactly.
   */
  constructor(
    readonly serializer: StateSerializer<T>,
    readonly cborDefault: boolean,
  ) {}

  /** The value in a stored value. Throws `RangeError` for an unknown stamp, or the serializer's error. */
  decode(stored: Uint8Array): T {
    const offset = statePayloadOffset(stored);
    if (this.cborDefault) {
      const n = readFastInt(stored, offset);
      if (n !== undefined) return n as T;
    }
    return this.serializer.deserialize(stored.subarray(offset));
  }

  /**
   * The stored value of `value` in a buffer reused by the next call (`storedFastInt`), for
   * `LsmStore.overwrite` (which copies it), or undefined when `value` is not a fast-path
   * integer or carries a TTL stamp (then use `encode`).
   */
  encodeToScratch(value: T, refreshedAtMs: number | undefined): Uint8Array | undefined {
    if (!this.cborDefault || refreshedAtMs !== undefined || !isFastInt(value)) return undefined;
    return storedFastInt(value);
  }

  /** A new stored value of `value`, stamped with `refreshedAtMs` when given (TTL). */
  encode(value: T, refreshedAtMs: number | undefined): Uint8Array {
    if (this.cborDefault && isFastInt(value)) {
      const size = fastIntSizeBytes(value);
      const out = stateValueWithRoom(size, refreshedAtMs);
      writeFastInt(out, out.length - size, value);
      return out;
    }
    return encodeStateValue(this.serializer.serialize(value), refreshedAtMs);
  }
}

/**
 * Shared buffers of `storedFastInt`, by length: every user copies the value before the next
 * call (`LsmStore.overwrite` copies it before a freeze can run a hot-key write-back).
 */
const fastIntScratch: (Uint8Array | undefined)[] = [];

/**
 * The stored value (no TTL stamp) of a fast-path integer under the cbor-x serializer, in a
 * buffer reused by the next call: what `encodeToScratch` gives for it. REQUIRES: `isFastInt(n)`.
 */
export function storedFastInt(n: number): Uint8Array {
  const size = 1 + fastIntSizeBytes(n);
  assert.ok(size <= scratchSizeBytesMax);
  const out = (fastIntScratch[size] ??= new Uint8Array(size));
  out[0] = valueStampNone;
  writeFastInt(out, 1, n);
  return out;
}

/** The length of `storedFastInt(n)`, or -1 when `n` is not a fast-path integer. */
export function storedFastIntLength(n: unknown): number {
  return isFastInt(n) ? 1 + fastIntSizeBytes(n) : -1;
}

/**
 * Converts one state's values to and from stored LSM values (`stamp | [refreshedAtMs] |
 * payload`, key-encoding.ts) through the state's serializer. With the default (cbor)
 * serializer, integers of cbor-fast.ts's range are written and read without cbor-x and
 * straight into / out of the stored array: same bytes, one allocation instead of three
 * per write, none per read (no payload view). Any other value or serializer goes
 * through the serializer.
 */
import type { StateSerializer } from './api.js';
import { fastIntSizeBytes, isFastInt, readFastInt, writeFastInt } from './cbor-fast.js';
import { encodeStateValue, statePayloadOffset, stateValueWithRoom } from './key-encoding.js';

export class LsmValueCodec<T> {
  /**
   * @param serializer the state's serializer.
   * @param cborDefault true when `serializer` is the backend's cbor-x serializer, whose
   *   bytes the integer fast path reproduces exactly.
   */
  constructor(
    readonly serializer: StateSerializer<T>,
    private readonly cborDefault: boolean,
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

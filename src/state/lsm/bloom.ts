/**
 * Bloom filter over segment keys, built once per segment and kept in memory by the
 * reader. Double hashing (Kirsch & Mitzenmacher 2006) from one 32-bit hash, as LevelDB's
 * `BloomFilterPolicy`: probe i tests bit (h + i * delta) mod m, delta = rotl(h, 15).
 *
 * Serialized as: `u8 probeCount | bit array (little-endian bit order within bytes)`.
 */
import assert from 'node:assert/strict';
import { fmix32 } from '../key-group.js';

/** 32-bit hash of a byte string (MurmurHash3-like mixing; not cryptographic). */
export function hashBytes(key: Uint8Array): number {
  let h = 0x811c9dc5 ^ key.length;
  for (let i = 0; i < key.length; i++) {
    h = Math.imul(h ^ key[i]!, 0x01000193);
  }
  return fmix32(h);
}

/** Bytes of the filter for `keyCount` keys (at least 8 bytes of bits, plus the header). */
export function bloomSizeBytes(keyCount: number, bitsPerKey: number): number {
  return 1 + Math.max(8, Math.ceil((keyCount * bitsPerKey) / 8));
}

/** Builds the serialized filter from the keys' `hashBytes` values. */
export function buildBloom(hashes: ArrayLike<number>, count: number, bitsPerKey: number): Uint8Array {
  assert.ok(bitsPerKey >= 1 && count <= hashes.length);
  const probes = Math.min(30, Math.max(1, Math.round(bitsPerKey * 0.69)));
  const out = new Uint8Array(bloomSizeBytes(count, bitsPerKey));
  out[0] = probes;
  const bits = (out.length - 1) * 8;
  for (let k = 0; k < count; k++) {
    let h = hashes[k]!;
    const delta = ((h >>> 17) | (h << 15)) >>> 0;
    for (let i = 0; i < probes; i++) {
      const bit = h % bits;
      out[1 + (bit >>> 3)]! |= 1 << (bit & 7);
      h = (h + delta) >>> 0;
    }
  }
  return out;
}

/** False means the key is certainly absent; true means it may be present. */
export function bloomMayContain(filter: Uint8Array, hash: number): boolean {
  const probes = filter[0]!;
  const bits = (filter.length - 1) * 8;
  let h = hash;
  const delta = ((h >>> 17) | (h << 15)) >>> 0;
  for (let i = 0; i < probes; i++) {
    const bit = h % bits;
    if ((filter[1 + (bit >>> 3)]! & (1 << (bit & 7))) === 0) return false;
    h = (h + delta) >>> 0;
  }
  return true;
}

/**
 * Byte-exact fast paths of cbor-x (`new Encoder({ useRecords: false })`) for the values
 * keyed state meets most: integers n with -2^32 <= n < 2^32, and ASCII strings shorter
 * than 256 code units without NUL. The LSM backend encodes and decodes these itself and
 * hands everything else to cbor-x; the bytes are the same either way (RFC 8949 preferred
 * serialization, as cbor-x writes them; test/state/cbor-fast.test.ts compares both over
 * random values), so stored state does not depend on which path wrote it.
 *
 *   unsigned n < 24: 0x00+n; < 2^8: 0x18 n; < 2^16: 0x19 n16; < 2^32: 0x1a n32 (big-endian)
 *   negative n: the same with major type 1 (0x20 base) over -1 - n
 *   text of length L < 24: 0x60+L then the bytes; L < 256: 0x78 L then the bytes
 *
 * Why: cbor-x costs a buffer allocation and an encoder set-up per call (about a third of
 * the word count's state time on the LSM backend, native-notes.md section 3).
 */

const two32 = 2 ** 32;
/** Longest string of the fast path, code units: a one-byte length (0x78 L). */
export const shortStringMaxLength = 255;

/** True when `n` takes the integer fast path. */
export function isFastInt(n: unknown): n is number {
  return typeof n === 'number' && Number.isInteger(n) && n < two32 && n >= -two32 && !Object.is(n, -0);
}

/** Bytes of the cbor encoding of a fast-path integer. REQUIRES: `isFastInt(n)`. */
export function fastIntSizeBytes(n: number): number {
  const u = n < 0 ? -1 - n : n;
  return u < 24 ? 1 : u < 0x100 ? 2 : u < 0x10000 ? 3 : 5;
}

/** Writes the cbor encoding of `n` at `out[offset]`. REQUIRES: `isFastInt(n)`, room for `fastIntSizeBytes(n)`. */
export function writeFastInt(out: Uint8Array, offset: number, n: number): void {
  const major = n < 0 ? 0x20 : 0x00;
  const u = n < 0 ? -1 - n : n;
  if (u < 24) {
    out[offset] = major | u;
  } else if (u < 0x100) {
    out[offset] = major | 0x18;
    out[offset + 1] = u;
  } else if (u < 0x10000) {
    out[offset] = major | 0x19;
    out[offset + 1] = u >>> 8;
    out[offset + 2] = u & 0xff;
  } else {
    out[offset] = major | 0x1a;
    out[offset + 1] = u >>> 24;
    out[offset + 2] = (u >>> 16) & 0xff;
    out[offset + 3] = (u >>> 8) & 0xff;
    out[offset + 4] = u & 0xff;
  }
}

/**
 * The integer encoded by `bytes[offset..]` when those bytes are exactly one cbor integer
 * of the fast path's form, else undefined (the caller then decodes with cbor-x).
 */
export function readFastInt(bytes: Uint8Array, offset: number): number | undefined {
  const head = bytes[offset];
  if (head === undefined || head >= 0x40) return undefined;
  const negative = head >= 0x20;
  const info = head & 0x1f;
  const length = bytes.length - offset;
  let u: number;
  if (info < 24 && length === 1) u = info;
  else if (info === 0x18 && length === 2) u = bytes[offset + 1]!;
  else if (info === 0x19 && length === 3) u = (bytes[offset + 1]! << 8) | bytes[offset + 2]!;
  else if (info === 0x1a && length === 5) u = ((bytes[offset + 1]! << 24) | (bytes[offset + 2]! << 16) | (bytes[offset + 3]! << 8) | bytes[offset + 4]!) >>> 0;
  else return undefined;
  return negative ? -1 - u : u;
}

/**
 * Writes the cbor encoding of `key` followed by the escape terminator (0x00 0x01), i.e.
 * `escapeKey(cbor(key))` of key-encoding.ts, at `out[offset]`, for a string of the fast
 * path, and returns true; returns false (with `out` partly written) for any other string.
 * Such strings contain no 0x00 byte and neither does their header, so the escape adds
 * only the terminator. REQUIRES: room for `escapedFastStringSizeBytes(key)` bytes.
 */
export function writeEscapedFastString(out: Uint8Array, offset: number, key: string): boolean {
  const length = key.length;
  if (length > shortStringMaxLength) return false;
  let o = offset;
  if (length < 24) out[o++] = 0x60 | length;
  else {
    out[o++] = 0x78;
    out[o++] = length;
  }
  for (let i = 0; i < length; i++) {
    const c = key.charCodeAt(i);
    if (c === 0 || c >= 0x80) return false;
    out[o++] = c;
  }
  out[o++] = 0x00;
  out[o] = 0x01;
  return true;
}

/** Bytes `writeEscapedFastString` writes for `key` when it returns true. */
export function escapedFastStringSizeBytes(key: string): number {
  return (key.length < 24 ? 1 : 2) + key.length + 2;
}

/**
 * `escapeKey(cbor(key))` for an integer of the fast path: each 0x00 byte of the encoding
 * becomes 0x00 0xff, then the terminator 0x00 0x01 (key-encoding.ts). REQUIRES: `isFastInt(n)`.
 */
export function escapedFastInt(n: number): Uint8Array {
  const size = fastIntSizeBytes(n);
  const raw = intScratch;
  writeFastInt(raw, 0, n);
  let zeros = 0;
  for (let i = 0; i < size; i++) if (raw[i] === 0) zeros++;
  const out = new Uint8Array(size + zeros + 2);
  let o = 0;
  for (let i = 0; i < size; i++) {
    const b = raw[i]!;
    out[o++] = b;
    if (b === 0) out[o++] = 0xff;
  }
  out[o] = 0x00;
  out[o + 1] = 0x01;
  return out;
}
const intScratch = new Uint8Array(5);

/**
 * `escapeKey(cbor(key))` for a key of the fast paths (an integer, or a short ASCII
 * string), else undefined (the caller then encodes with cbor-x).
 */
export function escapedFastKey(key: unknown): Uint8Array | undefined {
  return isFastInt(key) ? escapedFastInt(key) : escapedFastString(key);
}

/** `escapeKey(cbor(key))` for a string of the fast path, else undefined. */
export function escapedFastString(key: unknown): Uint8Array | undefined {
  if (typeof key !== 'string' || key.length > shortStringMaxLength) return undefined;
  const out = new Uint8Array(escapedFastStringSizeBytes(key));
  return writeEscapedFastString(out, 0, key) ? out : undefined;
}

/**
 * Byte helpers: unsigned lexicographic comparison, prefix tests, LEB128 varints and a
 * growable write buffer. Keys are compared as LevelDB's BytewiseComparator does.
 */
import assert from 'node:assert/strict';

/** Unsigned lexicographic order: <0, 0, >0. A proper prefix sorts first. */
export function compareBytes(a: Uint8Array, b: Uint8Array): number {
  const n = a.length < b.length ? a.length : b.length;
  for (let i = 0; i < n; i++) {
    const d = a[i]! - b[i]!;
    if (d !== 0) return d;
  }
  return a.length - b.length;
}

export function startsWith(bytes: Uint8Array, prefix: Uint8Array): boolean {
  if (bytes.length < prefix.length) return false;
  for (let i = 0; i < prefix.length; i++) if (bytes[i] !== prefix[i]) return false;
  return true;
}

/**
 * The smallest key greater than every key starting with `prefix`, or undefined when no
 * such key exists (prefix empty or all 0xff): the exclusive end of a prefix scan.
 */
export function prefixEnd(prefix: Uint8Array): Uint8Array | undefined {
  let n = prefix.length;
  while (n > 0 && prefix[n - 1] === 0xff) n--;
  if (n === 0) return undefined;
  const end = prefix.slice(0, n);
  end[n - 1]! += 1;
  return end;
}

/** Key group of a key: its first two bytes, u16 big-endian; shorter keys pad with 0. */
export function keyGroupOf(key: Uint8Array): number {
  return ((key[0] ?? 0) << 8) | (key[1] ?? 0);
}

/** Append-only byte buffer that doubles when full. */
export class ByteWriter {
  private buf: Buffer;
  length = 0;

  constructor(initialBytes = 4096) {
    assert.ok(initialBytes > 0);
    this.buf = Buffer.allocUnsafe(initialBytes);
  }

  private reserve(extra: number): void {
    if (this.length + extra <= this.buf.length) return;
    let size = this.buf.length * 2;
    while (size < this.length + extra) size *= 2;
    const next = Buffer.allocUnsafe(size);
    this.buf.copy(next, 0, 0, this.length);
    this.buf = next;
  }

  byte(b: number): void {
    this.reserve(1);
    this.buf[this.length++] = b;
  }

  bytes(b: Uint8Array): void {
    this.reserve(b.length);
    this.buf.set(b, this.length);
    this.length += b.length;
  }

  /** Unsigned LEB128 of an integer in [0, 2^53). */
  varint(n: number): void {
    assert.ok(Number.isSafeInteger(n) && n >= 0, `varint out of range: ${n}`);
    this.reserve(8);
    while (n >= 0x80) {
      this.buf[this.length++] = (n % 0x80) | 0x80;
      n = Math.floor(n / 0x80);
    }
    this.buf[this.length++] = n;
  }

  u32le(n: number): void {
    this.reserve(4);
    this.buf.writeUInt32LE(n >>> 0, this.length);
    this.length += 4;
  }

  /** A view of the bytes written so far; valid until the next write or reset. */
  view(): Buffer {
    return this.buf.subarray(0, this.length);
  }

  reset(): void {
    this.length = 0;
  }
}

/**
 * Reads varints and slices from a byte range; every read checks bounds and throws
 * `RangeError` on overrun so callers can turn it into a corruption error.
 */
export class ByteReader {
  pos: number;

  constructor(
    readonly buf: Uint8Array,
    start = 0,
    readonly end = buf.length,
  ) {
    this.pos = start;
  }

  get done(): boolean {
    return this.pos >= this.end;
  }

  varint(): number {
    let result = 0;
    let scale = 1;
    for (let i = 0; i < 8; i++) {
      if (this.pos >= this.end) throw new RangeError('varint runs past the end');
      const b = this.buf[this.pos++]!;
      result += (b & 0x7f) * scale;
      if (b < 0x80) return result;
      scale *= 0x80;
    }
    throw new RangeError('varint longer than 8 bytes');
  }

  /** A subarray view (no copy) of the next `n` bytes. */
  take(n: number): Uint8Array {
    if (n < 0 || this.pos + n > this.end) throw new RangeError(`slice of ${n} runs past the end`);
    const out = this.buf.subarray(this.pos, this.pos + n);
    this.pos += n;
    return out;
  }
}

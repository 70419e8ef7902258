/**
 * CRC32 (IEEE 802.3 polynomial, as zlib and gzip) of a byte range. Uses `zlib.crc32`
 * (native, Node >= 20.15) when present, else a 256-entry table in JavaScript.
 * Note: ARCHITECTURE.md names CRC32C; Node ships no native CRC32C, and the format's
 * version field records which one a file uses (native-notes.md section 3).
 */
import zlib from 'node:zlib';

type Crc32Fn = (data: Uint8Array) => number;

function tableCrc32(): Crc32Fn {
  const table = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    table[n] = c >>> 0;
  }
  return (data) => {
    let crc = 0xffffffff;
    for (let i = 0; i < data.length; i++) crc = table[(crc ^ data[i]!) & 0xff]! ^ (crc >>> 8);
    return (crc ^ 0xffffffff) >>> 0;
  };
}

const nativeCrc32 = (zlib as unknown as { crc32?: (d: Uint8Array) => number }).crc32;

/** CRC32 of `data` as an unsigned 32-bit integer. */
export const crc32: Crc32Fn =
  typeof nativeCrc32 === 'function' ? (data) => nativeCrc32(data) >>> 0 : tableCrc32();

/** The table implementation, exported so tests can check both agree. */
export const crc32Portable: Crc32Fn = tableCrc32();

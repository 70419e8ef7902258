/**
 * The flat batch encoding: a batch whose records are all strings, numbers, booleans,
 * null, undefined, or flat tuples of those (plain arrays of at most 255 such items),
 * written without cbor-x and without an object per record. Anything else (objects,
 * registered classes, Date, Map, Set, bigint, typed arrays, nested arrays) makes
 * `writeFlatBody` answer false, and the batch codec writes the whole batch with cbor-x
 * (batch-codec.ts).
 *
 * Body layout (after the batch codec's 8-byte header), little-endian, byte by byte in
 * native-notes.md §2:
 *   `u32 n | u32 T tag bytes | u32 N numbers | u32 S strings | u32 U text units |
 *    u32 L length bytes | u8 text form | 3 x u8 zero |
 *    N x f64 | T x u8 tag | L bytes of LEB128 string lengths | text`
 * T = 0 means no tags: all n records are strings (S = n) or all numbers (N = n).
 * The text is every string joined, one byte per UTF-16 code unit when all units are
 * below 128 (form 0), else the raw UTF-16LE code units (form 1), so that any string,
 * lone surrogates included, comes back exactly.
 *
 * Idea: columnar batches as in Arrow's record batches and Flink's binary row formats
 * (`BinaryRowData`): fixed-width values in one region, variable-width bytes in another.
 * This file writes the body; flat-batch-reader.ts reads it.
 */
import { Buffer } from 'node:buffer';

/** Bytes of the body's fixed part (before the numbers). */
export const flatFixedBytes = 28;

/** Per-value tags (a tuple's tag is followed by its item count, then one tag per item). */
export const enum Tag { String, Number, False, True, Null, Undefined, Tuple }

/** The longest tuple written flat (its item count is one byte). */
const tupleItemsMax = 255;

/** Grows with the largest batch written; reused for every batch of one encoder. */
export class FlatScratch {
  /** The batch's strings in order: `ownStrings`, or the records themselves when all are strings. */
  strings: readonly string[] = [];
  ownStrings: string[] = [];
  numbers: number[] = [];
  tags = new Uint8Array(1024);
  tagCount = 0;

  reset(): void {
    this.ownStrings.length = 0;
    this.strings = this.ownStrings;
    this.numbers.length = 0;
    this.tagCount = 0;
  }

  pushTag(tag: number): void {
    if (this.tagCount === this.tags.length) {
      const grown = new Uint8Array(this.tags.length * 2);
      grown.set(this.tags);
      this.tags = grown;
    }
    this.tags[this.tagCount++] = tag;
  }
}

/** The tag of a flat scalar, pushing its value to the scratch; -1 when not a flat scalar. */
function scalar(value: unknown, scratch: FlatScratch): number {
  switch (typeof value) {
    case 'string':
      scratch.ownStrings.push(value);
      return Tag.String;
    case 'number':
      scratch.numbers.push(value);
      return Tag.Number;
    case 'boolean':
      return value ? Tag.True : Tag.False;
    case 'undefined':
      return Tag.Undefined;
    default:
      return value === null ? Tag.Null : -1;
  }
}

/**
 * Classifies `records` into the scratch (strings, numbers, tags). False when a record is
 * not flat (the batch goes to cbor-x).
 */
export function classifyFlat(records: readonly unknown[], scratch: FlatScratch): boolean {
  scratch.reset();
  // The common case first: a batch of strings is its own list of strings (no copy, no tags).
  let strings = 0;
  while (strings < records.length && typeof records[strings] === 'string') strings++;
  if (strings === records.length) {
    scratch.strings = records as readonly string[];
    scratch.tagCount = records.length; // untagged: the tags are not written
    return true;
  }
  for (let i = 0; i < records.length; i++) {
    const record = records[i];
    const tag = scalar(record, scratch);
    if (tag >= 0) {
      scratch.pushTag(tag);
      continue;
    }
    if (!Array.isArray(record) || Object.getPrototypeOf(record) !== Array.prototype || record.length > tupleItemsMax) return false;
    scratch.pushTag(Tag.Tuple);
    scratch.pushTag(record.length);
    for (let k = 0; k < record.length; k++) {
      const itemTag = scalar(record[k], scratch);
      if (itemTag < 0) return false;
      scratch.pushTag(itemTag);
    }
  }
  return true;
}

/** Bytes of the LEB128 form of `value` (an unsigned 32-bit integer). */
function varintBytes(value: number): number {
  return value < 0x80 ? 1 : value < 0x4000 ? 2 : value < 0x200000 ? 3 : value < 0x10000000 ? 4 : 5;
}

/** At most this many bytes of body for the classified batch (the text written as UTF-8 first). */
export function flatBodyBoundBytes(scratch: FlatScratch, textUnits: number): number {
  return flatFixedBytes + 8 * scratch.numbers.length + scratch.tagCount + 5 * scratch.strings.length + 3 * textUnits;
}

/**
 * Writes the body of the classified batch of `n` records at `start` of `out` (which holds
 * at least flatBodyBoundBytes). Returns the body's length in bytes.
 */
export function writeFlatBody(out: Buffer, view: DataView, start: number, n: number, scratch: FlatScratch, text: string): number {
  const { strings, numbers } = scratch;
  const untagged = scratch.tagCount === n && (strings.length === n || numbers.length === n);
  const tagBytes = untagged ? 0 : scratch.tagCount;
  let lengthBytes = 0;
  for (let i = 0; i < strings.length; i++) lengthBytes += varintBytes(strings[i]!.length);
  let p = start + flatFixedBytes;
  for (let i = 0; i < numbers.length; i++, p += 8) view.setFloat64(p, numbers[i]!, true);
  if (tagBytes > 0) {
    out.set(scratch.tags.subarray(0, tagBytes), p);
    p += tagBytes;
  }
  for (let i = 0; i < strings.length; i++) {
    let v = strings[i]!.length;
    while (v >= 0x80) {
      out[p++] = (v & 0x7f) | 0x80;
      v >>>= 7;
    }
    out[p++] = v;
  }
  // One byte per unit when the UTF-8 bytes are as many as the units (all ASCII), else UTF-16LE.
  let textBytes = text.length === 0 ? 0 : out.write(text, p, 'utf8');
  const form = textBytes === text.length ? 0 : 1;
  if (form === 1) textBytes = out.write(text, p, 'utf16le');
  view.setUint32(start, n, true);
  view.setUint32(start + 4, tagBytes, true);
  view.setUint32(start + 8, numbers.length, true);
  view.setUint32(start + 12, strings.length, true);
  view.setUint32(start + 16, text.length, true);
  view.setUint32(start + 20, lengthBytes, true);
  view.setUint32(start + 24, form, true); // u8 form, then three zero bytes
  return p + textBytes - start;
}

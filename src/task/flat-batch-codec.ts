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
 */
import { Buffer } from 'node:buffer';

/** Bytes of the body's fixed part (before the numbers). */
export const flatFixedBytes = 28;

/** Per-value tags (a tuple's tag is followed by its item count, then one tag per item). */
const enum Tag { String, Number, False, True, Null, Undefined, Tuple }

/** The longest tuple written flat (its item count is one byte). */
const tupleItemsMax = 255;

/**
 * Below this many code units a substring of the batch's text is a copy; from it on, V8
 * makes a SlicedString that would keep the whole text alive (V8's SlicedString::kMinLength),
 * so longer strings are decoded from the bytes on their own.
 */
const slicedStringMinUnits = 13;

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

/** What a corrupt body throws: a RangeError naming the batch and what did not fit. */
function corrupt(what: string): RangeError {
  return new RangeError(`A flat record batch is corrupt: ${what}`);
}

/**
 * Reads the records of a flat body (`body` is the batch after its header; it may be a
 * view over ring memory: every value is copied out). @throws RangeError when the counts
 * do not add up to the body's length, a tag is unknown, or a section is not used exactly.
 */
export function readFlatBody(body: Uint8Array): unknown[] {
  if (body.byteLength < flatFixedBytes) throw corrupt(`${body.byteLength} bytes, shorter than its ${flatFixedBytes}-byte counts`);
  const data = new DataView(body.buffer, body.byteOffset, body.byteLength);
  const n = data.getUint32(0, true);
  const tagBytes = data.getUint32(4, true);
  const numberCount = data.getUint32(8, true);
  const stringCount = data.getUint32(12, true);
  const textUnits = data.getUint32(16, true);
  const lengthBytes = data.getUint32(20, true);
  const form = data.getUint32(24, true);
  if (form !== 0 && form !== 1) throw corrupt(`text form ${form}`);
  const textStart = flatFixedBytes + 8 * numberCount + tagBytes + lengthBytes;
  const expected = textStart + (form + 1) * textUnits;
  if (expected !== body.byteLength) throw corrupt(`its counts need ${expected} bytes, it has ${body.byteLength}`);
  if (tagBytes === 0 && !(stringCount === n && numberCount === 0) && !(numberCount === n && stringCount === 0)) {
    throw corrupt(`${n} records without tags, ${stringCount} strings and ${numberCount} numbers`);
  }
  // Every record takes at least one tag (or, untagged, one length byte or 8 number bytes), so
  // n is bounded by the body before anything is allocated for it.
  if ((tagBytes > 0 && n > tagBytes) || stringCount > lengthBytes) throw corrupt(`${n} records, ${stringCount} strings in ${tagBytes} tags and ${lengthBytes} length bytes`);
  if (tagBytes === 0 && stringCount === n) return readStrings(body, n, flatFixedBytes + 8 * numberCount, textStart, textUnits, form);
  const reader = new FlatReader(body, data, numberCount, tagBytes, lengthBytes, textStart, textUnits, form);
  const records = new Array<unknown>(n);
  if (tagBytes === 0) {
    for (let i = 0; i < n; i++) records[i] = reader.number();
  } else {
    for (let i = 0; i < n; i++) records[i] = reader.value(true);
  }
  reader.finish(stringCount, numberCount);
  return records;
}

/** The text's units [from, to) as a string of their own (never a slice of the batch's text). */
function ownString(body: Uint8Array, text: string, textStart: number, form: number, from: number, to: number): string {
  if (to - from < slicedStringMinUnits) return text.substring(from, to);
  const width = form + 1;
  const start = textStart + width * from;
  const end = textStart + width * to;
  return form === 0 ? Buffer.prototype.latin1Slice.call(body, start, end) : Buffer.prototype.ucs2Slice.call(body, start, end);
}

/** A body of n strings only: lengths from `lengthAt` up to `textStart`, then the text. */
function readStrings(body: Uint8Array, n: number, lengthAt: number, textStart: number, textUnits: number, form: number): string[] {
  const text = form === 0 ? Buffer.prototype.latin1Slice.call(body, textStart, textStart + textUnits) : Buffer.prototype.ucs2Slice.call(body, textStart, textStart + 2 * textUnits);
  const records = new Array<string>(n);
  let at = lengthAt;
  let unit = 0;
  for (let i = 0; i < n; i++) {
    if (at >= textStart) throw corrupt(`string ${i} of ${n} has no length`);
    let b = body[at++]!;
    let units = b & 0x7f;
    for (let shift = 7; b >= 0x80; shift += 7) {
      if (at >= textStart || shift > 28) throw corrupt(`the length of string ${i} runs past its section`);
      b = body[at++]!;
      units += (b & 0x7f) * 2 ** shift;
    }
    const end = unit + units;
    if (end > textUnits) throw corrupt(`string ${i} ends at unit ${end} of ${textUnits}`);
    records[i] = ownString(body, text, textStart, form, unit, end);
    unit = end;
  }
  if (at !== textStart || unit !== textUnits) throw corrupt(`${n} strings leave ${textStart - at} length bytes and ${textUnits - unit} text units`);
  return records;
}

/** Cursors over the sections of one flat body. */
class FlatReader {
  private numberAt = flatFixedBytes;
  private tagAt: number;
  private readonly tagEnd: number;
  private lengthAt: number;
  private unitAt = 0;
  private stringsRead = 0;
  private readonly text: string;

  constructor(
    private readonly body: Uint8Array,
    private readonly data: DataView,
    numberCount: number,
    tagBytes: number,
    private readonly lengthBytes: number,
    private readonly textStart: number,
    private readonly textUnits: number,
    private readonly form: number,
  ) {
    this.tagAt = flatFixedBytes + 8 * numberCount;
    this.tagEnd = this.tagAt + tagBytes;
    this.lengthAt = this.tagEnd;
    const textEnd = textStart + (form + 1) * textUnits;
    this.text = form === 0 ? Buffer.prototype.latin1Slice.call(body, textStart, textEnd) : Buffer.prototype.ucs2Slice.call(body, textStart, textEnd);
  }

  number(): number {
    if (this.numberAt >= this.tagAt) throw corrupt('more numbers used than written');
    const value = this.data.getFloat64(this.numberAt, true);
    this.numberAt += 8;
    return value;
  }

  string(): string {
    const lengthEnd = this.tagEnd + this.lengthBytes;
    let units = 0;
    for (let shift = 0; ; shift += 7) {
      if (this.lengthAt >= lengthEnd || shift > 28) throw corrupt('a string length runs past its section');
      const b = this.body[this.lengthAt++]!;
      units += (b & 0x7f) * 2 ** shift;
      if (b < 0x80) break;
    }
    const from = this.unitAt;
    const to = from + units;
    if (to > this.textUnits) throw corrupt(`a string ends at unit ${to} of ${this.textUnits}`);
    this.unitAt = to;
    this.stringsRead++;
    return ownString(this.body, this.text, this.textStart, this.form, from, to);
  }

  private tag(): number {
    if (this.tagAt >= this.tagEnd) throw corrupt('more tags used than written');
    return this.body[this.tagAt++]!;
  }

  /** The next tagged value; a tuple only when `tupleAllowed` (tuples are flat). */
  value(tupleAllowed: boolean): unknown {
    const tag = this.tag();
    switch (tag) {
      case Tag.String:
        return this.string();
      case Tag.Number:
        return this.number();
      case Tag.False:
        return false;
      case Tag.True:
        return true;
      case Tag.Null:
        return null;
      case Tag.Undefined:
        return undefined;
      case Tag.Tuple: {
        if (!tupleAllowed) throw corrupt('a tuple inside a tuple');
        const count = this.tag();
        const tuple = new Array<unknown>(count);
        for (let k = 0; k < count; k++) tuple[k] = this.value(false);
        return tuple;
      }
      default:
        throw corrupt(`unknown tag ${tag}`);
    }
  }

  /** @throws RangeError unless every section was used exactly. */
  finish(stringCount: number, numberCount: number): void {
    if (this.stringsRead !== stringCount || this.unitAt !== this.textUnits || this.lengthAt !== this.tagEnd + this.lengthBytes) {
      throw corrupt(`${this.stringsRead} of ${stringCount} strings read, ${this.unitAt} of ${this.textUnits} text units`);
    }
    if (this.tagAt !== this.tagEnd || this.numberAt !== flatFixedBytes + 8 * numberCount) throw corrupt('tags or numbers left over');
  }
}

/**
 * Reads the flat batch encoding (flat-batch-codec.ts writes it; layout in native-notes.md
 * §2). Every value is copied out of the body, which may lie in ring memory, and every
 * count is checked against the body's length before it is used.
 */
import { Buffer } from 'node:buffer';
import { Tag, flatFixedBytes } from './flat-batch-codec.js';

/**
 * Below this many code units a substring of the batch's text is a copy; from it on, V8
 * makes a SlicedString that would keep the whole text alive (V8's SlicedString::kMinLength),
 * so longer strings are decoded from the bytes on their own.
 */
const slicedStringMinUnits = 13;

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

/**
 * The batch's whole text section as one string, made at the first short string that needs
 * it (`ownString`): a body of long strings only (the keyed shuffle's 100-byte records)
 * never decodes it, which was half of that consumer's `latin1Slice` time.
 */
class BatchText {
  private text: string | undefined;

  constructor(
    private readonly body: Uint8Array,
    private readonly textStart: number,
    private readonly textUnits: number,
    private readonly form: number,
  ) {}

  /** Units [from, to) of the text, as V8 copies a short substring. */
  substring(from: number, to: number): string {
    let text = this.text;
    if (text === undefined) {
      const end = this.textStart + (this.form + 1) * this.textUnits;
      text = (this.form === 0 ? Buffer.prototype.latin1Slice.call(this.body, this.textStart, end) : Buffer.prototype.ucs2Slice.call(this.body, this.textStart, end)) as string;
      this.text = text;
    }
    return text.substring(from, to);
  }
}

/** The text's units [from, to) as a string of their own (never a slice of the batch's text). */
function ownString(body: Uint8Array, text: BatchText, textStart: number, form: number, from: number, to: number): string {
  if (to - from < slicedStringMinUnits) return text.substring(from, to);
  const width = form + 1;
  const start = textStart + width * from;
  const end = textStart + width * to;
  return form === 0 ? Buffer.prototype.latin1Slice.call(body, start, end) : Buffer.prototype.ucs2Slice.call(body, start, end);
}

/** A body of n strings only: lengths from `lengthAt` up to `textStart`, then the text. */
function readStrings(body: Uint8Array, n: number, lengthAt: number, textStart: number, textUnits: number, form: number): string[] {
  const text = new BatchText(body, textStart, textUnits, form);
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
  private readonly text: BatchText;

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
    this.text = new BatchText(body, textStart, textUnits, form);
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

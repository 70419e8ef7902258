/**
 * JSON lines and CSV: line formats for the sources (`readJsonLines`, `readCsv`) and row
 * encoders for the file sink (`writeAsJsonLines`, `writeAsCsv`). CSV goes through csv-parse
 * and csv-stringify (RFC 4180 quoting, escapes, casts). Flink: the `json` and `csv` formats.
 *
 * Rules, the same both ways:
 * - One record per line. A blank line is no record. A CSV field may not hold a line break
 *   (the sources cut lines first): reading, such a line fails as an unclosed quote;
 *   writing, such a field is refused. A '\r' inside a line is data, never a record end.
 * - A value that the format cannot carry faithfully is refused, not changed: NaN, ±Infinity
 *   and bigint in JSON lines (JSON has no such numbers; write them as strings), Map and Set
 *   (JSON.stringify would write `{}`). CSV `cast` turns a field into a number only when the
 *   field is a JSON number (exponents signed, as JavaScript writes them): `0x1A`, `02134`
 *   (a zip code), ` 12`, `0E0` (an airport code) and integers a double cannot hold
 *   exactly (20-digit ids) stay strings.
 * - Decoding a batch of lines at once gives exactly what decoding them one by one gives.
 * - A UTF-8 byte order mark at the start of a line (a file's first) is dropped.
 * - Options are checked when the job is defined: an unknown option is an error naming it.
 */
import type * as CsvParse from 'csv-parse/sync';
import type * as CsvStringify from 'csv-stringify/sync';
import { lazyRequire } from '../lazy-require.js';
import type { LineDecoderFunctions, LineFormat, ParseErrorPolicy } from './line-format.js';
import { noRecord } from './line-format.js';
import type { RowEncoder } from './file-sink.js';
import { previewRecord } from '../errors.js';

// Loaded by the first CSV job (lazy-require.ts): every thread of every job loads this file.
const csvParse = lazyRequire<typeof CsvParse>(import.meta.url, 'csv-parse/sync');
const csvStringify = lazyRequire<typeof CsvStringify>(import.meta.url, 'csv-stringify/sync');

const isBlank = (line: string): boolean => line.trim() === '';
const stripBom = (line: string): string => (line.charCodeAt(0) === 0xfeff ? line.slice(1) : line);

/**
 * @param others option names the caller takes itself (the file source's `suffix`...):
 *   listed in the message, never refused here.
 */
function checkOptions(what: string, options: object, allowed: readonly string[], others: readonly string[] = []): void {
  if (options === null || typeof options !== 'object') throw new TypeError(`${what} expects an options object, got ${options === null ? 'null' : typeof options}`);
  for (const key of Object.keys(options)) {
    if (!allowed.includes(key) && !others.includes(key)) throw new TypeError(`${what} has no option "${key}"; its options are ${[...allowed, ...others].join(', ')}`);
  }
}

function checkPolicy(what: string, policy: unknown): ParseErrorPolicy {
  if (policy === undefined) return 'fail';
  if (policy !== 'fail' && policy !== 'skip') throw new TypeError(`${what} option onParseError must be 'fail' or 'skip', got ${JSON.stringify(policy)}`);
  return policy;
}

export interface JsonLinesReadOptions {
  /** What to do with a line that is not JSON: fail the job (default) or skip and count it. */
  onParseError?: ParseErrorPolicy;
}

/**
 * JSON lines (one JSON value per line), read with JSON.parse.
 * @param otherOptions option names of the caller, for the message about an unknown one.
 * @throws TypeError for an unknown option or a bad `onParseError`.
 */
export function jsonLinesFormat<T>(options: JsonLinesReadOptions = {}, what = 'readJsonLines()', otherOptions: readonly string[] = []): LineFormat<T> {
  checkOptions(what, options, ['onParseError'], otherOptions);
  return {
    name: 'JSON lines',
    header: false,
    onParseError: checkPolicy(what, options.onParseError),
    createDecoder: (): LineDecoderFunctions<T> => ({
      decode: (line) => (isBlank(line) ? noRecord : (JSON.parse(stripBom(line)) as T)),
    }),
  };
}

/** Throws naming the path when `value` holds something JSON cannot carry faithfully. */
function checkJsonValue(value: unknown, path: string, seen: Set<object>): void {
  switch (typeof value) {
    case 'number':
      if (!Number.isFinite(value)) throw new TypeError(`${path} is ${value}, which JSON cannot hold (it would become null): write it as a string`);
      return;
    case 'bigint':
      throw new TypeError(`${path} is the bigint ${value}n, which JSON lines cannot hold without losing digits: write it as a string`);
    case 'object': {
      if (value === null) return;
      if (seen.has(value)) throw new TypeError(`${path} refers to itself (a cycle): JSON cannot hold it`);
      if (value instanceof Map || value instanceof Set) {
        throw new TypeError(`${path} is a ${value instanceof Map ? 'Map' : 'Set'}, which JSON.stringify would write as {}: convert it (Object.fromEntries, an array) first`);
      }
      seen.add(value);
      if (Array.isArray(value)) value.forEach((v, i) => checkJsonValue(v, `${path}[${i}]`, seen));
      else if (typeof (value as { toJSON?: unknown }).toJSON !== 'function') {
        for (const [k, v] of Object.entries(value)) checkJsonValue(v, `${path}.${k}`, seen);
      }
      seen.delete(value);
      return;
    }
    default:
      return;
  }
}

/** One record per line as JSON; NaN, ±Infinity and bigint are refused (see the file comment). */
export const jsonLinesEncoder: RowEncoder<unknown> = {
  name: 'JSON lines',
  encode(record: unknown): string {
    checkJsonValue(record, 'record', new Set());
    const line = JSON.stringify(record);
    if (line === undefined) throw new TypeError(`A record of type ${typeof record} has no JSON form`);
    return line;
  },
};

export interface CsvReadOptions {
  /** The first line of every file holds the column names: records are objects by name. */
  header?: boolean;
  /** Column names: records are objects by these names (with `header`, they replace the file's). */
  columns?: string[];
  /** Field delimiter; default ','. */
  delimiter?: string;
  /** Quote character; default '"'. */
  quote?: string;
  /** Escape character inside quotes; default '"'. */
  escape?: string;
  /**
   * Turn numeric fields into numbers; default false: every field is a string. A field is
   * numeric when it is a JSON number with a signed exponent if any (`-12`, `0.5`,
   * `1.5e-7`, `1e+21`); `0x1A`, `02134`, `+1`, ` 12` (without `trim`), `0E0` (an airport
   * code), ISO dates and integers a double cannot hold exactly (20-digit ids) stay strings.
   */
  cast?: boolean;
  /** Trim spaces around fields; default false. */
  trim?: boolean;
  /** What to do with a bad line: fail the job (default) or skip and count it. */
  onParseError?: ParseErrorPolicy;
}

const csvReadOptionNames = ['header', 'columns', 'delimiter', 'quote', 'escape', 'cast', 'trim', 'onParseError'] as const;

function checkChar(what: string, name: string, value: unknown): void {
  if (value !== undefined && (typeof value !== 'string' || value.length === 0 || value.includes('\n'))) {
    throw new TypeError(`${what} option ${name} must be a non-empty string without line breaks, got ${JSON.stringify(value)}`);
  }
}

function checkColumns(what: string, columns: unknown): string[] | undefined {
  if (columns === undefined) return undefined;
  if (!Array.isArray(columns) || columns.length === 0 || columns.some((c) => typeof c !== 'string' || c === '' || c.includes('\n'))) {
    throw new TypeError(`${what} option columns must be a non-empty array of non-empty names without line breaks, got ${JSON.stringify(columns)}`);
  }
  if (new Set(columns).size !== columns.length) throw new TypeError(`${what} option columns names a column twice: ${JSON.stringify(columns)}`);
  return columns as string[];
}

/**
 * What `cast` turns into a number: a JSON number literal whose exponent, if any, has its
 * sign, as JavaScript writes one (`1e-7`, `1e+21`). Without the sign `0E0` and `1E5` would
 * be numbers, and they are identifiers in real data (FAA airport codes; gene names).
 */
const numericField = /^-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]\d+)?$/;

/** `value` as a number when it is numeric (`numericField`; integers: held exactly); else the string. */
export function castCsvField(value: string): string | number {
  if (!numericField.test(value)) return value;
  const n = Number(value);
  if (!Number.isFinite(n)) return value; // 1e400
  // An integer literal a double cannot hold exactly (a 20-digit id) would lose digits: keep it.
  if (Number.isInteger(n) && !Number.isSafeInteger(n) && !/[.eE]/.test(value) && BigInt(value) !== BigInt(n)) return value;
  return n;
}

/** csv-parse's message without its own line and record numbers (it parses one line at a time here). */
function csvMessage(error: unknown): string {
  const { code, message } = error as { code?: string; message: string };
  if (code === 'CSV_QUOTE_NOT_CLOSED') return 'a quoted field is not closed on this line (a CSV field may not hold a line break: each line is one record)';
  return message.replace(/ (?:on|at) line \d+/g, '');
}

/**
 * CSV lines, parsed by csv-parse. Records are arrays of fields, or objects by column name
 * with `header` or `columns`. A line whose field count differs from the columns' fails.
 * @param otherOptions option names of the caller, for the message about an unknown one.
 * @throws TypeError for an unknown or malformed option.
 */
export function csvFormat<T>(options: CsvReadOptions = {}, what = 'readCsv()', otherOptions: readonly string[] = []): LineFormat<T> {
  checkOptions(what, options, csvReadOptionNames, otherOptions);
  for (const name of ['delimiter', 'quote', 'escape'] as const) checkChar(what, name, options[name]);
  for (const name of ['header', 'cast', 'trim'] as const) {
    if (options[name] !== undefined && typeof options[name] !== 'boolean') throw new TypeError(`${what} option ${name} must be true or false, got ${JSON.stringify(options[name])}`);
  }
  const columns = checkColumns(what, options.columns);
  const textOptions = {
    delimiter: options.delimiter ?? ',',
    quote: options.quote ?? '"',
    escape: options.escape ?? '"',
    trim: options.trim === true,
    // Lines are cut at '\n' before they get here: a '\r' left inside one is data.
    record_delimiter: '\n',
    relax_column_count: true,
    skip_empty_lines: false,
  };
  // Cast after parsing: csv-parse's cast option builds a context object per field (5x slower).
  const cast = options.cast === true;
  const parseLine = (line: string): string[] => {
    let rows: string[][];
    try {
      rows = csvParse().parse(stripBom(line), textOptions) as string[][];
    } catch (error) {
      throw new Error(csvMessage(error), { cause: error });
    }
    if (rows.length !== 1) throw new Error(`expected one CSV record, found ${rows.length}`);
    return rows[0]!;
  };
  return {
    name: 'CSV',
    header: options.header === true,
    onParseError: checkPolicy(what, options.onParseError),
    createDecoder(headerLine): LineDecoderFunctions<T> {
      let names = columns;
      if (names === undefined && headerLine !== undefined) {
        const fields = parseLine(headerLine);
        if (new Set(fields).size !== fields.length || fields.some((f) => f === '')) throw new Error(`the header ${JSON.stringify(headerLine)} has an empty or repeated column name`);
        names = fields;
      }
      const toRecord = (text: string[]): T => {
        const fields: unknown[] = cast ? text.map(castCsvField) : text;
        if (names === undefined) return fields as T;
        if (fields.length !== names.length) throw new Error(`the line has ${fields.length} fields, the columns are ${names.length} (${names.join(', ')})`);
        const record: Record<string, unknown> = {};
        for (let i = 0; i < names.length; i++) record[names[i]!] = fields[i];
        return record as T;
      };
      return {
        decode: (line) => (isBlank(line) ? noRecord : toRecord(parseLine(line))),
        decodeAll(lines) {
          const kept = lines.filter((l) => !isBlank(l));
          if (kept.length === 0) return lines.map(() => noRecord);
          const rows = csvParse().parse(kept.map(stripBom).join('\n'), textOptions) as string[][];
          // Fewer rows: a quoted field ran over a line break (a bad line); let the caller find it.
          if (rows.length !== kept.length) return undefined;
          let next = 0;
          return lines.map((l) => (isBlank(l) ? noRecord : toRecord(rows[next++]!)));
        },
      };
    },
  };
}

export interface CsvWriteOptions {
  /** Column names: records are objects written in this order; with `header`, the first line of each part file. */
  columns?: string[];
  /** Write the column names as the first line of every part file; needs `columns`. */
  header?: boolean;
  /** Field delimiter; default ','. */
  delimiter?: string;
  /** Quote every field, not only those that need it. */
  quoted?: boolean;
}

/** CSV rows by csv-stringify: arrays as they are, objects by `columns`. */
export function csvEncoder(options: CsvWriteOptions = {}, what = 'writeAsCsv()'): RowEncoder<unknown> {
  checkOptions(what, options, ['columns', 'header', 'delimiter', 'quoted']);
  checkChar(what, 'delimiter', options.delimiter);
  const columns = checkColumns(what, options.columns);
  if (options.header === true && columns === undefined) throw new TypeError(`${what} option header needs columns: the names to write`);
  const stringifyOptions = {
    delimiter: options.delimiter ?? ',',
    quoted: options.quoted === true,
    record_delimiter: '',
    // csv-stringify would write true as "1", false as "" and a Date as epoch ms.
    cast: { boolean: (b: boolean) => String(b), date: (d: Date) => d.toISOString() },
  };
  const line = (fields: unknown[]): string => csvStringify().stringify([fields], stringifyOptions);
  return {
    name: 'CSV',
    header: options.header === true ? line(columns!) : undefined,
    encode(record: unknown): string {
      let fields: unknown[];
      if (Array.isArray(record)) fields = record;
      else if (record !== null && typeof record === 'object' && columns !== undefined) fields = columns.map((c) => (record as Record<string, unknown>)[c]);
      else if (record !== null && typeof record === 'object') throw new TypeError(`${what} needs the columns option to write objects (which fields, in which order)`);
      else fields = [record];
      for (const f of fields) {
        if (typeof f === 'number' && !Number.isFinite(f)) throw new TypeError(`A CSV field is ${f}: write it as a string if it is meant`);
        if (typeof f === 'string' && f.includes('\n')) {
          throw new TypeError(`A CSV field holds a line break (${previewRecord(f)}): each line is one record, so readCsv could not read it back; replace the line breaks`);
        }
        if (f !== null && typeof f === 'object' && !(f instanceof Date)) throw new TypeError(`A CSV field is an ${Array.isArray(f) ? 'array' : 'object'}: CSV fields are scalars`);
      }
      return line(fields);
    },
  };
}

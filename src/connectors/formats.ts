/**
 * JSON lines and CSV: line formats for the sources (`readJsonLines`, `readCsv`) and row
 * encoders for the file sink (`writeAsJsonLines`, `writeAsCsv`). CSV goes through csv-parse
 * and csv-stringify (RFC 4180 quoting, escapes, casts). Flink: the `json` and `csv` formats.
 *
 * Rules, the same both ways:
 * - One record per line. A blank line is no record. A CSV field may not hold a line break
 *   (the sources cut lines first): such a line fails as unclosed quote.
 * - A value that the format cannot carry faithfully is refused, not changed: NaN, ±Infinity
 *   and bigint in JSON lines (JSON has no such numbers; write them as strings).
 * - Options are checked when the job is defined: an unknown option is an error naming it.
 */
import { parse as parseCsv } from 'csv-parse/sync';
import { stringify as stringifyCsv } from 'csv-stringify/sync';
import type { LineDecoderFunctions, LineFormat, ParseErrorPolicy } from './line-format.js';
import { noRecord } from './line-format.js';
import type { RowEncoder } from './file-sink.js';

const isBlank = (line: string): boolean => line.trim() === '';

function checkOptions(what: string, options: object, allowed: readonly string[]): void {
  if (options === null || typeof options !== 'object') throw new TypeError(`${what} expects an options object, got ${options === null ? 'null' : typeof options}`);
  for (const key of Object.keys(options)) {
    if (!allowed.includes(key)) throw new TypeError(`${what} has no option "${key}"; its options are ${allowed.join(', ')}`);
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

/** JSON lines (one JSON value per line), read with JSON.parse. */
export function jsonLinesFormat<T>(options: JsonLinesReadOptions = {}, what = 'readJsonLines()'): LineFormat<T> {
  checkOptions(what, options, ['onParseError']);
  return {
    name: 'JSON lines',
    header: false,
    onParseError: checkPolicy(what, options.onParseError),
    createDecoder: (): LineDecoderFunctions<T> => ({
      decode: (line) => (isBlank(line) ? noRecord : (JSON.parse(line) as T)),
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
  /** Turn numeric fields into numbers (and ISO dates stay strings); default false: every field is a string. */
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
  if (!Array.isArray(columns) || columns.length === 0 || columns.some((c) => typeof c !== 'string' || c === '')) {
    throw new TypeError(`${what} option columns must be a non-empty array of non-empty names, got ${JSON.stringify(columns)}`);
  }
  if (new Set(columns).size !== columns.length) throw new TypeError(`${what} option columns names a column twice: ${JSON.stringify(columns)}`);
  return columns as string[];
}

/**
 * CSV lines, parsed by csv-parse. Records are arrays of fields, or objects by column name
 * with `header` or `columns`. A line whose field count differs from the columns' fails.
 */
export function csvFormat<T>(options: CsvReadOptions = {}, what = 'readCsv()'): LineFormat<T> {
  checkOptions(what, options, csvReadOptionNames);
  for (const name of ['delimiter', 'quote', 'escape'] as const) checkChar(what, name, options[name]);
  for (const name of ['header', 'cast', 'trim'] as const) {
    if (options[name] !== undefined && typeof options[name] !== 'boolean') throw new TypeError(`${what} option ${name} must be true or false, got ${JSON.stringify(options[name])}`);
  }
  const columns = checkColumns(what, options.columns);
  const parseOptions = {
    delimiter: options.delimiter ?? ',',
    quote: options.quote ?? '"',
    escape: options.escape ?? '"',
    cast: options.cast === true,
    trim: options.trim === true,
    skip_empty_lines: false,
  };
  const fieldsOf = (line: string): unknown[] => {
    const rows = parseCsv(line, parseOptions) as unknown[][];
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
        const fields = fieldsOf(headerLine).map(String);
        if (new Set(fields).size !== fields.length || fields.some((f) => f === '')) throw new Error(`the header ${JSON.stringify(headerLine)} has an empty or repeated column name`);
        names = fields;
      }
      const toRecord = (fields: unknown[]): T => {
        if (names === undefined) return fields as T;
        if (fields.length !== names.length) throw new Error(`the line has ${fields.length} fields, the columns are ${names.length} (${names.join(', ')})`);
        const record: Record<string, unknown> = {};
        for (let i = 0; i < names.length; i++) record[names[i]!] = fields[i];
        return record as T;
      };
      return {
        decode: (line) => (isBlank(line) ? noRecord : toRecord(fieldsOf(line))),
        decodeAll(lines) {
          if (lines.some(isBlank)) return undefined;
          const rows = parseCsv(lines.join('\n'), parseOptions) as unknown[][];
          if (rows.length !== lines.length) return undefined;
          return rows.map(toRecord);
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
  const stringifyOptions = { delimiter: options.delimiter ?? ',', quoted: options.quoted === true, record_delimiter: '' };
  const line = (fields: unknown[]): string => stringifyCsv([fields], stringifyOptions);
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
        if (f !== null && typeof f === 'object' && !(f instanceof Date)) throw new TypeError(`A CSV field is an ${Array.isArray(f) ? 'array' : 'object'}: CSV fields are scalars`);
      }
      return line(fields);
    },
  };
}

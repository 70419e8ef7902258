/**
 * The reduce functions behind `sum`, `min`, `max`, `minBy` and `maxBy` of keyed and
 * windowed streams. Flink: `SumAggregator` and `ComparableAggregator`.
 *
 * A field is the record itself (no argument: a number record), an array position, or an
 * object property. `sum`, `min` and `max` return the first record with the field replaced
 * by the aggregate (other fields are the first record's, as in Flink); `minBy` and
 * `maxBy` return the record holding the extreme value (the first of equals).
 * Values: `sum` adds numbers or bigints (not mixed); the others compare numbers, bigints
 * or strings (one kind per field). Anything else throws a TypeError naming the field.
 */
import type { ReduceFunction } from './functions.js';

export type Field = number | string | undefined;

function describe(field: Field): string {
  return field === undefined ? 'the record' : typeof field === 'number' ? `position ${field}` : `field "${field}"`;
}

function checkField(field: Field, what: string): void {
  if (field === undefined) return;
  if (typeof field === 'number' && Number.isInteger(field) && field >= 0) return;
  if (typeof field === 'string' && field !== '') return;
  throw new TypeError(`${what}() expects an array position (integer >= 0) or a property name, got ${JSON.stringify(field)}`);
}

function read(record: unknown, field: Field): unknown {
  if (field === undefined) return record;
  if (record === null || typeof record !== 'object') return undefined;
  return (record as Record<string | number, unknown>)[field];
}

function write(record: unknown, field: Field, value: unknown): unknown {
  if (field === undefined) return value;
  if (Array.isArray(record)) {
    const next = record.slice();
    next[field as number] = value;
    return next;
  }
  return { ...(record as object), [field]: value };
}

function value(record: unknown, field: Field, what: string, kinds: readonly string[]): number | bigint | string {
  const v = read(record, field);
  if (!kinds.includes(typeof v)) {
    let shown: string;
    try {
      shown = JSON.stringify(v) ?? String(v);
    } catch {
      shown = String(v);
    }
    throw new TypeError(`${what}(): ${describe(field)} of a record is ${shown.length > 60 ? `${shown.slice(0, 57)}...` : shown}, not a ${kinds.join(' or ')}`);
  }
  return v as number | bigint | string;
}

function sameKind(a: unknown, b: unknown, field: Field, what: string): void {
  if (typeof a !== typeof b) throw new TypeError(`${what}(): ${describe(field)} is a ${typeof a} in one record and a ${typeof b} in another`);
}

/** Flink's `sum(field)`. @throws TypeError for a bad field (at once) or a non-numeric value (when applied). */
export function sumReducer(field?: Field): ReduceFunction<any> {
  checkField(field, 'sum');
  return (a, b) => {
    const x = value(a, field, 'sum', ['number', 'bigint']);
    const y = value(b, field, 'sum', ['number', 'bigint']);
    sameKind(x, y, field, 'sum');
    return write(a, field, (x as number) + (y as number));
  };
}

function comparing(field: Field, what: string, pick: (a: unknown, b: unknown) => boolean): ReduceFunction<any> {
  checkField(field, what);
  return (a, b) => {
    const x = value(a, field, what, ['number', 'bigint', 'string']);
    const y = value(b, field, what, ['number', 'bigint', 'string']);
    sameKind(x, y, field, what);
    return pick(x, y) ? a : b;
  };
}

/** Flink's `min(field)`: the smallest value in the field, other fields from the first record. */
export function minReducer(field?: Field): ReduceFunction<any> {
  checkField(field, 'min');
  return (a, b) => {
    const x = value(a, field, 'min', ['number', 'bigint', 'string']);
    const y = value(b, field, 'min', ['number', 'bigint', 'string']);
    sameKind(x, y, field, 'min');
    return y < x ? write(a, field, y) : a;
  };
}

/** Flink's `max(field)`: the largest value in the field, other fields from the first record. */
export function maxReducer(field?: Field): ReduceFunction<any> {
  checkField(field, 'max');
  return (a, b) => {
    const x = value(a, field, 'max', ['number', 'bigint', 'string']);
    const y = value(b, field, 'max', ['number', 'bigint', 'string']);
    sameKind(x, y, field, 'max');
    return y > x ? write(a, field, y) : a;
  };
}

/** Flink's `minBy(field)`: the record with the smallest value (the first of equals). */
export function minByReducer(field?: Field): ReduceFunction<any> {
  return comparing(field, 'minBy', (x, y) => !((y as number) < (x as number)));
}

/** Flink's `maxBy(field)`: the record with the largest value (the first of equals). */
export function maxByReducer(field?: Field): ReduceFunction<any> {
  return comparing(field, 'maxBy', (x, y) => !((y as number) > (x as number)));
}

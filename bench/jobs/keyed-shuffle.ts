/**
 * Benchmark job: a keyed shuffle and nothing else. `fromSequence(1, count)` -> `map` to a
 * 100-byte record -> `keyBy` (hash partitioner: murmur hash of the key, key groups) ->
 * `filter(() => false)` -> collect, so every record crosses a ring once and the sink
 * receives none.
 *
 *   args: --count <records> [--keys <distinct keys, default 100000>] [--table <records>]
 *
 * With `--table n`, record i is record (i - 1) mod n of a table built once per subtask
 * before the run: the source's map only picks a flat string, as the codec limit's loop
 * encodes pre-built batches (bench/shuffle.bench.ts), so the run measures the shuffle's
 * data path without building each record (a 100-character cons string that the key
 * selector's `substring` then flattens: about 200 ns of the job's own CPU per record).
 *
 * A record is a 100-character ASCII string: a 10-character key (the record's key number
 * in base 36, zero-padded) then 90 fixed payload characters, so it is 100 bytes on the
 * wire in the flat encoding (native-notes.md §2).
 */
import { parseArgs } from 'node:util';
import { defineJob } from '../../src/index.js';

/** Characters of a record (all ASCII: bytes on the wire). */
export const shuffleRecordChars = 100;
/** Characters of the key at the start of a record. */
export const shuffleKeyChars = 10;
const payload = 'p'.repeat(shuffleRecordChars - shuffleKeyChars);

/** Record `i` of a run with `keys` distinct keys: the key of i (a multiplicative hash of i mod keys) then the payload. */
export function shuffleRecord(i: number, keys: number): string {
  const key = (Math.imul(i, 0x9e3779b1) >>> 0) % keys;
  return key.toString(36).padStart(shuffleKeyChars, '0') + payload;
}

function integerArg(name: string, text: string | undefined, fallback: number | undefined): number {
  const value = text === undefined ? fallback : Number(text);
  if (value === undefined || !Number.isSafeInteger(value) || value < 1) {
    throw new RangeError(`keyed-shuffle needs --${name} <integer >= 1>, got ${String(text)}`);
  }
  return value;
}

export default defineJob((env, args) => {
  const { values } = parseArgs({
    args: [...args],
    options: { count: { type: 'string' }, keys: { type: 'string' }, table: { type: 'string' } },
    strict: true,
  });
  const count = integerArg('count', values.count, undefined);
  const keys = integerArg('keys', values.keys, 100_000);
  const tableSize = values.table === undefined ? undefined : integerArg('table', values.table, undefined);
  const table = tableSize === undefined ? undefined : Array.from({ length: tableSize }, (_, i) => shuffleRecord(i, keys));
  env
    .fromSequence(1, count)
    .name('Sequence')
    .map(table === undefined ? (i) => shuffleRecord(i, keys) : (i) => table[(i - 1) % table.length]!)
    .name('Records')
    .keyBy((record) => record.substring(0, shuffleKeyChars))
    .filter(() => false)
    .name('Drop all')
    .collect('dropped');
});

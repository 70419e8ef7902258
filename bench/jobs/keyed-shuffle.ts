/**
 * Benchmark job: a keyed shuffle and nothing else. `fromSequence(1, count)` -> `map` to a
 * 100-byte record -> `keyBy` (hash partitioner: murmur hash of the key, key groups) ->
 * `filter(() => false)` -> collect, so every record crosses a ring once and the sink
 * receives none.
 *
 *   args: --count <records> [--keys <distinct keys, default 100000>]
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
    options: { count: { type: 'string' }, keys: { type: 'string' } },
    strict: true,
  });
  const count = integerArg('count', values.count, undefined);
  const keys = integerArg('keys', values.keys, 100_000);
  env
    .fromSequence(1, count)
    .name('Sequence')
    .map((i) => shuffleRecord(i, keys))
    .name('Records')
    .keyBy((record) => record.substring(0, shuffleKeyChars))
    .filter(() => false)
    .name('Drop all')
    .collect('dropped');
});

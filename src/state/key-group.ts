/**
 * Key groups, as Flink's `KeyGroupRangeAssignment` and `MathUtils.murmurHash`.
 *
 * A key's hash is the Java `hashCode` of its value (strings, numbers, booleans, bigints,
 * arrays of those, byte arrays), so a job keyed the same way partitions its keys the same
 * way on every run and every thread:
 *   keyGroup      = murmurHash(hashCode(key)) % maxParallelism
 *   operatorIndex = floor(keyGroup * parallelism / maxParallelism)
 * Key groups are the unit of rescaling: subtask i owns one contiguous key-group range.
 */
import assert from 'node:assert/strict';

/** Flink's upper bound on max parallelism (key groups are u16 in state keys). */
export const maxParallelismUpperBound = 32768;
/** Flink's lower bound for the default max parallelism. */
export const maxParallelismDefaultLowerBound = 128;

/** Java's `String.hashCode`: s[0]*31^(n-1) + ... + s[n-1], in 32-bit arithmetic. */
export function stringHashCode(s: string): number {
  let h = 0;
  for (let i = 0; i < s.length; i++) h = (Math.imul(h, 31) + s.charCodeAt(i)) | 0;
  return h;
}

const f64 = new Float64Array(1);
const f64Words = new Int32Array(f64.buffer);

/** Java's `Double.hashCode` (bits ^ bits >>> 32), `Integer.hashCode` for int32 values. */
export function numberHashCode(n: number): number {
  if ((n | 0) === n && !Object.is(n, -0)) return n;
  f64[0] = n;
  return (f64Words[0]! ^ f64Words[1]!) | 0;
}

/** Java's `Long.hashCode` for 64-bit values. */
export function bigintHashCode(n: bigint): number {
  const bits = BigInt.asUintN(64, n);
  return Number(BigInt.asIntN(32, bits ^ (bits >> 32n)));
}

/**
 * The Java-style hash code of a key.
 * @throws TypeError for keys without a stable hash (objects, functions, undefined, null).
 */
export function keyHashCode(key: unknown): number {
  switch (typeof key) {
    case 'string':
      return stringHashCode(key);
    case 'number':
      return numberHashCode(key);
    case 'boolean':
      return key ? 1231 : 1237;
    case 'bigint':
      return bigintHashCode(key);
    default:
      break;
  }
  if (Array.isArray(key)) {
    let h = 1;
    for (const element of key) h = (Math.imul(h, 31) + keyHashCode(element)) | 0;
    return h;
  }
  if (key instanceof Uint8Array) {
    let h = 1;
    for (let i = 0; i < key.length; i++) h = (Math.imul(h, 31) + ((key[i]! << 24) >> 24)) | 0;
    return h;
  }
  throw new TypeError(
    `Cannot hash key ${describeKey(key)}: a key selector must return a string, number, ` +
      `boolean, bigint, Uint8Array or an array of those (return e.g. a field or a tuple, not the object)`,
  );
}

function describeKey(key: unknown): string {
  if (key === null || key === undefined) return String(key);
  try {
    const text = JSON.stringify(key);
    return text === undefined ? typeof key : text.length > 60 ? `${text.slice(0, 57)}...` : text;
  } catch {
    return typeof key;
  }
}

/** MurmurHash3's 32-bit finaliser (`fmix32`) of `h`, as an unsigned 32-bit integer. */
export function fmix32(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/** Flink's `MathUtils.murmurHash(int)`: one murmur3 round and finalizer, non-negative. */
export function murmurHash(code: number): number {
  let h = Math.imul(code, 0xcc9e2d51);
  h = (h << 15) | (h >>> 17);
  h = Math.imul(h, 0x1b873593);
  h = (h << 13) | (h >>> 19);
  h = (Math.imul(h, 5) + 0xe6546b64) | 0;
  h = fmix32(h ^ 4) | 0;
  if (h >= 0) return h;
  return h !== -2147483648 ? -h : 0;
}

/** The key group of a key: `murmurHash(hashCode(key)) % maxParallelism`. */
export function assignToKeyGroup(key: unknown, maxParallelism: number): number {
  return murmurHash(keyHashCode(key)) % maxParallelism;
}

/** The subtask that owns a key group: `floor(keyGroup * parallelism / maxParallelism)`. */
export function operatorIndexForKeyGroup(
  keyGroup: number,
  parallelism: number,
  maxParallelism: number,
): number {
  return Math.floor((keyGroup * parallelism) / maxParallelism);
}

/** Flink's default: `min(max(roundUpPow2(p + p/2), 128), 32768)`. */
export function defaultMaxParallelism(parallelism: number): number {
  assert(Number.isInteger(parallelism) && parallelism >= 1);
  const wanted = parallelism + Math.floor(parallelism / 2);
  let pow2 = 1;
  while (pow2 < wanted) pow2 *= 2;
  return Math.min(Math.max(pow2, maxParallelismDefaultLowerBound), maxParallelismUpperBound);
}

/** An inclusive key-group range `[start, end]`, Flink's `KeyGroupRange`; empty when end < start. */
export interface KeyGroupRange {
  start: number;
  end: number;
}

/** The key groups of subtask `index`, Flink's `computeKeyGroupRangeForOperatorIndex`. */
export function keyGroupRangeForSubtask(
  maxParallelism: number,
  parallelism: number,
  index: number,
): KeyGroupRange {
  assert(parallelism >= 1 && parallelism <= maxParallelism && index >= 0 && index < parallelism);
  const start = Math.floor((index * maxParallelism + parallelism - 1) / parallelism);
  const end = Math.floor(((index + 1) * maxParallelism - 1) / parallelism);
  return { start, end };
}

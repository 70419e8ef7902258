/**
 * Byte layout of keyed-state entries in the LSM store (native-notes.md section 3):
 *
 *   key   = keyGroup (u16 BE) | stateId (u16 BE) | escape(serialized key) | [map key]
 *   value = u8 stamp | [f64 LE refreshed-at ms, when stamp = 1] | serialized value
 *
 * - The key group comes first, so one key-group range is one contiguous key range
 *   (restore and rescale read ranges). Idea: Flink's RocksDB backend key layout.
 * - `escape` is order-preserving and prefix-free: 0x00 becomes 0x00 0xFF and the result
 *   ends with 0x00 0x01. So `escape(a)` is never a proper prefix of `escape(b)`, and all
 *   map entries of one user key share the prefix `keyGroup|stateId|escape(key)`.
 *   The map key is last and needs no escape.
 * - The state id is a 16-bit hash of (operator uid, state name), the same in every
 *   subtask and run, so snapshots of different subtasks merge without a remapping table.
 *
 * Timers (lsm-timers.ts) are entries of the state `_timers/<domain>` of their operator:
 *
 *   key   = keyGroup (u16 BE) | stateId (u16 BE) | timestamp (8 bytes) | escape(serialized key)
 *   value = u8 stamp 0 (no payload)
 *
 * The timestamp is the signed 64-bit integer t + 2^63 big-endian (sign bit flipped), so
 * unsigned byte order is numeric order, negative values included; within one key group the
 * entries of one timer state sort by (timestamp, key). Idea: Flink's `TimerSerializer`
 * (key group, timestamp with the sign flipped, key, namespace).
 */
import assert from 'node:assert/strict';
import { escapedFastStringSizeBytes, shortStringMaxLength, writeEscapedFastString } from './cbor-fast.js';

export const keyGroupSizeBytes = 2;
export const stateIdSizeBytes = 2;
/** Bytes before the escaped user key. */
export const statePrefixSizeBytes = keyGroupSizeBytes + stateIdSizeBytes;
/** Largest key group a u16 can hold (Flink caps max parallelism at 32768). */
export const keyGroupMax = 0xffff;

const escapeByte = 0x00;
const escapedZero = 0xff;
const terminator = 0x01;

/** Order-preserving, prefix-free escape of `raw` (see the file comment). */
export function escapeKey(raw: Uint8Array): Uint8Array {
  let zeros = 0;
  for (let i = 0; i < raw.length; i++) if (raw[i] === escapeByte) zeros++;
  const out = new Uint8Array(raw.length + zeros + 2);
  let o = 0;
  for (let i = 0; i < raw.length; i++) {
    const b = raw[i]!;
    out[o++] = b;
    if (b === escapeByte) out[o++] = escapedZero;
  }
  out[o++] = escapeByte;
  out[o++] = terminator;
  assert.ok(o === out.length);
  return out;
}

/** Inverse of `escapeKey` from `bytes[start]`; returns the raw key and the end offset. */
export function unescapeKey(bytes: Uint8Array, start: number): { raw: Uint8Array; end: number } {
  const out: number[] = [];
  for (let i = start; i + 1 < bytes.length; i++) {
    const b = bytes[i]!;
    if (b !== escapeByte) {
      out.push(b);
      continue;
    }
    const next = bytes[i + 1];
    if (next === terminator) return { raw: Uint8Array.from(out), end: i + 2 };
    if (next !== escapedZero) break;
    out.push(escapeByte);
    i++;
  }
  throw new RangeError('escaped key has no terminator');
}

/** FNV-1a 32-bit of a string's UTF-16 code units. */
function fnv1a(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 0x01000193);
  return h >>> 0;
}

/** The 16-bit state id of (operator uid, state name): xor-folded FNV-1a. */
export function stateIdOf(operatorUid: string, stateName: string): number {
  const h = fnv1a(`${operatorUid}\u0000${stateName}`);
  return ((h >>> 16) ^ h) & 0xffff;
}

/**
 * `keyGroup | stateId | escapedKey | suffix` as one new array.
 * REQUIRES: 0 <= keyGroup <= 0xffff, 0 <= stateId <= 0xffff, `escapedKey` from escapeKey.
 */
export function composeKey(keyGroup: number, stateId: number, escapedKey: Uint8Array, suffix?: Uint8Array): Uint8Array {
  const suffixLength = suffix === undefined ? 0 : suffix.length;
  const out = new Uint8Array(statePrefixSizeBytes + escapedKey.length + suffixLength);
  out[0] = keyGroup >>> 8;
  out[1] = keyGroup & 0xff;
  out[2] = stateId >>> 8;
  out[3] = stateId & 0xff;
  out.set(escapedKey, statePrefixSizeBytes);
  if (suffix !== undefined) out.set(suffix, statePrefixSizeBytes + escapedKey.length);
  return out;
}

/**
 * `composeKey(keyGroup, stateId, escapeKey(cbor(key)))` in one allocation for a string
 * key of cbor-fast.ts's fast path (short ASCII without NUL), else undefined.
 */
export function composeStringKey(keyGroup: number, stateId: number, key: string): Uint8Array | undefined {
  if (key.length > shortStringMaxLength) return undefined;
  const out = new Uint8Array(statePrefixSizeBytes + escapedFastStringSizeBytes(key));
  out[0] = keyGroup >>> 8;
  out[1] = keyGroup & 0xff;
  out[2] = stateId >>> 8;
  out[3] = stateId & 0xff;
  return writeEscapedFastString(out, statePrefixSizeBytes, key) ? out : undefined;
}

/** The state id of a composed key. */
export function stateIdOfKey(key: Uint8Array): number {
  return ((key[2] ?? 0) << 8) | (key[3] ?? 0);
}

/** [start, end) of all entries in key groups first..last (inclusive). end undefined = +inf. */
export function keyGroupRangeBounds(first: number, last: number): [Uint8Array, Uint8Array | undefined] {
  assert.ok(0 <= first && first <= last && last <= keyGroupMax);
  const start = Uint8Array.of(first >>> 8, first & 0xff);
  const end = last === keyGroupMax ? undefined : Uint8Array.of((last + 1) >>> 8, (last + 1) & 0xff);
  return [start, end];
}

/** Value stamp byte: 0 = no timestamp, 1 = f64 refreshed-at follows. */
export const valueStampNone = 0;
export const valueStampTtl = 1;
const stampedHeaderSizeBytes = 9;

/** `stamp | [refreshedAtMs] | payload` as one new array. */
export function encodeStateValue(payload: Uint8Array, refreshedAtMs: number | undefined): Uint8Array {
  const out = stateValueWithRoom(payload.length, refreshedAtMs);
  out.set(payload, out.length - payload.length);
  return out;
}

/**
 * A new stored value with its header (`stamp | [refreshedAtMs]`) written and
 * `payloadSizeBytes` zero bytes after it, for the caller to fill (the payload starts at
 * `length - payloadSizeBytes`).
 */
export function stateValueWithRoom(payloadSizeBytes: number, refreshedAtMs: number | undefined): Uint8Array {
  if (refreshedAtMs === undefined) {
    const out = new Uint8Array(1 + payloadSizeBytes);
    out[0] = valueStampNone;
    return out;
  }
  const out = new Uint8Array(stampedHeaderSizeBytes + payloadSizeBytes);
  out[0] = valueStampTtl;
  new DataView(out.buffer).setFloat64(1, refreshedAtMs, true);
  return out;
}

/** Offset of the payload in a stored value; throws `RangeError` for an unknown stamp. */
export function statePayloadOffset(stored: Uint8Array): number {
  const stamp = stored[0];
  if (stamp === valueStampNone) return 1;
  if (stamp === valueStampTtl && stored.length >= stampedHeaderSizeBytes) return stampedHeaderSizeBytes;
  throw new RangeError(`state value has unknown stamp byte ${String(stamp)}`);
}

/** Parses a stored value; throws `RangeError` for an unknown stamp. */
export function decodeStateValue(stored: Uint8Array): { payload: Uint8Array; refreshedAtMs: number | undefined } {
  const stamp = stored[0];
  if (stamp === valueStampNone) return { payload: stored.subarray(1), refreshedAtMs: undefined };
  if (stamp === valueStampTtl && stored.length >= stampedHeaderSizeBytes) {
    const refreshedAtMs = new DataView(stored.buffer, stored.byteOffset, stored.byteLength).getFloat64(1, true);
    return { payload: stored.subarray(stampedHeaderSizeBytes), refreshedAtMs };
  }
  throw new RangeError(`state value has unknown stamp byte ${String(stamp)}`);
}

export const timerTimestampSizeBytes = 8;
/** Bytes before the escaped key of a timer entry. */
export const timerPrefixSizeBytes = statePrefixSizeBytes + timerTimestampSizeBytes;
const two32 = 2 ** 32;

/**
 * `keyGroup | stateId | ordered(timestampMs) | escapedKey` as one new array (file comment).
 * REQUIRES: keyGroup and stateId in [0, 0xffff], timestampMs a safe integer.
 */
export function composeTimerKey(keyGroup: number, stateId: number, timestampMs: number, escapedKey: Uint8Array): Uint8Array {
  assert.ok(Number.isSafeInteger(timestampMs));
  const out = new Uint8Array(timerPrefixSizeBytes + escapedKey.length);
  out[0] = keyGroup >>> 8;
  out[1] = keyGroup & 0xff;
  out[2] = stateId >>> 8;
  out[3] = stateId & 0xff;
  // hi in [-2^21, 2^21), lo in [0, 2^32): t = hi * 2^32 + lo exactly.
  const hi = Math.floor(timestampMs / two32);
  const lo = timestampMs - hi * two32;
  const hiBits = (hi ^ 0x80000000) >>> 0;
  out[4] = hiBits >>> 24;
  out[5] = (hiBits >>> 16) & 0xff;
  out[6] = (hiBits >>> 8) & 0xff;
  out[7] = hiBits & 0xff;
  out[8] = lo >>> 24;
  out[9] = (lo >>> 16) & 0xff;
  out[10] = (lo >>> 8) & 0xff;
  out[11] = lo & 0xff;
  out.set(escapedKey, timerPrefixSizeBytes);
  return out;
}

/** The timestamp (ms) of a key composed by `composeTimerKey`. */
export function timerTimestampOfKey(key: Uint8Array): number {
  const view = new DataView(key.buffer, key.byteOffset, key.byteLength);
  const hi = (view.getUint32(statePrefixSizeBytes) ^ 0x80000000) | 0;
  return hi * two32 + view.getUint32(statePrefixSizeBytes + 4);
}

/**
 * Key identities: the heap backend's name for a state key (heap-backend.ts keys its cells,
 * timers and snapshot files by it). `keyIdentity` and its inverse `keyFromIdentity`: one
 * letter for the kind, then
 *   string `s<the string>`; number `n<String(n)>` (`n-0` for -0, a key of its own as in
 *   Flink's `Double.equals`, and hashed to its own key group); bigint `b<String(n)>`;
 *   `t` / `f` for booleans; Uint8Array `u<base64>`; array `a<count>:` then per item
 *   `<length>:<item identity>`, length in UTF-16 code units, counts and lengths in decimal
 *   without leading zeros. E.g. `[1, 'x,]']` is `a2:2:n14:sx,]`. The form is prefix-coded,
 *   so two keys have the same identity exactly when they are equal, and the key (hence its
 *   key group) can be recovered from the identity alone. Map state keys use the same form
 *   with -0 written `n0`: a map key's -0 and 0 are one entry, as in a JS `Map` and the LSM
 *   backend (cbor-x writes -0 as 0, so a stored map key comes back as 0 anyway).
 */
import type { StateKey } from './api.js';

/**
 * Maps a key to a string that is equal exactly when the keys are equal (format in the file
 * comment; -0 is not 0). Throws `TypeError` for a value that is not a state key.
 */
export function keyIdentity(key: unknown): string {
  return identityOf(key, 'n-0');
}

/** A map state key's identity: as `keyIdentity`, but -0 is 0 (file comment). */
export function mapKeyIdentity(key: unknown): string {
  return identityOf(key, 'n0');
}

/** `keyIdentity`, with `negativeZero` the identity of -0. */
function identityOf(key: unknown, negativeZero: string): string {
  switch (typeof key) {
    case 'string':
      return `s${key}`;
    case 'number':
      return Object.is(key, -0) ? negativeZero : `n${key}`;
    case 'bigint':
      return `b${key}`;
    case 'boolean':
      return key ? 't' : 'f';
    default:
      break;
  }
  if (key instanceof Uint8Array) return `u${Buffer.from(key.buffer, key.byteOffset, key.byteLength).toString('base64')}`;
  if (Array.isArray(key)) {
    let out = `a${key.length}:`;
    for (const item of key) {
      const id = identityOf(item, negativeZero);
      out += `${id.length}:${id}`;
    }
    return out;
  }
  throw new TypeError(`State key ${String(key)} is not a string, number, bigint, boolean, Uint8Array or array`);
}

/**
 * The key whose `keyIdentity` is `identity` (byte arrays come back as plain Uint8Array,
 * arrays as new arrays). Throws `RangeError` naming the identity if it is not one that
 * `keyIdentity` returns.
 */
export function keyFromIdentity(identity: string): StateKey {
  if (typeof identity !== 'string') throw new TypeError(`A key identity must be a string, got ${typeof identity}`);
  try {
    return parseIdentity(identity);
  } catch (e) {
    if (!(e instanceof MalformedIdentity)) throw e;
    const shown = identity.length > 120 ? `${JSON.stringify(identity.slice(0, 117))}...` : JSON.stringify(identity);
    throw new RangeError(`Malformed state key identity ${shown}: ${e.message}`);
  }
}

class MalformedIdentity extends Error {}

function parseIdentity(id: string): StateKey {
  const body = id.slice(1);
  switch (id[0]) {
    case 's':
      return body;
    case 'n': {
      if (body === '-0') return -0;
      const n = Number(body);
      if (String(n) !== body) throw new MalformedIdentity(`"${body}" is not a number as String() writes it`);
      return n;
    }
    case 'b': {
      let n: bigint | undefined;
      try {
        n = BigInt(body);
      } catch {
        n = undefined;
      }
      if (n === undefined || String(n) !== body) throw new MalformedIdentity(`"${body}" is not a bigint as String() writes it`);
      return n;
    }
    case 't':
    case 'f':
      if (body !== '') throw new MalformedIdentity('a boolean identity is "t" or "f" alone');
      return id === 't';
    case 'u': {
      const bytes = Buffer.from(body, 'base64');
      if (bytes.toString('base64') !== body) throw new MalformedIdentity(`"${body}" is not canonical base64`);
      return new Uint8Array(bytes);
    }
    case 'a':
      return parseArrayIdentity(id);
    case undefined:
      throw new MalformedIdentity('it is empty');
    default:
      throw new MalformedIdentity(`unknown kind "${id[0]}" (expected one of s n b t f u a)`);
  }
}

/** `a<count>:` then `<length>:<identity>` per item (file comment). */
function parseArrayIdentity(id: string): unknown[] {
  let pos = 1;
  /** A decimal count at `pos` without leading zeros, then ':'; moves `pos` past the ':'. */
  const readCount = (what: string): number => {
    let end = pos;
    while (end < id.length && end - pos <= 15 && id.charCodeAt(end) >= 0x30 && id.charCodeAt(end) <= 0x39) end++;
    const digits = id.slice(pos, end);
    if (digits.length === 0 || digits.length > 15 || (digits.length > 1 && digits[0] === '0') || id[end] !== ':') {
      throw new MalformedIdentity(`expected the ${what} in decimal and ':' at offset ${pos}`);
    }
    pos = end + 1;
    return Number(digits);
  };
  const count = readCount('item count');
  const items: unknown[] = [];
  for (let i = 0; i < count; i++) {
    const length = readCount(`length of item ${i}`);
    if (pos + length > id.length) throw new MalformedIdentity(`item ${i} needs ${length} characters at offset ${pos}, ${id.length - pos} are left`);
    items.push(parseIdentity(id.slice(pos, pos + length)));
    pos += length;
  }
  if (pos !== id.length) throw new MalformedIdentity(`${id.length - pos} characters after the ${count} items`);
  return items;
}

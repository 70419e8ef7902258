/**
 * The cbor fast paths (src/state/cbor-fast.ts) write exactly cbor-x's bytes, and the LSM
 * value codec round-trips every value through either path: seeded random integers around
 * every length boundary, other numbers (-0, NaN, fractions, large integers), strings of
 * any code points, and nested values; truncated or padded stored values never decode to
 * a wrong value. Replay one seed: SLUICE_SEED=<seed> npx tap dist/test/state/cbor-fast.test.js
 */
import t from 'tap';
import { Encoder } from 'cbor-x';
import {
  escapedFastKey,
  escapedFastString,
  escapedFastStringSizeBytes,
  fastIntSizeBytes,
  isFastInt,
  readFastInt,
  writeFastInt,
  writeEscapedFastString,
} from '../../src/state/cbor-fast.js';
import { composeKey, composeStringKey, escapeKey, statePayloadOffset } from '../../src/state/key-encoding.js';
import { LsmValueCodec } from '../../src/state/lsm-value-codec.js';
import { testSeed } from '../helpers/random.js';
import { randomInt, seededRandom, toHex } from './helpers.js';

const cbor = new Encoder({ useRecords: false });
const cborCopying = new Encoder({ useRecords: false, copyBuffers: true });
const serializer = { serialize: (v: unknown) => cborCopying.encode(v), deserialize: (b: Uint8Array) => cborCopying.decode(b) as unknown };

const seed = testSeed(20261201);

/** Integers at and around every length boundary of the fast path, both signs. */
function boundaryInts(): number[] {
  const out: number[] = [];
  for (const b of [0, 23, 24, 255, 256, 65535, 65536, 2 ** 32 - 1, 2 ** 32, 2 ** 53 - 1]) {
    for (const d of [-1, 0, 1]) out.push(b + d, -(b + d));
  }
  return out;
}

function randomInteger(rand: () => number): number {
  const bits = randomInt(rand, 0, 54);
  const n = Math.floor(rand() * 2 ** bits);
  return rand() < 0.5 ? n : -n;
}

function randomString(rand: () => number, maxLength: number): string {
  // Code points, not code units: well-formed text (cbor-x replaces lone surrogates).
  const pools = ['abcxyz', 'ABC019 _-', '\u0000\u0001\u007f\u0080', 'é€中\uffff', '\u{1F600}\u{10FFFF}'].map((p) => [...p]);
  let s = '';
  const length = randomInt(rand, 0, maxLength);
  const asciiOnly = rand() < 0.6;
  for (let i = 0; i < length; i++) {
    const pool = asciiOnly ? pools[randomInt(rand, 0, 2)]! : pools[randomInt(rand, 0, pools.length)]!;
    s += pool[randomInt(rand, 0, pool.length)]!;
  }
  return s;
}

t.test('fast integers are written as cbor-x writes them, and read back', (t) => {
  const rand = seededRandom(seed);
  const values = [...boundaryInts(), ...Array.from({ length: 5000 }, () => randomInteger(rand)), -0, 0.5, NaN, Infinity, -Infinity];
  let fast = 0;
  for (const n of values) {
    const expected = cbor.encode(n);
    if (!isFastInt(n)) {
      t.equal(Object.is(readFastInt(expected, 0), n), false, `seed ${seed}: ${n} is not read by the fast path`);
      continue;
    }
    fast++;
    const out = new Uint8Array(fastIntSizeBytes(n) + 3);
    writeFastInt(out, 3, n);
    if (toHex(out.subarray(3)) !== toHex(expected)) t.fail(`seed ${seed}: ${n} encodes as ${toHex(out.subarray(3))}, cbor-x ${toHex(expected)}`);
    if (readFastInt(out, 3) !== n) t.fail(`seed ${seed}: ${n} reads back as ${readFastInt(out, 3)}`);
  }
  t.ok(fast > 1000, `${fast} values took the fast path`);
  t.end();
});

t.test('readFastInt reads only a whole cbor integer: other items, truncations and trailing bytes are left to cbor-x', (t) => {
  for (const v of ['a', 1.5, [1], { a: 1 }, null, true, 2 ** 40, -(2 ** 40)]) t.equal(readFastInt(cbor.encode(v), 0), undefined, JSON.stringify(v));
  for (const n of [24, 300, 70000, -300]) {
    const bytes = cbor.encode(n);
    t.equal(readFastInt(bytes.subarray(0, bytes.length - 1), 0), undefined, `${n} truncated`);
    t.equal(readFastInt(Uint8Array.of(...bytes, 0), 0), undefined, `${n} with a trailing byte`);
  }
  t.equal(readFastInt(new Uint8Array(0), 0), undefined, 'empty');
  t.end();
});

t.test('string keys: the fast escape and the one-allocation composed key equal the general path', (t) => {
  const rand = seededRandom(seed + 1);
  const strings = [...Array.from({ length: 3000 }, () => randomString(rand, 40)), 'x'.repeat(23), 'x'.repeat(24), 'x'.repeat(255), 'x'.repeat(256), ''];
  let fast = 0;
  for (const s of strings) {
    const general = escapeKey(cbor.encode(s));
    const escaped = escapedFastString(s);
    const eligible = s.length <= 255 && [...s].every((c) => c.charCodeAt(0) > 0 && c.charCodeAt(0) < 0x80);
    t.equal(escaped !== undefined, eligible, `seed ${seed + 1}: fast path for ${JSON.stringify(s)}`);
    const group = randomInt(rand, 0, 32768);
    const stateId = randomInt(rand, 0, 65536);
    const composed = composeStringKey(group, stateId, s);
    t.equal(composed !== undefined, eligible);
    if (escaped === undefined || composed === undefined) continue;
    fast++;
    if (toHex(escaped) !== toHex(general)) t.fail(`seed ${seed + 1}: ${JSON.stringify(s)} escapes as ${toHex(escaped)}, not ${toHex(general)}`);
    if (toHex(composed) !== toHex(composeKey(group, stateId, general))) t.fail(`seed ${seed + 1}: composed key of ${JSON.stringify(s)} differs`);
    t.equal(escapedFastStringSizeBytes(s), general.length);
  }
  t.ok(fast > 1000, `${fast} strings took the fast path`);
  t.notOk(escapedFastString(42), 'a number is no fast string');
  t.notOk(writeEscapedFastString(new Uint8Array(10), 0, 'é'), 'non-ASCII is refused');
  t.end();
});

t.test('integer keys: the fast escape equals escapeKey(cbor-x) at every length boundary and over random integers', (t) => {
  const rand = seededRandom(seed + 3);
  const ints = [...boundaryInts(), ...Array.from({ length: 5000 }, () => randomInteger(rand))];
  let fast = 0;
  for (const n of ints) {
    const escaped = escapedFastKey(n);
    t.equal(escaped !== undefined, isFastInt(n), `seed ${seed + 3}: fast path for ${n}`);
    if (escaped === undefined) continue;
    fast++;
    const general = escapeKey(cbor.encode(n));
    if (toHex(escaped) !== toHex(general)) t.fail(`seed ${seed + 3}: ${n} escapes as ${toHex(escaped)}, not ${toHex(general)}`);
  }
  t.ok(fast > 2000, `${fast} integers took the fast path`);
  t.equal(toHex(escapedFastKey(256)!), toHex(escapeKey(cbor.encode(256))), 'a zero byte inside the encoding is escaped (0x19 0x01 0x00 0xff)');
  t.equal(escapedFastKey(-0), undefined, '-0 goes to cbor-x');
  t.equal(escapedFastKey(1.5), undefined, 'a fraction goes to cbor-x');
  t.equal(toHex(escapedFastKey('ab')!), toHex(escapedFastString('ab')!), 'a short ASCII string takes the string path');
  t.end();
});

t.test('the value codec round-trips any value, with and without a TTL stamp, through both encodings', (t) => {
  const rand = seededRandom(seed + 2);
  const codec = new LsmValueCodec<unknown>(serializer, true);
  const randomValue = (depth: number): unknown => {
    const r = rand();
    if (r < 0.4) return randomInteger(rand);
    if (r < 0.5) return [-0, NaN, 0.25, -1e300, Infinity][randomInt(rand, 0, 5)];
    if (r < 0.7) return randomString(rand, 20);
    if (r < 0.8 || depth > 2) return [null, true, false][randomInt(rand, 0, 3)];
    if (r < 0.9) return Array.from({ length: randomInt(rand, 0, 4) }, () => randomValue(depth + 1));
    return { a: randomValue(depth + 1), b: randomValue(depth + 1) };
  };
  for (let i = 0; i < 4000; i++) {
    const v = randomValue(0);
    const stamp = rand() < 0.3 ? randomInt(rand, 0, 2 ** 40) : undefined;
    const stored = codec.encode(v, stamp);
    const viaSerializer = new LsmValueCodec<unknown>(serializer, false).encode(v, stamp);
    if (toHex(stored) !== toHex(viaSerializer)) t.fail(`seed ${seed + 2}: ${JSON.stringify(v)} stored as ${toHex(stored)}, the serializer's ${toHex(viaSerializer)}`);
    const back = codec.decode(stored);
    const same = Object.is(back, v) || (typeof v === 'number' && Object.is(v, -0) && back === 0) || JSON.stringify(back) === JSON.stringify(v);
    if (!same) t.fail(`seed ${seed + 2}: ${JSON.stringify(v)} decodes as ${JSON.stringify(back)}`);
    const scratch = codec.encodeToScratch(v, stamp);
    if (scratch !== undefined) {
      t.equal(toHex(scratch), toHex(stored), 'scratch encoding equals the allocating one');
      if (codec.decode(scratch) !== v) t.fail(`seed ${seed + 2}: scratch of ${v} decodes wrongly`);
    } else if (isFastInt(v) && stamp === undefined) t.fail(`seed ${seed + 2}: ${v} should take the scratch path`);
  }
  t.end();
});

t.test('a truncated or extended stored integer never decodes to a wrong value', (t) => {
  const codec = new LsmValueCodec<unknown>(serializer, true);
  for (const n of [5, 24, 300, 70000, -70000, 2 ** 32 - 1]) {
    const stored = codec.encode(n, undefined);
    for (let cut = 1; cut < stored.length; cut++) {
      const truncated = stored.subarray(0, cut);
      let result: unknown;
      try {
        result = codec.decode(truncated);
      } catch {
        continue;
      }
      t.not(result, n, `${n} cut to ${cut} bytes does not decode as ${n}`);
    }
    t.throws(() => codec.decode(Uint8Array.of(7, ...stored.subarray(1))), /unknown stamp/, 'bad stamp byte');
  }
  t.equal(statePayloadOffset(codec.encode(1, 5)), 9, 'TTL header is 9 bytes');
  t.end();
});

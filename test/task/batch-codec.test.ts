// The record batch codec (batch-codec.ts, flat-batch-codec.ts): a seeded round-trip
// property over random batches (any code points, lone surrogates, -0, NaN, integers
// beyond 2^53, tuples, values that take the cbor-x path, nested values), and a fuzz of
// truncated and corrupted frames: each is a RangeError, never a crash or a wrong batch;
// timestamped frames with flat records, every damaged byte rejected.
import t from 'tap';
import { BatchDecoder, BatchEncoder, batchEncoding, batchHeaderBytes, decodeTimestampedBatch, encodeTimestampedBatch, timestampHeaderBytes } from '../../src/task/batch-codec.js';
import { crc32 } from '../../src/state/lsm/crc32.js';
import { seededRandom, testSeed } from '../helpers/random.js';

type Random = () => number;

function pick<T>(random: Random, items: readonly T[]): T {
  return items[Math.floor(random() * items.length)]!;
}

/** A string of any UTF-16 code units: ASCII, Latin-1, BMP, astral pairs, lone surrogates. */
function randomString(random: Random): string {
  const length = random() < 0.1 ? Math.floor(random() * 300) : Math.floor(random() * 16);
  let s = '';
  for (let i = 0; i < length; i++) {
    const kind = random();
    if (kind < 0.6) s += String.fromCharCode(32 + Math.floor(random() * 95));
    else if (kind < 0.7) s += String.fromCharCode(Math.floor(random() * 256));
    else if (kind < 0.8) s += String.fromCharCode(Math.floor(random() * 0x10000)); // lone surrogates too
    else if (kind < 0.9) s += String.fromCodePoint(0x10000 + Math.floor(random() * 0xfffff));
    else s += pick(random, ['\ud800', '\udfff', '\u0000', '\uffff', '\ufeff']);
  }
  return s;
}

function randomNumber(random: Random): number {
  return pick(random, [
    () => -0,
    () => NaN,
    () => Infinity,
    () => -Infinity,
    () => 2 ** 53 + 2 * Math.floor(random() * 1000), // beyond 2^53, as floats
    () => -(2 ** 63),
    () => Number.MAX_VALUE,
    () => Number.MIN_VALUE,
    () => Math.floor(random() * 1000),
    () => (random() - 0.5) * 1e12,
  ])();
}

function randomScalar(random: Random): unknown {
  const kind = random();
  if (kind < 0.45) return randomString(random);
  if (kind < 0.85) return randomNumber(random);
  return pick(random, [true, false, null, undefined]);
}

/** A value only cbor-x writes (the batch then takes the cbor-x path). */
function randomFallback(random: Random): unknown {
  return pick(random, [
    () => ({ word: randomString(random), count: Math.floor(random() * 100) }),
    () => new Date(Math.floor(random() * 2 ** 40)),
    () => new Map<unknown, unknown>([[randomString(random), [1, 'a']]]),
    () => new Set([randomString(random), 3]),
    () => BigInt(Math.floor(random() * 2 ** 50)) * 1000n,
    () => new Uint8Array([1, 2, Math.floor(random() * 256)]),
    () => [randomString(random), [1, [2, 'deep']]], // nested tuple
  ])();
}

/** A batch: all strings, all numbers, mixed flat records, or with values cbor-x must carry. */
function randomBatch(random: Random): unknown[] {
  const n = random() < 0.05 ? 0 : Math.floor(random() * (random() < 0.2 ? 700 : 30)) + 1;
  const shape = Math.floor(random() * 4);
  const batch: unknown[] = [];
  for (let i = 0; i < n; i++) {
    if (shape === 0) batch.push(randomString(random));
    else if (shape === 1) batch.push(randomNumber(random));
    else if (random() < 0.3) batch.push(Array.from({ length: Math.floor(random() * 6) }, () => randomScalar(random)));
    else batch.push(randomScalar(random));
  }
  if (shape === 3 && n > 0) batch[Math.floor(random() * n)] = randomFallback(random);
  return batch;
}

/** Compares with Object.is at the leaves (so -0, NaN and lone surrogates count), through cbor-x's types. */
function sameValue(a: unknown, b: unknown): boolean {
  if (Object.is(a, b)) return true;
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false;
  if (Object.getPrototypeOf(a) !== Object.getPrototypeOf(b)) return false;
  if (a instanceof Date) return a.getTime() === (b as Date).getTime();
  if (a instanceof Map || a instanceof Set) return sameValue([...a], [...(b as Map<unknown, unknown>)]);
  if (ArrayBuffer.isView(a)) return sameValue([...(a as Uint8Array)], [...(b as Uint8Array)]);
  const ka = Object.keys(a);
  const kb = Object.keys(b);
  return ka.length === kb.length && ka.every((k, i) => k === kb[i] && sameValue((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k]));
}

/** True when the batch has only flat records, so the flat encoding must be chosen. */
function isFlat(batch: readonly unknown[]): boolean {
  const scalar = (v: unknown): boolean => v === null || ['string', 'number', 'boolean', 'undefined'].includes(typeof v);
  return batch.every((r) => scalar(r) || (Array.isArray(r) && r.every(scalar)));
}

/** The payload placed at `offset` of a SharedArrayBuffer, as a frame sits in ring memory. */
function inRing(bytes: Uint8Array, offset: number): Uint8Array {
  const view = new Uint8Array(new SharedArrayBuffer(offset + bytes.length + 3), offset, bytes.length);
  view.set(bytes);
  return view;
}

t.test('random batches round-trip exactly; flat batches take the flat encoding, the others cbor-x', async (t) => {
  const seed = testSeed(11_001);
  const random = seededRandom(seed);
  const encoder = new BatchEncoder(true);
  const decoder = new BatchDecoder();
  const seen = { flat: 0, cbor: 0 };
  for (let round = 0; round < 1500; round++) {
    const batch = randomBatch(random);
    const bytes = encoder.encode(batch);
    const encoding = bytes[4];
    const flat = isFlat(batch);
    // cbor-x writes -0 as 0 (as before the flat encoding): compare what that path keeps.
    const expected = flat ? batch : (decoder.decode(new BatchEncoder(false).encode(batch).slice()) as unknown[]);
    if (encoding !== (flat ? batchEncoding.FLAT : batchEncoding.CBOR)) t.fail(`round ${round} has encoding ${encoding} (seed ${seed})`);
    seen[flat ? 'flat' : 'cbor']++;
    const back = decoder.decode(inRing(bytes, round % 7));
    if (!sameValue(back, expected)) {
      t.fail(`round ${round} did not round-trip (seed ${seed}): ${JSON.stringify(batch.slice(0, 5))}`);
      break;
    }
  }
  t.ok(seen.flat > 500 && seen.cbor > 200, `both encodings exercised: ${JSON.stringify(seen)}`);
});

t.test('strings keep every code unit: lone surrogates, alone and split across records, and long strings', async (t) => {
  const encoder = new BatchEncoder(true);
  const decoder = new BatchDecoder();
  const batch = ['\ud83d', '\ude00', 'a\udc00b', '\ud800'.repeat(20), 'x'.repeat(5000), '😀', '', 'é'.repeat(13)];
  const back = decoder.decode(encoder.encode(batch));
  t.same(back.map((s) => [...(s as string)].map((c) => c.codePointAt(0))), batch.map((s) => [...s].map((c) => c.codePointAt(0))));
  t.ok(back.every((s, i) => s === batch[i]));
});

t.test('batches of long strings only, or with the first short string last, round-trip in both text forms (the batch text is decoded only when a short string needs it)', async (t) => {
  const encoder = new BatchEncoder(true);
  const decoder = new BatchDecoder();
  const long = (i: number, c: string) => `${String(i).padStart(6, '0')}${c.repeat(94)}`;
  for (const c of ['p', 'é', '€']) {
    const onlyLong = Array.from({ length: 300 }, (_, i) => long(i, c));
    t.same(decoder.decode(encoder.encode(onlyLong)), onlyLong, `long strings only (${c})`);
    const shortLast = [...onlyLong.slice(0, 20), `s${c}`, ''];
    t.same(decoder.decode(encoder.encode(shortLast)), shortLast, `long strings, then short ones (${c})`);
    const tuples = onlyLong.slice(0, 30).map((s, i) => [s, i, i % 7 === 6 ? `k${c}` : s.slice(1)]);
    t.same(decoder.decode(encoder.encode(tuples)), tuples, `tuples of long strings, a short one now and then (${c})`);
  }
});

t.test('numbers keep -0, NaN, infinities and floats beyond 2^53 in flat batches', async (t) => {
  const encoder = new BatchEncoder(true);
  const decoder = new BatchDecoder();
  const batch = [-0, NaN, Infinity, -Infinity, 2 ** 53 + 2, 2 ** 64, -(2 ** 70), 5e-324];
  const back = decoder.decode(encoder.encode(batch));
  t.ok(back.every((v, i) => Object.is(v, batch[i])), `${String(back)}`);
  const [tuple] = decoder.decode(encoder.encode([['k', -0, NaN]])) as [unknown[]];
  t.ok(tuple[0] === 'k' && Object.is(tuple[1], -0) && Number.isNaN(tuple[2]), 'in a tuple too');
});

t.test('SLUICEGATE_BATCH_CODEC=cbor-x writes cbor-x, and either decoder reads both', async (t) => {
  const decoder = new BatchDecoder();
  const cbor = new BatchEncoder(false).encode(['a', 1]);
  t.equal(cbor[4], batchEncoding.CBOR);
  t.same(decoder.decode(cbor), ['a', 1]);
});

/** What decode did with `bytes`: 'rejected' (a RangeError), 'same' (the original batch), or what else happened. */
function outcome(decoder: BatchDecoder, bytes: Uint8Array, original: unknown[]): string {
  let back: unknown[];
  try {
    back = decoder.decode(bytes);
  } catch (e) {
    return e instanceof RangeError ? 'rejected' : `threw ${String(e)}`;
  }
  return sameValue(back, original) ? 'same' : 'a wrong batch';
}

/** Rewrites the CRC so that the damage reaches the body's own checks. */
function withValidCrc(bytes: Uint8Array): Uint8Array {
  new DataView(bytes.buffer, bytes.byteOffset).setUint32(0, crc32(bytes.subarray(4)), true);
  return bytes;
}

t.test('fuzz: truncated and corrupted frames are a RangeError, never a crash or a wrong record', async (t) => {
  const seed = testSeed(11_002);
  const random = seededRandom(seed);
  const encoder = new BatchEncoder(true);
  const decoder = new BatchDecoder();
  const tally = new Map<string, number>();
  const count = (key: string): void => void tally.set(key, (tally.get(key) ?? 0) + 1);
  for (let round = 0; round < 600; round++) {
    const batch = randomBatch(random);
    const bytes = encoder.encode(batch).slice();
    const original = decoder.decode(bytes);
    const cut = Math.floor(random() * bytes.length);
    const truncated = outcome(decoder, bytes.slice(0, cut), original);
    if (truncated !== 'rejected') t.fail(`round ${round}: cut at ${cut} of ${bytes.length}: ${truncated} (seed ${seed})`);
    const damaged = bytes.slice();
    const flips = 1 + Math.floor(random() * 3);
    for (let k = 0; k < flips; k++) damaged[Math.floor(random() * damaged.length)]! ^= 1 + Math.floor(random() * 255);
    const corrupted = outcome(decoder, damaged, original);
    if (corrupted !== 'rejected') t.fail(`round ${round}: ${flips} damaged bytes: ${corrupted} (seed ${seed})`);
    count(`${truncated}, ${corrupted}`);
    // Behind a valid CRC (a bug in an encoder, not damage): the flat body's own length checks
    // answer with a RangeError or some batch, never another error, a hang or a huge allocation.
    if (bytes[4] === batchEncoding.FLAT) {
      const behind = outcome(decoder, withValidCrc(damaged), original);
      if (behind.startsWith('threw')) t.fail(`round ${round}: behind a valid CRC: ${behind} (seed ${seed})`);
      count(`behind a valid CRC: ${behind}`);
      const short = outcome(decoder, withValidCrc(bytes.slice(0, Math.max(batchHeaderBytes, cut))), original);
      if (short.startsWith('threw') || short === 'a wrong batch') t.fail(`round ${round}: cut behind a valid CRC: ${short} (seed ${seed})`);
    }
    if (t.passing() === false) break;
  }
  t.equal(tally.get('rejected, rejected'), 600, JSON.stringify([...tally]));
  t.ok((tally.get('behind a valid CRC: rejected') ?? 0) > 50, 'the length checks reject part of the damage even behind a valid CRC (the CRC is what guarantees no wrong batch)');
  t.throws(() => decoder.decode(new Uint8Array(batchHeaderBytes - 1)), { name: 'RangeError', message: /shorter than its 8-byte header/ });
  const damaged = encoder.encode(['word']).slice();
  damaged[damaged.length - 1]! ^= 4;
  t.throws(() => decoder.decode(damaged), { name: 'RangeError', message: /fails its CRC-32.*the frame is damaged/ });
});

t.test('timestamped batches: flat records round-trip, and a damaged timestamp is a RangeError', async (t) => {
  const encoder = new BatchEncoder(true);
  const decoder = new BatchDecoder();
  const records = ['a', 'bb', ['k', 3]];
  const timestamps = [1_700_000_000_000, NaN, -5];
  const bytes = encodeTimestampedBatch(encoder, records, timestamps);
  const back = decodeTimestampedBatch(decoder, inRing(bytes, 3));
  t.same(back.records, records);
  t.same(Array.from(back.timestamps, (ts) => (Number.isNaN(ts) ? null : ts)), [1_700_000_000_000, null, -5]);
  t.equal(bytes[timestampHeaderBytes + 8 * records.length + 4], batchEncoding.FLAT, 'the batch inside takes the flat encoding');
  for (let at = 0; at < bytes.length; at++) {
    const damaged = bytes.slice();
    damaged[at]! ^= 0x10;
    t.throws(() => decodeTimestampedBatch(decoder, damaged), RangeError, `byte ${at} damaged`);
  }
});

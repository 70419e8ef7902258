/**
 * Record batch codec: cbor-x against JSON (+ TextEncoder / TextDecoder) for batches of
 * BATCH Nexmark-like bids, measured with benchmark.js (ops/s = batches/s, ± relative
 * margin of error). Decoding runs with `copyBuffers: true` as the runtime needs it (ring
 * memory is reused after a frame is released) and once from a view over a
 * SharedArrayBuffer, as the runtime decodes straight from the ring with tryReadWith.
 *
 * Run: `node dist/bench/codec.bench.js` (or via bench/run-all).
 */
import Benchmark from 'benchmark';
import { Decoder, Encoder } from 'cbor-x';
import { pathToFileURL } from 'node:url';
import { isMainThread } from 'node:worker_threads';
import { BatchDecoder, BatchEncoder } from '../src/task/batch-codec.js';
import { shuffleRecord } from './jobs/keyed-shuffle.js';

/** Nexmark `Bid`, as in the Nexmark benchmark's data generator. */
interface Bid {
  auction: number;
  bidder: number;
  price: number;
  channel: string;
  url: string;
  dateTime: number;
  extra: string;
}

const BATCH = 256;
const MAX_TIME_S = 1; // per benchmark; the machine is noisy, ratios matter more than absolutes

function makeBatch(seed: number): Bid[] {
  const bids: Bid[] = [];
  for (let i = 0; i < BATCH; i++) {
    const n = seed * BATCH + i;
    bids.push({
      auction: 1000 + (n % 977),
      bidder: 2000 + ((n * 7) % 9973),
      price: 100 + ((n * 31) % 100_000),
      channel: ['Google', 'Facebook', 'Baidu', 'Apple'][n % 4]!,
      url: `https://www.nexmark.com/${(n * 13) % 1000}/item.htm?query=1&channel_id=${n % 5000}`,
      dateTime: 1_700_000_000_000 + n * 10,
      extra: 'x'.repeat(n % 24),
    });
  }
  return bids;
}

interface Row {
  name: string;
  hz: number;
  rme: number;
}

function runSuite(title: string, cases: [string, () => void][]): Row[] {
  const suite = new Benchmark.Suite(title);
  for (const [name, fn] of cases) suite.add(name, fn, { maxTime: MAX_TIME_S });
  suite.run({ async: false });
  const rows: Row[] = [];
  suite.forEach((bench: Benchmark) => rows.push({ name: bench.name ?? '?', hz: bench.hz, rme: bench.stats.rme }));
  return rows;
}

function printRows(title: string, rows: Row[], sizes: Map<string, number>): void {
  const base = rows[0]!.hz;
  console.log(`\n${title} (batch of ${BATCH} bids)`);
  console.table(
    rows.map((r) => ({
      codec: r.name,
      'batches/s': r.hz.toFixed(0),
      'records/s': `${((r.hz * BATCH) / 1e6).toFixed(2)}M`,
      '±%': r.rme.toFixed(1),
      'vs JSON': `${(r.hz / base).toFixed(2)}x`,
      bytes: sizes.get(r.name) ?? '',
    })),
  );
}

/** Runs the encode and decode suites and prints two tables. */
export async function main(): Promise<void> {
  const batches = [makeBatch(1), makeBatch(2), makeBatch(3), makeBatch(4)];
  let k = 0;
  const next = (): Bid[] => batches[k++ & 3]!;
  const textEncoder = new TextEncoder();
  const textDecoder = new TextDecoder();
  const plain = new Encoder({ useRecords: false });
  const records = new Encoder({ useRecords: true });
  let sink = 0; // consumed so the work is not optimised away

  const sizes = new Map<string, number>([
    ['JSON.stringify + TextEncoder', textEncoder.encode(JSON.stringify(batches[0])).length],
    ['cbor-x useRecords: false', plain.encode(batches[0]).length],
    ['cbor-x useRecords: true', records.encode(batches[0]).length],
  ]);
  const encodeRows = runSuite('encode', [
    ['JSON.stringify + TextEncoder', () => { sink += textEncoder.encode(JSON.stringify(next())).length; }],
    ['cbor-x useRecords: false', () => { sink += plain.encode(next()).length; }],
    ['cbor-x useRecords: true', () => { sink += records.encode(next()).length; }],
  ]);
  printRows('encode', encodeRows, sizes);

  const jsonBytes = textEncoder.encode(JSON.stringify(batches[0]));
  // Copies: encode() returns a view into the encoder's reusable buffer.
  const plainBytes = Uint8Array.from(plain.encode(batches[0]));
  const recordBytes = Uint8Array.from(records.encode(batches[0]));
  const ringView = new Uint8Array(new SharedArrayBuffer(recordBytes.length));
  ringView.set(recordBytes);
  const plainDecoder = new Decoder({ useRecords: false, copyBuffers: true });
  const recordDecoder = new Decoder({ useRecords: true, copyBuffers: true });
  const recordDecoderNoCopy = new Decoder({ useRecords: true });
  const count = (value: unknown): void => { sink += (value as Bid[]).length; };
  const decodeRows = runSuite('decode', [
    ['JSON.parse + TextDecoder', () => count(JSON.parse(textDecoder.decode(jsonBytes)))],
    ['cbor-x useRecords: false, copyBuffers', () => count(plainDecoder.decode(plainBytes))],
    ['cbor-x useRecords: true, copyBuffers', () => count(recordDecoder.decode(recordBytes))],
    ['cbor-x useRecords: true, copyBuffers, SAB view', () => count(recordDecoder.decode(ringView))],
    ['cbor-x useRecords: true, no copyBuffers', () => count(recordDecoderNoCopy.decode(recordBytes))],
  ]);
  printRows('decode', decodeRows, new Map());
  sink += batchCodecSuite();
  if (sink === 0) console.log('(nothing measured)');
}

/** A batch of `BATCH` words as the word count's tokenizer makes them (lowercased, from the SOTU corpus's vocabulary shape). */
function wordBatch(seed: number): string[] {
  const vocabulary = ['the', 'of', 'and', 'to', 'in', 'a', 'that', 'our', 'government', 'congress', 'people', 'states', 'united', 'nations', 'responsibility'];
  return Array.from({ length: BATCH }, (_, i) => vocabulary[(seed * 7 + i * 13) % vocabulary.length]!.toLowerCase());
}

/**
 * The RECORDS batch codec (batch-codec.ts): the flat encoding against cbor-x behind the
 * same 8-byte header and CRC-32, for batches of words, of 100-byte strings (the keyed
 * shuffle's records) and of [word, count] tuples; bids always take cbor-x. Returns a value
 * to consume.
 */
function batchCodecSuite(): number {
  const shapes: [string, unknown[]][] = [
    ['words', wordBatch(1)],
    ['100-byte strings', Array.from({ length: BATCH }, (_, i) => shuffleRecord(i, 100_000))],
    ['[word, count] tuples', wordBatch(2).map((w, i) => [w, i])],
  ];
  const flat = new BatchEncoder(true);
  const cbor = new BatchEncoder(false);
  const decoder = new BatchDecoder();
  let sink = 0;
  const rows: { shape: string; op: string; flat: number; cbor: number; flatBytes: number; cborBytes: number }[] = [];
  for (const [shape, batch] of shapes) {
    const flatBytes = flat.encode(batch).slice();
    const cborBytes = cbor.encode(batch).slice();
    const encode = runSuite(`encode ${shape}`, [
      ['flat', () => { sink += flat.encode(batch).length; }],
      ['cbor-x', () => { sink += cbor.encode(batch).length; }],
    ]);
    const decode = runSuite(`decode ${shape}`, [
      ['flat', () => { sink += decoder.decode(flatBytes).length; }],
      ['cbor-x', () => { sink += decoder.decode(cborBytes).length; }],
    ]);
    for (const [op, r] of [['encode', encode], ['decode', decode]] as const) {
      rows.push({ shape, op, flat: r[0]!.hz * BATCH, cbor: r[1]!.hz * BATCH, flatBytes: flatBytes.length, cborBytes: cborBytes.length });
    }
  }
  console.log(`\nRECORDS batch codec, flat encoding against cbor-x (batches of ${BATCH}, header and CRC-32 included)`);
  console.table(
    rows.map((r) => ({
      records: r.shape,
      op: r.op,
      'flat records/s': `${(r.flat / 1e6).toFixed(2)}M`,
      'cbor-x records/s': `${(r.cbor / 1e6).toFixed(2)}M`,
      'flat / cbor-x': `${(r.flat / r.cbor).toFixed(2)}x`,
      'bytes flat / cbor-x': `${r.flatBytes} / ${r.cborBytes}`,
    })),
  );
  return sink;
}

if (isMainThread && process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  await main();
}

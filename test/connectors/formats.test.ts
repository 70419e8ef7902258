// JSON lines and CSV as a user meets them in files: records written by the row encoders
// (what writeAsJsonLines / writeAsCsv write) and read back by the file reader with the
// line formats (what readJsonLines / readCsv read), cut into random splits and polled in
// random batches, must be the records written. Bad lines fail naming file, line and
// content, or are skipped and counted; options are checked when the job is defined.
// Seeded: SLUICE_SEED=<n> replays a failure.
import t from 'tap';
import { statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { StreamExecutionEnvironment } from '../../src/api/environment.js';
import { FileSplitReader, csvEncoder, csvFormat, cutFile, jsonLinesEncoder, jsonLinesFormat } from '../../src/connectors/index.js';
import type { CsvReadOptions, CsvWriteOptions, LineFormat, RowEncoder } from '../../src/connectors/index.js';
import { UsageError } from '../../src/index.js';
import { tempDir } from '../helpers/checkpoints.js';
import { seededRandom, testSeed } from '../helpers/random.js';
import { drain } from '../helpers/sources.js';

const seed = testSeed(Date.now() % 100_000);
t.comment(`seed ${seed} (replay with SLUICE_SEED=${seed})`);

// ---------------------------------------------------------------------------------------
// Random records

/** Pieces of strings: CSV's special characters, both quotes, backslash, tab, '\r', unicode. */
const pieces = ['a', 'Z', 'x y', ',', ';', '"', '""', "'", '\\', '\t', '\r', 'é', '€', '𝄞', '中文', ' ', '|', '0', '-1.5'];

/** A string that never reads as a number (starts with a letter), or empty. */
function randomString(random: () => number): string {
  if (random() < 0.08) return '';
  let s = ['q', 'É', '中', 'x'][Math.floor(random() * 4)]!;
  const n = Math.floor(random() * 10);
  for (let i = 0; i < n; i++) s += pieces[Math.floor(random() * pieces.length)];
  return s;
}

/** Integers (negative too), decimals, tiny and huge magnitudes; never -0. */
function randomNumber(random: () => number): number {
  let n: number;
  switch (Math.floor(random() * 5)) {
    case 0:
      n = Math.floor(random() * 2001) - 1000;
      break;
    case 1:
      n = Math.round((random() - 0.5) * 1e6) / 100;
      break;
    case 2:
      n = (random() - 0.5) * 10 ** Math.floor(random() * 50 - 25);
      break;
    case 3:
      n = -Math.floor(random() * 1e15);
      break;
    default:
      n = random();
  }
  return n + 0; // -0 + 0 is +0
}

const columns = ['name', 'qty', 'price', 'note'];
type Row = { name: string; qty: number; price: number; note: string };

function randomRows(random: () => number, count: number): Row[] {
  return Array.from({ length: count }, () => ({ name: randomString(random), qty: randomNumber(random), price: randomNumber(random), note: randomString(random) }));
}

/** Any JSON value: nested objects and arrays, unicode keys, booleans, null. */
function randomJson(random: () => number, depth = 0): unknown {
  const r = random();
  if (depth < 3 && r < 0.2) return Array.from({ length: Math.floor(random() * 4) }, () => randomJson(random, depth + 1));
  if (depth < 3 && r < 0.45) {
    const o: Record<string, unknown> = {};
    for (let i = Math.floor(random() * 4); i > 0; i--) o[randomString(random)] = randomJson(random, depth + 1);
    return o;
  }
  if (r < 0.6) return randomString(random);
  if (r < 0.85) return randomNumber(random);
  return [true, false, null][Math.floor(random() * 3)];
}

// ---------------------------------------------------------------------------------------
// Writing and reading files as the sink and the source do

/** The lines the file sink writes for `records` (header first, '\n' after each line). */
function encodeFile(encoder: RowEncoder<unknown>, records: readonly unknown[]): string {
  const lines = records.map((r) => encoder.encode(r));
  if (encoder.header !== undefined) lines.unshift(encoder.header);
  return lines.map((l) => `${l}\n`).join('');
}

interface Read<T> {
  records: T[];
  errors: number;
}

/** Reads `path` with `format` in splits of `splitBytes` (random if not given), up to 40 lines a poll. */
function readFile<T>(path: string, format: LineFormat<T>, random: () => number, splitBytes?: number): Read<T> {
  const size = statSync(path).size;
  const reader = new FileSplitReader<T>({ sendSplitRequest: () => undefined }, format, 1 + Math.floor(random() * 40));
  reader.addSplits(cutFile(path, size, splitBytes ?? 1 + Math.floor(random() * Math.max(1, size / 2))));
  reader.notifyNoMoreSplits();
  const records: T[] = [];
  drain(reader, records);
  reader.close();
  return { records, errors: reader.numRecordsInErrors };
}

function writeText(path: string, text: string): string {
  writeFileSync(path, text);
  return path;
}

/** What a CSV field of `value` reads back as without cast: csv-stringify's text of it. */
const asText = (value: unknown): string => (value === null || value === undefined ? '' : String(value));

// ---------------------------------------------------------------------------------------

t.test('JSON lines round trip: random values (nested, unicode, quotes, decimals, negatives) come back equal', (t) => {
  const dir = tempDir(t, 'jsonl');
  for (let round = 0; round < 40; round++) {
    const random = seededRandom(seed * 1000 + round);
    const values = Array.from({ length: Math.floor(random() * 200) }, () => randomJson(random));
    const path = writeText(join(dir, `r${round}.jsonl`), encodeFile(jsonLinesEncoder, values));
    const read = readFile(path, jsonLinesFormat(), random);
    if (JSON.stringify(read.records) !== JSON.stringify(values) || read.errors !== 0) {
      t.same(read.records, values, `seed ${seed} round ${round}`);
      return t.end();
    }
  }
  t.pass('40 random files of JSON values read back equal');
  t.end();
});

t.test('CSV round trip: header + cast gives the records back, typed; without cast every field as its text', (t) => {
  const dir = tempDir(t, 'csv');
  const variants: Array<{ write: CsvWriteOptions; read: CsvReadOptions; typed: boolean; objects: boolean }> = [
    { write: { columns, header: true }, read: { header: true, cast: true }, typed: true, objects: true },
    { write: { columns, header: true }, read: { header: true }, typed: false, objects: true },
    { write: { columns }, read: { columns, cast: true }, typed: true, objects: true },
    { write: { columns, header: true, delimiter: ';', quoted: true }, read: { header: true, delimiter: ';', cast: true }, typed: true, objects: true },
    // With header and columns, the columns rename the file's.
    { write: { columns, header: true }, read: { header: true, columns: ['A', 'B', 'C', 'D'], cast: true }, typed: true, objects: false },
    { write: {}, read: { cast: true }, typed: true, objects: false },
    { write: { delimiter: '|' }, read: { delimiter: '|' }, typed: false, objects: false },
  ];
  for (let round = 0; round < 70; round++) {
    const random = seededRandom(seed * 1000 + round);
    const variant = variants[round % variants.length]!;
    const rows = randomRows(random, Math.floor(random() * 150));
    const written = variant.objects || variant.write.columns !== undefined ? rows : rows.map((r) => [r.name, r.qty, r.price, r.note]);
    const path = writeText(join(dir, `r${round}.csv`), encodeFile(csvEncoder(variant.write), written));
    const read = readFile<unknown>(path, csvFormat(variant.read), random);
    const names = variant.read.columns ?? (variant.objects ? columns : undefined);
    const expected = rows.map((r) => {
      const fields = [r.name, r.qty, r.price, r.note].map((f) => (variant.typed ? f : asText(f)));
      return names === undefined ? fields : Object.fromEntries(names.map((n, i) => [n, fields[i]]));
    });
    if (JSON.stringify(read.records) !== JSON.stringify(expected) || read.errors !== 0) {
      t.same(read.records, expected, `seed ${seed} round ${round}: ${JSON.stringify(variant)}`);
      return t.end();
    }
  }
  t.pass('70 random files in 7 option sets read back equal');
  t.end();
});

t.test('cast makes a number only of a field written as JavaScript writes numbers: zip codes, hex, airport codes like 0E0 stay text', (t) => {
  const cases: Array<[string, unknown]> = [
    ['-12', -12],
    ['0.5', 0.5],
    ['-1.25e-7', -1.25e-7],
    ['2.5E-3', 0.0025],
    ['1e+21', 1e21],
    ['1e3', '1e3'], // an exponent needs its sign, as JavaScript writes it
    ['0E0', '0E0'], // an FAA airport code (airports.csv), not zero
    ['1E5', '1E5'],
    ['34000000000000000000', 34000000000000000000], // exactly a double
    ['12345678901234567890', '12345678901234567890'], // 20-digit id: a double would drop digits
    ['0x1A', '0x1A'], // csv-parse's own cast made 0 of it
    ['0b101', '0b101'],
    ['02134', '02134'], // a zip code keeps its zero
    [' 12', ' 12'],
    ['+5', '+5'],
    ['1.', '1.'],
    ['.5', '.5'],
    ['1e400', '1e400'],
    ['Infinity', 'Infinity'],
    ['NaN', 'NaN'],
    ['2012-01-01', '2012-01-01'],
    ['', ''],
  ];
  for (const [field, value] of cases) t.same((csvFormat({cast:true}).createDecoder(undefined).decode(field === '' ? '""' : field) as unknown[])[0], value, JSON.stringify(field));
  // Through the decoder, one line and a batch alike; the header is never cast.
  const decoder = csvFormat({ header: true, cast: true }).createDecoder('0x1,02,3');
  const line = cases.map(([f]) => (f === '' ? '' : `"${f}"`)).slice(0, 3).join(',');
  t.same(decoder.decode(line), { '0x1': -12, '02': 0.5, '3': -1.25e-7 });
  t.same(decoder.decodeAll!(['0x1A,02134,1e+3', '', ' 12,1,x']), [{ '0x1': '0x1A', '02': '02134', '3': 1000 }, decoder.decode(''), { '0x1': ' 12', '02': 1, '3': 'x' }]);
  t.same(csvFormat({ cast: true, trim: true }).createDecoder(undefined).decode(' 12 , x '), [12, 'x'], 'trimmed first, then cast');
  t.end();
});

t.test('a batch of lines decodes exactly as the lines one by one (a "\\r" inside a line is data)', (t) => {
  const random = seededRandom(seed);
  const decoder = csvFormat<unknown[]>({ cast: true }).createDecoder(undefined);
  const shapes = ['a,1', 'a\rb,2', '"x\ry",3', '', '  ', 'q,"w,e",-4.5', 'one', '1,2,3,4,5', '\uFEFFbom,6'];
  for (let round = 0; round < 200; round++) {
    const lines = Array.from({ length: 1 + Math.floor(random() * 8) }, () => shapes[Math.floor(random() * shapes.length)]!);
    const batch = decoder.decodeAll!(lines);
    const single = lines.map((l) => decoder.decode(l));
    if (JSON.stringify(batch?.map((r) => (typeof r === 'symbol' ? 'none' : r))) !== JSON.stringify(single.map((r) => (typeof r === 'symbol' ? 'none' : r)))) {
      t.same(batch, single, `seed ${seed} round ${round}: ${JSON.stringify(lines)}`);
      return t.end();
    }
  }
  t.same(decoder.decode('a\rb,2'), ['a\rb', 2]);
  t.same(decoder.decode('\uFEFFbom,6'), ['bom', 6], 'a byte order mark is dropped');
  t.end();
});

t.test('blank lines (empty, spaces, CRLF) are no records and no errors', (t) => {
  const dir = tempDir(t, 'blank');
  const random = seededRandom(seed);
  const csv = writeText(join(dir, 'b.csv'), '\uFEFFa,b\r\n\r\n1,x\r\n   \r\n\n2,y\n\n\t\n');
  for (let i = 0; i < 10; i++) {
    t.same(readFile(csv, csvFormat({ header: true, cast: true }), random), { records: [{ a: 1, b: 'x' }, { a: 2, b: 'y' }], errors: 0 }, 'CSV with a BOM before its header');
  }
  const jsonl = writeText(join(dir, 'b.jsonl'), '\uFEFF{"a":1}\n\n  \r\n[2]\r\n\n"s"');
  for (let i = 0; i < 10; i++) t.same(readFile(jsonl, jsonLinesFormat(), random), { records: [{ a: 1 }, [2], 's'], errors: 0 }, 'JSON lines, the last line without a line break');
  t.end();
});

/** Good lines 1..n (1-based line numbers) with bad ones at `bad` line numbers. */
function fileWithBadLines(path: string, n: number, bad: Map<number, string>, good: (i: number) => string): string {
  const lines: string[] = [];
  for (let i = 1; i <= n; i++) lines.push(bad.get(i) ?? good(i));
  return writeText(path, `${lines.join('\n')}\n`);
}

t.test("onParseError 'fail': a UsageError naming the file, the line number (counted from the file start) and the content", (t) => {
  const dir = tempDir(t, 'bad');
  const random = seededRandom(seed);
  const cases: Array<{ name: string; format: () => LineFormat<unknown>; good: (i: number) => string; badLine: string; why: RegExp }> = [
    { name: 'JSON lines', format: () => jsonLinesFormat(), good: (i) => JSON.stringify({ i }), badLine: '{"i": 7,', why: /JSON/ },
    { name: 'CSV', format: () => csvFormat({ header: true }), good: (i) => (i === 1 ? 'i,s' : `${i},s${i}`), badLine: '7,"open', why: /a quoted field is not closed on this line \(a CSV field may not hold a line break: each line is one record\)/ },
    { name: 'CSV', format: () => csvFormat({ columns: ['i', 's'] }), good: (i) => `${i},s`, badLine: '7,s,extra', why: /the line has 3 fields, the columns are 2 \(i, s\)/ },
    { name: 'CSV', format: () => csvFormat(), good: (i) => `${i},s`, badLine: '7,a"b"', why: /Invalid Opening Quote: a quote is found on field 1, value is "a"/ },
  ];
  for (const c of cases) {
    for (const at of [2, 3, 150, 299, 300]) {
      const path = fileWithBadLines(join(dir, `bad-${at}.txt`), 300, new Map([[at, c.badLine]]), c.good);
      let error: unknown;
      try {
        readFile(path, c.format(), random);
      } catch (e) {
        error = e;
      }
      t.type(error, UsageError, `${c.name}, bad line ${at}`);
      const message = (error as Error).message;
      t.equal(message.split('\n').length, 1, 'one line');
      t.ok(message.startsWith(`Cannot parse file ${path} line ${at} as ${c.name}: `), message);
      t.match(message, c.why);
      t.ok(message.includes(` in ${JSON.stringify(c.badLine)}; fix the input, or pass onParseError: 'skip' to skip and count bad lines`), message);
      t.notMatch(message, /(on|at) line 1\b/, "csv-parse's own line number (always 1 here) is not shown");
    }
  }
  t.end();
});

t.test("onParseError 'skip': bad lines are counted, every good line comes through in order", (t) => {
  const dir = tempDir(t, 'skip');
  for (let round = 0; round < 20; round++) {
    const random = seededRandom(seed * 100 + round);
    const n = 1 + Math.floor(random() * 400);
    const bad = new Map<number, string>();
    const badLines = ['{"open":', 'x,"y', '1,2,3', 'z"q"'];
    for (let i = 2; i <= n; i++) if (random() < 0.1) bad.set(i, badLines[Math.floor(random() * badLines.length)]!);
    const goodLines = [...Array(n).keys()].map((k) => k + 1).filter((i) => !bad.has(i));
    // Each bad line is bad in both formats: not JSON, and not two CSV fields.
    const csv = fileWithBadLines(join(dir, `s${round}.csv`), n, bad, (i) => (i === 1 ? 'k,v' : `${i},"v,${i}"`));
    const read = readFile<{ k: number; v: string }>(csv, csvFormat({ header: true, cast: true, onParseError: 'skip' }), random);
    const expected = goodLines.filter((i) => i > 1).map((i) => ({ k: i, v: `v,${i}` }));
    const jsonl = fileWithBadLines(join(dir, `s${round}.jsonl`), n, bad, (i) => JSON.stringify({ k: i }));
    const jsonRead = readFile<{ k: number }>(jsonl, jsonLinesFormat({ onParseError: 'skip' }), random);
    const jsonExpected = goodLines.map((i) => ({ k: i }));
    if (JSON.stringify([read, jsonRead]) !== JSON.stringify([{ records: expected, errors: bad.size }, { records: jsonExpected, errors: bad.size }])) {
      t.same([read, jsonRead], [{ records: expected, errors: bad.size }, { records: jsonExpected, errors: bad.size }], `seed ${seed} round ${round}`);
      return t.end();
    }
  }
  t.pass('20 files of each format with about 10% bad lines');
  t.end();
});

t.test('a CSV field holding a line break: the reader refuses the line clearly, the writer refuses the field', (t) => {
  const dir = tempDir(t, 'multiline');
  const path = writeText(join(dir, 'm.csv'), 'id,text\n1,plain\n2,"two\nlines"\n3,after\n');
  t.throws(
    () => readFile(path, csvFormat({ header: true }), seededRandom(seed), 1 << 20),
    new UsageError(
      `Cannot parse file ${path} line 3 as CSV: a quoted field is not closed on this line (a CSV field may not hold a line break: each line is one record) in "2,\\"two"; fix the input, or pass onParseError: 'skip' to skip and count bad lines`,
    ),
  );
  // Skipping: the two halves are both bad lines; the records around them come through.
  t.same(readFile(path, csvFormat({ header: true, onParseError: 'skip' }), seededRandom(seed), 1 << 20), { records: [{ id: '1', text: 'plain' }, { id: '3', text: 'after' }], errors: 2 });
  t.throws(() => csvEncoder({}).encode(['two\nlines']), new TypeError('A CSV field holds a line break ("two\\nlines"): each line is one record, so readCsv could not read it back; replace the line breaks'));
  t.throws(() => csvEncoder({ columns: ['a\nb'] }), /option columns must be a non-empty array of non-empty names without line breaks/);
  t.end();
});

t.test('the CSV writer writes booleans as true/false, dates as ISO text, null as an empty field', (t) => {
  const line = csvEncoder({ columns: ['b', 'd', 'n', 'big'] }).encode({ b: false, d: new Date(Date.UTC(2026, 0, 2, 3, 4, 5)), n: null, big: 2n ** 70n });
  t.equal(line, 'false,2026-01-02T03:04:05.000Z,,1180591620717411303424');
  t.equal(csvEncoder({}).encode([true, 'x']), 'true,x');
  t.throws(() => csvEncoder({}).encode([NaN]), /A CSV field is NaN: write it as a string if it is meant/);
  t.throws(() => csvEncoder({}).encode([{ a: 1 }]), /A CSV field is an object: CSV fields are scalars/);
  t.end();
});

t.test('the JSON lines writer refuses what JSON cannot hold: NaN, ±Infinity, bigint, Map, Set, cycles', (t) => {
  const refused: Array<[unknown, RegExp]> = [
    [NaN, /^record is NaN, which JSON cannot hold \(it would become null\): write it as a string$/],
    [{ a: { b: [1, Infinity] } }, /^record\.a\.b\[1\] is Infinity, which JSON cannot hold/],
    [{ x: -Infinity }, /^record\.x is -Infinity/],
    [{ id: 12345678901234567890n }, /^record\.id is the bigint 12345678901234567890n, which JSON lines cannot hold without losing digits: write it as a string$/],
    [{ m: new Map([[1, 2]]) }, /^record\.m is a Map, which JSON\.stringify would write as \{\}/],
    [[new Set([1])], /^record\[0\] is a Set/],
    [undefined, /^A record of type undefined has no JSON form$/],
  ];
  for (const [value, message] of refused) t.throws(() => jsonLinesEncoder.encode(value), message);
  const cyclic: Record<string, unknown> = { a: 1 };
  cyclic.self = cyclic;
  t.throws(() => jsonLinesEncoder.encode(cyclic), /record\.self refers to itself \(a cycle\)/);
  const shared = { s: 1 };
  t.equal(jsonLinesEncoder.encode([shared, shared]), '[{"s":1},{"s":1}]', 'the same object twice is no cycle');
  t.equal(jsonLinesEncoder.encode({ d: new Date(0), s: 'a\nb' }), '{"d":"1970-01-01T00:00:00.000Z","s":"a\\nb"}', 'a line break inside a string is escaped: one line');
  t.end();
});

t.test('options are checked when the job is defined: a misspelled option is refused by name, with the valid ones', (t) => {
  const env = new StreamExecutionEnvironment(2);
  const dir = tempDir(t, 'opts');
  const file = writeText(join(dir, 'a.csv'), 'a\n1\n');
  const csvOptions = 'header, columns, delimiter, quote, escape, cast, trim, onParseError, suffix, monitorIntervalMs';
  t.throws(() => env.readCsv(file, { delimeter: ';' } as CsvReadOptions), new TypeError(`readCsv() has no option "delimeter"; its options are ${csvOptions}`));
  t.throws(() => env.readJsonLines(file, { onParseErrors: 'skip' } as never), new TypeError('readJsonLines() has no option "onParseErrors"; its options are onParseError, suffix, monitorIntervalMs'));
  t.throws(() => env.readCsv(file, { onParseError: 'ignore' } as never), /readCsv\(\) option onParseError must be 'fail' or 'skip', got "ignore"/);
  t.throws(() => env.readCsv(file, { delimiter: '' }), /option delimiter must be a non-empty string without line breaks, got ""/);
  t.throws(() => env.readCsv(file, { header: 'yes' } as never), /option header must be true or false, got "yes"/);
  t.throws(() => env.readCsv(file, { columns: ['a', 'a'] }), /option columns names a column twice/);
  t.throws(() => env.readCsv(file, { monitorIntervalMs: 0 }), /readCsv\(\) option monitorIntervalMs must be an integer from 1 to 86400000 ms, got 0/);
  const stream = env.readCsv(file, { header: true, suffix: '.csv' });
  t.throws(() => stream.writeAsCsv(join(dir, 'out'), { quote: "'" } as never), new TypeError('writeAsCsv() has no option "quote"; its options are columns, header, delimiter, quoted'));
  t.throws(() => stream.writeAsCsv(join(dir, 'out'), { header: true }), /writeAsCsv\(\) option header needs columns/);
  t.end();
});

t.test('a CSV header that cannot name columns fails the read, naming the file', (t) => {
  const dir = tempDir(t, 'header');
  const path = writeText(join(dir, 'h.csv'), 'a,b,a\n1,2,3\n');
  t.throws(() => readFile(path, csvFormat({ header: true }), seededRandom(seed)), new UsageError(`Cannot read the CSV header of file ${path}: the header "a,b,a" has an empty or repeated column name`));
  // Explicit columns replace a header they would otherwise come from.
  t.same(readFile(path, csvFormat({ header: true, columns: ['x', 'y', 'z'] }), seededRandom(seed)).records, [{ x: '1', y: '2', z: '3' }]);
  t.end();
});

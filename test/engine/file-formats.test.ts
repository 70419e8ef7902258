// readCsv / readJsonLines / writeAsJsonLines / writeAsCsv end to end through runJob, on
// real data files (vega-datasets, a devDependency): airports.csv (quoted fields with
// commas and doubled quotes) and zipcodes.csv (2 MB: two splits at parallelism 2, zip
// codes with leading zeros). Bad lines fail the job as a UsageError, not restarted, or
// are skipped and counted in the result.
import t from 'tap';
import { copyFileSync, existsSync, mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse } from 'csv-parse/sync';
import { runJob, UsageError, UserFunctionError } from '../../src/index.js';
import type { JobEvent, RunJobOptions } from '../../src/index.js';
import { tempDir } from '../helpers/checkpoints.js';

const job = new URL('../jobs/formats.js', import.meta.url);

function run(scenario: string, params: unknown, options: RunJobOptions = {}) {
  return runJob(job, { parallelism: 2, ...options, args: [scenario, JSON.stringify(params)] });
}

/** vega-datasets' data folder (resolved as a package, so it works from dist/ and from a fresh `npm ci`). */
function datasets(): string {
  try {
    return fileURLToPath(new URL('../data/', import.meta.resolve('vega-datasets')));
  } catch (error) {
    throw new Error(`vega-datasets is a devDependency of these tests: run npm install (${(error as Error).message})`);
  }
}

/** The lines of the visible part files of `dir` (hidden in-progress files excluded), per file. */
function parts(dir: string): string[] {
  return readdirSync(dir)
    .filter((n) => n.startsWith('part-'))
    .map((n) => readFileSync(join(dir, n), 'utf8'));
}

/** `dir` holding one copy of the dataset file `name`. */
function inputDir(t: { teardown(fn: () => void): void }, name: string): string {
  const dir = tempDir(t, 'csv-in');
  copyFileSync(join(datasets(), name), join(dir, name));
  return dir;
}

type Row = Record<string, string>;
const byJson = (a: unknown, b: unknown): number => (JSON.stringify(a) < JSON.stringify(b) ? -1 : 1);
const sorted = <T>(rows: T[]): T[] => [...rows].sort(byJson);

const datasetsCases: Array<{ file: string; columns: string[]; typed: (row: Row) => Record<string, unknown> }> = [
  {
    file: 'airports.csv',
    columns: ['iata', 'name', 'city', 'state', 'country', 'latitude', 'longitude'],
    typed: (r) => ({ ...r, latitude: Number(r.latitude), longitude: Number(r.longitude) }),
  },
  {
    file: 'zipcodes.csv',
    columns: ['zip_code', 'latitude', 'longitude', 'city', 'state', 'county'],
    // A zip code with a leading zero stays text (cast refuses to drop the zero).
    typed: (r) => ({ ...r, zip_code: r.zip_code!.startsWith('0') ? r.zip_code : Number(r.zip_code), latitude: Number(r.latitude), longitude: Number(r.longitude) }),
  },
];

for (const { file, columns, typed } of datasetsCases) {
  t.test(`${file}: readCsv (header, cast) -> writeAsJsonLines -> readJsonLines -> writeAsCsv gives the file's records back`, async (t) => {
    const input = inputDir(t, file);
    const reference = parse(readFileSync(join(input, file)), { columns: true }) as Row[];
    t.ok(reference.length > 3000, `${reference.length} records in ${file}`);
    t.same(Object.keys(reference[0]!), columns);

    const jsonDir = tempDir(t, 'jsonl-out');
    const first = await run('csv-to-jsonl', { input, output: jsonDir, read: { header: true, cast: true } }).result;
    const json = parts(jsonDir).flatMap((text) => text.split('\n').filter((l) => l !== '').map((l) => JSON.parse(l) as Record<string, unknown>));
    t.equal(json.length, reference.length, 'one JSON line per CSV record');
    const expected = reference.map(typed);
    t.same(sorted(json), sorted(expected), 'every record, typed by cast, once');
    const source = first.operators.find((o) => o.role === 'source')!;
    t.equal(source.recordsOut, reference.length);
    t.equal(source.recordsInErrors, 0);

    const csvDir = tempDir(t, 'csv-out');
    await run('jsonl-to-csv', { input: jsonDir, output: csvDir, write: { columns, header: true } }).result;
    const files = parts(csvDir);
    t.ok(files.length >= 1);
    for (const text of files) t.ok(text.startsWith(`${columns.join(',')}\n`), 'every part file starts with the header');
    const back = files.flatMap((text) => parse(text, { columns: true }) as Row[]);
    // Numbers go back as JS writes them: the shortest text of the same double.
    const normalize = (r: Row): Row => ({ ...r, latitude: String(Number(r.latitude)), longitude: String(Number(r.longitude)) });
    t.same(sorted(back.map(normalize)), sorted(reference.map(normalize)), 'the CSV written holds the records read');
  });
}

/** A CSV file of `n` records after a header with bad lines at the given line numbers. */
function csvWithBadLines(dir: string, name: string, n: number, bad: Map<number, string>): string {
  const lines = ['id,name'];
  for (let line = 2; lines.length < n + 1 + bad.size; line++) lines.push(bad.get(line) ?? `${line},"name, ${line}"`);
  const path = join(dir, name);
  writeFileSync(path, `${lines.join('\n')}\n`);
  return path;
}

t.test('a bad line fails the job with a UsageError naming file, line and content: not restarted, though checkpointing would restart', async (t) => {
  const input = tempDir(t, 'bad-in');
  const path = csvWithBadLines(input, 'people.csv', 5000, new Map([[3071, '3071,"unclosed']]));
  const events: JobEvent[] = [];
  const handle = run('csv-to-jsonl', { input, output: tempDir(t, 'bad-out'), read: { header: true } }, { checkpointDir: tempDir(t, 'bad-ck'), checkpointIntervalMs: 100, onEvent: (e) => events.push(e) });
  const error = await handle.result.then(
    () => undefined,
    (e: unknown) => e,
  );
  t.type(error, UsageError);
  t.match(
    (error as Error).message,
    `Cannot parse file ${path} line 3071 as CSV: a quoted field is not closed on this line (a CSV field may not hold a line break: each line is one record) in "3071,\\"unclosed"; fix the input, or pass onParseError: 'skip' to skip and count bad lines`,
  );
  t.same(
    events.filter((e) => e.type === 'restarting'),
    [],
    'no restart',
  );
});

t.test("onParseError 'skip': the bad lines are counted in the source's recordsInErrors, every good line is written", async (t) => {
  const input = tempDir(t, 'skip-in');
  const bad = new Map([
    [2, 'x,"open'],
    [100, '1,2,3'],
    [101, ''],
    [2500, 'only-one-field'],
    [4999, 'a,b"c"'],
  ]);
  csvWithBadLines(input, 'a.csv', 5000, bad);
  csvWithBadLines(input, 'b.csv', 3000, new Map([[7, '"'] as [number, string]]));
  const output = tempDir(t, 'skip-out');
  const result = await run('csv-to-jsonl', { input, output, read: { header: true, cast: true, onParseError: 'skip' } }).result;
  const source = result.operators.find((o) => o.role === 'source')!;
  t.equal(source.recordsInErrors, 5, 'four bad lines in a.csv, one in b.csv; the blank line is no record and no error');
  t.equal(source.recordsOut, 8000);
  const ids = parts(output).flatMap((text) => text.split('\n').filter((l) => l !== '').map((l) => (JSON.parse(l) as { id: number }).id));
  t.equal(ids.length, 8000);
  t.ok(
    ids.every((id) => typeof id === 'number'),
    'cast made numbers of the ids',
  );
});

t.test('a record JSON cannot hold fails the job at the sink, naming the field, the value and the record', async (t) => {
  const output = tempDir(t, 'nan-out');
  const error = await run('write-json', { output }, { parallelism: 1 }).result.then(
    () => undefined,
    (e: unknown) => e,
  );
  t.type(error, UserFunctionError, 'a UserFunctionError of the sink, not restarted without checkpoints');
  t.match((error as Error).message, /record\.ratio is NaN, which JSON cannot hold \(it would become null\): write it as a string/);
  t.match((error as Error).message, 'on record {"i":7,"ratio":"NaN"}', 'the record shown as it was (JSON.stringify would show null)');
  t.same(
    readdirSync(output).filter((n) => n.startsWith('part-')),
    [],
    'nothing committed: the job failed',
  );
});

t.test('a misspelled option fails the job definition: a UsageError naming the option, before any worker starts', async (t) => {
  const dir = tempDir(t, 'opt');
  mkdirSync(join(dir, 'in'));
  writeFileSync(join(dir, 'in', 'a.csv'), 'a\n1\n');
  const error = await run('misspelled-option', { input: join(dir, 'in'), output: join(dir, 'out') }).result.then(
    () => undefined,
    (e: unknown) => e,
  );
  t.type(error, UsageError);
  t.match((error as Error).message, /failed while defining the job: readCsv\(\) has no option "delimeter"; its options are header, columns, delimiter, quote/);
  t.notOk(existsSync(join(dir, 'out')), 'no output written');
});

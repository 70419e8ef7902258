// The text file reader against a simple model: for random files (empty lines, CRLF,
// multi-byte UTF-8, missing final newline) cut into random splits, the lines read from all
// splits, in split order, must be exactly the file's lines.
import t from 'tap';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FileSplitReader, IndexedSource, planTextFileSplits } from '../../src/connectors/index.js';
import type { FileSplit, IndexSplit, SourceReader } from '../../src/connectors/index.js';
import { seededRandom } from '../helpers/random.js';

const alphabet = ['a', 'b', 'Z', ' ', 'é', '€', '𝄞', '\t', '-'];

function randomText(random: () => number): { text: string; lines: string[] } {
  const lines: string[] = [];
  const count = Math.floor(random() * 40);
  for (let i = 0; i < count; i++) {
    const length = random() < 0.2 ? 0 : Math.floor(random() * (random() < 0.1 ? 70000 : 30));
    let line = '';
    for (let k = 0; k < length; k++) line += alphabet[Math.floor(random() * alphabet.length)];
    lines.push(line);
  }
  const crlf = random() < 0.3;
  let text = lines.join(crlf ? '\r\n' : '\n');
  const terminated = lines.length > 0 && random() < 0.7;
  if (terminated) text += crlf ? '\r\n' : '\n';
  // Without a final line break, a last empty line is no line at all: "a\n" is one line, as
  // `wc -l` and Flink see it (and an empty file has none).
  const expected = !terminated && lines[lines.length - 1] === '' ? lines.slice(0, -1) : lines;
  return { text, lines: expected };
}

const noRequests = { sendSplitRequest: () => undefined };

/** A reader of `splits` (then no more), `batch` lines per poll. */
function textReader(splits: FileSplit[], batch: number): FileSplitReader<string> {
  const reader = new FileSplitReader<string>(noRequests, undefined, batch);
  reader.addSplits(splits);
  reader.notifyNoMoreSplits();
  return reader;
}

/** Polls until 'end' (or, with `until`, until it returns true). */
function drain<T>(reader: SourceReader<T, any>, out: T[], until: () => boolean = () => false): void {
  while (!until() && reader.pollNext({ collect: (r) => out.push(r) }) !== 'end');
}

function readAll(splits: FileSplit[], batch: number): string[] {
  const reader = textReader(splits, batch);
  const out: string[] = [];
  drain(reader, out);
  reader.close();
  return out;
}

const split = (path: string, start: number, end: number): FileSplit => ({ splitId: `${path}:${start}`, path, start, end });

t.test('random files cut into random splits read back line for line (model-based)', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'sluice-text-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  for (let seed = 1; seed <= 60; seed++) {
    const random = seededRandom(seed);
    const { text, lines } = randomText(random);
    const path = join(dir, `f${seed}.txt`);
    writeFileSync(path, text);
    const size = Buffer.byteLength(text);
    const cuts = new Set<number>();
    const cutCount = Math.floor(random() * 8);
    for (let i = 0; i < cutCount; i++) cuts.add(Math.floor(random() * size));
    const points = [0, ...[...cuts].filter((c) => c > 0).sort((a, b) => a - b), size];
    const splits: FileSplit[] = [];
    for (let i = 0; i + 1 < points.length; i++) if (points[i]! < points[i + 1]!) splits.push(split(path, points[i]!, points[i + 1]!));
    const got = readAll(splits, 1 + Math.floor(random() * 5));
    if (JSON.stringify(got) !== JSON.stringify(lines)) {
      t.fail(`seed ${seed}: splits at ${points.join(',')} read ${got.length} lines, expected ${lines.length}`);
      return;
    }
  }
  t.pass('60 seeded files read back exactly');
});

t.test('split planning covers every byte once, balances subtasks, and rejects bad input', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'sluice-plan-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const sizes = [3_500_000, 10, 1_200_000, 0, 700_000];
  sizes.forEach((s, i) => writeFileSync(join(dir, `part${i}.txt`), 'x'.repeat(s)));
  writeFileSync(join(dir, 'skip.json'), '{}');
  const plan = planTextFileSplits(dir, '.txt', 3);
  t.equal(plan.length, 3);
  const all = plan.flat();
  t.notOk(all.some((s) => s.path.endsWith('.json')), 'suffix filter applies');
  const covered = new Map<string, number>();
  for (const s of all) covered.set(s.path, (covered.get(s.path) ?? 0) + (s.end - s.start));
  sizes.forEach((size, i) => t.equal(covered.get(join(dir, `part${i}.txt`)) ?? 0, size, `file ${i} fully covered`));
  const loads = plan.map((list) => list.reduce((a, s) => a + s.end - s.start, 0));
  t.ok(Math.max(...loads) - Math.min(...loads) <= 1_048_576 + 10, `loads ${loads.join(', ')} differ by at most one split`);
  t.throws(() => planTextFileSplits(join(dir, 'missing'), undefined, 1), { message: /Input .*missing does not exist: check the job's input path/ });
  t.throws(() => planTextFileSplits(dir, '.csv', 1), { message: /holds no \*\.csv files/ });
});

t.test('the splits a reader snapshots, spread over any number of new readers, read exactly the lines not yet emitted', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'sluice-text-restore-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  let checked = 0;
  for (let seed = 100; seed < 160; seed++) {
    const random = seededRandom(seed);
    const { text, lines } = randomText(random);
    const path = join(dir, `r${seed}.txt`);
    writeFileSync(path, text);
    const size = Buffer.byteLength(text);
    const cuts = [0, ...Array.from({ length: 3 }, () => Math.floor(random() * (size + 1))).sort((a, b) => a - b), size];
    const splits: FileSplit[] = [];
    for (let i = 0; i + 1 < cuts.length; i++) if (cuts[i]! < cuts[i + 1]!) splits.push(split(path, cuts[i]!, cuts[i + 1]!));
    const stopAfter = Math.floor(random() * (lines.length + 1));
    const first = textReader(splits, 1);
    const got: string[] = [];
    drain(first, got, () => got.length >= stopAfter);
    // Through JSON, as a checkpoint's operator state carries it.
    const rest = JSON.parse(JSON.stringify(first.snapshotState())) as FileSplit[];
    first.close();
    // A restore at another parallelism: contiguous groups of the splits, one reader each.
    const readers = 1 + Math.floor(random() * 3);
    for (let r = 0; r < readers; r++) {
      const group = rest.slice(Math.floor((r * rest.length) / readers), Math.floor(((r + 1) * rest.length) / readers));
      const reader = textReader(group, 1 + Math.floor(random() * 4));
      drain(reader, got);
      reader.close();
    }
    if (JSON.stringify(got) !== JSON.stringify(lines)) {
      t.fail(`seed ${seed}: stopped after ${stopAfter} of ${lines.length} lines with splits ${JSON.stringify(rest)}; read back ${got.length}`);
      return;
    }
    checked++;
  }
  t.equal(checked, 60, '60 seeded stop-and-resume points');
});

t.test('indexed sources snapshot their remaining ranges and resume from them (also version 2 [from, to] ranges)', async (t) => {
  const seen: number[] = [];
  const source = new IndexedSource(100, (i) => i, { label: 'sequence', pollRecords: 7 });
  const reader = source.createReader({ subtaskIndex: 0, parallelism: 1, sendSplitRequest: () => undefined });
  reader.addSplits([{ splitId: 'a', next: 0, end: 10, step: 1 }, [20, 25] as never]);
  reader.pollNext({ collect: (r) => seen.push(r) });
  const splits = JSON.parse(JSON.stringify(reader.snapshotState(1))) as IndexSplit[];
  t.same(splits, [
    { splitId: 'a', next: 7, end: 10, step: 1 },
    { splitId: 'range-20', next: 20, end: 25, step: 1 },
  ]);
  const second = source.createReader({ subtaskIndex: 0, parallelism: 1, sendSplitRequest: () => undefined });
  second.addSplits(splits);
  second.notifyNoMoreSplits();
  drain(second, seen);
  t.same(seen.sort((a, b) => a - b), [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 20, 21, 22, 23, 24]);
  t.same(second.snapshotState(2), [], 'nothing left');
  t.throws(() => second.addSplits([[5, 1] as never]), /Cannot restore the sequence source from split \[5,1\]: expected \{ splitId, next, end, step \}/);
});

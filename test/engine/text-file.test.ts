// The text file reader against a simple model: for random files (empty lines, CRLF,
// multi-byte UTF-8, missing final newline) cut into random splits, the lines read from all
// splits, in split order, must be exactly the file's lines.
import t from 'tap';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { TextFileReader, planTextFileSplits } from '../../src/connectors/index.js';
import type { FileSplit } from '../../src/connectors/index.js';
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
  if (lines.length > 0 && random() < 0.7) text += crlf ? '\r\n' : '\n';
  // A file whose text is one empty line reads as no line, as `wc -l` and Flink see it.
  const expected = text === '' ? [] : lines;
  return { text, lines: expected };
}

function readAll(splits: FileSplit[], batch: number): string[] {
  const reader = new TextFileReader(splits);
  const out: string[] = [];
  while (reader.emitBatch((r) => out.push(r as string), batch));
  reader.close();
  return out;
}

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
    for (let i = 0; i + 1 < points.length; i++) if (points[i]! < points[i + 1]!) splits.push({ path, start: points[i]!, end: points[i + 1]! });
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
  t.throws(() => planTextFileSplits(join(dir, 'missing'), undefined, 1), { message: /Input .*missing does not exist: check the --input path/ });
  t.throws(() => planTextFileSplits(dir, '.csv', 1), { message: /holds no \*\.csv files/ });
});

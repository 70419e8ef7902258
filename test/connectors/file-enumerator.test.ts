// The monitored-directory enumerator of the file source alone, with a fake context whose
// listings (callAsync) run when the test says: no timers, no sleeps. The stability rule
// (a file is taken at the second of two listings in a row that show it unchanged), what is
// ignored, and restores: a model of that rule predicts what each file's splits must cover,
// and across a snapshot, a lost tail and a restore at another parallelism every byte of
// every file is assigned exactly once. Seeded: SLUICE_SEED=<n> replays a failure.
import t from 'tap';
import { appendFileSync, mkdirSync, unlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { FileSource } from '../../src/connectors/index.js';
import type { FileEnumeratorState, FileSplit, SplitEnumerator } from '../../src/connectors/index.js';
import { UsageError } from '../../src/index.js';
import { tempDir } from '../helpers/checkpoints.js';
import { seededRandom, testSeed } from '../helpers/random.js';
import { FakeEnumeratorContext } from '../helpers/sources.js';

const seed = testSeed(Date.now() % 100_000);
t.comment(`seed ${seed} (replay with SLUICE_SEED=${seed})`);

interface Harness {
  ctx: FakeEnumeratorContext<FileSplit>;
  enumerator: SplitEnumerator<FileSplit, FileEnumeratorState>;
  /** Runs one listing. */
  list(): void;
  /** Splits assigned so far, in order, with the reader they went to. */
  assigned(): Array<{ reader: number; split: FileSplit }>;
}

function monitor(dir: string, parallelism: number, state?: FileEnumeratorState, suffix?: string): Harness {
  const ctx = new FakeEnumeratorContext<FileSplit>(parallelism);
  const source = new FileSource<string>({ path: dir, suffix, monitorIntervalMs: 10 });
  const enumerator = state === undefined ? source.createEnumerator(ctx) : source.restoreEnumerator(ctx, state);
  enumerator.start();
  for (let i = 0; i < parallelism; i++) {
    ctx.registered.add(i);
    enumerator.addReader(i);
  }
  return {
    ctx,
    enumerator,
    list: () => ctx.runCallAsync(),
    assigned: () => ctx.mailboxes.flatMap((mails, reader) => mails.flatMap((m) => (m.type === 'addSplits' ? m.splits.map((split) => ({ reader, split })) : []))),
  };
}

const names = (h: Harness): string[] => h.enumerator.snapshotState(0).processed.map((p) => p.split('/').pop()!).sort();

t.test('a file is taken at the second listing in a row that shows it unchanged; growing and empty files wait', (t) => {
  const dir = tempDir(t, 'enum');
  const h = monitor(dir, 2);
  t.equal(h.ctx.pendingCalls, 1, 'start() registered one periodic listing');
  writeFileSync(join(dir, 'a.txt'), '1\n2\n');
  h.list();
  t.same(names(h), [], 'first seen: not taken yet');
  h.list();
  t.same(names(h), ['a.txt'], 'unchanged at the next listing: taken');

  writeFileSync(join(dir, 'grow.txt'), 'par');
  h.list();
  appendFileSync(join(dir, 'grow.txt'), 'tial\nline');
  h.list();
  t.same(names(h), ['a.txt'], 'grew between listings: not taken');
  appendFileSync(join(dir, 'grow.txt'), ' two\n');
  h.list();
  h.list();
  t.same(names(h), ['a.txt', 'grow.txt'], 'taken once two listings agree');
  const grow = h.enumerator.snapshotState(0).pending.find((s) => s.path.endsWith('grow.txt'));
  t.same(grow && [grow.start, grow.end], [0, 'partial\nline two\n'.length], 'its split covers the whole file');

  writeFileSync(join(dir, 'empty.txt'), '');
  h.list();
  h.list();
  h.list();
  t.notOk(names(h).includes('empty.txt'), 'an empty file is not taken (it may be about to be written)');
  writeFileSync(join(dir, 'empty.txt'), 'now\n');
  h.list();
  h.list();
  t.ok(names(h).includes('empty.txt'), 'taken once it has content and stays so');

  appendFileSync(join(dir, 'a.txt'), '3\n');
  h.list();
  h.list();
  t.equal(h.enumerator.snapshotState(0).processed.filter((p) => p.endsWith('a.txt')).length, 1, 'a taken file that changes is not taken again');
  t.end();
});

t.test('hidden (.x), in-progress (_x), other-suffix files and subdirectories are ignored; a file deleted before it was taken is forgotten', (t) => {
  const dir = tempDir(t, 'enum-hidden');
  const h = monitor(dir, 1, undefined, '.txt');
  for (const name of ['.hidden.txt', '_inprogress.txt', 'other.csv', 'keep.txt', 'gone.txt']) writeFileSync(join(dir, name), 'x\n');
  mkdirSync(join(dir, 'sub.txt'));
  h.list();
  unlinkSync(join(dir, 'gone.txt'));
  h.list();
  h.list();
  t.same(names(h), ['keep.txt']);
  writeFileSync(join(dir, 'gone.txt'), 'back\n');
  h.list();
  t.notOk(names(h).includes('gone.txt'), 'come back: seen anew, one listing is not enough');
  h.list();
  t.ok(names(h).includes('gone.txt'));
  t.end();
});

t.test('a reader that asked while nothing was there gets the split as soon as a file is taken', (t) => {
  const dir = tempDir(t, 'enum-wait');
  const h = monitor(dir, 3);
  h.enumerator.handleSplitRequest(1);
  h.enumerator.handleSplitRequest(2);
  h.list();
  t.same(h.assigned(), [], 'no file: the readers wait (no noMoreSplits for a monitored directory)');
  t.ok(
    h.ctx.mailboxes.every((m) => m.length === 0),
    'nothing sent',
  );
  writeFileSync(join(dir, 'a.txt'), 'a\n');
  h.list();
  h.list();
  t.same(
    h.assigned().map((a) => [a.reader, a.split.path.split('/').pop()]),
    [[1, 'a.txt']],
    'the first waiting reader got it',
  );
  writeFileSync(join(dir, 'b.txt'), 'b\n');
  h.list();
  h.list();
  t.same(
    h.assigned().map((a) => [a.reader, a.split.path.split('/').pop()]),
    [
      [1, 'a.txt'],
      [2, 'b.txt'],
    ],
    'the next one the next file',
  );
  t.end();
});

// ---------------------------------------------------------------------------------------
// The model: the spec of the stability rule, per enumerator incarnation.

interface ModelFile {
  name: string;
  size: number;
  /** No more appends. */
  finished: boolean;
}

class StabilityModel {
  /** Size at the previous listing of this incarnation, for files not yet taken. */
  private lastSeen = new Map<string, number>();
  /** File -> the size it had when it was taken. */
  readonly taken = new Map<string, number>();

  listing(files: readonly ModelFile[]): void {
    const seen = new Map<string, number>();
    for (const f of files) {
      if (this.taken.has(f.name)) continue;
      if (this.lastSeen.get(f.name) === f.size && f.size > 0) this.taken.set(f.name, f.size);
      else seen.set(f.name, f.size);
    }
    this.lastSeen = seen;
  }

  /** A restore: what the snapshot had taken, nothing seen. */
  restored(takenAtSnapshot: ReadonlyMap<string, number>): StabilityModel {
    const m = new StabilityModel();
    for (const [k, v] of takenAtSnapshot) m.taken.set(k, v);
    return m;
  }
}

t.test('restore from snapshotState, at another parallelism, neither rereads nor skips (model-based)', (t) => {
  for (let round = 0; round < 120; round++) {
    const random = seededRandom(seed * 1000 + round);
    const dir = tempDir(t, 'enum-model');
    const files: ModelFile[] = [];
    const pick = <T>(xs: readonly T[]): T => xs[Math.floor(random() * xs.length)]!;
    const write = (f: ModelFile, bytes: number): void => {
      const text = Array.from({ length: bytes }, (_, i) => (i === bytes - 1 || random() < 0.2 ? '\n' : 'x')).join('');
      appendFileSync(join(dir, f.name), text);
      f.size += bytes;
    };
    let h = monitor(dir, 1 + Math.floor(random() * 4));
    let model = new StabilityModel();
    const step = (): void => {
      const r = random();
      const open = files.filter((f) => !f.finished);
      if (r < 0.15 || files.length === 0) {
        const f = { name: `f${files.length}.txt`, size: 0, finished: false };
        files.push(f);
        writeFileSync(join(dir, f.name), '');
        if (random() < 0.7) write(f, 1 + Math.floor(random() * 30));
      } else if (r < 0.35 && open.length > 0) {
        write(pick(open), 1 + Math.floor(random() * 30));
      } else if (r < 0.45 && open.length > 0) {
        pick(open).finished = true;
      } else if (r < 0.75) {
        h.list();
        model.listing(files);
      } else {
        h.enumerator.handleSplitRequest(Math.floor(random() * h.ctx.parallelism));
      }
    };
    for (let i = Math.floor(random() * 40); i > 0; i--) step();
    // The checkpoint: the enumerator's state, and the splits the readers hold by then.
    const state = structuredClone(h.enumerator.snapshotState(1));
    const before = h.assigned().map((a) => a.split);
    const takenAtSnapshot = new Map(model.taken);
    // Work after the checkpoint is lost in the failure...
    for (let i = Math.floor(random() * 20); i > 0; i--) step();
    // ...and the job restarts from the checkpoint, maybe at another parallelism.
    h = monitor(dir, 1 + Math.floor(random() * 4), state);
    model = model.restored(takenAtSnapshot);
    for (let i = Math.floor(random() * 40); i > 0; i--) step();
    // Let everything settle: no more writes, two listings, every reader asks until nothing comes.
    for (const f of files) f.finished = true;
    for (let i = 0; i < 2; i++) {
      h.list();
      model.listing(files);
    }
    for (let more = true; more; ) {
      const count = h.assigned().length;
      for (let i = 0; i < h.ctx.parallelism; i++) h.enumerator.handleSplitRequest(i);
      more = h.assigned().length > count;
    }
    const all = [...before, ...h.assigned().map((a) => a.split)];
    const problems: string[] = [];
    for (const f of files) {
      const ranges = all
        .filter((s) => s.path === join(dir, f.name))
        .map((s) => [s.start, s.end] as const)
        .sort((a, b) => a[0] - b[0]);
      const expectedEnd = model.taken.get(f.name);
      if (expectedEnd === undefined) {
        if (ranges.length > 0 || f.size > 0) problems.push(`${f.name} (${f.size} bytes): ${ranges.length} splits, model took it: no`);
        continue;
      }
      let at = 0;
      for (const [start, end] of ranges) {
        if (start !== at) problems.push(`${f.name}: a split starts at ${start}, expected ${at} (${start < at ? 'read twice' : 'skipped'})`);
        at = end;
      }
      if (at !== expectedEnd) problems.push(`${f.name}: splits end at ${at}, the file had ${expectedEnd} bytes when taken (now ${f.size})`);
    }
    if (problems.length > 0) {
      t.fail(`seed ${seed} round ${round}: ${problems.slice(0, 5).join('; ')}`);
      return t.end();
    }
  }
  t.pass('120 seeded histories: every byte of every file assigned exactly once');
  t.end();
});

t.test('a monitored path that is missing or not a directory is refused when the job starts, saying what to do', (t) => {
  const dir = tempDir(t, 'enum-bad');
  const file = join(dir, 'plain.txt');
  writeFileSync(file, 'x\n');
  const ctx = new FakeEnumeratorContext<FileSplit>(1);
  t.throws(() => new FileSource({ path: join(dir, 'missing'), monitorIntervalMs: 10 }).createEnumerator(ctx), new UsageError(`Monitored input ${join(dir, 'missing')} cannot be read (ENOENT): create the directory first`));
  t.throws(() => new FileSource({ path: file, monitorIntervalMs: 10 }).createEnumerator(ctx), new UsageError(`Monitored input ${file} is not a directory: monitorIntervalMs watches a directory for new files`));
  // A restore too: a UsageError ends the job, where a failing listing would restart it forever.
  t.throws(() => new FileSource({ path: join(dir, 'missing'), monitorIntervalMs: 10 }).restoreEnumerator(ctx, { pending: [], processed: [] }), UsageError);
  t.end();
});

/**
 * The exactly-once file sink (Sink V2: writer, committer), model-based: seeded random
 * writes, barriers, delayed and reordered (or lost) notifications, and crashes, against the
 * exactly-once reference: the visible parts hold exactly the records before the latest
 * committed barrier. The test plays the sink operator's part (committables tagged by
 * checkpoint, committed on completion) and the job master's (on a restore, commit every
 * committable the restored checkpoint holds, then start a writer).
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import t from 'tap';
import { decode, encode } from 'cbor-x';
import { formatRecord } from '../../src/connectors/sinks.js';
import { FileCommitter, FileSink, FileSinkWriter, textRowEncoder, type FileWriterState, type PendingFile } from '../../src/connectors/file-sink.js';
import { csvEncoder, jsonLinesEncoder } from '../../src/connectors/formats.js';
import { seededRandom, testSeed } from '../helpers/random.js';

const seed = testSeed(7001);
t.comment(`seed ${seed} (replay with SLUICE_SEED=${seed})`);

const randomInt = (rand: () => number, lo: number, hiExclusive: number): number => lo + Math.floor(rand() * (hiExclusive - lo));

function tempDir(t: { teardown(fn: () => void): void }, name: string): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), `sluicegate-${name}-`));
  t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** Committed parts of a subtask, in part order. */
function visibleParts(dir: string, subtask: number): { name: string; text: string }[] {
  return fs
    .readdirSync(dir)
    .map((name) => ({ name, m: /^part-(\d+)-(\d+)$/.exec(name) }))
    .filter((e) => e.m !== null && Number(e.m[1]) === subtask)
    .sort((a, b) => Number(a.m![2]) - Number(b.m![2]))
    .map((e) => ({ name: e.name, text: fs.readFileSync(path.join(dir, e.name), 'utf8') }));
}

const visibleText = (dir: string, subtask: number): string => visibleParts(dir, subtask).map((p) => p.text).join('');
const hiddenFiles = (dir: string, subtask: number): string[] => fs.readdirSync(dir).filter((n) => n.startsWith(`.part-${subtask}-`));
const linesOf = (records: readonly unknown[]): string => records.map((r) => `${formatRecord(r)}\n`).join('');

/** The input record at a position: mixed types, some long, some non-ASCII. */
function inputRecord(i: number): unknown {
  switch (i % 5) {
    case 0:
      return `line ${i}`;
    case 1:
      return i;
    case 2:
      return { i, word: 'grüße', big: BigInt(i) * 1_000_000_007n };
    case 3:
      return `${'x'.repeat(i % 97)} é ${i}`;
    default:
      return [i, true, null];
  }
}

type Writer = FileSinkWriter<unknown>;
const sink = (dir: string) => FileSink.forRowFormat(dir, textRowEncoder);
const context = (subtaskIndex: number, restoredCheckpointId?: number, parallelism = subtaskIndex + 1) => ({ subtaskIndex, parallelism, attemptNumber: 0, restoredCheckpointId });
const committer = new FileCommitter();

/** Drops a writer as a crash would: buffered records are lost; only the descriptor is closed (fd hygiene of the test). */
function crash(writer: Writer): void {
  const fd = (writer as unknown as { fd: number | undefined }).fd;
  if (fd !== undefined) fs.closeSync(fd);
}

/** What the sink operator snapshots: writer state and the committables not yet committed. */
interface SinkState {
  writer: FileWriterState[];
  committables: Array<{ checkpointId: number; committables: PendingFile[] }>;
}

interface Checkpoint {
  id: number;
  /** Input position at the barrier: records [0, position) are before it. */
  position: number;
  /** The sink state, as it comes back from operator state (cbor-x round trip). */
  state: SinkState;
}

t.test('model: visible output is exactly the records before the latest committed barrier, through crashes', (t) => {
  const rand = seededRandom(seed);
  const subtask = 3;
  let totalCrashes = 0;
  let totalCommits = 0;
  let totalLost = 0;
  for (let round = 0; round < 24; round++) {
    const where = `seed ${seed} round ${round}`;
    const dir = path.join(tempDir(t, 'two-phase'), 'out');
    const inputLength = randomInt(rand, 200, 12_000);
    const seenParts = new Map<string, string>();
    const checkpoints = new Map<number, Checkpoint>();
    let nextCheckpointId = 1;
    let latestCompleted: Checkpoint | undefined;
    let committedPosition = 0; // position of the latest committed barrier
    let inFlight: number[] = []; // notifications of completed checkpoints not yet delivered
    let acked: number[] = []; // barriers passed, not completed (may never be)
    let position = 0;
    fs.mkdirSync(dir, { recursive: true });
    let writer = sink(dir).createWriter(context(subtask));
    /** The operator's committables not yet committed, by checkpoint (SinkOperator's list). */
    let uncommitted: Array<{ checkpointId: number; committables: PendingFile[] }> = [];

    const check = (what: string): boolean => {
      for (const part of visibleParts(dir, subtask)) {
        const before = seenParts.get(part.name);
        if (before !== undefined && before !== part.text) return t.fail(`${where}: ${part.name} changed after it became visible (${what})`);
        seenParts.set(part.name, part.text);
      }
      const want = linesOf(Array.from({ length: committedPosition }, (_v, i) => inputRecord(i)));
      return t.equal(visibleText(dir, subtask), want, `${where}: visible output after ${what}`);
    };

    let ok = true;
    while (ok && position < inputLength) {
      const action = rand();
      if (action < 0.45) {
        const count = Math.min(inputLength - position, rand() < 0.1 ? randomInt(rand, 500, 3000) : randomInt(rand, 0, 60));
        for (let k = 0; k < count; k++) writer.write(inputRecord(position++));
      } else if (action < 0.65) {
        const id = nextCheckpointId++;
        writer.flush();
        const prepared = writer.prepareCommit();
        if (prepared.length > 0) uncommitted.push({ checkpointId: id, committables: prepared });
        const state = decode(encode({ writer: writer.snapshotState(), committables: uncommitted })) as SinkState;
        checkpoints.set(id, { id, position, state });
        if (rand() < 0.85) acked.push(id); // else: this checkpoint fails elsewhere and never completes
      } else if (action < 0.78 && acked.length > 0) {
        // Complete one acked checkpoint; older ones are subsumed (they never complete).
        const id = acked[randomInt(rand, 0, acked.length)]!;
        acked = acked.filter((a) => a > id);
        latestCompleted = checkpoints.get(id);
        inFlight.push(id);
      } else if (action < 0.965 && inFlight.length > 0) {
        const id = inFlight.splice(randomInt(rand, 0, inFlight.length), 1)[0]!;
        if (rand() < 0.1) {
          totalLost++;
          continue; // the notification is lost
        }
        const ready = uncommitted.filter((c) => c.checkpointId <= id).flatMap((c) => c.committables);
        committer.commit(ready);
        writer.committed(ready);
        uncommitted = uncommitted.filter((c) => c.checkpointId > id);
        committedPosition = Math.max(committedPosition, checkpoints.get(id)!.position);
        totalCommits++;
        ok = check(`commit up to ${id}`);
      } else if (action >= 0.965) {
        // Crash, maybe in the middle of a commit (some pending files renamed), then restore.
        if (rand() < 0.3 && inFlight.length > 0) {
          const id = Math.max(...inFlight);
          const due = uncommitted.filter((c) => c.checkpointId <= id).flatMap((c) => c.committables);
          committer.commit(due.filter(() => rand() < 0.5));
        }
        crash(writer);
        totalCrashes++;
        inFlight = [];
        acked = [];
        const restored = latestCompleted?.state;
        // The job master commits every committable of the restored checkpoint first.
        committer.commit(restored?.committables.flatMap((c) => c.committables) ?? []);
        uncommitted = [];
        position = latestCompleted?.position ?? 0;
        committedPosition = position;
        writer = restored === undefined ? sink(dir).createWriter(context(subtask)) : sink(dir).restoreWriter(context(subtask, latestCompleted!.id), restored.writer);
        ok = check(`crash and recover to checkpoint ${latestCompleted?.id ?? 'none'}`) && t.same(hiddenFiles(dir, subtask), [], `${where}: no hidden file after the restore`);
      }
    }
    if (!ok) break;
    // Some late notifications, then end of input: flush(true), the last committables, committed.
    for (const id of inFlight) if (rand() < 0.5) committer.commit(uncommitted.filter((c) => c.checkpointId <= id).flatMap((c) => c.committables));
    writer.flush();
    const files = [...uncommitted.flatMap((c) => c.committables), ...writer.prepareCommit()];
    committer.commit(files);
    committer.commit(files); // idempotent
    committedPosition = inputLength;
    if (!check('end of input + commit')) break;
    t.same(hiddenFiles(dir, subtask), [], `${where}: no hidden file at the end`);
  }
  t.ok(totalCrashes > 10 && totalCommits > 50 && totalLost > 3, `exercised: ${totalCrashes} crashes, ${totalCommits} commits, ${totalLost} lost notifications`);
  t.end();
});

t.test('worked example: names, committables and visibility at each step', (t) => {
  const dir = tempDir(t, 'file-sink');
  const writer = sink(dir).createWriter(context(0));
  writer.write('a');
  writer.write({ b: 1n });
  t.same(fs.readdirSync(dir), [], 'buffered: nothing on disk yet');
  writer.flush();
  t.same(fs.readdirSync(dir), ['.part-0-0.inprogress'], 'flushed to the hidden in-progress part');
  const c1 = writer.prepareCommit();
  t.same(c1, [{ pending: path.join(dir, '.part-0-0.pending'), final: path.join(dir, 'part-0-0') }]);
  t.same(writer.prepareCommit(), [], 'a barrier with no new record closes no part');
  writer.write('c');
  const c3 = writer.prepareCommit();
  t.same(writer.snapshotState(), [{ subtaskIndex: 0, nextPart: 2, everyIndex: true }]);
  t.same(visibleParts(dir, 0), [], 'nothing visible before a commit');
  committer.commit(c1);
  t.same(visibleParts(dir, 0), [{ name: 'part-0-0', text: 'a\n{"b":"1"}\n' }]);
  committer.commit(c1);
  writer.write('d');
  writer.flush();
  const c4 = writer.prepareCommit();
  committer.commit([...c3, ...c4]);
  t.equal(visibleText(dir, 0), 'a\n{"b":"1"}\nc\nd\n');
  t.equal(writer.bytesWritten, Buffer.byteLength(visibleText(dir, 0)), 'bytesWritten counts what reached the files');
  t.same(hiddenFiles(dir, 0), []);
  t.end();
});

t.test('a fresh writer replaces its indexes\' output of an earlier run; a restored one keeps it and numbers on', (t) => {
  const dir = tempDir(t, 'file-sink');
  for (const name of ['part-0-0', 'part-2-5', 'part-1-0', '.part-0-1.inprogress', '.part-2-6.pending', '.part-1-1.pending', 'notes.txt']) fs.writeFileSync(path.join(dir, name), 'old\n');
  // Parallelism 2: writer 0 owns indexes 0, 2, 4, ...; writer 1 owns 1, 3, ...
  const restored = sink(dir).restoreWriter(context(0, 7, 2), [{ subtaskIndex: 0, nextPart: 3 }]);
  t.same(fs.readdirSync(dir).sort(), ['.part-1-1.pending', 'notes.txt', 'part-0-0', 'part-1-0', 'part-2-5'], 'restored: hidden leftovers of indexes 0 and 2 discarded, visible parts kept');
  restored.write('x');
  t.same(restored.prepareCommit().map((f) => path.basename(f.final)), ['part-0-3'], 'numbering goes on from the restored state');
  const fresh = sink(dir).createWriter(context(1, undefined, 2));
  t.same(fs.readdirSync(dir).sort(), ['.part-0-3.pending', 'notes.txt', 'part-0-0', 'part-2-5'], 'fresh writer 1: every part file of index 1 gone, other files untouched');
  fresh.write('y');
  t.same(fresh.prepareCommit().map((f) => path.basename(f.final)), ['part-1-0']);
  t.end();
});

t.test('close after a cancel discards the in-progress part and the prepared, uncommitted parts', (t) => {
  const dir = tempDir(t, 'file-sink');
  const writer = sink(dir).createWriter(context(0));
  writer.write('a');
  const first = writer.prepareCommit();
  writer.write('b');
  const second = writer.prepareCommit();
  committer.commit(first);
  writer.committed(first);
  writer.write('c');
  writer.flush();
  t.same(hiddenFiles(dir, 0).sort(), ['.part-0-1.pending', '.part-0-2.inprogress']);
  writer.close(true);
  t.same(hiddenFiles(dir, 0), [], 'no hidden file left');
  t.same(visibleParts(dir, 0).map((p) => p.name), ['part-0-0'], 'the committed part stays');
  t.equal(second.length, 1);
  t.end();
});

t.test('header lines start every part file (CSV), JSON lines refuse what JSON cannot hold', (t) => {
  const dir = tempDir(t, 'file-sink');
  const writer = FileSink.forRowFormat(dir, csvEncoder({ columns: ['origin', 'delay'], header: true })).createWriter(context(0));
  writer.write({ origin: 'JFK', delay: 12 });
  writer.write({ origin: 'New York, NY', delay: -3 });
  const [a] = writer.prepareCommit();
  writer.write({ origin: 'SFO', delay: 0 });
  const [b] = writer.prepareCommit();
  committer.commit([a!, b!]);
  t.equal(fs.readFileSync(a!.final, 'utf8'), 'origin,delay\nJFK,12\n"New York, NY",-3\n');
  t.equal(fs.readFileSync(b!.final, 'utf8'), 'origin,delay\nSFO,0\n');
  t.throws(() => jsonLinesEncoder.encode({ x: NaN }), /record\.x is NaN, which JSON cannot hold/);
  t.throws(() => jsonLinesEncoder.encode([1, 2n ** 70n]), /record\[1\] is the bigint 1180591620717411303424n/);
  t.throws(() => csvEncoder({}).encode({ a: 1 }), /needs the columns option to write objects/);
  t.throws(() => csvEncoder({ header: true }), /option header needs columns/);
  t.throws(() => csvEncoder({ colums: ['a'] } as never), /writeAsCsv\(\) has no option "colums"; its options are columns, header, delimiter, quoted/);
  t.end();
});

t.test('errors name the file and what to do', (t) => {
  const dir = tempDir(t, 'file-sink');
  const file = path.join(dir, 'plain-file');
  fs.writeFileSync(file, '');
  t.throws(() => sink(path.join(file, 'sub')).createWriter(context(0)), /Output directory .*plain-file\/sub cannot be created \(ENOTDIR\): check the path and permissions/);

  const lost: PendingFile = { pending: path.join(dir, '.part-0-7.pending'), final: path.join(dir, 'part-0-7') };
  t.throws(() => committer.commit([lost]), /Cannot commit .*\.part-0-7\.pending: neither it nor .*part-0-7 exists \(deleted by hand\?\)/);
  fs.writeFileSync(lost.pending, 'new');
  fs.writeFileSync(lost.final, 'old');
  t.throws(() => committer.commit([lost]), /part-0-7 exists already \(part number reused/);
  t.equal(fs.readFileSync(lost.final, 'utf8'), 'old', 'a visible part is never replaced');
  t.throws(() => committer.commit([{ pending: 1 } as never]), /Not a file sink committable/);
  t.throws(() => FileSink.forRowFormat('', textRowEncoder), /expects an output directory path/);
  t.end();
});

t.test('rollback takes back exactly the parts published after the restored checkpoint', async (t) => {
  const rand = seededRandom(seed);
  const dir = tempDir(t, 'file-sink');
  // An earlier run at parallelism 3 left index 2's parts; this run has parallelism 2, so
  // writer 0 cleans index 2 too and lists it in its state.
  for (const name of ['part-2-0', 'part-2-1']) fs.writeFileSync(path.join(dir, name), 'earlier\n');
  const writers = [0, 1].map((i) => sink(dir).restoreWriter(context(i, 1, 2), []));
  const fileCommitter = sink(dir).createCommitter({ subtaskIndex: undefined, parallelism: 2 });
  const checkpoint = (): { visible: string[]; states: FileWriterState[] } => {
    const prepared = writers.flatMap((w) => {
      for (let n = randomInt(rand, 0, 3); n > 0; n--) w.write(`r${randomInt(rand, 0, 1000)}`);
      return w.prepareCommit();
    });
    const states = writers.flatMap((w) => w.snapshotState());
    fileCommitter.commit(prepared);
    return { visible: fs.readdirSync(dir).filter((n) => n.startsWith('part-')).sort(), states };
  };
  const history = Array.from({ length: 6 }, checkpoint);
  t.same(history[0]!.states.filter((s) => s.subtaskIndex === 2), [{ subtaskIndex: 2, nextPart: 2, everyIndex: true }], 'writer 0 lists index 2');
  // A part of an index no state lists (a later rescale made it) was published after too.
  fs.writeFileSync(path.join(dir, 'part-5-0'), 'later\n');
  for (const m of [4, 2, 0]) {
    await fileCommitter.rollback({ restoredCheckpointId: m + 1, checkpointIds: [m + 2], writerStates: history[m]!.states });
    t.same(fs.readdirSync(dir).filter((n) => n.startsWith('part-')).sort(), history[m]!.visible, `rolled back to checkpoint ${m + 1}: the parts visible then (seed ${seed})`);
  }
  await fileCommitter.rollback({ restoredCheckpointId: 1, checkpointIds: [2], writerStates: history[0]!.states });
  t.same(fs.readdirSync(dir).filter((n) => n.startsWith('part-')).sort(), history[0]!.visible, 'idempotent');

  // States of an older release (no everyIndex): only the indexes they list are rolled back.
  fs.writeFileSync(path.join(dir, 'part-1-9'), 'x\n');
  fs.writeFileSync(path.join(dir, 'part-7-0'), 'x\n');
  await fileCommitter.rollback({ restoredCheckpointId: 1, checkpointIds: [2], writerStates: [{ subtaskIndex: 1, nextPart: 9 }] });
  t.ok(!fs.existsSync(path.join(dir, 'part-1-9')) && fs.existsSync(path.join(dir, 'part-7-0')), 'listed index rolled back, unlisted kept');
  // Back to the beginning: everything published goes.
  await fileCommitter.rollback({ restoredCheckpointId: undefined, checkpointIds: [1, 2], writerStates: [] });
  t.same(fs.readdirSync(dir).filter((n) => n.startsWith('part-')), [], 'from the beginning: no part left');
  t.end();
});

/**
 * Two-phase-commit text sink, model-based: seeded random writes, barriers, delayed and
 * reordered (or lost) notifications, and crashes, against the exactly-once reference: the
 * visible parts hold exactly the records before the latest committed barrier.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import t from 'tap';
import { decode, encode } from 'cbor-x';
import { formatRecord } from '../../src/connectors/sinks.js';
import {
  TwoPhaseCommitTextSinkWriter as Writer,
  endOfInputCheckpointId,
  type PendingFile,
  type TextSinkState,
} from '../../src/connectors/two-phase-text-sink.js';
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

/** Drops a writer as a crash would: buffered records are lost; only the descriptor is closed (fd hygiene of the test). */
function crash(writer: Writer): void {
  const fd = (writer as unknown as { fd: number | undefined }).fd;
  if (fd !== undefined) fs.closeSync(fd);
}

interface Checkpoint {
  id: number;
  /** Input position at the barrier: records [0, position) are before it. */
  position: number;
  /** The sink state, as it comes back from operator state (cbor-x round trip). */
  state: TextSinkState;
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
    let writer = new Writer(dir, subtask);

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
        const state = decode(encode(writer.preCommit(id))) as TextSinkState;
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
        writer.commitUpTo(id);
        committedPosition = Math.max(committedPosition, checkpoints.get(id)!.position);
        totalCommits++;
        ok = check(`commitUpTo(${id})`);
      } else if (action >= 0.965) {
        // Crash, maybe in the middle of a commit (some pending files renamed), then restore.
        if (rand() < 0.3 && inFlight.length > 0) {
          const id = Math.max(...inFlight);
          const due = ((writer as unknown as { pending: PendingFile[] }).pending ?? []).filter((f) => f.checkpointId <= id);
          Writer.commit(due.filter(() => rand() < 0.5));
        }
        crash(writer);
        totalCrashes++;
        inFlight = [];
        acked = [];
        const restored = latestCompleted?.state;
        const result = Writer.recover(dir, subtask, restored);
        t.ok(result.committed.every((f) => restored!.pending.some((p) => p.final === f)), `${where}: recover commits only the state's files`);
        position = latestCompleted?.position ?? 0;
        committedPosition = position;
        ok = check(`crash and recover to checkpoint ${latestCompleted?.id ?? 'none'}`) && t.same(hiddenFiles(dir, subtask), [], `${where}: no hidden file after recover`);
        writer = new Writer(dir, subtask, restored === undefined ? undefined : (decode(encode(restored)) as TextSinkState));
      }
    }
    if (!ok) break;
    // Some late notifications, then end of input: the job master commits the rest.
    for (const id of inFlight) if (rand() < 0.5) writer.commitUpTo(id);
    const files = writer.finishPending();
    t.ok(files.every((f) => fs.existsSync(f.pending)), `${where}: finishPending returns only uncommitted files`);
    Writer.commit(files);
    Writer.commit(files); // idempotent
    committedPosition = inputLength;
    if (!check('finishPending + commit')) break;
    t.same(hiddenFiles(dir, subtask), [], `${where}: no hidden file at the end`);
  }
  t.ok(totalCrashes > 10 && totalCommits > 50 && totalLost > 3, `exercised: ${totalCrashes} crashes, ${totalCommits} commits, ${totalLost} lost notifications`);
  t.end();
});

t.test('worked example: names, state and visibility at each step', (t) => {
  const dir = tempDir(t, 'two-phase');
  const writer = new Writer(dir, 0);
  writer.write('a');
  writer.write({ b: 1n });
  t.same(fs.readdirSync(dir), [], 'buffered: nothing on disk yet');
  const s1 = writer.preCommit(1);
  t.same(s1, { nextPart: 1, pending: [{ pending: path.join(dir, '.part-0-0.pending'), final: path.join(dir, 'part-0-0'), checkpointId: 1 }] });
  t.same(writer.preCommit(2), s1, 'a barrier with no new record closes no part');
  writer.write('c');
  const s3 = writer.preCommit(3);
  t.equal(s3.nextPart, 2);
  t.same(s3.pending.map((f) => f.checkpointId), [1, 3]);
  t.same(visibleParts(dir, 0), [], 'nothing visible before a notification');
  writer.commitUpTo(2);
  t.same(visibleParts(dir, 0), [{ name: 'part-0-0', text: 'a\n{"b":"1"}\n' }]);
  writer.commitUpTo(2);
  writer.write('d');
  t.same(writer.preCommit(4).pending.map((f) => f.final), [path.join(dir, 'part-0-1'), path.join(dir, 'part-0-2')], 'snapshot lists what is not committed');
  writer.write('e');
  const files = writer.finishPending();
  t.same(files.map((f) => [path.basename(f.pending), f.checkpointId]), [['.part-0-1.pending', 3], ['.part-0-2.pending', 4], ['.part-0-3.pending', endOfInputCheckpointId]]);
  t.same(writer.finishPending(), files, 'finishPending again returns the same list');
  t.throws(() => writer.write('late'), /write after finish/);
  Writer.commit(files);
  t.equal(visibleText(dir, 0), 'a\n{"b":"1"}\nc\nd\ne\n');
  t.equal(writer.bytesWritten, Buffer.byteLength(visibleText(dir, 0)), 'bytesWritten counts what reached the files');
  t.same(hiddenFiles(dir, 0), []);
  t.end();
});

t.test('recover touches only its own subtask (part-1- is not part-10-) and continues numbering', (t) => {
  const dir = tempDir(t, 'two-phase');
  const w1 = new Writer(dir, 1);
  const w10 = new Writer(dir, 10);
  for (const w of [w1, w10]) w.write('x');
  const state1 = w1.preCommit(5);
  w10.preCommit(5);
  for (const w of [w1, w10]) w.write('after checkpoint 5');
  w1.preCommit(6); // checkpoint 6 never completes
  w1.write('in progress');
  (w1 as unknown as { flush(): void }).flush();
  w10.write('y');
  (w10 as unknown as { flush(): void }).flush();
  crash(w1);
  const result = Writer.recover(dir, 1, state1);
  t.same(result, { committed: [path.join(dir, 'part-1-0')], discarded: [path.join(dir, '.part-1-1.pending'), path.join(dir, '.part-1-2.inprogress')].sort() });
  t.same(Writer.recover(dir, 1, state1), { committed: [], discarded: [] }, 'recover is idempotent');
  t.same(hiddenFiles(dir, 10).sort(), ['.part-10-0.pending', '.part-10-1.inprogress'], 'subtask 10 untouched');
  const again = new Writer(dir, 1, state1);
  again.write('redo');
  t.equal(path.basename(again.finishPending().at(-1)!.final), 'part-1-1', 'numbering continues from the restored nextPart');
  t.same(Writer.recover(path.join(dir, 'missing'), 1, undefined), { committed: [], discarded: [] }, 'a missing dir has nothing to recover');
  t.end();
});

t.test('errors name the file and what to do', (t) => {
  const dir = tempDir(t, 'two-phase');
  fs.writeFileSync(path.join(dir, '.part-0-0.inprogress'), 'stale');
  const writer = new Writer(dir, 0);
  writer.write('a');
  t.throws(() => writer.preCommit(1), /Cannot create .*\.part-0-0\.inprogress: .*EEXIST.*call TwoPhaseCommitTextSinkWriter\.recover/);

  const file = path.join(dir, 'plain-file');
  fs.writeFileSync(file, '');
  t.throws(() => new Writer(path.join(file, 'sub'), 0), /Output directory .*plain-file\/sub cannot be created \(ENOTDIR\): check the path and permissions/);

  const lost: PendingFile = { pending: path.join(dir, '.part-0-7.pending'), final: path.join(dir, 'part-0-7'), checkpointId: 9 };
  t.throws(() => Writer.commit([lost]), /Cannot commit .*\.part-0-7\.pending of checkpoint 9: neither it nor .*part-0-7 exists \(deleted by hand\?\)/);
  fs.writeFileSync(lost.pending, 'new');
  fs.writeFileSync(lost.final, 'old');
  t.throws(() => Writer.commit([lost]), /part-0-7 exists already \(part number reused/);
  t.equal(fs.readFileSync(lost.final, 'utf8'), 'old', 'a visible part is never replaced');
  t.end();
});

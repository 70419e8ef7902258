/**
 * The exactly-once SQLite sink (examples/sqlite-sink.ts) without the engine: the test plays
 * the sink operator (committables tagged by checkpoint, committed on completion) and the
 * job master (on a restore, commit every committable of the restored checkpoint, then
 * start new writers). Idempotent commits, a real kill -9 between staging and commit,
 * all-or-nothing failed commits, leftovers after a rescale and a cancel, and a seeded
 * model: crashes and lost notifications against "every record once, in order".
 */
import t from 'tap';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { SqliteSink } from '../../examples/sqlite-sink.js';
import type { SqliteCommittable, SqliteSinkWriter } from '../../examples/sqlite-sink.js';
import type { WriterInitContext } from '../../src/index.js';
import { tempDir } from '../helpers/checkpoints.js';
import { seededRandom, testSeed } from '../helpers/random.js';
import { readRows, sinkTableCounts } from '../helpers/sqlite.js';

const seed = testSeed(4242);
t.comment(`seed ${seed} (replay with SLUICE_SEED=${seed})`);

const sinkModule = new URL('../../examples/sqlite-sink.js', import.meta.url).href;
const projectRoot = new URL('../../..', import.meta.url).pathname;

/** A sink of one INTEGER column `x` in table `t` of a new database file. */
function integerSink(t: { teardown(fn: () => void): void }, batchRows = 7): { sink: SqliteSink<number>; path: string } {
  const path = join(tempDir(t, 'sqlite-unit'), 'out.db');
  return { sink: new SqliteSink<number>({ path, table: 't', columns: { x: 'INTEGER NOT NULL' }, toRow: (x) => [x], batchRows }), path };
}

const context = (subtaskIndex: number, parallelism: number, attemptNumber = 0, restoredCheckpointId?: number): WriterInitContext => ({
  subtaskIndex,
  parallelism,
  attemptNumber,
  restoredCheckpointId,
});

function writeRange(writer: SqliteSinkWriter<number>, from: number, to: number): void {
  for (let x = from; x < to; x++) writer.write(x);
}

const range = (from: number, to: number): number[][] => Array.from({ length: to - from }, (_, i) => [from + i]);

t.test('commit is idempotent: committing the same committables again, here or in another connection, publishes nothing twice', async (t) => {
  const { sink, path } = integerSink(t);
  const writer = sink.createWriter(context(0, 1));
  writeRange(writer, 0, 30);
  const first = writer.prepareCommit();
  writeRange(writer, 30, 45);
  const second = writer.prepareCommit();
  t.same(writer.prepareCommit(), [], 'an epoch without rows prepares nothing');
  t.same(first, [{ txn: first[0]!.txn, subtask: 0, rows: 30 }]);
  const committer = sink.createCommitter({ subtaskIndex: 0, parallelism: 1 });
  t.equal(committer.publish(first), 1);
  t.equal(committer.publish([...first, ...second]), 1, 'the first is skipped, the second committed');
  t.equal(committer.publish([...first, ...second]), 0, 'both again: a no-op');
  const master = sink.createCommitter({ subtaskIndex: undefined, parallelism: 1 });
  t.equal(master.publish([...first, ...second]), 0, 'the job master after a restore: a no-op too');
  master.close();
  committer.close();
  writer.close();
  t.same(readRows(path, 't'), range(0, 45), 'every row once, in write order');
  t.same(sinkTableCounts(path, 't'), { target: 45, staged: 0, commits: 2 });
});

t.test('kill -9 between staging and commit: the restore commits the prepared epoch, the new writer discards the epoch in progress', async (t) => {
  const { path } = integerSink(t);
  const committableFile = join(tempDir(t, 'sqlite-crash'), 'committable.json');
  // In a child process: epoch 1 prepared (in a checkpoint), epoch 2 staged, and a write
  // transaction left open on a second connection, holding the write lock at the kill.
  const script = `
    import Database from 'better-sqlite3';
    import { writeFileSync } from 'node:fs';
    import { SqliteSink } from ${JSON.stringify(sinkModule)};
    const sink = new SqliteSink({ path: ${JSON.stringify(path)}, table: 't', columns: { x: 'INTEGER NOT NULL' }, toRow: (x) => [x], batchRows: 7 });
    const writer = sink.createWriter({ subtaskIndex: 0, parallelism: 1, attemptNumber: 0, restoredCheckpointId: undefined });
    for (let x = 0; x < 100; x++) writer.write(x);
    writeFileSync(${JSON.stringify(committableFile)}, JSON.stringify(writer.prepareCommit()));
    for (let x = 100; x < 150; x++) writer.write(x);
    writer.flush(false);
    const raw = new Database(${JSON.stringify(path)});
    raw.prepare('BEGIN IMMEDIATE').run();
    raw.prepare('INSERT INTO t (x) VALUES (999)').run();
    process.kill(process.pid, 'SIGKILL');`;
  const child = spawnSync(process.execPath, ['--input-type=module', '-e', script], { cwd: projectRoot, encoding: 'utf8', timeout: 60_000 });
  t.equal(child.signal, 'SIGKILL', `the child died by SIGKILL (${child.stderr.slice(-300)})`);
  const prepared = JSON.parse(readFileSync(committableFile, 'utf8')) as SqliteCommittable[];
  t.same(sinkTableCounts(path, 't'), { target: 0, staged: 150, commits: 0 }, 'after the crash: nothing published, both epochs staged');

  const again = new SqliteSink<number>({ path, table: 't', columns: { x: 'INTEGER NOT NULL' }, toRow: (x) => [x] });
  const master = again.createCommitter({ subtaskIndex: undefined, parallelism: 1 });
  t.equal(master.publish(prepared), 1, 'the job master commits the restored checkpoint: the lock of the killed process is gone');
  master.close();
  const writer = again.createWriter(context(0, 1, 1, 1));
  t.same(sinkTableCounts(path, 't'), { target: 100, staged: 0, commits: 1 }, 'the new writer discarded the epoch in progress');
  writeRange(writer, 100, 150);
  const committer = again.createCommitter({ subtaskIndex: 0, parallelism: 1 });
  committer.publish(writer.prepareCommit());
  t.equal(committer.publish(prepared), 0, 'the restored epoch once more: a no-op');
  committer.close();
  writer.close();
  t.same(readRows(path, 't'), range(0, 150), 'the replayed epoch once, the uncommitted insert of the killed process never');
});

t.test('a commit whose staged rows are gone fails, names the transaction and applies nothing of the call', async (t) => {
  const { sink, path } = integerSink(t);
  const [zero, one] = [sink.createWriter(context(0, 2)), sink.createWriter(context(1, 2))];
  writeRange(zero, 0, 10);
  const good = zero.prepareCommit();
  writeRange(one, 10, 20);
  const lost = one.prepareCommit();
  zero.close();
  one.close();
  sink.createWriter(context(1, 2, 1)).close(); // a writer of subtask 1 that was not told of `lost` discards it
  const committer = sink.createCommitter({ subtaskIndex: 0, parallelism: 1 });
  t.throws(() => committer.publish([...good, ...lost]), { message: new RegExp(`^Cannot commit SQLite sink transaction ${lost[0]!.txn} of subtask 1 into t: 0 rows are staged, 10 were prepared`) });
  t.same(sinkTableCounts(path, 't'), { target: 0, staged: 10, commits: 0 }, 'all or nothing: the good one was rolled back too');
  t.throws(() => committer.commit([{ file: 'x' } as unknown as SqliteCommittable]), TypeError);
  committer.close();
});

t.test('after a change of parallelism, every old subtask\'s leftovers are discarded by exactly one new writer', async (t) => {
  const { sink, path } = integerSink(t);
  const old = [0, 1, 2].map((s) => sink.createWriter(context(s, 3)));
  old.forEach((w, s) => {
    writeRange(w, s * 100, s * 100 + 20);
    w.flush(false);
    w.close();
  });
  t.equal(sinkTableCounts(path, 't').staged, 60);
  const first = sink.createWriter(context(0, 2, 1, 5));
  t.equal(sinkTableCounts(path, 't').staged, 20, 'writer 0 of 2 took old subtasks 0 and 2; subtask 1 is not its');
  const second = sink.createWriter(context(1, 2, 1, 5));
  t.equal(sinkTableCounts(path, 't').staged, 0, 'writer 1 of 2 took old subtask 1');
  first.close();
  second.close();
});

t.test('cancel: close(discard) deletes the epoch in progress and keeps prepared epochs for a resume', async (t) => {
  const { sink, path } = integerSink(t);
  const writer = sink.createWriter(context(0, 1));
  writeRange(writer, 0, 10);
  const prepared = writer.prepareCommit();
  writeRange(writer, 10, 25);
  writer.flush(false);
  writer.close(true);
  writer.close(true);
  t.equal(sinkTableCounts(path, 't').staged, 10, 'only the prepared epoch is left');
  const master = sink.createCommitter({ subtaskIndex: undefined, parallelism: 1 });
  t.equal(master.publish(prepared), 1);
  master.close();
  t.same(readRows(path, 't'), range(0, 10));
});

t.test('options are validated with precise errors', async (t) => {
  const base = { path: 'x.db', table: 't', columns: { x: 'INTEGER' }, toRow: (x: number) => [x] };
  t.throws(() => new SqliteSink({ ...base, path: '' }), { name: 'TypeError', message: /database file path/ });
  t.throws(() => new SqliteSink({ ...base, table: 'a b' }), { name: 'TypeError', message: /table name "a b"/ });
  t.throws(() => new SqliteSink({ ...base, columns: {} }), { name: 'TypeError', message: /at least one column/ });
  t.throws(() => new SqliteSink({ ...base, columns: { sluice_txn: 'INTEGER' } }), { name: 'TypeError', message: /not sluice_txn/ });
  t.throws(() => new SqliteSink({ ...base, batchRows: 0 }), { name: 'RangeError', message: /batchRows/ });
  t.throws(() => new SqliteSink({ ...base, busyTimeoutMs: -1 }), { name: 'RangeError', message: /busyTimeoutMs/ });
  const { path } = integerSink(t);
  const writer = new SqliteSink<number>({ ...base, path, toRow: () => [1, 2] }).createWriter(context(0, 1));
  t.throws(() => writer.write(1), { name: 'TypeError', message: /must return 1 values \("x"\), got \[1,2\]/ });
  writer.close();
  t.throws(() => new SqliteSink({ ...base, path: '/nonexistent-dir/x.db' }).createWriter(context(0, 1)), { message: /^Cannot open SQLite sink database \/nonexistent-dir\/x.db \(table t\)/ });
});

/**
 * Seeded model: one sink subtask over records 0..n-1 with barriers, completions whose
 * notification may be lost, and crashes (restore from the latest completed checkpoint:
 * commit its committables, replay from its position). Reference: the table ends with
 * every record once, in order.
 */
t.test('model: random barriers, lost notifications and crashes publish every record exactly once, in order', async (t) => {
  const rand = seededRandom(seed);
  for (let round = 0; round < 6; round++) {
    const { sink, path } = integerSink(t, 1 + Math.floor(rand() * 20));
    const n = 300 + Math.floor(rand() * 300);
    /** A completed checkpoint: the input position at its barrier, the committables it holds. */
    let completed = { position: 0, committables: [] as SqliteCommittable[] };
    let attempt = 0;
    let writer = sink.createWriter(context(0, 1));
    let committer = sink.createCommitter({ subtaskIndex: 0, parallelism: 1 });
    let pending: SqliteCommittable[] = [];
    let position = 0;
    while (position < n) {
      const step = rand();
      if (step < 0.6) writer.write(position++);
      else if (step < 0.75) {
        pending = [...pending, ...writer.prepareCommit()];
        completed = { position, committables: [...pending] };
        if (rand() < 0.7) {
          committer.publish(pending); // the notification arrived
          pending = [];
        }
      } else if (step < 0.77) {
        writer.close(); // crash (the connection goes with the thread)
        committer.close();
        const master = sink.createCommitter({ subtaskIndex: undefined, parallelism: 1 });
        master.publish(completed.committables);
        master.close();
        writer = sink.createWriter(context(0, 1, ++attempt, attempt));
        committer = sink.createCommitter({ subtaskIndex: 0, parallelism: 1 });
        pending = [];
        position = completed.position;
      }
    }
    committer.publish([...pending, ...writer.prepareCommit()]); // the final checkpoint
    committer.close();
    writer.close();
    const rows = readRows(path, 't');
    if (rows.length !== n || rows.some((r, i) => r[0] !== i)) {
      t.fail(`round ${round} (seed ${seed}): ${rows.length} rows for ${n} records, first wrong at ${rows.findIndex((r, i) => r[0] !== i)}`);
      return;
    }
    t.equal(sinkTableCounts(path, 't').staged, 0, `round ${round}: ${n} records, ${attempt} crashes: exactly once, nothing left staged`);
  }
});

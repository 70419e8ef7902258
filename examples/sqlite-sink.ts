/**
 * An exactly-once SQLite sink on the Sink V2 API (connectors/sink.ts): rows reach the
 * target table once each, through killed workers, restarts and `kill -9` of the process.
 *
 * The idea is Flink's JDBC exactly-once sink (`JdbcSink.exactlyOnceSink`, built on XA
 * transactions, and before it `TwoPhaseCommitSinkFunction`): one database transaction per
 * checkpoint epoch, prepared at the barrier and committed when the checkpoint completes.
 * SQLite has no XA (no transaction survives its connection), so a *prepared* transaction
 * here is rows in a staging table under a transaction id, and *commit* moves them.
 *
 * ## Tables (for target table `t`; created when missing)
 *   `t`            the output: the columns given, in commit order (rowid)
 *   `t__txns`      one row per transaction id (AUTOINCREMENT: never reused, across runs
 *                  and processes): the subtask and attempt that opened it, when it was
 *                  prepared and how many rows it staged
 *   `t__staging`   `sluice_txn` and the target's columns: rows written, not yet committed
 *   `t__commits`   the transaction ids committed, with their row counts
 *
 * ## Life of a transaction (sink subtask s, one checkpoint epoch)
 *   write        rows are buffered, then staged in batches of `batchRows`, each batch one
 *                SQLite transaction; the first batch of the epoch allocates the id
 *   barrier      `prepareCommit`: the last batch is staged and `t__txns.prepared_ms` set
 *                with `synchronous = FULL`, which fsyncs the WAL and so every batch before
 *                it; the committable `{ txn, subtask, rows }` goes into the checkpoint
 *   complete     `SqliteCommitter.commit` in ONE SQLite transaction: copy the staged rows
 *                into `t` (in staging order), delete them, record the id in `t__commits`;
 *                an id already there is skipped (idempotent), and a count that differs
 *                from `rows` fails the commit without changing anything
 *
 * ## Restores and leftovers
 * Before any writer starts, the job master commits every committable of the restored
 * checkpoint (sink.ts, item 4). Every staged row still there is then a failed attempt's: a
 * transaction of an epoch no completed checkpoint covers. A new writer j deletes those of
 * the subtasks k = j (mod parallelism), so after a change of parallelism every old index is
 * cleaned by exactly one writer, and a row is never deleted while its subtask is alive. The
 * target table is never cleared: a fresh run (not `--resume`) appends; start it on a new
 * file or table to replace the output. One job per target table.
 *
 * ## Concurrency
 * Every sink subtask (worker thread) opens its own connections, and the job master its
 * own for restore commits: WAL mode lets readers run beside the one writer, every write
 * transaction starts `BEGIN IMMEDIATE` (so it waits for the write lock up front instead of
 * failing to upgrade a read), and `busyTimeoutMs` bounds each wait; a longer wait throws
 * `SQLITE_BUSY`, which fails the subtask (the restart strategy applies). A worker thread
 * terminated inside a transaction leaves no lock behind: better-sqlite3 closes its
 * connections when the thread's environment is torn down, which rolls the transaction back.
 *
 * ## Durability
 * Staged batches use `synchronous = NORMAL` (no fsync: they are not in any checkpoint
 * yet); the prepare and every commit use `FULL`. Once a checkpoint completes the sources
 * no longer replay its records and a later checkpoint no longer lists its committed ids,
 * so both the prepared rows and the commit must survive a machine crash.
 *
 * ## Fallback restores
 * The committer has no `rollback` (connectors/sink.ts, item 5): rows moved into `t` carry
 * no transaction id, so what was committed after an older checkpoint cannot be told
 * apart. A restore that falls back past a damaged newest checkpoint is therefore refused,
 * unless the job runs with `--allow-duplicates-on-fallback`.
 *
 * `t__txns` and `t__commits` grow by one row per sink subtask and checkpoint (86,400 a day
 * each at a checkpoint a second); nothing prunes them yet.
 */
import assert from 'node:assert';
import Database from 'better-sqlite3';
import type { Committer, CommitterInitContext, Sink, SinkWriter, WriterInitContext } from 'sluicegate';

/** A value SQLite stores as it is (a Buffer as a BLOB). */
export type SqliteValue = number | bigint | string | Buffer | null;

/** Configuration of `SqliteSink`; validated by its constructor. */
export interface SqliteSinkOptions<T> {
  /** Database file, created when missing (its folder must exist). */
  readonly path: string;
  /** Target table; with `columns`, created when missing. Letters, digits and `_`. */
  readonly table: string;
  /**
   * Column name to its declaration in `CREATE TABLE` (type and constraints, such as
   * `'TEXT NOT NULL'`), in column order. Names: letters, digits and `_`, not `sluice_txn`.
   */
  readonly columns: Readonly<Record<string, string>>;
  /** One record as one row: a value per column, in column order. */
  readonly toRow: (record: T) => readonly SqliteValue[];
  /** Rows staged per SQLite transaction; default `sqliteStageBatchRows`. */
  readonly batchRows?: number;
  /** Longest wait for the database's write lock, ms; default `sqliteBusyTimeoutMs`. */
  readonly busyTimeoutMs?: number;
}

/** What one sink subtask prepared in one epoch: the id of its staged rows and their count. */
export interface SqliteCommittable {
  txn: number;
  subtask: number;
  rows: number;
}

/**
 * Rows staged per SQLite write transaction. Larger batches hold the write lock longer
 * (the other subtasks wait) and keep more rows in memory; smaller ones pay the
 * per-transaction cost (taking the write lock, appending the commit to the WAL) more often.
 */
export const sqliteStageBatchRows = 2048;
/**
 * Default busy timeout, ms: a commit moving a large epoch holds the write lock for a while
 * (about 1 s per million rows on the 2-core test machine), and every subtask and the job master share that lock.
 */
export const sqliteBusyTimeoutMs = 30_000;
/** Rows per staging INSERT statement: more amortize the per-statement cost, with diminishing returns past a few dozen. */
export const sqliteRowsPerInsert = 64;
/** SQLite's default SQLITE_MAX_VARIABLE_NUMBER (since 3.32): bound values per statement. */
export const sqliteMaxVariables = 32_766;
/** The staging table's transaction-id column; no target column may take this name. */
export const sqliteTxnColumn = 'sluice_txn';

const identifier = /^[A-Za-z_][A-Za-z0-9_]*$/;
const quote = (name: string): string => `"${name}"`;

/** The SQL of one sink's tables, built once from validated options. */
class SqliteTables {
  readonly staging: string;
  readonly txns: string;
  readonly commits: string;
  readonly schema: string;

  constructor(
    readonly target: string,
    readonly columns: ReadonlyArray<readonly [name: string, declaration: string]>,
  ) {
    this.staging = quote(`${target}__staging`);
    this.txns = quote(`${target}__txns`);
    this.commits = quote(`${target}__commits`);
    const names = columns.map(([name]) => quote(name));
    this.schema = [
      `CREATE TABLE IF NOT EXISTS ${quote(target)} (${columns.map(([name, decl]) => `${quote(name)} ${decl}`).join(', ')})`,
      `CREATE TABLE IF NOT EXISTS ${this.txns} (txn INTEGER PRIMARY KEY AUTOINCREMENT, subtask INTEGER NOT NULL, attempt INTEGER NOT NULL, opened_ms INTEGER NOT NULL, prepared_ms INTEGER, rows INTEGER)`,
      `CREATE TABLE IF NOT EXISTS ${this.staging} (${sqliteTxnColumn} INTEGER NOT NULL, ${names.join(', ')})`,
      `CREATE INDEX IF NOT EXISTS ${quote(`${target}__staging_txn`)} ON ${this.staging} (${sqliteTxnColumn})`,
      `CREATE TABLE IF NOT EXISTS ${this.commits} (txn INTEGER PRIMARY KEY, subtask INTEGER NOT NULL, rows INTEGER NOT NULL, committed_ms INTEGER NOT NULL)`,
    ].join(';\n');
  }

  get columnList(): string {
    return this.columns.map(([name]) => quote(name)).join(', ');
  }
}

/**
 * Opens `path` in WAL mode with a busy timeout and creates the sink's tables when missing.
 * @throws Error naming the file when it cannot be opened or the schema not created.
 */
function openSinkDatabase(path: string, tables: SqliteTables, busyTimeoutMs: number): Database.Database {
  let db: Database.Database | undefined;
  try {
    // The busy timeout is set at open, before the journal-mode switch, which needs the lock too.
    db = new Database(path, { timeout: busyTimeoutMs });
    db.pragma('journal_mode = WAL');
    db.pragma('synchronous = FULL');
    db.transaction(() => db!.exec(tables.schema)).immediate();
    return db;
  } catch (error) {
    db?.close();
    throw new Error(`Cannot open SQLite sink database ${path} (table ${tables.target}): ${(error as Error).message} (check that its folder exists and is writable)`, {
      cause: error,
    });
  }
}

/**
 * Stages one sink subtask's rows, one transaction id per checkpoint epoch. Single-threaded
 * (the subtask's); never awaits; may block up to the busy timeout on the write lock.
 */
export class SqliteSinkWriter<T> implements SinkWriter<T> {
  private readonly db: Database.Database;
  private readonly markPrepared: Database.Statement;
  /** Stages rows under `txn` (or a new id) in one write transaction; returns the id. */
  private readonly stageBatch: (txn: number | undefined, rows: readonly (readonly SqliteValue[])[]) => number;
  private buffer: (readonly SqliteValue[])[] = [];
  /** The open transaction of this epoch, allocated by its first staged batch. */
  private txn: number | undefined;
  private txnRows = 0;

  /** Opens the database and deletes the leftovers of its subtask indexes (file comment). */
  constructor(
    private readonly options: Required<Pick<SqliteSinkOptions<T>, 'path' | 'toRow' | 'batchRows' | 'busyTimeoutMs'>>,
    private readonly tables: SqliteTables,
    private readonly context: WriterInitContext,
  ) {
    assert(context.subtaskIndex >= 0 && context.subtaskIndex < context.parallelism, `bad subtask index ${context.subtaskIndex}`);
    this.db = openSinkDatabase(options.path, tables, options.busyTimeoutMs);
    discardLeftovers(this.db, tables, context.subtaskIndex, context.parallelism);
    this.db.pragma('synchronous = NORMAL');
    const insert = stagingInsert(this.db, tables);
    const openTxn = this.db.prepare(`INSERT INTO ${tables.txns} (subtask, attempt, opened_ms) VALUES (?, ?, ?)`);
    this.markPrepared = this.db.prepare(`UPDATE ${tables.txns} SET prepared_ms = ?, rows = ? WHERE txn = ?`);
    const stage = this.db.transaction((txn: number | undefined, rows: readonly (readonly SqliteValue[])[]): number => {
      const id = txn ?? Number(openTxn.run(context.subtaskIndex, context.attemptNumber, Date.now()).lastInsertRowid);
      insert(id, rows);
      return id;
    });
    this.stageBatch = stage.immediate;
  }

  /** Buffers the record's row; stages the buffer once it holds `batchRows`. @throws TypeError for a row of the wrong width. */
  write(record: T): void {
    const row = this.options.toRow(record);
    if (!Array.isArray(row) || row.length !== this.tables.columns.length) {
      throw new TypeError(`SqliteSink toRow() must return ${this.tables.columns.length} values (${this.tables.columnList}), got ${JSON.stringify(row)?.slice(0, 120)}`);
    }
    this.buffer.push(row);
    if (this.buffer.length >= this.options.batchRows) this.flush();
  }

  /** Stages the buffered rows (one SQLite transaction), at a barrier and at the end of input alike. */
  flush(_endOfInput = false): void {
    if (this.buffer.length === 0) return;
    const rows = this.buffer;
    this.buffer = [];
    this.txn = this.stageBatch(this.txn, rows);
    this.txnRows += rows.length;
  }

  /**
   * Stages the rest, marks the epoch's transaction prepared (durably: fsynced WAL) and
   * returns it as the committable; none when the epoch had no row. The next row opens a
   * new transaction id.
   */
  prepareCommit(): SqliteCommittable[] {
    this.flush();
    if (this.txn === undefined) return [];
    assert(this.txnRows > 0, 'an open transaction has staged rows');
    const committable: SqliteCommittable = { txn: this.txn, subtask: this.context.subtaskIndex, rows: this.txnRows };
    this.db.pragma('synchronous = FULL');
    try {
      this.markPrepared.run(Date.now(), committable.rows, committable.txn);
    } finally {
      this.db.pragma('synchronous = NORMAL');
    }
    this.txn = undefined;
    this.txnRows = 0;
    return [committable];
  }

  /**
   * Closes the connection. After a cancel (`discard`) it first deletes the rows of the
   * epoch in progress, which no checkpoint can cover; prepared ones stay for a resume.
   */
  close(discard = false): void {
    if (!this.db.open) return;
    if (discard && this.txn !== undefined) {
      this.db.prepare(`DELETE FROM ${this.tables.staging} WHERE ${sqliteTxnColumn} = ?`).run(this.txn);
    }
    this.buffer = [];
    this.txn = undefined;
    this.db.close();
  }
}

/**
 * A function that inserts rows into the staging table under a transaction id, many rows
 * per statement (2.5x the rows/s of one row per statement on the 2-core test machine: 687k against 278k), within SQLite's limit
 * of `sqliteMaxVariables` bound values per statement.
 */
function stagingInsert(db: Database.Database, tables: SqliteTables): (txn: number, rows: readonly (readonly SqliteValue[])[]) => void {
  const width = tables.columns.length + 1;
  const perStatement = Math.max(1, Math.min(sqliteRowsPerInsert, Math.floor(sqliteMaxVariables / width)));
  const tuple = `(${new Array(width).fill('?').join(', ')})`;
  const sql = (rows: number): string => `INSERT INTO ${tables.staging} (${sqliteTxnColumn}, ${tables.columnList}) VALUES ${new Array(rows).fill(tuple).join(', ')}`;
  const many = db.prepare(sql(perStatement));
  const one = db.prepare(sql(1));
  return (txn, rows) => {
    let next = 0;
    for (; next + perStatement <= rows.length; next += perStatement) {
      const values: SqliteValue[] = [];
      for (let i = next; i < next + perStatement; i++) values.push(txn, ...rows[i]!);
      many.run(values);
    }
    for (; next < rows.length; next++) one.run(txn, ...rows[next]!);
  };
}

/**
 * Deletes the staged rows of the transactions of subtasks k = subtaskIndex (mod
 * parallelism). Returns how many rows it deleted.
 */
function discardLeftovers(db: Database.Database, tables: SqliteTables, subtaskIndex: number, parallelism: number): number {
  const sql = `DELETE FROM ${tables.staging} WHERE ${sqliteTxnColumn} IN (SELECT txn FROM ${tables.txns} WHERE subtask % ? = ?)`;
  return db.transaction(() => db.prepare(sql).run(parallelism, subtaskIndex).changes).immediate();
}

/** Publishes committables: moves staged rows into the target table, once per id. */
export class SqliteCommitter implements Committer<SqliteCommittable> {
  /** Opened at the first commit: a committer that never commits opens no connection. */
  private commitAll: ((committables: readonly SqliteCommittable[]) => number) | undefined;
  private db: Database.Database | undefined;

  constructor(
    private readonly path: string,
    private readonly tables: SqliteTables,
    private readonly busyTimeoutMs: number,
  ) {}

  /**
   * Commits every committable in one SQLite transaction (all or none); ids already in
   * `t__commits` are skipped.
   * @throws TypeError for a value that is not a `SqliteCommittable`; Error when the staged
   * rows of an id are not the count it prepared (deleted by hand, or by a writer that
   * started before the restored committables were committed).
   */
  commit(committables: SqliteCommittable[]): void {
    this.publish(committables);
  }

  /** `commit`, returning how many committables were committed now (the others were before). */
  publish(committables: readonly SqliteCommittable[]): number {
    for (const c of committables) {
      if (!Number.isSafeInteger(c?.txn) || !Number.isSafeInteger(c.rows) || !Number.isSafeInteger(c.subtask)) {
        throw new TypeError(`Not a SQLite sink committable: ${JSON.stringify(c)?.slice(0, 120)}`);
      }
    }
    if (this.commitAll === undefined) {
      this.db = openSinkDatabase(this.path, this.tables, this.busyTimeoutMs);
      this.commitAll = this.prepareCommitAll(this.db);
    }
    return this.commitAll(committables);
  }

  private prepareCommitAll(db: Database.Database): (committables: readonly SqliteCommittable[]) => number {
    const { tables } = this;
    const done = db.prepare(`SELECT 1 FROM ${tables.commits} WHERE txn = ?`).pluck();
    const move = db.prepare(`INSERT INTO ${quote(tables.target)} (${tables.columnList}) SELECT ${tables.columnList} FROM ${tables.staging} WHERE ${sqliteTxnColumn} = ? ORDER BY rowid`);
    const unstage = db.prepare(`DELETE FROM ${tables.staging} WHERE ${sqliteTxnColumn} = ?`);
    const record = db.prepare(`INSERT INTO ${tables.commits} (txn, subtask, rows, committed_ms) VALUES (?, ?, ?, ?)`);
    return db.transaction((committables: readonly SqliteCommittable[]): number => {
      let committed = 0;
      for (const c of committables) {
        if (done.get(c.txn) !== undefined) continue;
        const moved = move.run(c.txn).changes;
        if (moved !== c.rows) {
          throw new Error(
            `Cannot commit SQLite sink transaction ${c.txn} of subtask ${c.subtask} into ${tables.target}: ${moved} rows are staged, ${c.rows} were prepared (staged rows deleted by hand, or by a writer of another job on the same table?); nothing of this commit was applied`,
          );
        }
        unstage.run(c.txn);
        record.run(c.txn, c.subtask, c.rows, Date.now());
        committed++;
      }
      return committed;
    }).immediate;
  }

  close(): void {
    this.db?.close();
    this.db = undefined;
    this.commitAll = undefined;
  }
}

/**
 * Exactly-once rows into a SQLite table (see the file comment).
 *
 *   stream.sinkTo(new SqliteSink({ path: 'out.db', table: 'counts',
 *     columns: { word: 'TEXT NOT NULL', n: 'INTEGER NOT NULL' }, toRow: ([w, n]) => [w, n] }))
 *
 * Exactly once needs periodic checkpoints (`checkpointIntervalMs`); without them the job
 * master commits everything when the job ends, and a failure starts from scratch.
 */
export class SqliteSink<T> implements Sink<T, SqliteCommittable> {
  private readonly tables: SqliteTables;
  private readonly options: Required<Pick<SqliteSinkOptions<T>, 'path' | 'toRow' | 'batchRows' | 'busyTimeoutMs'>>;

  /** @throws TypeError for a missing path, a bad table or column name, or no `toRow`; RangeError for a bad batch size or timeout. */
  constructor(options: SqliteSinkOptions<T>) {
    if (typeof options?.path !== 'string' || options.path === '') throw new TypeError('SqliteSink needs a database file path (options.path)');
    if (typeof options.table !== 'string' || !identifier.test(options.table)) {
      throw new TypeError(`SqliteSink table name ${JSON.stringify(options.table)} must be letters, digits and _ (not starting with a digit)`);
    }
    const columns = Object.entries(options.columns ?? {});
    if (columns.length === 0) throw new TypeError('SqliteSink needs at least one column (options.columns: { name: "TYPE" })');
    for (const [name, declaration] of columns) {
      if (!identifier.test(name) || name === sqliteTxnColumn) throw new TypeError(`SqliteSink column name ${JSON.stringify(name)} must be letters, digits and _, and not ${sqliteTxnColumn}`);
      if (typeof declaration !== 'string') throw new TypeError(`SqliteSink column ${name} needs a declaration string such as 'TEXT NOT NULL'`);
    }
    if (typeof options.toRow !== 'function') throw new TypeError('SqliteSink needs toRow(record) => values, one per column');
    const batchRows = options.batchRows ?? sqliteStageBatchRows;
    const busyTimeoutMs = options.busyTimeoutMs ?? sqliteBusyTimeoutMs;
    if (!Number.isInteger(batchRows) || batchRows < 1) throw new RangeError(`SqliteSink batchRows must be a positive integer, got ${batchRows}`);
    if (!Number.isInteger(busyTimeoutMs) || busyTimeoutMs < 0) throw new RangeError(`SqliteSink busyTimeoutMs must be an integer >= 0, got ${busyTimeoutMs}`);
    this.tables = new SqliteTables(options.table, columns);
    this.options = { path: options.path, toRow: options.toRow, batchRows, busyTimeoutMs };
  }

  createWriter(context: WriterInitContext): SqliteSinkWriter<T> {
    return new SqliteSinkWriter(this.options, this.tables, context);
  }

  createCommitter(_context: CommitterInitContext): SqliteCommitter {
    return new SqliteCommitter(this.options.path, this.tables, this.options.busyTimeoutMs);
  }
}

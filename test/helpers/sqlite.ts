// Shared by the SQLite sink tests: reading the sink's tables back.
import Database from 'better-sqlite3';

/** Row counts of a SqliteSink's tables: the target, rows still staged, commits recorded. */
export interface SinkTableCounts {
  target: number;
  staged: number;
  commits: number;
}

/** Every row of `table` in rowid (commit) order, as arrays of column values. */
export function readRows(path: string, table: string): unknown[][] {
  const db = new Database(path, { readonly: true });
  try {
    return db.prepare(`SELECT * FROM "${table}" ORDER BY rowid`).raw().all() as unknown[][];
  } finally {
    db.close();
  }
}

/** The row counts of the sink's target `table` and its `__staging` and `__commits` tables. */
export function sinkTableCounts(path: string, table: string): SinkTableCounts {
  const db = new Database(path, { readonly: true });
  const count = (name: string): number => db.prepare(`SELECT count(*) FROM "${name}"`).pluck().get() as number;
  try {
    return { target: count(table), staged: count(`${table}__staging`), commits: count(`${table}__commits`) };
  } finally {
    db.close();
  }
}

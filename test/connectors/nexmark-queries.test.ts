// Nexmark end to end: the engine's q0, q1, q2 (src/benchmark/nexmark/job.ts, as `sluice
// bench nexmark` runs them, with a JSON-lines sink instead of the blackhole) against
// DuckDB running the Nexmark SQL (nexmark/nexmark queries/q0.sql..q2.sql over the views
// of ddl_views.sql) on the same events, generated in this thread and written to a file as
// the `datagen` table's rows. The events the engine generates are checked against that
// file too, at parallelism 1 and 3; the queries run at parallelism 2 and 3. Last, a run
// stopped mid-stream with a savepoint and resumed from it at another parallelism emits
// every event exactly once.
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import t from 'tap';
import { DuckDBInstance } from '@duckdb/node-api';
import type { DuckDBConnection } from '@duckdb/node-api';
import { NexmarkGenerator } from '../../src/connectors/nexmark/index.js';
import { runJob } from '../../src/index.js';
import { tempDir, waitFor } from '../helpers/checkpoints.js';

const events = 20_000;
const seed = 4242;
const baseTimeMs = 1_700_000_000_000;
const eventRate = 10_000_000;
const jobModule = new URL('../../src/benchmark/nexmark/job.js', import.meta.url);

/** The Nexmark SQL, over the views `bid` etc. of ddl_views.sql. */
const sql = {
  q0: 'SELECT auction, bidder, price, dateTime, extra FROM bid',
  q1: 'SELECT auction, bidder, CAST(0.908 * price AS DOUBLE) AS price, dateTime, extra FROM bid',
  q2: 'SELECT auction, price FROM bid WHERE MOD(auction, 123) = 0',
} as const;
const columns = {
  q0: "{auction: 'BIGINT', bidder: 'BIGINT', price: 'BIGINT', dateTime: 'BIGINT', extra: 'VARCHAR'}",
  q1: "{auction: 'BIGINT', bidder: 'BIGINT', price: 'DOUBLE', dateTime: 'BIGINT', extra: 'VARCHAR'}",
  q2: "{auction: 'BIGINT', price: 'BIGINT'}",
} as const;

/** Every line of the part files a JSON-lines sink wrote into `dir`. */
function partLines(dir: string): string[] {
  return readdirSync(dir)
    .filter((f) => f.startsWith('part-'))
    .flatMap((f) => readFileSync(join(dir, f), 'utf8').split('\n').filter((l) => l !== ''));
}

function jobArgs(query: string, output: string, count = events): string[] {
  return ['--query', query, '--events', String(count), '--seed', String(seed), '--base-time', String(baseTimeMs), '--event-rate', String(eventRate), '--output', output];
}

async function runQuery(query: string, parallelism: number, output: string): Promise<void> {
  await runJob(jobModule, { args: jobArgs(query, output), parallelism, stateBackend: 'hashmap' }).result;
}

async function scalar(conn: DuckDBConnection, query: string): Promise<number> {
  const rows = (await conn.runAndReadAll(query)).getRows();
  return Number(rows[0]![0]);
}

t.test('q0, q1, q2 in the engine at parallelism 2 and 3 give what DuckDB computes with the Nexmark SQL over the same events', async (t) => {
  const dir = tempDir(t, 'nexmark');
  // The events, from the generator in this thread, as the datagen table's rows.
  const generator = new NexmarkGenerator({ seed, baseTimeMs, firstEventRate: eventRate });
  const expectedEvents = Array.from({ length: events }, (_, i) => JSON.stringify(generator.event(i)));
  const eventsFile = join(dir, 'events.jsonl');
  writeFileSync(eventsFile, expectedEvents.map((line) => {
    const e = JSON.parse(line) as { eventType: number; person: unknown; auction: unknown; bid: unknown };
    return JSON.stringify({ event_type: e.eventType, person: e.person, auction: e.auction, bid: e.bid });
  }).join('\n') + '\n');

  for (const p of [1, 3]) {
    const out = join(dir, `events-p${p}`);
    await runQuery('events', p, out);
    const lines = partLines(out);
    if (p === 1) t.same(lines, expectedEvents, 'the engine at parallelism 1 emits the stream in order');
    else t.same([...lines].sort(), [...expectedEvents].sort(), `the engine at parallelism ${p} emits the same events`);
  }

  const instance = await DuckDBInstance.create(':memory:');
  const conn = await instance.connect();
  t.teardown(() => {
    conn.closeSync();
    instance.closeSync();
  });
  // ddl_gen.sql's datagen table; TIMESTAMP(3) columns as epoch ms.
  const person = 'STRUCT(id BIGINT, name VARCHAR, emailAddress VARCHAR, creditCard VARCHAR, city VARCHAR, state VARCHAR, dateTime BIGINT, extra VARCHAR)';
  const auction = 'STRUCT(id BIGINT, itemName VARCHAR, description VARCHAR, initialBid BIGINT, reserve BIGINT, dateTime BIGINT, expires BIGINT, seller BIGINT, category BIGINT, extra VARCHAR)';
  const bid = 'STRUCT(auction BIGINT, bidder BIGINT, price BIGINT, channel VARCHAR, url VARCHAR, dateTime BIGINT, extra VARCHAR)';
  await conn.run(
    `CREATE TABLE datagen AS SELECT * FROM read_json('${eventsFile}', format = 'newline_delimited', ` +
      `columns = {event_type: 'INTEGER', person: '${person}', auction: '${auction}', bid: '${bid}'})`,
  );
  await conn.run('CREATE VIEW bid AS SELECT bid.auction, bid.bidder, bid.price, bid.channel, bid.url, bid.dateTime AS dateTime, bid.extra FROM datagen WHERE event_type = 2');
  t.equal(await scalar(conn, 'SELECT count(*) FROM datagen'), events, 'DuckDB read every event');

  for (const query of ['q0', 'q1', 'q2'] as const) {
    const expected = await scalar(conn, `SELECT count(*) FROM (${sql[query]})`);
    t.ok(expected > (query === 'q2' ? 20 : 10_000), `${query}: DuckDB gives ${expected} rows`);
    for (const p of [2, 3]) {
      const out = join(dir, `${query}-p${p}`);
      await runQuery(query, p, out);
      const actual = `read_json('${out}/part-*', format = 'newline_delimited', columns = ${columns[query]})`;
      const differ = await scalar(
        conn,
        `SELECT count(*) FROM ((${sql[query]} EXCEPT ALL SELECT * FROM ${actual}) UNION ALL (SELECT * FROM ${actual} EXCEPT ALL ${sql[query]}))`,
      );
      const count = await scalar(conn, `SELECT count(*) FROM ${actual}`);
      t.equal(count, expected, `${query} at parallelism ${p}: as many rows as DuckDB`);
      t.equal(differ, 0, `${query} at parallelism ${p}: the same rows as DuckDB, as multisets`);
    }
  }
});

t.test('stopped mid-stream with a savepoint at parallelism 2, resumed from it at parallelism 3: every event exactly once', async (t) => {
  const count = 20_000;
  const dir = tempDir(t, 'nexmark-stop');
  const output = join(dir, 'out');
  const checkpointDir = join(dir, 'ck');
  const generator = new NexmarkGenerator({ seed, baseTimeMs, firstEventRate: eventRate });
  const expected = Array.from({ length: count }, (_, i) => JSON.stringify(generator.event(i))).sort();
  // 5000 events/s: about 4 s of events, so the stop lands in the middle.
  const args = [...jobArgs('events', output, count), '--rate', '5000'];
  const first = runJob(jobModule, { args, parallelism: 2, stateBackend: 'hashmap', checkpointDir, checkpointIntervalMs: 50 });
  const emitted = (): number => first.metrics().operators.find((o) => o.name === 'Nexmark Source')?.recordsOut ?? 0;
  t.ok(await waitFor(() => emitted() >= 2000, 120_000), 'the first run emits events');
  const savepoint = await first.stop(join(dir, 'sp'));
  await first.result;
  const before = partLines(output).length;
  t.ok(before >= 2000 && before < count, `the first run stopped mid-stream after ${before} events`);
  await runJob(jobModule, { args, parallelism: 3, stateBackend: 'hashmap', checkpointDir, checkpointIntervalMs: 50, fromSavepoint: savepoint }).result;
  const lines = partLines(output);
  t.equal(lines.length, count, 'as many events as generated');
  t.ok([...lines].sort().every((line, i) => line === expected[i]), 'the events of the stream, each once');
});

// socketTextStream end to end through runJob against a real TCP server in the test: lines
// cut across packets, another delimiter, reconnects (maxRetry), cancel and stop of a source
// that retries forever, a server that is not there, a worker that dies while reading
// (at-most-once), and an idle source that sleeps.
import t from 'tap';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { JobCancelledError, runJob } from '../../src/index.js';
import type { JobEvent, JobHandle, JobMetrics, RunJobOptions } from '../../src/index.js';
import { checkAtMostOnce, committedLines, idLines } from '../helpers/at-most-once.js';
import { tempDir, waitFor } from '../helpers/checkpoints.js';
import { cli } from '../helpers/cli.js';
import { endWith, holdingServer, serveFor, unusedPort, writeInPieces } from '../helpers/line-server.js';
import { mixedLineEnds, randomLines, seededRandom, testSeed } from '../helpers/random.js';

const job = new URL('../jobs/byte-streams.js', import.meta.url);
const host = '127.0.0.1';

function run(scenario: string, params: Record<string, unknown>, options: RunJobOptions = {}): JobHandle {
  return runJob(job, { parallelism: 1, ...options, args: [scenario, JSON.stringify({ host, ...params })] });
}


function sourceRecordsOut(metrics: JobMetrics): number {
  return metrics.operators.find((o) => o.role === 'source')?.recordsOut ?? 0;
}


t.test('lines cut anywhere across packets (inside characters, between \\r and \\n) arrive whole and in order', async (t) => {
  const seed = testSeed(0x50c7);
  t.comment(`seed ${seed} (replay with SLUICE_SEED=${seed})`);
  const random = seededRandom(seed);
  const lines = randomLines(random, 400);
  const bytes = Buffer.from(mixedLineEnds(lines));
  const server = await serveFor(t, async (socket) => {
    // The first half byte by byte, the rest in pieces of up to 9 bytes.
    const half = bytes.length >> 1;
    await writeInPieces(socket, bytes.subarray(0, half), () => 0, 1);
    await writeInPieces(socket, bytes.subarray(half), random, 9);
    socket.end();
  });
  const result = await run('socket-collect', { port: server.port }).result;
  t.same(result.collected.collect, lines, `every line exactly, seed ${seed}`);
  t.equal(server.connections, 1, 'maxRetry 0: one connection');
});

t.test('a delimiter other than newline: "€" cuts records, "\\n" and "\\r\\n" are text', async (t) => {
  const records = ['one', 'two\nlines', '', 'crlf\r\n', '|pipe|', '中文'];
  const server = await serveFor(t, async (socket) => {
    await writeInPieces(socket, Buffer.from(`${records.join('€')}€last without delimiter`), seededRandom(1), 2);
    socket.end();
  });
  const result = await run('socket-collect', { port: server.port, delimiter: '€' }).result;
  t.same(result.collected.collect, [...records, 'last without delimiter'], 'the bytes after the last delimiter are a record when the connection closes');
});

t.test('with maxRetry 1 the source reads a second connection after the server closes the first, then ends', async (t) => {
  const lines = (k: number) => Array.from({ length: 50 }, (_, i) => `c${k}-${i}`);
  const server = await serveFor(t, (socket, k) => endWith(socket, `${lines(k).join('\n')}\nc${k}-tail`));
  const result = await run('socket-collect', { port: server.port, maxRetry: 1, retryDelayMs: 20 }).result;
  t.same(result.collected.collect, [...lines(0), 'c0-tail', ...lines(1), 'c1-tail'], 'both connections, in order; a partial last line ends with its connection');
  t.equal(server.connections, 2, 'one reconnect, no more');

  const once = await serveFor(t, (socket, k) => endWith(socket, `${lines(k).join('\n')}\n`));
  const first = await run('socket-collect', { port: once.port, maxRetry: 0 }).result;
  t.same(first.collected.collect, lines(0), 'maxRetry 0: the job ends after the first close');
  t.equal(once.connections, 1);
});

t.test('maxRetry -1 retries a server that is down until it is up, and goes on until the job is stopped or cancelled', async (t) => {
  const port = await unusedPort();
  const checkpointDir = tempDir(t, 'socket-stop');
  const handle = run('socket-collect', { port, maxRetry: -1, retryDelayMs: 20 }, { checkpointDir });
  t.ok(await waitFor(() => handle.metrics().subtasks.length > 0, 30_000), 'the job runs while nothing listens');
  // Every connection gets one line and is closed: the source reconnects each time.
  const server = await serveFor(t, (socket, k) => endWith(socket, `conn-${k}\n`), port);
  t.ok(await waitFor(() => sourceRecordsOut(handle.metrics()) >= 4, 30_000), 'connected once the server was up, and again after every close');
  await handle.stop(tempDir(t, 'socket-savepoint'));
  const result = await handle.result;
  const got = result.collected.collect as string[];
  t.ok(got.length >= 4, `${got.length} lines before the stop`);
  t.same(got, got.map((_, k) => `conn-${k}`), 'one line per connection, in order, none twice');
  // A line received but not yet emitted when the stop barrier came is not collected; its
  // connection, and the reconnect after it, are counted.
  t.ok(server.connections >= got.length && server.connections <= got.length + 2, `${server.connections} connections for ${got.length} lines: no runaway reconnects`);
  t.ok(result.savepoint !== undefined, 'stopped with a savepoint');

  const again = await serveFor(t, (socket, k) => endWith(socket, `conn-${k}\n`));
  const cancelled = run('socket-collect', { port: again.port, maxRetry: -1, retryDelayMs: 20 });
  t.ok(await waitFor(() => again.connections >= 3, 30_000), 'reconnecting');
  cancelled.cancel();
  await t.rejects(cancelled.result, JobCancelledError);
  const after = again.connections;
  // Ten retry delays with no new connection: the cancelled reader stopped its timer.
  await new Promise((resolve) => setTimeout(resolve, 200));
  t.equal(again.connections, after, 'no connection after the cancel');
});

t.test('a server that is not there fails the job naming host and port, with no restart', async (t) => {
  const port = await unusedPort();
  const message = new RegExp(`Socket source cannot connect to ${host}:${port} \\(ECONNREFUSED\\): start the server first \\(e\\.g\\. nc -lk ${port}\\)`);
  for (const maxRetry of [0, 2]) {
    const events: JobEvent[] = [];
    await t.rejects(run('socket-collect', { port, maxRetry, retryDelayMs: 10 }, { onEvent: (e) => events.push(e) }).result, { message }, `maxRetry ${maxRetry}`);
    t.same(events.filter((e) => e.type === 'restarting'), [], 'no checkpointing: the default restart strategy is none');
  }
  const { code, err } = await cli(['run', '--parallelism', '1', job.pathname, 'socket-collect', JSON.stringify({ host, port })]);
  t.equal(code, 1, 'sluice run exits 1');
  t.match(err, message, 'and says why');
});

t.test('a worker that dies while reading: the restored reader connects again and reads on; lines after the last checkpoint are lost, none twice', async (t) => {
  // At-most-once, as Flink's socket source: what the server sent is gone once read, so
  // the lines the dead attempt read after the last completed checkpoint are lost; the
  // exactly-once file sink commits nothing twice.
  const output = tempDir(t, 'socket-die-out');
  const marker = join(tempDir(t, 'socket-die-marker'), 'died');
  const toSend = (from: number, to: number) => Buffer.from(idLines(from, to).join('\n') + '\n');
  let secondBurst: (() => void) | undefined;
  const server = await serveFor(t, async (socket, k) => {
    if (k > 0) return endWith(socket, toSend(600, 900).toString());
    socket.write(toSend(0, 300));
    await new Promise<void>((resolve) => (secondBurst = resolve));
    socket.write(toSend(300, 600)); // the worker dies at 450
  });
  const handle = run('socket-to-file', { port: server.port, output, exitAt: 450, marker }, { checkpointDir: tempDir(t, 'socket-die-ck'), checkpointIntervalMs: 50 });
  t.ok(await waitFor(() => sourceRecordsOut(handle.metrics()) >= 300, 30_000), 'the first 300 lines are read');
  const checkpointsAfterRead = (handle.metrics().checkpoints?.length ?? 0) + 2;
  t.ok(await waitFor(() => (handle.metrics().checkpoints?.length ?? 0) >= checkpointsAfterRead, 30_000), 'a checkpoint triggered after they were read completed');
  secondBurst!();
  const result = await handle.result;
  t.equal(result.restarts, 1, 'one restart');
  t.ok(existsSync(marker), 'the worker died at line 450');
  t.equal(server.connections, 2, 'the restored reader connected again');

  const ids = committedLines(output).map(Number);
  const lost = checkAtMostOnce(t, ids, 300, 450, 600);
  t.same(ids.filter((id) => id > 450 && id < 600), [], 'a socket does not keep unread lines for the next connection: none after 450');
  t.ok(lost >= 150, `${lost} lines lost`);
  t.equal(ids[ids.length - 1], 899, 'the new connection is read to its end');
});

t.test('an idle socket source sleeps: idle time grows with the time no data flows, and the process uses little CPU', async (t) => {
  const { server, release } = await holdingServer(t, 'hello\n', 'bye\n');
  const handle = run('socket-collect', { port: server.port });
  t.ok(await waitFor(() => sourceRecordsOut(handle.metrics()) >= 1, 30_000), 'the first line is read');
  const idleMs = () => handle.metrics().subtasks[0]!.idleMs;
  const before = { idle: idleMs(), at: performance.now(), cpu: process.cpuUsage() };
  await new Promise((resolve) => setTimeout(resolve, 2000)); // the connection is open, nothing is sent
  const windowMs = performance.now() - before.at;
  const idle = idleMs() - before.idle;
  const cpu = process.cpuUsage(before.cpu);
  const cpuMs = (cpu.user + cpu.system) / 1000;
  t.ok(idle >= 0.6 * windowMs, `the subtask idled ${idle.toFixed(0)} ms of ${windowMs.toFixed(0)} ms (its metrics are published at least every 500 ms)`);
  t.ok(cpuMs < 0.3 * windowMs, `the process used ${cpuMs.toFixed(0)} ms of CPU in ${windowMs.toFixed(0)} ms (a spinning source uses a whole core)`);
  release();
  t.same((await handle.result).collected.collect, ['hello', 'bye']);
});

t.test('socketTextStream() refuses bad arguments where the job is defined', async (t) => {
  const cases: Array<[Record<string, unknown>, RegExp]> = [
    [{ host: '', port: 9999 }, /socketTextStream\(\) expects a host name, got ""/],
    [{ port: 0 }, /port must be an integer from 1 to 65535, got 0/],
    [{ port: 9999, delimiter: '' }, /delimiter must be a non-empty string of whole characters, got ""/],
    [{ port: 9999, delimiter: '\ud800' }, /delimiter must be a non-empty string of whole characters, got "\\ud800"/],
    [{ port: 9999, maxRetry: -2 }, /maxRetry must be an integer >= -1 \(-1: retry forever\), got -2/],
    [{ port: 9999, retryDelayMs: -1 }, /retryDelayMs must be an integer >= 0, got -1/],
  ];
  for (const [params, message] of cases) await t.rejects(run('socket-collect', params).result, { name: 'UsageError', message });
});

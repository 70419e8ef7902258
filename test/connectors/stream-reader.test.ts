// The reader of byte-stream sources driven directly (as the source operator would), on a
// socket to a real server: the split request, availability, backpressure to the sender
// through a paused socket, the split kept in snapshots only while the stream is open.
import t from 'tap';
import { SocketSource, queuedLinesHigh } from '../../src/connectors/index.js';
import type { InputStatus, SourceReader, StreamSplit } from '../../src/connectors/index.js';
import { LineServer, holdingServer, serveFor } from '../helpers/line-server.js';

function socketReader(port: number, requests: { count: number }, maxRetry = 0): SourceReader<string, StreamSplit> {
  const source = new SocketSource<string>({ hostname: '127.0.0.1', port, delimiter: '\n', maxRetry, retryDelayMs: 10 });
  return source.createReader({ subtaskIndex: 0, parallelism: 1, sendSplitRequest: () => requests.count++ });
}

/** Polls until the reader says something other than 'more'; returns what it emitted and said. */
function drain(reader: SourceReader<string, StreamSplit>): { lines: string[]; status: InputStatus } {
  const lines: string[] = [];
  for (;;) {
    const status = reader.pollNext({ collect: (line) => lines.push(line) });
    if (status !== 'more') return { lines, status };
  }
}

/** Polls, waiting on isAvailable, until `count` lines came or the reader ended. */
async function read(reader: SourceReader<string, StreamSplit>, count: number): Promise<{ lines: string[]; status: InputStatus }> {
  const lines: string[] = [];
  for (;;) {
    const next = drain(reader);
    lines.push(...next.lines);
    if (next.status === 'end' || lines.length >= count) return { lines, status: next.status };
    await reader.isAvailable();
  }
}

/** True when `promise` has settled by the time queued callbacks ran. */
async function settled(promise: Promise<unknown>): Promise<boolean> {
  let done = false;
  void promise.then(() => (done = true));
  await new Promise((resolve) => setImmediate(resolve));
  return done;
}


t.test('asks for its split once, is unavailable until data arrives, then ends with the connection', async (t) => {
  const { server, release } = await holdingServer(t, 'a\nb', '\nc');
  const requests = { count: 0 };
  const reader = socketReader(server.port, requests);
  t.same(drain(reader), { lines: [], status: 'nothing' });
  t.same(drain(reader), { lines: [], status: 'nothing' });
  t.equal(requests.count, 1, 'one split request until the enumerator answers');
  t.notOk(await settled(reader.isAvailable()), 'nothing to read: isAvailable is pending');
  const split = { splitId: `socket:127.0.0.1:${server.port}` };
  reader.addSplits([split]);
  t.same(reader.snapshotState(1), [split], 'the split is kept while the stream is open');
  t.same(await read(reader, 1), { lines: ['a'], status: 'nothing' }, 'the whole line is emitted, the partial one held');
  const pending = reader.isAvailable();
  t.notOk(await settled(pending), 'pending again once drained');
  release();
  await pending;
  t.same(await read(reader, Infinity), { lines: ['b', 'c'], status: 'end' }, 'the rest, and the partial last line at the close');
  t.same(reader.snapshotState(2), [], 'no split once the stream has ended: a restore does not connect again');
  t.equal(requests.count, 1);
  await reader.close();
});

t.test('a reader that is not polled pauses the socket: the sender is pushed back, and resumed when lines are taken', async (t) => {
  const lineCount = 1_000_000;
  const line = (i: number) => `line ${String(i).padStart(9, '0')}`;
  const sender: { written: boolean; drained: boolean } = { written: false, drained: false };
  const server = await serveFor(t, (socket) => {
    const text = Array.from({ length: lineCount }, (_, i) => line(i)).join('\n') + '\n';
    sender.written = true;
    socket.end(text, () => (sender.drained = true));
  });
  const reader = socketReader(server.port, { count: 0 });
  drain(reader);
  reader.addSplits([{ splitId: 'socket' }]);
  await reader.isAvailable();
  t.ok(await waitUntil(() => sender.written), 'the server wrote 17 MB at once');
  // The reader queues lines until it holds queuedLinesHigh, then stops reading: the kernel
  // buffers fill and the server's write stays unflushed.
  await new Promise((resolve) => setTimeout(resolve, 300));
  t.notOk(sender.drained, 'the server could not flush: the paused socket pushed back');
  const first = drain(reader);
  const lineBytes = line(0).length + 1;
  t.ok(first.lines.length > queuedLinesHigh && first.lines.length <= queuedLinesHigh + Math.ceil(65536 / lineBytes) + 1, `${first.lines.length} lines were queued (bound ${queuedLinesHigh} and one read)`);
  let count = first.lines.length;
  let inOrder = first.lines.every((l, i) => l === line(i));
  let status = first.status;
  while (status !== 'end') {
    if (status === 'nothing') await reader.isAvailable();
    const next = drain(reader);
    inOrder &&= next.lines.every((l, i) => l === line(count + i));
    count += next.lines.length;
    status = next.status;
  }
  t.equal(count, lineCount, 'every line once the reader takes them');
  t.ok(inOrder, 'in order');
  t.ok(sender.drained, 'the server flushed');
  await reader.close();
});

t.test('a failed connect is thrown by pollNext with host and port; close stops the retries', async (t) => {
  const server = await serveFor(t, () => {});
  const port = server.port;
  await server.close();
  const reader = socketReader(port, { count: 0 });
  drain(reader);
  reader.addSplits([{ splitId: 'socket' }]);
  await waitUntil(() => {
    try {
      drain(reader);
      return false;
    } catch {
      return true;
    }
  });
  t.throws(() => drain(reader), { message: new RegExp(`^Socket source cannot connect to 127\\.0\\.0\\.1:${port} \\(ECONNREFUSED\\)`) });

  const retrying = socketReader(port, { count: 0 }, -1);
  drain(retrying);
  retrying.addSplits([{ splitId: 'socket' }]);
  await new Promise((resolve) => setTimeout(resolve, 50));
  await retrying.close();
  // Listening again on the port after the close: the closed reader must not come.
  const late = await LineServer.listen(() => {}, { port });
  t.teardown(() => late.close());
  await new Promise((resolve) => setTimeout(resolve, 100));
  t.equal(late.connections, 0, 'no connection after close');
  t.same(drain(retrying).lines, []);
});

async function waitUntil(condition: () => boolean, timeoutMs = 30_000): Promise<boolean> {
  const until = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > until) return false;
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  return true;
}

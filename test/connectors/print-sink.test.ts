// The print sink (Flink's PrintSink): `<subtask+1>> record` lines, buffered, and flushed at
// every barrier so that a stop-with-savepoint (which ends without end of input) loses no line.
import t from 'tap';
import { PrintSinkWriter, textSinkBufferBytes } from '../../src/connectors/index.js';

t.test('buffered lines are printed at the barrier (flush), at a full buffer, and at close', async (t) => {
  const printed: string[] = [];
  const sink = new PrintSinkWriter(1, 2, (text) => printed.push(text));
  sink.write('a');
  sink.write({ n: 1 });
  t.same(printed, [], 'buffered');
  t.notOk('prepareCommit' in sink, 'no committables: at-least-once');
  sink.flush();
  t.same(printed.join(''), '2> a\n2> {"n":1}\n', 'the flush at a barrier prints everything written before it');
  sink.write('b');
  sink.close();
  t.same(printed.join(''), '2> a\n2> {"n":1}\n2> b\n');
  const big = new PrintSinkWriter(0, 1, (text) => printed.push(text));
  const before = printed.length;
  let written = 0;
  while (printed.length === before && written < 2 * textSinkBufferBytes) {
    big.write('x'.repeat(1000));
    written += 1001;
  }
  t.ok(written >= textSinkBufferBytes && written < textSinkBufferBytes + 1001, `flushes once the buffer is full (${written} bytes)`);
  t.notMatch(printed[printed.length - 1]!, /^\d+> /, 'no prefix at parallelism 1');
});

t.test('close resolves only once the printed text has left the thread (a worker terminated earlier lost its last lines)', async (t) => {
  const printed: string[] = [];
  let handedOn: (() => void) | undefined;
  const sink = new PrintSinkWriter(0, 1, (text) => printed.push(text), { flushed: () => new Promise<void>((resolve) => (handedOn = resolve)) });
  sink.write('last');
  let closed = false;
  const closing = Promise.resolve(sink.close()).then(() => (closed = true));
  t.same(printed, ['last\n'], 'printed at close');
  await new Promise((resolve) => setImmediate(resolve));
  t.notOk(closed, 'close waits for the text to be handed on');
  handedOn!();
  await closing;
  t.ok(closed);
});

t.test('a line waits at most lingerMs: a slow stream is printed without a barrier or a full buffer', async (t) => {
  let printed: (text: string) => void = () => {};
  const sink = new PrintSinkWriter(0, 1, (text) => printed(text), { lingerMs: 5 });
  const first = new Promise<string>((resolve) => (printed = resolve));
  sink.write('typed');
  sink.write('by hand');
  t.equal(await first, 'typed\nby hand\n', 'printed together, once the linger passed');
  const second = new Promise<string>((resolve) => (printed = resolve));
  sink.write('later');
  t.equal(await second, 'later\n', 'the next line starts a new linger');
  sink.write('at close');
  let atClose = '';
  printed = (text) => (atClose += text);
  await sink.close();
  t.equal(atClose, 'at close\n');
  await new Promise((resolve) => setTimeout(resolve, 20));
  t.equal(atClose, 'at close\n', 'no second print from a stale linger timer');
});

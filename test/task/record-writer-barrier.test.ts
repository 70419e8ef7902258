/**
 * A barrier goes into the rings at once, behind every record, when they have room: the
 * subtask then does not yield its thread before the barrier is out (a slot neighbour's
 * turn would come first). Behind a full ring it waits in order, records first.
 */
import t from 'tap';
import { Doorbell, FrameKind, Ring } from '../../src/channel/index.js';
import type { JobEdge } from '../../src/graph/index.js';
import { createBatchDecoder } from '../../src/task/batch-codec.js';
import { decodeBarrier } from '../../src/task/barrier-codec.js';
import { RecordWriter } from '../../src/task/record-writer.js';

/** A writer on two rebalanced channels of `ringBytes`, and a reader that names each frame. */
function twoChannels(ringBytes: number) {
  const edge: JobEdge = { id: 0, from: 0, to: 1, partitioner: 'rebalance', keySelector: undefined, inputIndex: 0, tag: undefined };
  const sabs = [Ring.allocate(ringBytes), Ring.allocate(ringBytes)];
  const backlog = { queuedFrames: 0 };
  const channels = sabs.map((ring, c) => ({ channel: c, ring, doorbell: Doorbell.allocate(), toSubtask: c }));
  const writer = new RecordWriter(edge, channels, 2, 128, 64, 0, () => false, backlog);
  const readers = sabs.map((sab) => new Ring(sab));
  const decoder = createBatchDecoder();
  /** What each channel holds now, in order: records as themselves, a barrier as `barrier <id>`. */
  const drain = (): unknown[][] =>
    readers.map((r) => {
      const out: unknown[] = [];
      for (let f = r.tryRead(); f !== undefined; f = r.tryRead()) {
        if (f.kind === FrameKind.BARRIER) out.push(`barrier ${decodeBarrier(f.payload).checkpointId}`);
        else out.push(...(decoder.decode(f.payload) as unknown[]));
      }
      return out;
    });
  return { writer, backlog, drain };
}

t.test('with room in every ring, barrier() writes the pending records and then the barrier at once', async (t) => {
  const { writer, backlog, drain } = twoChannels(1 << 16);
  for (let i = 0; i < 10; i++) writer.collect(i);
  t.equal(writer.barrier(4, 0), true, 'nothing left to wait for');
  t.equal(backlog.queuedFrames, 0);
  const [a, b] = drain();
  t.same([...a!, ...b!].filter((x) => typeof x === 'number').sort((x, y) => (x as number) - (y as number)), [0, 1, 2, 3, 4, 5, 6, 7, 8, 9], 'every record is out');
  t.equal(a!.at(-1), 'barrier 4', 'the barrier last on channel 0');
  t.equal(b!.at(-1), 'barrier 4', 'and on channel 1');
});

t.test('behind a full ring, barrier() queues it after the records; flushReady() writes it in order as the reader drains', async (t) => {
  const { writer, backlog, drain } = twoChannels(1 << 12);
  const sent: number[] = [];
  // Fill both small rings, then some more that must queue.
  for (let i = 0; backlog.queuedFrames === 0; i++) {
    writer.collect(`record ${i} ${'x'.repeat(40)}`);
    sent.push(i);
  }
  t.equal(writer.barrier(5, 0), false, 'a frame waits for flushReady()');
  const got: unknown[][] = [[], []];
  const flushed = writer.flushReady();
  let done = false;
  void flushed.then(() => (done = true));
  while (!done) {
    drain().forEach((frames, c) => got[c]!.push(...frames));
    await new Promise((resolve) => setImmediate(resolve));
  }
  drain().forEach((frames, c) => got[c]!.push(...frames));
  for (const [c, frames] of got.entries()) {
    t.equal(frames.at(-1), 'barrier 5', `channel ${c}: the barrier comes last`);
    t.equal(frames.filter((x) => x === 'barrier 5').length, 1, `channel ${c}: once`);
  }
  t.equal(got.flat().filter((x) => typeof x === 'string' && x.startsWith('record')).length, sent.length, 'every record before its channel\'s barrier');
  t.equal(backlog.queuedFrames, 0);
});

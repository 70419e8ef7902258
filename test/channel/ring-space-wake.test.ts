/**
 * A producer waiting for space is woken once half the ring is free (or its frame fits, if
 * larger), not at the first release that makes its frame fit: one wake-up per half ring of
 * backpressure instead of one per frame (native-notes.md §1, "Space wake-up threshold").
 */
import t from 'tap';
import { FrameKind, Ring } from '../../src/channel/index.js';
import { lostWakeUps } from '../../src/channel/wait.js';

/** Int32Array index of the ring header's spaceWait word (byte 128; ring.ts). */
const SPACE_WAIT = 32;

function payload(i: number, bytes: number): Uint8Array {
  const out = new Uint8Array(bytes);
  new DataView(out.buffer).setUint32(0, i, true);
  return out;
}

/** Lets pending tasks run (a notified waitAsync resolves from a task of this thread). */
async function turns(n: number): Promise<void> {
  for (let i = 0; i < n; i++) await new Promise((resolve) => setImmediate(resolve));
}

t.test('a full ring wakes its producer when half of it is free, by a notify', async (t) => {
  const sab = Ring.allocate(4096);
  const producer = new Ring(sab);
  const consumer = new Ring(sab);
  const header = new Int32Array(sab, 0, 80);
  for (let i = 0; i < 4; i++) t.ok(producer.tryWrite(FrameKind.RECORDS, payload(i, 1016)), `frame ${i} fits`); // 4 x 1024 bytes: full
  let written = false;
  const lostBefore = lostWakeUps();
  const write = producer.write(FrameKind.RECORDS, payload(4, 1016)).then(() => (written = true));
  await turns(2);
  t.equal(written, false, 'the fifth frame waits for space');
  t.equal(Atomics.load(header, SPACE_WAIT), 2048, 'the producer asks to be woken at half the ring, not at its 1024-byte frame');

  t.equal(new DataView(consumer.tryRead()!.payload.buffer).getUint32(0, true), 0);
  await turns(20);
  t.equal(written, false, 'one frame released (1024 bytes free): no wake-up yet');

  t.equal(new DataView(consumer.tryRead()!.payload.buffer).getUint32(0, true), 1);
  await write;
  t.equal(written, true, 'two frames released (half the ring): the producer wrote');
  t.equal(lostWakeUps(), lostBefore, 'it was notified, not found by the end of a wait slice');
  t.equal(Atomics.load(header, SPACE_WAIT), 0, 'the woken producer cleared its flag');
  t.equal(producer.producerWaitCount, 1);
  for (const expected of [2, 3, 4]) t.equal(new DataView(consumer.tryRead()!.payload.buffer).getUint32(0, true), expected, `frame ${expected} in order`);
  t.equal(consumer.tryRead(), undefined);
});

t.test('a frame larger than half the ring is woken as soon as it fits', async (t) => {
  const sab = Ring.allocate(4096);
  const producer = new Ring(sab);
  const consumer = new Ring(sab);
  const header = new Int32Array(sab, 0, 80);
  t.ok(producer.tryWrite(FrameKind.RECORDS, payload(0, 1016)));
  t.ok(producer.tryWrite(FrameKind.RECORDS, payload(1, 1016)));
  const write = producer.write(FrameKind.RECORDS, payload(2, 3064)); // 3072 bytes: needs three quarters of the ring
  await turns(2);
  t.equal(Atomics.load(header, SPACE_WAIT), 3072, 'a frame over half the ring waits for its own size');
  consumer.tryRead();
  await write;
  t.equal(new DataView(consumer.tryRead()!.payload.buffer).getUint32(0, true), 1);
  t.equal(new DataView(consumer.tryRead()!.payload.buffer).getUint32(0, true), 2);
});

t.test('a producer that finds its frame fits when it announces does not sleep, whatever the threshold', async (t) => {
  const sab = Ring.allocate(4096);
  const producer = new Ring(sab);
  const consumer = new Ring(sab);
  for (let i = 0; i < 3; i++) t.ok(producer.tryWrite(FrameKind.RECORDS, payload(i, 1016)));
  // 1024 bytes free, less than half: waitForSpace for a frame that fits returns at once.
  t.equal(await producer.waitForSpace(1016, 0), true);
  t.equal(producer.producerWaitCount, 0);
  t.equal(consumer.usedBytes(), 3072);
});

/** Ring.deferWakeUps: one wake-up per synchronous stretch of publishes, never one owed while the producer sleeps. */
import t from 'tap';
import { Doorbell, FrameKind, Ring } from '../../src/channel/index.js';

/** A deferring producer and a consumer over one ring of `capacity` bytes, with the consumer's doorbell. */
function deferredRing(capacity = 4096): { bell: Doorbell; producer: Ring; consumer: Ring } {
  const bell = new Doorbell(Doorbell.allocate());
  const sab = Ring.allocate(capacity);
  const producer = new Ring(sab, bell);
  producer.deferWakeUps = true;
  return { bell, producer, consumer: new Ring(sab) };
}

function payload(i: number, bytes: number): Uint8Array {
  const out = new Uint8Array(bytes);
  new DataView(out.buffer).setUint32(0, i, true);
  return out;
}

t.test('three publishes in one stretch ring the doorbell once, after the stretch', async (t) => {
  const { bell, producer, consumer } = deferredRing();
  const seen = bell.sequence();
  const waiting = bell.wait(seen, 5000);
  for (let i = 0; i < 3; i++) t.ok(producer.tryWrite(FrameKind.RECORDS, payload(i, 64)));
  // Published (a polling consumer sees the frames) but not yet announced.
  t.equal(bell.sequence(), seen, 'no ring inside the stretch');
  t.equal(consumer.usedBytes(), 3 * (8 + 64));
  t.equal(await waiting, 'ok', 'the consumer sleeping on the doorbell is woken');
  t.equal(bell.sequence(), (seen + 1) | 0, 'one ring for three frames');
  for (let i = 0; i < 3; i++) t.equal(new DataView(consumer.tryRead()!.payload.buffer).getUint32(0, true), i);
  t.equal(consumer.tryRead(), undefined);
});

t.test('without deferWakeUps every publish rings', async (t) => {
  const bell = new Doorbell(Doorbell.allocate());
  const producer = new Ring(Ring.allocate(4096), bell);
  const seen = bell.sequence();
  for (let i = 0; i < 3; i++) producer.tryWrite(FrameKind.RECORDS, payload(i, 64));
  t.equal(bell.sequence(), (seen + 3) | 0);
});

t.test('a producer that waits for space first wakes the consumer of the frames it waits behind', async (t) => {
  const { bell, producer, consumer } = deferredRing();
  const frames = 200;
  const bytes = 1000; // four frames fill the ring: the producer waits for space again and again
  const received: number[] = [];
  const consume = (async () => {
    while (received.length < frames) {
      const seen = bell.sequence();
      for (let frame = consumer.tryRead(); frame !== undefined; frame = consumer.tryRead()) {
        received.push(new DataView(frame.payload.buffer).getUint32(0, true));
      }
      if (received.length < frames) t.not(await bell.wait(seen, 5000), 'timed-out', 'woken, not timed out');
    }
  })();
  // write() that finds the ring full sleeps on the ring's head; before it sleeps it must ring.
  for (let i = 0; i < frames; i++) await producer.write(FrameKind.RECORDS, payload(i, bytes));
  await consume;
  t.same(received, Array.from({ length: frames }, (_, i) => i), 'every frame, in order');
  t.ok(producer.producerWaitCount > 0, `the producer waited for space (${producer.producerWaitCount} times)`);
});

t.test('waiting for space rings at once, before the producer sleeps', async (t) => {
  const { bell, producer, consumer } = deferredRing();
  const seen = bell.sequence();
  for (let i = 0; i < 4; i++) t.ok(producer.tryWrite(FrameKind.RECORDS, payload(i, 1000)));
  t.notOk(producer.tryWrite(FrameKind.RECORDS, payload(4, 1000)), 'the ring is full');
  t.equal(bell.sequence(), seen);
  const space = producer.waitForSpace(1000, 5000);
  t.equal(bell.sequence(), (seen + 1) | 0, 'rung synchronously, before the wait');
  t.ok(consumer.tryRead());
  t.equal(await space, true);
});

/** Boundary behaviour of one ring on one thread: sizes, exact fits, arguments, timeouts. */
import t from 'tap';
import { FrameKind, Ring, frameBytes } from '../../src/channel/index.js';

function bytes(length: number, first = 0): Uint8Array {
  const out = new Uint8Array(length);
  for (let i = 0; i < length; i++) out[i] = (first + i) & 255;
  return out;
}

/** Writes and reads one frame of `length` so that head = tail = `length`-dependent position. */
function advance(ring: Ring, bytesToSkip: number): void {
  assertOk(ring.tryWrite(FrameKind.RECORDS, new Uint8Array(bytesToSkip - 8)));
  assertOk(ring.tryRead() !== undefined);
}
function assertOk(value: boolean): void {
  if (!value) throw new Error('setup step failed');
}

t.test('allocate accepts powers of two from 4096 and rejects everything else', async (t) => {
  const ring = new Ring(Ring.allocate(4096));
  t.equal(ring.capacityBytes, 4096);
  t.equal(ring.maxPayloadBytes, 4096 - 8, 'maxPayloadBytes = capacity - 8-byte header');
  t.equal(new Ring(Ring.allocate(1 << 20)).maxPayloadBytes, (1 << 20) - 8);
  for (const bad of [0, 2048, 4095, 5000, 6144, -4096, 4096.5, 2 ** 31, NaN, Infinity]) {
    t.throws(() => Ring.allocate(bad), { name: 'RangeError', message: new RegExp(`got ${String(bad)}$`) }, `rejects ${bad}`);
  }
  t.throws(() => Ring.allocate('4096' as unknown as number), TypeError);
});

t.test('constructor rejects buffers not made by Ring.allocate', async (t) => {
  t.throws(() => new Ring(new ArrayBuffer(4416) as unknown as SharedArrayBuffer), TypeError);
  t.throws(() => new Ring(new SharedArrayBuffer(320 + 4096)), { name: 'TypeError', message: /not made by Ring.allocate/ });
  t.throws(() => new Ring(new SharedArrayBuffer(16)), TypeError);
  t.throws(() => new Ring(Ring.allocate(4096), {} as never), { name: 'TypeError', message: /doorbell/ });
});

t.test('a payload of exactly maxPayloadBytes fills the ring; one byte more is a RangeError', async (t) => {
  const ring = new Ring(Ring.allocate(4096));
  t.throws(() => ring.tryWrite(FrameKind.RECORDS, new Uint8Array(4089)), {
    name: 'RangeError',
    message: /payload of 4089 bytes exceeds maxPayloadBytes 4088/,
  });
  t.equal(ring.tryWrite(FrameKind.RECORDS, bytes(4088)), true);
  t.equal(ring.usedBytes(), 4096);
  t.equal(ring.tryWrite(FrameKind.END_OF_INPUT, new Uint8Array(0)), false, 'no room for even an empty frame');
  const frame = ring.tryRead();
  t.same(frame, { kind: FrameKind.RECORDS, payload: bytes(4088) });
  t.equal(ring.usedBytes(), 0);
  t.equal(ring.tryRead(), undefined);
  // Once more from a position in the middle: the maximal frame now wraps.
  advance(ring, 1000);
  t.equal(ring.tryWrite(FrameKind.RECORDS, bytes(4088, 7)), true);
  t.same(ring.tryRead()?.payload, bytes(4088, 7));
});

t.test('frames ending exactly at the end, header in the last 8 bytes, and wrapped payloads', async (t) => {
  const ring = new Ring(Ring.allocate(4096));
  const inRing = (view: Uint8Array) => view.buffer instanceof SharedArrayBuffer;
  advance(ring, 4096 - 64);
  t.equal(ring.tryWrite(FrameKind.WATERMARK, bytes(56, 1)), true, '64-byte frame ending at the last byte');
  t.same(ring.tryReadWith((kind, view) => [kind, inRing(view), Array.from(view)])?.value, [FrameKind.WATERMARK, true, Array.from(bytes(56, 1))]);

  advance(ring, 4096 - 8); // next header occupies the last 8 bytes, its payload starts at 0
  t.equal(ring.tryWrite(FrameKind.BARRIER, bytes(100, 2)), true);
  t.same(ring.tryReadWith((kind, view) => [kind, inRing(view), Array.from(view)])?.value, [FrameKind.BARRIER, true, Array.from(bytes(100, 2))], 'payload at offset 0 is still zero-copy');

  advance(ring, 4096 - 104 - 16); // header at 4080, payload 4088..4095 then 0..
  t.equal(ring.tryWrite(FrameKind.RECORDS, bytes(100, 3)), true);
  t.same(ring.tryReadWith((kind, view) => [kind, inRing(view), Array.from(view)])?.value, [FrameKind.RECORDS, false, Array.from(bytes(100, 3))], 'wrapped payload is copied to scratch');

  advance(ring, 4096 - 120 - 16);
  t.equal(ring.tryWrite(FrameKind.LATENCY_MARKER, bytes(300, 4)), true);
  t.same(ring.tryRead(), { kind: FrameKind.LATENCY_MARKER, payload: bytes(300, 4) }, 'tryRead joins a wrapped payload');
  t.equal(ring.usedBytes(), 0);
});

t.test('empty payloads and every kind round-trip; frames occupy 8-byte multiples', async (t) => {
  const ring = new Ring(Ring.allocate(4096));
  for (const kind of Object.values(FrameKind)) t.equal(ring.tryWrite(kind, new Uint8Array(0)), true);
  t.equal(ring.usedBytes(), Object.values(FrameKind).length * 8);
  t.equal(Object.values(FrameKind).length, 6, 'RECORDS, WATERMARK, BARRIER, END_OF_INPUT, LATENCY_MARKER, TIMESTAMPED_RECORDS');
  t.equal(frameBytes(0), 8);
  t.equal(frameBytes(1), 16);
  t.equal(frameBytes(8), 16);
  t.equal(frameBytes(9), 24);
  for (const kind of Object.values(FrameKind)) t.same(ring.tryRead(), { kind, payload: new Uint8Array(0) });
});

t.test('bad kinds and payloads are rejected before anything is written', async (t) => {
  const ring = new Ring(Ring.allocate(4096));
  for (const kind of [0, 7, 1.5, -1, NaN]) {
    t.throws(() => ring.tryWrite(kind as FrameKind, bytes(4)), { name: 'RangeError', message: /kind must be a FrameKind/ });
  }
  t.throws(() => ring.tryWrite(FrameKind.RECORDS, [1, 2] as unknown as Uint8Array), { name: 'TypeError', message: /got Array/ });
  t.throws(() => ring.writeBlocking(FrameKind.RECORDS, bytes(1), -1), { name: 'RangeError', message: /timeoutMs must be >= 0/ });
  await t.rejects(ring.waitForSpace(4089), RangeError);
  t.equal(ring.usedBytes(), 0);
});

t.test('timeouts: blocking and async waits give up and report it', async (t) => {
  const ring = new Ring(Ring.allocate(4096));
  t.equal(ring.readBlocking(0), undefined, 'readBlocking(0) on an empty ring');
  t.equal(await ring.waitForData(1), false);
  t.equal(ring.tryWrite(FrameKind.RECORDS, bytes(4000)), true);
  t.equal(ring.writeBlocking(FrameKind.RECORDS, bytes(100), 1), false, 'writeBlocking on a full ring');
  t.equal(await ring.waitForSpace(100, 1), false);
  t.equal(await ring.waitForSpace(80), true, 'a frame of 88 bytes fits in the 96 left');
  t.equal(await ring.waitForData(0), true);
  t.equal(ring.readBlocking(0)?.payload.length, 4000);
  t.equal(ring.writeBlocking(FrameKind.RECORDS, bytes(100), 0), true);
});

t.test('tryReadWith releases the frame when fn throws and forbids reading inside fn', async (t) => {
  const ring = new Ring(Ring.allocate(4096));
  ring.tryWrite(FrameKind.RECORDS, bytes(10));
  ring.tryWrite(FrameKind.BARRIER, bytes(20));
  t.throws(() => ring.tryReadWith(() => ring.tryRead()), /inside a tryReadWith callback/);
  t.throws(() => ring.tryReadWith(() => { throw new Error('undecodable'); }), /undecodable/);
  t.equal(ring.usedBytes(), 0, 'both frames were released');
  t.equal(ring.tryReadWith(() => 1), undefined);
});

t.test('async write and read on one thread wake each other', async (t) => {
  const ring = new Ring(Ring.allocate(4096));
  const reading = ring.read();
  t.equal(ring.tryWrite(FrameKind.RECORDS, bytes(5)), true);
  t.same(await reading, { kind: FrameKind.RECORDS, payload: bytes(5) });
  const first = ring.read();
  await t.rejects(ring.read(), /previous read\(\) is still pending/);
  ring.tryWrite(FrameKind.END_OF_INPUT, new Uint8Array(0));
  t.equal((await first).kind, FrameKind.END_OF_INPUT);

  t.equal(ring.tryWrite(FrameKind.RECORDS, bytes(4088 - 8)), true);
  const writing = ring.write(FrameKind.WATERMARK, bytes(64));
  t.throws(() => ring.tryWrite(FrameKind.RECORDS, bytes(1)), /write\(\) is still pending/);
  t.equal(ring.tryRead()?.payload.length, 4080);
  await writing;
  t.same(ring.tryRead(), { kind: FrameKind.WATERMARK, payload: bytes(64) });
  t.ok(ring.producerWaitCount >= 1, 'the write slept until the read made room');
});

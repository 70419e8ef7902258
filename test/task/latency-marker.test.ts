// LATENCY_MARKER frames: the codec against the values it was given (and against truncated
// or corrupt payloads), and the record writer's placement of markers: behind the records
// written before them, on exactly one channel, never counted as records, and flushed before
// a barrier; and the chain's forwarding of markers through operators and side outputs.
import t from 'tap';
import { Doorbell, FrameKind, Ring } from '../../src/channel/index.js';
import type { JobEdge } from '../../src/graph/index.js';
import { createBatchDecoder } from '../../src/task/batch-codec.js';
import { LatencyMarker, decodeLatencyMarker, encodeLatencyMarker, latencyMarkerPayloadBytes } from '../../src/task/latency-marker.js';
import { RecordWriter } from '../../src/task/record-writer.js';
import { MapOperator } from '../../src/task/basic-operators.js';
import { OperatorLatency } from '../../src/metrics/latency-recorder.js';
import { HeapKeyedStateBackend } from '../../src/state/heap-backend.js';
import { operatorEnvironment } from '../time/windows/harness.js';
import { seededRandom, testSeed } from '../helpers/random.js';

t.test('a latency marker round-trips through its 16-byte payload, at any offset of a view', async (t) => {
  const seed = testSeed(8101);
  const random = seededRandom(seed);
  for (let round = 0; round < 100; round++) {
    const marker = new LatencyMarker(1_764_547_200_000 + random() * 1e9, Math.floor(random() * 2 ** 32), Math.floor(random() * 32768));
    const payload = encodeLatencyMarker(marker);
    t.equal(payload.byteLength, latencyMarkerPayloadBytes);
    const offset = [0, 3, 8, 13][round % 4]!;
    const view = new Uint8Array(offset + 16 + 7).subarray(offset, offset + 16);
    view.set(payload);
    t.same(decodeLatencyMarker(view), marker, `round ${round} (seed ${seed})`);
    if (t.passing() === false) break;
  }
  const bytes = encodeLatencyMarker(new LatencyMarker(1.5, 0x01020304, 7));
  t.same([...bytes.subarray(8)], [4, 3, 2, 1, 7, 0, 0, 0], 'node id and subtask index are little-endian u32 after the f64 time');
  t.equal(new DataView(bytes.buffer).getFloat64(0, true), 1.5, 'the time is a little-endian f64 at byte 0');
});

t.test('a truncated or corrupt LATENCY_MARKER payload is a RangeError that says so', async (t) => {
  const good = encodeLatencyMarker(new LatencyMarker(1000, 1, 0));
  t.throws(() => decodeLatencyMarker(good.subarray(0, 15)), { name: 'RangeError', message: 'A LATENCY_MARKER frame has 15 bytes, expected 16 (a corrupt or truncated frame)' });
  t.throws(() => decodeLatencyMarker(new Uint8Array(24)), { name: 'RangeError', message: /has 24 bytes, expected 16/ });
  const nan = good.slice();
  new DataView(nan.buffer).setFloat64(0, NaN, true);
  t.throws(() => decodeLatencyMarker(nan), { name: 'RangeError', message: 'A LATENCY_MARKER frame has markedTime NaN (a corrupt frame)' });
  t.throws(() => encodeLatencyMarker(new LatencyMarker(Infinity, 0, 0)), { name: 'RangeError', message: /finite markedTime/ });
  t.throws(() => encodeLatencyMarker(new LatencyMarker(0, -1, 0)), { name: 'RangeError', message: /sourceNode must be an integer from 0 to 4294967295, got -1/ });
  t.throws(() => encodeLatencyMarker(new LatencyMarker(0, 0, 1.5)), { name: 'RangeError', message: /subtaskIndex must be an integer/ });
});

type Element = { record: unknown } | { marker: number } | { barrier: true };

/** Every frame of `ring` as elements in order: records one by one, markers by time, barriers. */
function drain(ring: Ring, into: Element[]): void {
  const decoder = createBatchDecoder();
  for (;;) {
    const read = ring.tryReadWith((kind, view) => {
      if (kind === FrameKind.RECORDS) for (const record of decoder.decode(view) as unknown[]) into.push({ record });
      else if (kind === FrameKind.LATENCY_MARKER) into.push({ marker: decodeLatencyMarker(view).markedTime });
      else if (kind === FrameKind.BARRIER) into.push({ barrier: true });
      else throw new Error(`unexpected frame kind ${kind}`);
    });
    if (read === undefined) return;
  }
}

function writerOver(partitioner: JobEdge['partitioner'], channels: number, batchSize: number): { writer: RecordWriter; rings: Ring[] } {
  const edge: JobEdge = { id: 0, from: 0, to: 1, partitioner, keySelector: partitioner === 'hash' ? (r: unknown) => String(r) : undefined, inputIndex: 0, tag: undefined };
  const sabs = Array.from({ length: channels }, () => Ring.allocate(1 << 16));
  const outputs = sabs.map((ring, c) => ({ channel: c, ring, doorbell: Doorbell.allocate(), toSubtask: c }));
  const writer = new RecordWriter(edge, outputs, channels, 128, batchSize, 0, () => false, { queuedFrames: 0 });
  return { writer, rings: sabs.map((s) => new Ring(s)) };
}

t.test('a marker travels behind the records written before it, waits in their batch, and precedes the barrier', async (t) => {
  const { writer, rings } = writerOver('forward', 1, 4);
  writer.emitLatencyMarker(new LatencyMarker(1, 0, 0)); // nothing pending: written at once
  writer.collect('a');
  writer.collect('b');
  writer.emitLatencyMarker(new LatencyMarker(2, 0, 0)); // waits behind the pending a, b
  const early: Element[] = [];
  drain(rings[0]!, early);
  t.same(early, [{ marker: 1 }], 'a marker behind a partly filled batch is not sent before the batch');
  writer.collect('c');
  writer.collect('d'); // the batch is full: sent, then the marker
  writer.collect('e');
  writer.emitLatencyMarker(new LatencyMarker(3, 0, 0));
  await writer.flushAll();
  await writer.barrier(1, 0);
  const got: Element[] = [];
  drain(rings[0]!, got);
  t.same(got, [{ record: 'a' }, { record: 'b' }, { record: 'c' }, { record: 'd' }, { marker: 2 }, { record: 'e' }, { marker: 3 }, { barrier: true }]);
});

t.test('on a hash edge each marker goes to exactly one channel and every record to its key group', async (t) => {
  const { writer, rings } = writerOver('hash', 2, 8);
  const markers = 200;
  for (let i = 0; i < markers; i++) {
    writer.collect(`k${i}`);
    writer.emitLatencyMarker(new LatencyMarker(i, 0, 0));
  }
  await writer.flushAll();
  const perChannel = rings.map((ring) => {
    const got: Element[] = [];
    drain(ring, got);
    return got;
  });
  const markerTimes = perChannel.flatMap((got) => got.flatMap((e) => ('marker' in e ? [e.marker] : [])));
  t.same(markerTimes.sort((a, b) => a - b), Array.from({ length: markers }, (_, i) => i), 'every marker once, on one channel');
  t.ok(perChannel.every((got) => got.some((e) => 'marker' in e)), 'markers reach both channels (chosen at random)');
  t.equal(perChannel.flat().filter((e) => 'record' in e).length, markers, 'records are not duplicated or lost by markers');
});

t.test('in a chain, each operator records a marker once and forwards it to one connected output; records and counters are untouched', async (t) => {
  const env = operatorEnvironment(new HeapKeyedStateBackend({ fsync: false }));
  const node = (id: number) => ({ plan: undefined as never, id, uid: `op${id}`, name: `Op ${id}`, parallelism: 1, maxParallelism: 32, slotSharingGroup: 'default', vertex: 0, keyed: false });
  const now = 1000;
  const first = new MapOperator(node(0), env, { call: (x: unknown) => x });
  const second = new MapOperator(node(1), env, { call: (x: unknown) => x });
  first.latency = new OperatorLatency(0, () => now);
  second.latency = new OperatorLatency(1, () => now);
  const main: unknown[] = [];
  const side: unknown[] = [];
  const sink = (into: unknown[]) => ({ collect: () => {}, emitWatermark: () => {}, emitIdle: () => {}, emitLatencyMarker: (m: LatencyMarker) => void into.push(m.markedTime) });
  first.connect(second);
  second.connect(sink(main));
  for (let i = 0; i < 10; i++) first.processLatencyMarker(new LatencyMarker(now - i, 0, 0));
  t.same([...first.latency.takePending()!], Array.from({ length: 10 }, (_, i) => i * 1000), 'the first operator recorded every latency, µs');
  t.equal(second.latency.takePending()?.length, 10, 'the chained one too');
  t.same(main, Array.from({ length: 10 }, (_, i) => now - i), 'every marker left the chain once, in order');
  t.same([first.recordsIn, first.recordsOut, second.recordsIn, second.recordsOut], [0, 0, 0, 0], 'no record counter saw a marker');
  // Only a side output is connected: no marker is lost to the unconnected main output.
  const sideOnly = new MapOperator(node(2), env, { call: (x: unknown) => x });
  sideOnly.connectSide('late', sink(side));
  for (let i = 0; i < 20; i++) sideOnly.processLatencyMarker(new LatencyMarker(i, 0, 0));
  t.equal(side.length, 20, 'every marker went to the side output');
});

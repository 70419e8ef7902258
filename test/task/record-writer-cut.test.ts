/**
 * The record writer cuts batches at the records a frame holds: after the first frame, a
 * batch of 100-byte records is sent at about 7/8 of a quarter ring instead of at
 * batchSize records, so it is not encoded whole, found too large and cut again.
 */
import t from 'tap';
import { Doorbell, FrameKind, Ring } from '../../src/channel/index.js';
import type { JobEdge } from '../../src/graph/index.js';
import { createBatchDecoder, framePayloadLimitBytes } from '../../src/task/batch-codec.js';
import { RecordWriter } from '../../src/task/record-writer.js';

t.test('frames of 100-byte records fill about 7/8 of a quarter ring, every record in order', async (t) => {
  const edge: JobEdge = { id: 0, from: 0, to: 1, partitioner: 'forward', keySelector: undefined, inputIndex: 0, tag: undefined };
  const sab = Ring.allocate(1 << 16);
  const backlog = { queuedFrames: 0 };
  const writer = new RecordWriter(edge, [{ channel: 0, ring: sab, doorbell: Doorbell.allocate(), toSubtask: 0 }], 1, 128, 512, 0, () => false, backlog);
  const reader = new Ring(sab);
  const decoder = createBatchDecoder();
  const limit = framePayloadLimitBytes(reader.capacityBytes, reader.maxPayloadBytes);
  const sent: string[] = [];
  const got: string[] = [];
  const frameSizes: number[] = [];
  const drain = (): void => {
    for (let f = reader.tryRead(); f !== undefined; f = reader.tryRead()) {
      t.equal(f.kind, FrameKind.RECORDS);
      frameSizes.push(f.payload.length);
      got.push(...(decoder.decode(f.payload) as string[]));
    }
  };
  for (let i = 0; i < 5000; i++) {
    const record = String(i).padStart(10, '0') + 'p'.repeat(90);
    sent.push(record);
    writer.collect(record);
    if (backlog.queuedFrames > 0) {
      const flushed = writer.flushReady();
      drain();
      await flushed;
    }
    drain();
  }
  const flushed = writer.flushAll();
  drain();
  await flushed;
  drain();
  t.same(got, sent, 'every record, in order');
  t.ok(frameSizes.every((bytes) => bytes <= limit), `every frame within the ${limit}-byte limit`);
  // The first batch of 512 records (51 KB) is cut into pieces; every later frame is sent full
  // at the learned count: 7/8 of the limit at 101 bytes a record is 141 records, 14 KiB.
  const full = frameSizes.slice(0, -1).filter((bytes) => bytes > 0.8 * limit && bytes <= 0.9 * limit);
  t.ok(full.length >= frameSizes.length - 6, `frames near 7/8 of the limit: ${full.length} of ${frameSizes.length} (${frameSizes.slice(0, 8).join(', ')}, ...)`);
  t.ok(frameSizes.length <= Math.ceil(5000 / 141) + 5, `${frameSizes.length} frames for 5000 records`);
});

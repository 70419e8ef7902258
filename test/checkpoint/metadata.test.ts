/**
 * The _metadata format (native-notes.md section 5): round trip, the exact header layout,
 * and that every truncation and every single flipped byte is rejected with a reason.
 */
import t from 'tap';
import { Encoder } from 'cbor-x';
import { decodeMetadata, encodeMetadata, validateMetadata } from '../../src/checkpoint/metadata.js';
import { lsmSubtask, makeMeta } from './helpers.js';

const meta = makeMeta('job-a', 7, [
  lsmSubtask(0, [{ name: 'v1-s0-000001.seg', sizeBytes: 8192 }]),
  { vertex: 2, subtaskIndex: 0, operatorState: { sink: { pending: ['part-0-1.inprogress'], map: new Map([[1, 'x']]) } }, keyedState: { kind: 'heap', file: { name: 'heap-v2-s0-7.bin', sizeBytes: 10 } } },
  { vertex: 3, subtaskIndex: 1, operatorState: {}, keyedState: undefined },
]);
meta.vertices = [{ uids: ['src'] }, { uids: ['count'] }, { uids: ['sink'] }, { uids: ['other', 'chained'] }];

t.test('metadata round-trips through the file format, undefined and Maps included', async (t) => {
  const bytes = encodeMetadata(meta);
  t.same(decodeMetadata(bytes), meta);
  const back = decodeMetadata(bytes) as typeof meta;
  t.equal(back.subtasks[2]!.keyedState, undefined);
  t.ok((back.subtasks[1]!.operatorState.sink as { map: unknown }).map instanceof Map);
});

t.test('header is magic SLCK, u32 version 3, u32 payload length; trailer is CRC32 of header and payload', async (t) => {
  const bytes = Buffer.from(encodeMetadata(meta));
  t.equal(bytes.subarray(0, 4).toString('latin1'), 'SLCK');
  t.equal(bytes.readUInt32LE(4), 3);
  const n = bytes.readUInt32LE(8);
  t.equal(bytes.length, 16 + n);
  const zlib = await import('node:zlib');
  t.equal(bytes.readUInt32LE(12 + n), zlib.crc32(bytes.subarray(0, 12 + n)));
});

t.test('every truncation is rejected as truncated', async (t) => {
  const bytes = encodeMetadata(meta);
  for (let len = 0; len < bytes.length; len++) {
    const r = decodeMetadata(bytes.subarray(0, len));
    if (typeof r !== 'string' || !/truncated/.test(r)) t.fail(`length ${len}: ${JSON.stringify(r)}`);
  }
  t.match(decodeMetadata(bytes.subarray(0, 10)), /is 10 bytes, shorter than the 16-byte header and trailer \(truncated\)/);
  t.match(decodeMetadata(bytes.subarray(0, bytes.length - 1)), /expected \d+ for its recorded payload of \d+ bytes \(truncated\)/);
});

t.test('every single flipped byte is rejected; magic, version and CRC name themselves', async (t) => {
  const bytes = encodeMetadata(meta);
  for (let i = 0; i < bytes.length; i++) {
    const copy = Uint8Array.from(bytes);
    copy[i]! ^= 0x01;
    if (typeof decodeMetadata(copy) !== 'string') t.fail(`flip at ${i} not detected`);
  }
  const flip = (i: number) => {
    const copy = Uint8Array.from(bytes);
    copy[i]! ^= 0x40;
    return decodeMetadata(copy);
  };
  t.match(flip(0), /magic "SLCK"/);
  t.match(flip(4), /format version 67; this build reads versions 2 and 3/);
  t.match(flip(20), /fails CRC32 \(stored 0x[0-9a-f]{8}, computed 0x[0-9a-f]{8}\)/);
  t.match(flip(bytes.length - 1), /fails CRC32/);
  t.match(flip(9), /recorded payload/);
  t.match(decodeMetadata(Uint8Array.from([...bytes, 0])), /trailing bytes/);
});

t.test('validation names the field and uses TypeError for types, RangeError for values', async (t) => {
  const bad = (patch: (m: any) => void) => {
    const m: any = structuredClone(meta);
    patch(m);
    return () => validateMetadata(m);
  };
  t.throws(bad((m) => (m.checkpointId = -1)), { name: 'RangeError', message: /meta\.checkpointId must be an integer >= 0, got -1/ });
  t.throws(bad((m) => (m.checkpointId = '3')), { name: 'TypeError', message: /meta\.checkpointId/ });
  t.throws(bad((m) => (m.kind = 'snapshot')), { name: 'RangeError', message: /meta\.kind must be one of 'checkpoint', 'savepoint', got snapshot/ });
  t.throws(bad((m) => (m.subtasks[0].keyedState.segments[0].name = '../x.seg')), { name: 'RangeError', message: /meta\.subtasks\[0\]\.keyedState\.segments\[0\]\.name "\.\.\/x\.seg"/ });
  t.throws(bad((m) => (m.subtasks[1].keyedState.file.sizeBytes = 1.5)), { name: 'RangeError', message: /file\.sizeBytes/ });
  t.throws(bad((m) => (m.subtasks[0].keyedState = { kind: 'rocks' })), { name: 'RangeError', message: /keyedState\.kind/ });
  t.throws(bad((m) => (m.parallelism.src = 0)), { name: 'RangeError', message: /meta\.parallelism\["src"\]/ });
  t.throws(bad((m) => (m.completedAt = m.triggeredAt - 1)), { name: 'RangeError', message: /completedAt .* is before triggeredAt/ });
  t.throws(bad((m) => (m.stats.bytesWritten = NaN)), { name: 'RangeError', message: /meta\.stats\.bytesWritten/ });
  t.throws(bad((m) => (m.jobId = 'a.tmp')), { name: 'RangeError', message: /meta\.jobId/ });
  t.throws(() => validateMetadata(null), { name: 'TypeError' });
});

t.test('a version 2 file (before FLIP-27 sources) still decodes, with no coordinator state', async (t) => {
  const { coordinatorState: _dropped, ...v2 } = meta;
  const payload = new Encoder({ useRecords: false }).encode(v2);
  const bytes = Buffer.alloc(16 + payload.length);
  bytes.write('SLCK', 0, 'latin1');
  bytes.writeUInt32LE(2, 4);
  bytes.writeUInt32LE(payload.length, 8);
  Buffer.from(payload).copy(bytes, 12);
  const zlib = await import('node:zlib');
  bytes.writeUInt32LE(zlib.crc32(bytes.subarray(0, 12 + payload.length)), 12 + payload.length);
  const back = decodeMetadata(bytes);
  t.type(back, 'object');
  t.same((back as typeof meta).coordinatorState, {});
  t.same((back as typeof meta).subtasks.length, meta.subtasks.length);
});

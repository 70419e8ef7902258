/**
 * verifySegmentFile reads every block: damage that opening a segment does not see (a
 * data block is only read on demand) is found, and the error names the file.
 */
import t from 'tap';
import fs from 'node:fs';
import { CorruptSegmentError, LsmStore, verifySegmentChecksums, verifySegmentFile } from '../../src/state/lsm/index.js';
import { flipByte, makeRealSegments, tempDir, thrown, truncateBy } from './helpers.js';
import path from 'node:path';

t.test('an intact segment verifies with its entry count and size', async (t) => {
  const [file] = makeRealSegments(tempDir(t, 'verify'), 1, 1500);
  t.same(verifySegmentFile(file!), { entries: 1500, sizeBytes: fs.statSync(file!).size });
});

t.test('a flipped byte in a data block fails verification although the store opens it', async (t) => {
  const dir = tempDir(t, 'verify');
  const [file] = makeRealSegments(dir, 1, 1500);
  flipByte(file!, 5000);
  const store = LsmStore.open(dir, { segments: [path.basename(file!)], fsync: false });
  store.close();
  const e = thrown(() => verifySegmentFile(file!));
  t.ok(e instanceof CorruptSegmentError, 'CorruptSegmentError');
  t.equal(e?.file, file);
  t.match(e?.reason, /block at offset \d+ fails CRC32/);
});

t.test('truncation and a flipped footer byte fail; a missing file is the fs error', async (t) => {
  const dir = tempDir(t, 'verify');
  const [a, b] = makeRealSegments(dir, 2, 500);
  truncateBy(a!, 100);
  const ea = thrown(() => verifySegmentFile(a!));
  t.ok(ea instanceof CorruptSegmentError && ea.file === a, 'truncation: CorruptSegmentError naming the file');
  flipByte(b!, fs.statSync(b!).size - 60);
  const eb = thrown(() => verifySegmentFile(b!));
  t.ok(eb instanceof CorruptSegmentError, 'flipped footer: CorruptSegmentError');
  t.match(eb?.reason, /footer/);
  t.throws(() => verifySegmentFile(path.join(dir, 'nope.seg')), { code: 'ENOENT' });
  t.throws(() => verifySegmentFile(''), TypeError);
});

t.test('verifySegmentChecksums: every single flipped byte of a segment is caught, naming the file', async (t) => {
  const dir = tempDir(t, 'verify-crc');
  const [file] = makeRealSegments(dir, 1, 300);
  t.same(verifySegmentChecksums(file!), { sizeBytes: fs.statSync(file!).size }, 'an intact segment passes');
  const intact = fs.readFileSync(file!);
  const missed: number[] = [];
  for (let at = 0; at < intact.length; at++) {
    flipByte(file!, at);
    const e = thrown(() => verifySegmentChecksums(file!));
    if (!(e instanceof CorruptSegmentError) || e.file !== file) missed.push(at);
    fs.writeFileSync(file!, intact);
  }
  t.same(missed.slice(0, 5), [], `all ${intact.length} single-byte flips are caught`);
  truncateBy(file!, 1);
  t.ok(thrown(() => verifySegmentChecksums(file!)) instanceof CorruptSegmentError, 'a truncated segment is caught');
  t.throws(() => verifySegmentChecksums(path.join(dir, 'nope.seg')), { code: 'ENOENT' });
  t.throws(() => verifySegmentChecksums(''), TypeError);
});

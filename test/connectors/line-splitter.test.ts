// The line splitter of socket and pipe sources against a model: the whole byte stream cut
// at the delimiter's bytes at once. Whatever the chunk boundaries (inside a multi-byte
// character, inside a multi-byte delimiter, between "\r" and "\n"), the lines are the same.
import t from 'tap';
import { LineSplitter, lineLengthMaxBytes } from '../../src/connectors/index.js';
import { seededRandom, testSeed } from '../helpers/random.js';

/** The model: every delimiter-ended piece of `bytes`, plus the rest if not empty. */
function modelLines(bytes: Buffer, delimiter: string): string[] {
  const d = Buffer.from(delimiter);
  const lines: string[] = [];
  let from = 0;
  for (let at = bytes.indexOf(d); at >= 0; at = bytes.indexOf(d, from)) {
    lines.push(bytes.subarray(from, at).toString('utf8'));
    from = at + d.length;
  }
  if (from < bytes.length) lines.push(bytes.subarray(from).toString('utf8'));
  return delimiter === '\n' ? lines.map((l) => (l.endsWith('\r') ? l.slice(0, -1) : l)) : lines;
}

function splitInChunks(bytes: Buffer, delimiter: string, cuts: readonly number[]): string[] {
  const splitter = new LineSplitter(delimiter);
  const out: string[] = [];
  let from = 0;
  for (const cut of [...cuts, bytes.length]) {
    splitter.push(bytes.subarray(from, cut), out);
    from = cut;
  }
  splitter.end(out);
  return out;
}

t.test('lines are the same for any chunking of the stream (seeded)', async (t) => {
  const seed = testSeed(7);
  const random = seededRandom(seed);
  const alphabet = ['a', 'b', 'é', '€', '😀', '\r', '\n', '\n', '|', ',', ' '];
  for (const delimiter of ['\n', ',', '||', '€', '\r\n']) {
    let runs = 0;
    for (; runs < 200; runs++) {
      const length = Math.floor(random() * 200);
      let text = '';
      for (let i = 0; i < length; i++) text += alphabet[Math.floor(random() * alphabet.length)];
      const bytes = Buffer.from(text);
      const cuts: number[] = [];
      for (let at = 0; at < bytes.length; at += 1 + Math.floor(random() * 8)) if (at > 0) cuts.push(at);
      const got = splitInChunks(bytes, delimiter, cuts);
      const expected = modelLines(bytes, delimiter);
      if (JSON.stringify(got) !== JSON.stringify(expected)) {
        t.same(got, expected, `delimiter ${JSON.stringify(delimiter)}, ${JSON.stringify(text)}, cuts ${cuts.join(',')} (seed ${seed})`);
        break;
      }
    }
    t.equal(runs, 200, `delimiter ${JSON.stringify(delimiter)}: 200 random streams in random chunks (seed ${seed})`);
  }
});

t.test('a line longer than the limit fails, naming the delimiter', async (t) => {
  const splitter = new LineSplitter('\n');
  const out: string[] = [];
  const chunk = Buffer.alloc(8 << 20, 0x61);
  t.throws(() => {
    for (let n = 0; n <= lineLengthMaxBytes / chunk.length; n++) splitter.push(chunk, out);
  }, /A line grew beyond 67108864 bytes without the delimiter "\\n"/);
  t.same(out, []);
  t.throws(() => new LineSplitter(''), /A line delimiter must be a non-empty string/);
});

// The line splitter of the socket and pipe sources against a reference: random texts
// (multi-byte UTF-8, CRLF, empty lines) cut into random chunks, also inside a UTF-8
// sequence and inside a multi-byte delimiter, must give the lines String.split gives.
// Then end of stream, the longest line, and bad delimiters.
import t from 'tap';
import { LineSplitter, lineLengthMaxBytes } from '../../src/connectors/line-splitter.js';
import { seededRandom, testSeed } from '../helpers/random.js';

const delimiters = ['\n', '|', '\r\n', 'ab', '€'];

/** The lines of a whole text: split at the delimiter, no line after a final delimiter, "\r" dropped before "\n". */
function referenceLines(text: string, delimiter: string): string[] {
  const lines = text.split(delimiter);
  if (lines[lines.length - 1] === '') lines.pop();
  return delimiter === '\n' ? lines.map((l) => (l.endsWith('\r') ? l.slice(0, -1) : l)) : lines;
}

/** Pieces of text, weighted toward delimiters and multi-byte characters (2, 3 and 4 bytes). */
const pieces = ['a', 'b', 'x', ' ', 'é', '€', '中', '😀', '\n', '\r', '\r\n', '|', 'ab', '€€', '\n\n', ''];

function randomText(random: () => number, delimiter: string): string {
  const length = Math.floor(random() * random() * 400);
  let text = '';
  for (let i = 0; i < length; i++) text += random() < 0.15 ? delimiter : pieces[Math.floor(random() * pieces.length)];
  return text;
}

/** Cut points in [1, bytes.length): every byte, small random pieces, or large ones. */
function randomCuts(random: () => number, byteLength: number): number[] {
  const style = random();
  const cuts: number[] = [];
  const step = style < 0.2 ? () => 1 : style < 0.7 ? () => 1 + Math.floor(random() * 5) : () => 1 + Math.floor(random() * 200);
  for (let at = step(); at < byteLength; at += step()) cuts.push(at);
  return cuts;
}

/** Byte offsets inside a UTF-8 sequence (a continuation byte starts there). */
function insideCharacter(bytes: Buffer, at: number): boolean {
  return ((bytes[at] ?? 0) & 0xc0) === 0x80;
}

/** Byte offsets inside an occurrence of the delimiter. */
function insideDelimiter(bytes: Buffer, delimiter: Buffer, at: number): boolean {
  for (let start = Math.max(0, at - delimiter.length + 1); start < at; start++) {
    if (bytes.subarray(start, start + delimiter.length).equals(delimiter)) return true;
  }
  return false;
}

t.test('random texts in random chunks give the reference lines, for every delimiter', async (t) => {
  const seed = testSeed(0x11e5);
  t.comment(`seed ${seed} (replay with SLUICE_SEED=${seed})`);
  const random = seededRandom(seed);
  let cutsInCharacter = 0;
  let cutsInDelimiter = 0;
  let emptyLines = 0;
  for (let round = 0; round < 3000; round++) {
    const delimiter = delimiters[round % delimiters.length]!;
    const text = randomText(random, delimiter);
    const bytes = Buffer.from(text, 'utf8');
    const cuts = randomCuts(random, bytes.length);
    const splitter = new LineSplitter(delimiter);
    const lines: string[] = [];
    let from = 0;
    for (const at of [...cuts, bytes.length]) {
      if (insideCharacter(bytes, at)) cutsInCharacter++;
      if (insideDelimiter(bytes, Buffer.from(delimiter), at)) cutsInDelimiter++;
      splitter.push(bytes.subarray(from, at), lines);
      from = at;
    }
    splitter.end(lines);
    const expected = referenceLines(text, delimiter);
    if (JSON.stringify(lines) !== JSON.stringify(expected) || splitter.pendingBytes !== 0) {
      t.same({ lines, pendingBytes: splitter.pendingBytes }, { lines: expected, pendingBytes: 0 }, `seed ${seed} round ${round}: delimiter ${JSON.stringify(delimiter)}, text ${JSON.stringify(text)}, cuts ${JSON.stringify(cuts)}`);
      return;
    }
    emptyLines += expected.filter((l) => l === '').length;
  }
  t.pass(`3000 texts from seed ${seed} matched the reference`);
  t.ok(cutsInCharacter > 1000, `chunks cut inside a UTF-8 sequence (${cutsInCharacter})`);
  t.ok(cutsInDelimiter > 1000, `chunks cut inside a multi-byte delimiter (${cutsInDelimiter})`);
  t.ok(emptyLines > 1000, `empty lines (${emptyLines})`);
});

t.test('end of stream: the bytes after the last delimiter are one more line, if there are any', async (t) => {
  const split = (delimiter: string, ...chunks: string[]) => {
    const splitter = new LineSplitter(delimiter);
    const beforeEnd: string[] = [];
    for (const c of chunks) splitter.push(Buffer.from(c), beforeEnd);
    const atEnd: string[] = [];
    splitter.end(atEnd);
    return { beforeEnd, atEnd };
  };
  t.same(split('\n'), { beforeEnd: [], atEnd: [] }, 'no bytes, no line');
  t.same(split('\n', ''), { beforeEnd: [], atEnd: [] }, 'an empty chunk is no line');
  t.same(split('\n', 'a'), { beforeEnd: [], atEnd: ['a'] }, 'a last line without delimiter comes at the end');
  t.same(split('\n', 'a\n'), { beforeEnd: ['a'], atEnd: [] }, 'no empty line after a final delimiter');
  t.same(split('\n', '\n'), { beforeEnd: [''], atEnd: [] }, 'one empty line');
  t.same(split('\n', '\n', '\n'), { beforeEnd: ['', ''], atEnd: [] }, 'two empty lines');
  t.same(split('\n', 'a\r\nb\r'), { beforeEnd: ['a'], atEnd: ['b'] }, 'with "\\n" a "\\r" before the line end is dropped, also at the end');
  t.same(split('\n', 'a\r\r\n'), { beforeEnd: ['a\r'], atEnd: [] }, 'only one "\\r" is dropped');
  t.same(split('\r\n', 'a\rb\r\nc\n'), { beforeEnd: ['a\rb'], atEnd: ['c\n'] }, 'with "\\r\\n" a lone "\\r" or "\\n" is text');
  t.same(split('|', 'a\r|b'), { beforeEnd: ['a\r'], atEnd: ['b'] }, 'other delimiters keep "\\r"');
  const cut = Buffer.from('x€');
  const splitter = new LineSplitter('\n');
  const lines: string[] = [];
  splitter.push(cut.subarray(0, 2), lines);
  t.equal(splitter.pendingBytes, 2, 'the partial line is held');
  splitter.end(lines);
  t.same(lines, ['x\ufffd'], 'a stream that ends inside a character gives a replacement character, not an error');
  t.equal(splitter.pendingBytes, 0);
  // A socket source reuses its splitter for the next connection: nothing leaks across.
  splitter.push(Buffer.from('ab'), lines);
  splitter.end(lines);
  splitter.push(Buffer.from('cd\n'), lines);
  t.same(lines, ['x\ufffd', 'ab', 'cd'], 'after end the splitter starts a new stream');
});

t.test('a line longer than lineLengthMaxBytes fails with the delimiter named; long lines cost linear time', { timeout: 30_000 }, async (t) => {
  const chunk = Buffer.alloc(64 * 1024, 'x');
  const splitter = new LineSplitter('|');
  const lines: string[] = [];
  // Exactly the limit is still a line: 1024 chunks of 64 KiB. (Before the splitter kept
  // chunks growing by doubling, it copied the whole partial line on every chunk: about 40 s
  // of copying here; the test times out.)
  for (let i = 0; i < lineLengthMaxBytes / chunk.length; i++) splitter.push(chunk, lines);
  t.equal(splitter.pendingBytes, lineLengthMaxBytes);
  t.same(lines, [], 'no line yet');
  t.throws(() => splitter.push(Buffer.from('y'), lines), {
    name: 'RangeError',
    message: `A line grew beyond ${lineLengthMaxBytes} bytes without the delimiter "|": is the delimiter right?`,
  });

  const atLimit = new LineSplitter('\n');
  for (let i = 0; i < lineLengthMaxBytes / chunk.length; i++) atLimit.push(chunk, lines);
  atLimit.push(Buffer.from('\nnext'), lines);
  t.equal(lines.length, 1, 'a line of exactly the limit is emitted');
  t.equal(lines[0]!.length, lineLengthMaxBytes);
  t.equal(atLimit.pendingBytes, 4, 'and reading goes on');
});

t.test('a bad delimiter is refused when the splitter is made', async (t) => {
  t.throws(() => new LineSplitter(''), { name: 'RangeError', message: 'A line delimiter must be a non-empty string, got ""' });
  t.throws(() => new LineSplitter(5 as unknown as string), { name: 'RangeError', message: /got 5/ });
  t.throws(() => new LineSplitter('\ud800'), { name: 'RangeError', message: /not well-formed UTF-16.*lone surrogate/ }, 'a lone surrogate has no UTF-8 bytes');
  t.doesNotThrow(() => new LineSplitter('😀'), 'a surrogate pair is one character');
});

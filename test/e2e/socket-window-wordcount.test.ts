// examples/socket-window-wordcount.ts (Flink's SocketWindowWordCount) through the CLI
// against a real TCP peer in the test, with 200 ms tumbling processing-time windows: two
// bursts of lines, the second sent only after the first one's counts were printed (so
// more than a window later). Each burst's counts are printed while the connection is
// still open (the windows fire by the clock, not at the end of the input), and count
// only that burst's words. Then the server closes and the job ends, as in Flink.
import t from 'tap';
import { waitFor } from '../helpers/checkpoints.js';
import { spawnSluice } from '../helpers/cli.js';
import { endWith, serveFor } from '../helpers/line-server.js';

/** The example, compiled (dist/examples/socket-window-wordcount.js). */
const job = new URL('../../examples/socket-window-wordcount.js', import.meta.url).pathname;
const windowMs = 200;

/** Word counts of `text` cut at whitespace, as the example cuts it. */
function countWords(text: string): Map<string, number> {
  const counts = new Map<string, number>();
  for (const word of text.split(/\s+/)) if (word !== '') counts.set(word, (counts.get(word) ?? 0) + 1);
  return counts;
}

/** Sums the `word<TAB>count` lines per word, and how many lines each word had. */
function sumLines(lines: readonly string[]): { sums: Map<string, number>; lineCounts: Map<string, number>; malformed: string[] } {
  const sums = new Map<string, number>();
  const lineCounts = new Map<string, number>();
  const malformed: string[] = [];
  for (const line of lines) {
    const m = /^(\S+)\t(\d+)$/.exec(line);
    if (m === null) {
      malformed.push(line);
      continue;
    }
    sums.set(m[1]!, (sums.get(m[1]!) ?? 0) + Number(m[2]));
    lineCounts.set(m[1]!, (lineCounts.get(m[1]!) ?? 0) + 1);
  }
  return { sums, lineCounts, malformed };
}

const sorted = (m: Map<string, number>): Array<[string, number]> => [...m].sort(([a], [b]) => a.localeCompare(b));

t.test('two bursts more than a window apart are counted in their own windows, printed while the connection is open', async (t) => {
  const server = await serveFor(t, () => {});
  const child = spawnSluice(t, ['run', '--parallelism', '2', '--no-progress', job, '--host', '127.0.0.1', '--port', String(server.port), '--window-ms', String(windowMs)]);
  const socket = await server.connection(0);
  const printed = (): string[] => child.out().split('\n').slice(0, -1);

  const bursts = ['to be or not to be\nthat is the question\n', 'to be is to do\ndo be do be do\n'];
  let seen = 0;
  for (const [i, burst] of bursts.entries()) {
    const expected = countWords(burst);
    const sentAt = Date.now();
    socket.write(burst); // one write: the burst arrives at once, within one window (or two, at a boundary)
    const complete = await waitFor(() => sorted(sumLines(printed().slice(seen)).sums).join() === sorted(expected).join(), 30_000);
    t.ok(complete, `burst ${i + 1}: its counts are printed while the connection is open (${Date.now() - sentAt} ms; stderr: ${child.err().slice(0, 300)})`);
    const lines = printed().slice(seen);
    const { sums, lineCounts, malformed } = sumLines(lines);
    t.same(malformed, [], 'every line is word<TAB>count');
    t.same(sorted(sums), sorted(expected), `burst ${i + 1}: the words of this burst only, with their counts`);
    // Sums equal to the burst's counts with one line per word: one window held the burst.
    const split = [...lineCounts].filter(([, n]) => n > 1).map(([w]) => w);
    t.ok([...lineCounts.values()].every((n) => n <= 2), 'one line per word and window; a burst spans at most two windows');
    if (split.length > 0) t.comment(`burst ${i + 1} arrived across a window boundary: ${split.join(', ')} counted in two windows`);
    seen += lines.length;
  }
  await endWith(socket, '');
  t.equal(await child.exit, 0, `the job ends once the server closes (maxRetry 0): ${child.err().slice(0, 300)}`);
  t.same(printed().slice(seen), [], 'nothing more was printed: no window held anything else');
});

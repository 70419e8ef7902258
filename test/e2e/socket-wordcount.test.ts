// examples/socket-wordcount.ts (Flink's first tutorial program) through the CLI against a
// real TCP peer in the test: speeches of the State of the Union corpus sent in random
// pieces, counted exactly; and printed counts that show while the connection is still
// open, as when typing into `nc -lk 9999`.
import t from 'tap';
import { execFileSync } from 'node:child_process';
import { readdirSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';
import { main } from '../../src/cli/main.js';
import { tempDir, waitFor } from '../helpers/checkpoints.js';
import { spawnSluice } from '../helpers/cli.js';
import { holdingServer, serveFor, writeInPieces } from '../helpers/line-server.js';
import { seededRandom, testSeed } from '../helpers/random.js';
import { corpus, readWordCountOutput, referenceCounts, wrongWords } from '../helpers/wordcount.js';

/** The example, compiled (dist/examples/socket-wordcount.js). */
const job = new URL('../../examples/socket-wordcount.js', import.meta.url).pathname;

t.test('the socket word count of 40 speeches sent in random pieces equals the tr | sort | uniq -c counts', async (t) => {
  const seed = testSeed(0x5075);
  t.comment(`seed ${seed} (replay with SLUICE_SEED=${seed})`);
  const random = seededRandom(seed);
  // 40 speeches, one in six of the corpus: as cat sends them, so the reference sees the same bytes.
  const speeches = tempDir(t, 'speeches');
  readdirSync(corpus)
    .filter((n) => n.endsWith('.txt'))
    .filter((_, i) => i % 6 === 0)
    .slice(0, 40)
    .forEach((n) => symlinkSync(join(corpus, n), join(speeches, n)));
  const text = execFileSync('sh', ['-c', 'cat "$1"/*.txt', 'cat', speeches], { env: { ...process.env, LC_ALL: 'C' }, maxBuffer: 1 << 28 });
  const server = await serveFor(t, async (socket) => {
    await writeInPieces(socket, text, random, 16384);
    socket.end();
  });
  const output = tempDir(t, 'socket-wordcount-out');
  const captured: string[] = [];
  const io = { out: (s: string) => captured.push(s), err: (s: string) => captured.push(s) };
  // Some speeches are one paragraph per line, up to 217 KB: a record must fit a channel ring's frame.
  const code = await main(['run', '--parallelism', '2', '--state-backend', 'hashmap', '--ring-size', String(1 << 20), job, '--host', '127.0.0.1', '--port', String(server.port), '--output', output], io);
  t.equal(code, 0, `sluice run exits 0 once the server closes (maxRetry 0): ${captured.join('').slice(0, 300)}`);
  t.equal(server.connections, 1);

  const counted = readWordCountOutput(output);
  const reference = referenceCounts(speeches);
  const words = [...reference.values()].reduce((a, b) => a + b, 0);
  t.equal(counted.malformed, 0, 'every line is word<TAB>count');
  t.same(wrongWords(counted, reference, true).slice(0, 5), [], `every word has exactly its counts 1..n, once each (seed ${seed})`);
  t.equal(counted.lines, words, `${words} counts, one per word sent`);
});

t.test('printed counts show while the connection is still open, and the job ends when the server closes', async (t) => {
  const { server, release } = await holdingServer(t, 'To be, or not to be\n', 'that is the question: to be\n');
  const child = spawnSluice(t, ['run', '--parallelism', '1', job, '--host', '127.0.0.1', '--port', String(server.port)]);
  const firstLine = ['to\t1', 'be\t1', 'or\t1', 'not\t1', 'to\t2', 'be\t2'];
  t.ok(await waitFor(() => child.out().split('\n').length > firstLine.length, 30_000), 'the counts of the first line are printed before the server sends more');
  t.same(child.out().split('\n').slice(0, -1), firstLine, 'in order: one subtask at parallelism 1');
  t.equal(server.connections, 1);
  release();
  t.equal(await child.exit, 0, child.err());
  t.same(child.out().split('\n').slice(firstLine.length, -1), ['that\t1', 'is\t1', 'the\t1', 'question\t1', 'to\t3', 'be\t3']);
});

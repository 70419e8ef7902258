// Latency tracking end to end on the word count (parallelism 2, a keyed shuffle between
// "Tokenize" and "Count"): markers reach every non-source operator and the sink, their
// latencies are sane, they are never counted as records, they are absent with tracking
// off, and a checkpointed job with killed workers and markers flowing stays exactly once.
import t from 'tap';
import { main } from '../../src/cli/main.js';
import { runJob } from '../../src/index.js';
import { formatSummary } from '../../src/cli/summary.js';
import type { JobSummary } from '../../src/cli/summary.js';
import { tempDir } from '../helpers/checkpoints.js';
import { corpus, readWordCountOutput, referenceCounts, wordcountJobJs as wordcountJob, wrongWords } from '../helpers/wordcount.js';

const nonSources = ['Tokenize', 'Count', 'Write counts'];

t.test('with --latency-tracking-interval the summary holds sane latency per operator, and the record counts equal a run without', async (t) => {
  const outOn = tempDir(t, 'lat-on');
  const captured: string[] = [];
  const code = await main(['run', '--parallelism', '2', '--json', '--state-backend', 'hashmap', '--latency-tracking-interval', '10', wordcountJob, '--input', corpus, '--output', outOn], {
    out: (s) => captured.push(s),
    err: (s) => captured.push(s),
  });
  t.equal(code, 0, `sluice run exits 0 (${captured.join('').slice(0, 300)})`);
  const on = JSON.parse(captured.join('')) as JobSummary;

  const outOff = tempDir(t, 'lat-off');
  const off = await runJob(wordcountJob, { parallelism: 2, stateBackend: 'hashmap', args: ['--input', corpus, '--output', outOff] }).result;

  t.same(
    on.operators.map((o) => [o.name, o.recordsIn, o.recordsOut]),
    off.operators.map((o) => [o.name, o.recordsIn, o.recordsOut]),
    'records in and out of every operator are the same with and without markers',
  );
  t.equal(readWordCountOutput(outOn).lines, readWordCountOutput(outOff).lines, 'the same output');
  t.same(off.operators.filter((o) => o.latency !== undefined), [], 'tracking off: no operator has latency');

  const source = on.operators.find((o) => o.name === 'Read lines')!;
  t.equal(source.latency, undefined, 'the source emits markers, it records none');
  for (const name of nonSources) {
    const latency = on.operators.find((o) => o.name === name)?.latency;
    if (latency === undefined) {
      t.fail(`${name} recorded no latency`);
      continue;
    }
    t.ok(latency.count >= 2, `${name}: ${latency.count} markers (at least one per source subtask)`);
    const ordered = [latency.p50, latency.p95, latency.p99, latency.p999, latency.max];
    t.ok(ordered.every((v, i) => v >= 0 && (i === 0 || v >= ordered[i - 1]!)), `${name}: 0 <= p50 <= p95 <= p99 <= p99.9 <= max (${ordered.join(', ')} ms)`);
    t.ok(latency.max < on.wallTimeMs, `${name}: max ${latency.max} ms below the run's ${on.wallTimeMs} ms`);
  }
  const sink = on.operators.find((o) => o.name === 'Write counts')!.latency!;
  const tokenize = on.operators.find((o) => o.name === 'Tokenize')!.latency!;
  t.equal(sink.count, on.operators.find((o) => o.name === 'Count')!.latency!.count, 'every marker Count recorded reached the chained sink');
  t.equal(tokenize.count, sink.count, 'every marker crossed the keyed shuffle (none lost, none copied)');
  const text = formatSummary(on);
  t.match(text, /\nLatency of "Write counts": p50 [\d.]+ ms, p95 [\d.]+ ms, p99 [\d.]+ ms, p99\.9 [\d.]+ ms, max [\d.]+ ms \(\d+ markers\)/, 'the printed summary has a latency line per operator');
  t.notMatch(text, /Latency of "Read lines"/, 'none for the source');
});

t.test('latencyTrackingIntervalMs out of range is refused, naming the option', async (t) => {
  const refused = await runJob(wordcountJob, { latencyTrackingIntervalMs: -1 }).result.catch((e: unknown) => e);
  t.match(refused, { name: 'UsageError', message: 'latencyTrackingIntervalMs must be an integer from 0 to 3600000, got -1' });
  const err: string[] = [];
  const code = await main(['run', '--latency-tracking-interval', '1.5', wordcountJob], { out: () => {}, err: (s) => err.push(s) });
  t.equal(code, 2, 'exit 2');
  t.match(err.join(''), /--latency-tracking-interval/, 'the flag is named');
});

t.test('a checkpointed job with markers every 5 ms and killed workers writes every count exactly once', async (t) => {
  // Heap state and one copy of the corpus: a machine shared by several jobs still ends it
  // within a few kill periods (the LSM backend's doubled corpus is checkpoint-kill.test.ts).
  const input = corpus;
  const out = tempDir(t, 'lat-ck-out');
  const result = await runJob(wordcountJob, {
    parallelism: 2,
    checkpointDir: tempDir(t, 'lat-ck'),
    checkpointIntervalMs: 100,
    latencyTrackingIntervalMs: 5,
    stateBackend: 'hashmap',
    // Often enough that a kill lands before the job ends on a quiet machine (about 2 s);
    // restarts are fast (threads are kept, issue 11), so it still ends.
    killWorkerEveryMs: 400,
    // At most 6: unlimited, a loaded machine restarted it 43 times in 43 s.
    killWorkerLimit: 6,
    restartStrategy: 'fixed-delay:attempts=1000,delay=50ms',
    args: ['--input', input, '--output', out],
  }).result;
  t.ok(result.restarts >= 1, `${result.restarts} restarts after killed workers`);
  t.ok(result.checkpoints.length >= 3, `${result.checkpoints.length} checkpoints completed while markers flowed`);
  const sink = result.operators.find((o) => o.name === 'Write counts')?.latency;
  t.ok(sink !== undefined && sink.count > 0, `the sink recorded ${sink?.count} markers`);
  const reference = referenceCounts(input);
  const output = readWordCountOutput(out);
  t.equal(output.malformed, 0);
  t.same(wrongWords(output, reference, true).slice(0, 5), [], 'every count 1..n exactly once');
  t.equal(output.lines, [...reference.values()].reduce((a, b) => a + b, 0), 'one line per input word');
});

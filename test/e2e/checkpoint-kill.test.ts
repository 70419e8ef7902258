// Checkpoints, recovery and exactly-once, end to end on the word count:
// - worker threads killed while checkpoints run every 100 ms: output exactly once;
// - at-least-once mode with killed workers: nothing lost;
import t from 'tap';
import { runJob } from '../../src/index.js';
import type { JobEvent } from '../../src/index.js';
import { tempDir } from '../helpers/checkpoints.js';
import { multipliedCorpus, readWordCountOutput, referenceCounts, wordcountJobJs as wordcountJob, wrongWords } from '../helpers/wordcount.js';

t.test('6 killed worker threads (every 1 s) during checkpoints every 100 ms: the output holds every count exactly once', async (t) => {
  // The job must outlive the kill period: two copies (3.6 M words) and a kill every 1 s.
  // A kill waits for a checkpoint of its attempt (killWorkerAfterCheckpoint): by the clock
  // alone, a loaded CI machine once took longer than 1 s to its first checkpoint in every
  // attempt, and no restart had a checkpoint to restore. At most 6 kills: unlimited, a
  // loaded machine restarted it 16 times in 35 s.
  const input = multipliedCorpus(2, (fn) => t.teardown(fn));
  const out = tempDir(t, 'ck-out');
  const events: JobEvent[] = [];
  const result = await runJob(wordcountJob, {
    parallelism: 2,
    checkpointDir: tempDir(t, 'ck'),
    checkpointIntervalMs: 100,
    killWorkerEveryMs: 1000,
    killWorkerAfterCheckpoint: true,
    killWorkerLimit: 6,
    restartStrategy: 'fixed-delay:attempts=1000,delay=50ms',
    onEvent: (e) => events.push(e),
    args: ['--input', input, '--output', out],
  }).result;
  t.ok(result.restarts >= 1, `${result.restarts} restarts after killed workers`);
  t.ok(events.some((e) => e.type === 'restored'), 'a restart restored a checkpoint');
  t.ok(result.checkpoints.length >= 3, `${result.checkpoints.length} checkpoints completed`);
  const reference = referenceCounts(input);
  const output = readWordCountOutput(out);
  t.equal(output.malformed, 0);
  t.same(wrongWords(output, reference, true).slice(0, 5), [], 'every count 1..n exactly once');
  t.equal(output.lines, [...reference.values()].reduce((a, b) => a + b, 0), 'one line per input word');
});

t.test('at-least-once mode with killed workers loses nothing', async (t) => {
  // One copy (1.8 M words), 5 kills at most, 700 ms apart.
  const input = multipliedCorpus(1, (fn) => t.teardown(fn));
  const out = tempDir(t, 'alo-out');
  const result = await runJob(wordcountJob, {
    parallelism: 2,
    checkpointDir: tempDir(t, 'alo-ck'),
    checkpointIntervalMs: 100,
    checkpointMode: 'at-least-once',
    killWorkerEveryMs: 700,
    killWorkerLimit: 5,
    restartStrategy: 'fixed-delay:attempts=1000,delay=50ms',
    args: ['--input', input, '--output', out],
  }).result;
  t.ok(result.restarts >= 1, `${result.restarts} restarts`);
  const output = readWordCountOutput(out);
  t.same(wrongWords(output, referenceCounts(input), false).slice(0, 5), [], 'every count 1..n at least once');
});


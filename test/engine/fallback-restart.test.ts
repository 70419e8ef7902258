// A restart within the process whose newest checkpoint turned out damaged (issue 13, item
// 7): a subtask fails once checkpoints have completed, the newest one's _metadata gets a
// flipped byte while the job waits to restart, and the restart falls back to an older one.
// The file sink and collect() take back what they published after it (exactly once); a
// user sink without rollback() fails the job with the one-line refusal (that the option
// lets it proceed is tested through the CLI, test/e2e/checkpoint-fallback).
import t from 'tap';
import type { Test } from 'tap';
import { readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { runJob, UsageError } from '../../src/index.js';
import type { JobEvent, JobResult } from '../../src/index.js';
import { completedCheckpoints, flipByte, tempDir, waitFor } from '../helpers/checkpoints.js';
import { countsOf, multipliedCorpus, readWordCountOutput, referenceCounts, wrongWords } from '../helpers/wordcount.js';

const job = new URL('../jobs/fallback-wordcount.js', import.meta.url).pathname;

/**
 * Runs the word count into `sinks` until two checkpoints completed, then makes a subtask
 * fail; at the restart the newest checkpoint is damaged. Resolves with the result (or the
 * rejection) and the events.
 */
async function runWithFallback(t: Test, sinks: string) {
  const input = multipliedCorpus(1, (fn) => t.teardown(fn), 35);
  const out = tempDir(t, 'fallback-restart-out');
  const ck = tempDir(t, 'fallback-restart-ck');
  const marker = join(tempDir(t, 'fallback-marker'), 'fail');
  const events: JobEvent[] = [];
  let damaged: number | undefined;
  const handle = runJob(job, {
    parallelism: 2,
    checkpointDir: ck,
    checkpointIntervalMs: 100,
    retainedCheckpoints: 3,
    restartStrategy: 'fixed-delay:attempts=5,delay=300ms',
    args: ['--input', input, '--output', out, '--sink', sinks, '--fail-once-when', marker],
    onEvent: (event) => {
      events.push(event);
      // The subtasks are gone, the restart waits: damage the newest checkpoint now.
      if (event.type === 'restarting' && damaged === undefined) {
        damaged = completedCheckpoints(ck).at(-1)!;
        const metadata = join(ck, readdirSync(ck)[0]!, `chk-${damaged}`, '_metadata');
        flipByte(metadata, Math.floor(readFileSync(metadata).length / 2));
      }
    },
  });
  t.ok(await waitFor(() => completedCheckpoints(ck).length >= 2, 60_000), 'two checkpoints completed');
  writeFileSync(marker, '');
  const outcome = await handle.result.then(
    (result: JobResult) => ({ result, error: undefined }),
    (error: Error) => ({ result: undefined, error }),
  );
  return { ...outcome, events, input, out, damaged: damaged!, jobId: handle.jobId };
}

t.test('file sink and collect(): a restart that falls back past the damaged newest checkpoint writes every count exactly once', async (t) => {
  const { result, error, events, input, out, damaged } = await runWithFallback(t, 'text,collect');
  t.equal(error, undefined, `the job finished (${error?.message})`);
  t.ok(result !== undefined && result.restarts >= 1, 'it restarted');
  const fell = events.find((e) => e.type === 'fell-back');
  t.ok(fell?.type === 'fell-back' && fell.checkpointIds.includes(damaged) && fell.restoredCheckpointId! < damaged && fell.duplicates.length === 0, `fell back past ${damaged}`);
  const reference = referenceCounts(input);
  const total = [...reference.values()].reduce((a, b) => a + b, 0);
  const parts = readWordCountOutput(out);
  t.same(wrongWords(parts, reference, true).slice(0, 5), [], 'part files: every count 1..n exactly once');
  t.equal(parts.lines, total);
  // collect() released the records of the checkpoints after the restored one: cut back.
  const pairs = (result?.collected.counts ?? []).map((l) => (l as string).split('\t')).map(([w, c]) => [w!, Number(c)] as const);
  t.same(wrongWords({ parts: [], counts: countsOf(pairs), lines: pairs.length, malformed: 0 }, reference, true).slice(0, 5), [], 'collect(): every count 1..n exactly once');
  t.equal(pairs.length, total);
});

t.test('a user sink without rollback(): the restart fails with the one-line refusal (no restart can fix it)', async (t) => {
  const refused = await runWithFallback(t, 'ledger');
  t.ok(refused.error instanceof UsageError, 'a UsageError');
  t.match(
    refused.error?.message,
    new RegExp(
      `^Cannot fall back past checkpoint ${refused.damaged} \\(damaged\\) of job ${refused.jobId} to checkpoint \\d+: sink "Ledger" \\(uid ledger\\) has no rollback\\(\\) to take back what it published after checkpoint \\d+, so the replay would duplicate it; pass allowDuplicatesOnFallback to accept duplicates$`,
    ),
  );
  t.equal(refused.events.filter((e) => e.type === 'restarting').length, 1, 'one restart was tried, and it refused');
});

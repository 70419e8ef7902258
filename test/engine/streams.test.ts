// The source and sink APIs end to end through runJob: final results at the end of input,
// the final checkpoint (FLIP-147), terminal states, and cancel. (A user source and sink
// through killed workers: test/e2e/user-source-sink.test.ts, without coverage.)
import t from 'tap';
import { existsSync, mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { runJob, JobCancelledError, UsageError } from '../../src/index.js';
import type { JobEvent, RunJobOptions } from '../../src/index.js';
import { readJobStatus } from '../../src/checkpoint/index.js';
import { tempDir, waitFor } from '../helpers/checkpoints.js';

const streams = new URL('../jobs/streams.js', import.meta.url);

function run(scenario: string, params: unknown, options: RunJobOptions = {}) {
  return runJob(streams, { parallelism: 2, ...options, args: [scenario, JSON.stringify(params)] });
}

/** Every line of every file in `dir` (committed parts only: no hidden files). */
function lines(dir: string, filter: (name: string) => boolean = (n) => !n.startsWith('.')): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir)
    .filter(filter)
    .flatMap((name) => readFileSync(join(dir, name), 'utf8').split('\n').filter((l) => l !== ''));
}

t.test('endInput emits one final result per key, once, on both backends, with and without checkpoints', async (t) => {
  const n = 10_000;
  const keys = 37;
  const expected = Array.from({ length: keys }, (_, k) => [k, Math.floor(n / keys) + (k < n % keys ? 1 : 0)]);
  for (const stateBackend of ['hashmap', 'lsm'] as const) {
    const collected = await run('final-counts', { n, keys }, { stateBackend }).result;
    t.same((collected.collected.collect as number[][]).sort((a, b) => a[0]! - b[0]!), expected, `${stateBackend}: collected, no checkpoints`);
    const output = tempDir(t, 'final-out');
    const checkpointDir = tempDir(t, 'final-ck');
    const result = await run('final-counts', { n, keys, output }, { stateBackend, checkpointDir, checkpointIntervalMs: 60_000 }).result;
    const written = lines(output).map((l) => JSON.parse(l) as number[]);
    t.same(written.sort((a, b) => a[0]! - b[0]!), expected, `${stateBackend}: every part committed by the final checkpoint`);
    t.same(lines(output, (name) => name.startsWith('.')), [], 'no hidden part left');
    t.equal(result.checkpoints.length, 1, 'one checkpoint: the final one, taken at once (the interval is a minute)');
    t.equal(readJobStatus(checkpointDir, result.jobId)?.state, 'FINISHED', 'the terminal state is recorded');
  }
});

t.test('--resume of a FINISHED job refuses with one line and writes nothing', async (t) => {
  const output = tempDir(t, 'finished-out');
  const checkpointDir = tempDir(t, 'finished-ck');
  const first = await run('final-counts', { n: 1000, keys: 5, output }, { checkpointDir, checkpointIntervalMs: 100 }).result;
  const before = JSON.stringify(listTree(checkpointDir)) + JSON.stringify(listTree(output));
  const again = run('final-counts', { n: 1000, keys: 5, output }, { checkpointDir, checkpointIntervalMs: 100, resume: true });
  await t.rejects(again.result, UsageError);
  await again.result.catch((e: Error) =>
    t.match(e.message, new RegExp(`^Nothing to resume: job ${first.jobId} in .* has FINISHED \\(at \\d{4}-.*\\); start it again without resume$`)),
  );
  t.equal(JSON.stringify(listTree(checkpointDir)) + JSON.stringify(listTree(output)), before, 'nothing written');
});

t.test('cancel: state CANCELED, no hidden file in the output, committed parts stay; --resume continues', async (t) => {
  const output = tempDir(t, 'cancel-out');
  const checkpointDir = tempDir(t, 'cancel-ck');
  const handle = run('unbounded-generator', { output, rate: 20_000 }, { checkpointDir, checkpointIntervalMs: 100 });
  t.ok(await waitFor(() => lines(output).length > 0 && (handle.metrics().checkpoints?.length ?? 0) >= 3, 30_000), 'parts committed while it runs');
  handle.cancel();
  await t.rejects(handle.result, JobCancelledError);
  t.same(readdirSync(output).filter((n) => n.startsWith('.')), [], 'no in-progress or pending file left');
  t.equal(readJobStatus(checkpointDir, handle.jobId)?.state, 'CANCELED');
  const committed = lines(output).map(Number);
  t.ok(committed.length > 0);
  // A canceled job can be resumed (its checkpoints are retained), unlike a finished one.
  const resumed = run('unbounded-generator', { output, rate: 20_000 }, { checkpointDir, checkpointIntervalMs: 100, resume: true });
  t.equal(resumed.jobId, handle.jobId, 'the same job goes on');
  t.ok(await waitFor(() => (resumed.metrics().checkpoints?.length ?? 0) >= 2, 30_000));
  await resumed.stop(tempDir(t, 'cancel-sp'));
  await resumed.result;
  const all = lines(output).map(Number).sort((a, b) => a - b);
  const duplicates = all.filter((x, i) => i > 0 && all[i - 1] === x);
  t.same(duplicates.slice(0, 5), [], 'no record twice across cancel and resume');
  // Unbounded generator at parallelism 2: subtask k emits k, k+2, ...; each stream has no gap.
  for (const k of [0, 1]) {
    const stream = all.filter((x) => x % 2 === k);
    t.same(stream.slice(0, 3), [k, k + 2, k + 4], `stream ${k} starts at ${k}`);
    t.ok(stream.every((x, i) => x === k + 2 * i), `stream ${k} has no gap (${stream.length} records)`);
  }
});

t.test('a commit that fails in the job master on a restore fails that attempt; the restart commits again', async (t) => {
  const output = tempDir(t, 'flaky-out');
  mkdirSync(output, { recursive: true });
  writeFileSync(join(output, 'fail-map-once'), '');
  writeFileSync(join(output, 'fail-master-commit-once'), '');
  const events: JobEvent[] = [];
  const n = 100_000;
  const result = await run(
    'flaky-commit',
    { n, output },
    { checkpointDir: tempDir(t, 'flaky-ck'), checkpointIntervalMs: 50, restartStrategy: 'fixed-delay:attempts=5,delay=10ms', onEvent: (e) => events.push(e) },
  ).result;
  const causes = events.flatMap((e) => (e.type === 'restarting' ? [e.cause] : []));
  t.equal(causes.length, 2, 'two restarts');
  t.match(causes[0], /injected failure at \d+/);
  t.match(causes[1], /Sink "Ledger" \(uid ledger\) could not commit \d+ committables in the job master: the ledger is busy \(injected\)/);
  t.equal(result.restarts, 2);
  const ids = lines(join(output, 'committed')).map((l) => (JSON.parse(l) as { id: number }).id).sort((a, b) => a - b);
  t.equal(ids.length, n, 'every record');
  t.ok(ids.every((id, i) => id === i), 'once each');
});

t.test('addSink: rich and plain sink functions get every record; after a failure at least once', async (t) => {
  const n = 5000;
  const all = Array.from({ length: n }, (_, i) => i);
  const sorted = (xs: number[]) => [...xs].sort((a, b) => a - b);
  const read = (dir: string, prefix: string) => lines(dir, (name) => name.startsWith(prefix)).map(Number);
  const plainRun = tempDir(t, 'fn-sink');
  await run('function-sink', { n, output: plainRun, failAt: -1 }).result;
  t.same(sorted(read(plainRun, 'rich-')), all, 'rich function: every record once (open named a file per subtask)');
  t.same(readdirSync(plainRun).filter((f) => f.startsWith('rich-')).sort(), ['rich-0', 'rich-1'], 'one file per subtask');
  t.same(sorted(read(plainRun, 'plain')), all, 'plain function: every record once');
  const failing = tempDir(t, 'fn-sink-fail');
  writeFileSync(join(failing, 'fail-once'), '');
  const result = await run('function-sink', { n, output: failing, failAt: 4000 }, { checkpointDir: tempDir(t, 'fn-ck'), checkpointIntervalMs: 20, restartStrategy: 'fixed-delay:attempts=3,delay=10ms' }).result;
  t.equal(result.restarts, 1);
  const seen = new Set(read(failing, 'plain'));
  t.ok(all.every((x) => seen.has(x)), 'nothing lost after the restart (records may repeat: at-least-once)');
});

function listTree(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { recursive: true, withFileTypes: false }).map(String).sort();
}

// Savepoints through the runtime API (issue 5), on a job with every kind of state: source
// splits, operator list state (even split and union) and keyed state. Stopped with a
// savepoint at parallelism 2, resumed at 1 and 3: across both runs every key's running
// count is 1..n exactly once, and the list state is redistributed as Flink does. Then the
// documented errors: a uid the job lost, a changed max parallelism, the wrong state
// backend, and a path that is not a savepoint. Heap state rescales too.
import t from 'tap';
import type { Test as Tap } from 'tap';
import { runJob } from '../../src/index.js';
import type { RunJobOptions } from '../../src/index.js';
import { tempDir, waitFor } from '../helpers/checkpoints.js';

const scenarios = new URL('../jobs/scenarios.js', import.meta.url);
/** The job's TypeScript source: its workers load the engine's worker bundle (graph/compile-job.ts). */
const scenariosTs = new URL('../../../test/jobs/scenarios.ts', import.meta.url);
const n = 40_000;
const keys = 97;

interface Restored {
  restoredBy: number;
  split: string[];
  union: string[];
}

function start(params: Record<string, unknown>, options: RunJobOptions, job: URL = scenarios) {
  return runJob(job, { parallelism: 2, ...options, args: ['savepoint', JSON.stringify({ n, ...params })] });
}

/** Runs the scenario at parallelism 2 and stops it with a savepoint in the middle. */
async function stopped(t: Tap, options: RunJobOptions = {}, job: URL = scenarios) {
  const handle = start({}, { checkpointDir: tempDir(t, 'sp-ck'), savepointDir: tempDir(t, 'sp'), ...options }, job);
  const tallied = (): number => handle.metrics().operators.find((o) => o.uid === 'tally')?.recordsIn ?? 0;
  // Every tally subtask has had records (so each announced, and each reader holds its split).
  const everySubtaskTallied = (): boolean => {
    const subtasks = handle.metrics().subtasks.filter((s) => s.operators.some((o) => o.uid === 'tally'));
    return subtasks.length === 2 && subtasks.every((s) => s.operators.find((o) => o.uid === 'tally')!.recordsIn > 0);
  };
  t.ok(await waitFor(() => tallied() > 2000 && everySubtaskTallied(), 60_000), 'the first run is under way');
  const savepoint = await handle.stop();
  const result = await handle.result;
  t.equal(result.savepoint, savepoint);
  const counts = (result.collected.counts ?? []) as Array<[number, number]>;
  t.ok(counts.length > 0 && counts.length < n, `stopped in the middle (${counts.length} of ${n} records)`);
  return { savepoint, counts, restored: (result.collected.restored ?? []) as Restored[] };
}

/** Keys whose running counts over `counts` are not 1..n_k exactly once. */
function wrongKeys(counts: Array<[number, number]>): string[] {
  const seen = new Map<number, number[]>();
  for (const [k, c] of counts) (seen.get(k) ?? seen.set(k, []).get(k)!).push(c);
  const wrong: string[] = [];
  for (let k = 0; k < keys; k++) {
    const expected = Math.floor((n - 1 - k) / keys) + 1;
    const got = (seen.get(k) ?? []).sort((a, b) => a - b);
    if (got.length !== expected || got.some((c, i) => c !== i + 1)) wrong.push(`key ${k}: ${got.length} counts, expected 1..${expected}`);
  }
  return wrong;
}

t.test('stopped with a savepoint at parallelism 2, resumed at 1 and 3: keyed, split and list state all carry over', async (t) => {
  const first = await stopped(t);
  // A subtask announces on its first record; a slow worker may have had none by the stop.
  t.ok(first.restored.length > 0 && first.restored.every((r) => r.split.length === 0 && r.union.length === 0), `the first run restored nothing: ${JSON.stringify(first.restored)}`);
  for (const parallelism of [1, 3]) {
    const events: string[] = [];
    const result = await start({}, { parallelism, fromSavepoint: first.savepoint, onEvent: (e) => e.type === 'restored-savepoint' && events.push(...e.rescaled) }).result;
    const counts = [...first.counts, ...((result.collected.counts ?? []) as Array<[number, number]>)];
    t.same(wrongKeys(counts).slice(0, 3), [], `parallelism ${parallelism}: every key's counts 1..n exactly once across both runs`);
    t.same(events.sort(), ['count', 'numbers', 'tally'], `parallelism ${parallelism}: keyed state, splits and lists were redistributed`);
    const restored = ((result.collected.restored ?? []) as Restored[]).sort((a, b) => a.restoredBy - b.restoredBy);
    t.same(restored.flatMap((r) => r.split).sort(), ['t0', 't1'], `parallelism ${parallelism}: each even-split item went to exactly one subtask`);
    if (parallelism === 3) t.same(restored.map((r) => r.split), [['t0'], ['t1']], 'split in order: old subtask i to new subtask i (the third subtask got none, and no input)');
    for (const r of restored) t.same([...r.union].sort(), ['t0', 't1'], `parallelism ${parallelism}: subtask ${r.restoredBy} got the whole union list`);
  }
});

t.test('a TypeScript job (workers on the engine\'s worker bundle) stopped with a savepoint at parallelism 2 resumes at 3 exactly once', async (t) => {
  const first = await stopped(t, {}, scenariosTs);
  const result = await start({}, { parallelism: 3, fromSavepoint: first.savepoint }, scenariosTs).result;
  t.same(wrongKeys([...first.counts, ...((result.collected.counts ?? []) as Array<[number, number]>)]).slice(0, 3), [], "every key's counts 1..n exactly once across both runs");
});

t.test('a failure after the stop savepoint completed ends the job stopped, not restarted past the savepoint', async (t) => {
  const events: string[] = [];
  const handle = start({ failOnClose: true }, { checkpointDir: tempDir(t, 'sp-ck'), savepointDir: tempDir(t, 'sp'), onEvent: (e) => events.push(e.type) });
  const tallied = (): number => handle.metrics().operators.find((o) => o.uid === 'tally')?.recordsIn ?? 0;
  t.ok(await waitFor(() => tallied() > 2000, 60_000), 'the first run is under way');
  const savepoint = await handle.stop();
  const result = await handle.result;
  t.equal(result.savepoint, savepoint, 'the job ended stopped with that savepoint');
  t.equal(result.restarts, 0, 'no restart past the savepoint');
  t.ok(events.includes('failed-after-stop'), 'the failure during shutdown is reported');
  const counts = (result.collected.counts ?? []) as Array<[number, number]>;
  t.ok(counts.length < n, 'stopped in the middle');
  const resumed = await start({}, { fromSavepoint: savepoint }).result;
  t.same(wrongKeys([...counts, ...((resumed.collected.counts ?? []) as Array<[number, number]>)]).slice(0, 3), [], 'resumed from it: exact counts, no duplicates');
});

t.test('a restore that cannot map the state fails with the documented message, and loses nothing', async (t) => {
  const { savepoint } = await stopped(t);
  const renamed = await start({ countUid: 'counter' }, { fromSavepoint: savepoint }).result.catch((e: Error) => e);
  t.match(renamed, {
    name: 'UsageError',
    message: new RegExp(
      `^Cannot restore savepoint ${savepoint.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}: it holds state of operator uid "count", which this job does not have\\. ` +
        'Give that operator its uid again \\(\\.uid\\("count"\\)\\), or pass allowNonRestoredState',
    ),
  });
  const dropped: string[] = [];
  const allowed = await start({ countUid: 'counter' }, { fromSavepoint: savepoint, allowNonRestoredState: true, onEvent: (e) => e.type === 'restored-savepoint' && dropped.push(...e.dropped) }).result;
  t.same(dropped, ['count'], '--allow-non-restored-state drops only the lost operator\'s state');
  t.ok(((allowed.collected.counts ?? []) as unknown[]).length > 0, 'and the job runs on from the savepoint');
  const maxP = await start({}, { fromSavepoint: savepoint, maxParallelism: 256 }).result.catch((e: Error) => e);
  t.match(maxP, { name: 'UsageError', message: /operator "count" has max parallelism 128 there and 256 in this job\. Max parallelism \(the number of key groups\) is fixed .*: run with maxParallelism 128/ });
  const backend = await start({}, { fromSavepoint: savepoint, stateBackend: 'hashmap' }).result.catch((e: Error) => e);
  t.match(backend, { name: 'UsageError', message: /operator "count" has keyed state of the lsm state backend; run with stateBackend lsm/ });
  const notSavepoint = await start({}, { fromSavepoint: tempDir(t, 'empty') }).result.catch((e: Error) => e);
  t.match(notSavepoint, { name: 'UsageError', message: /is not a savepoint folder \(it holds neither _metadata nor files\/\)/ });
});

t.test('heap (hashmap) keyed state restores at the same and at another parallelism, by key groups', async (t) => {
  const { savepoint, counts } = await stopped(t, { stateBackend: 'hashmap' });
  for (const parallelism of [2, 3]) {
    const result = await start({}, { parallelism, stateBackend: 'hashmap', fromSavepoint: savepoint }).result;
    const wrong = wrongKeys([...counts, ...((result.collected.counts ?? []) as Array<[number, number]>)]);
    t.same(wrong.slice(0, 3), [], `parallelism ${parallelism}: exact counts (${wrong.length} keys wrong)`);
  }
});

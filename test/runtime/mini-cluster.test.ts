// MiniCluster (runtime/mini-cluster.ts): jobs deploy onto threads kept across jobs. Checked
// end to end against a reference computed here: the jobs' output is exactly that of the
// same jobs under runJob, their records ran on the cluster's threads and no other, the
// threads outlive each job (Node's diagnostic report lists the live worker threads) and
// end with close(), jobs run one at a time in submission order, a killed thread is
// replaced and the job stays exactly once, and every misuse is refused with a message.
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import t from 'tap';
import { MiniCluster, UsageError, UserFunctionError } from '../../src/index.js';
import type { JobResult } from '../../src/index.js';

const threadTags = fileURLToPath(new URL('../jobs/thread-tags.js', import.meta.url));
const scenarios = fileURLToPath(new URL('../jobs/scenarios.js', import.meta.url));
const slowMainLoad = fileURLToPath(new URL('../jobs/slow-main-load.js', import.meta.url));
// The TypeScript example: its workers load the engine's worker bundle, not task/worker.js.
const wordcount = fileURLToPath(new URL('../../../examples/wordcount.ts', import.meta.url));

function liveWorkers(): number {
  return (process.report.getReport() as unknown as { workers: unknown[] }).workers.length;
}

/** thread-tags' lines `key<TAB>count<TAB>source thread<TAB>keyed thread`, parsed. */
function tagged(result: JobResult): Array<{ key: number; count: number; threads: number[] }> {
  return (result.collected['tagged'] as string[]).map((line) => {
    const [key, count, source, keyed] = line.split('\t').map(Number);
    return { key: key!, count: count!, threads: [source!, keyed!] };
  });
}

/** The rolling counts thread-tags must emit for 0..n-1 by n % keys: per key, 1..its share, each once. */
function expectedCounts(n: number, keys: number): string[] {
  const out: string[] = [];
  for (let k = 0; k < keys; k++) for (let c = 1; c <= Math.ceil((n - k) / keys); c++) out.push(`${k}\t${c}`);
  return out.sort();
}

const countsOf = (rows: Array<{ key: number; count: number }>): string[] => rows.map((r) => `${r.key}\t${r.count}`).sort();

/** A seeded text of `words` words over a small vocabulary (xorshift32), and its running counts as the word count writes them. */
function seededText(seed: number, words: number): { text: string; lines: string[] } {
  const vocabulary = ['stream', 'Barrier', 'key', 'WATERMARK', 'window', 'slot', 'timer', 'segment', 'memtable', 'subtask'];
  let x = seed >>> 0 || 1;
  const next = (): number => {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    return x;
  };
  const parts: string[] = [];
  const counts = new Map<string, number>();
  const lines: string[] = [];
  for (let i = 0; i < words; i++) {
    const word = vocabulary[next() % vocabulary.length]!;
    parts.push(word, i % 13 === 12 ? '.\n' : next() % 3 === 0 ? ', ' : ' ');
    const lower = word.toLowerCase();
    const c = (counts.get(lower) ?? 0) + 1;
    counts.set(lower, c);
    lines.push(`${lower}\t${c}`);
  }
  return { text: parts.join(''), lines: lines.sort() };
}

function readParts(dir: string): string[] {
  return readdirSync(dir)
    .filter((f) => f.startsWith('part-'))
    .flatMap((f) => readFileSync(join(dir, f), 'utf8').split('\n'))
    .filter((l) => l !== '')
    .sort();
}

t.test('jobs on a MiniCluster run on its threads, which outlive each job and end with close()', async (t) => {
  const before = liveWorkers();
  const cluster = new MiniCluster({ slots: 4 });
  t.teardown(() => cluster.close());
  const seen: number[][] = [];
  // Parallelism 1 and 2, one thread per subtask: 2 and then 4 slots; then 2 again.
  for (const [i, parallelism] of [1, 2, 1].entries()) {
    const n = 1500 + 250 * i;
    const handle = cluster.runJob(threadTags, { parallelism, slotSharing: false, args: ['--count', String(n), '--keys', '7'] });
    const result = await handle.result;
    await handle.closed;
    const rows = tagged(result);
    t.same(countsOf(rows), expectedCounts(n, 7), `job ${i + 1} (p${parallelism}): every running count once`);
    const threads = new Set(rows.flatMap((r) => r.threads));
    const cluster_ = new Set(cluster.threadIds);
    t.ok([...threads].every((id) => cluster_.has(id)), `job ${i + 1}'s records ran on the cluster's threads (${[...threads].join(',')} of ${[...cluster_].join(',')})`);
    t.equal(liveWorkers(), before + cluster.threadIds.length, `after job ${i + 1}, its threads are alive`);
    seen.push(cluster.threadIds);
  }
  t.equal(seen[0]!.length, 2, 'the first job started the 2 threads it needed');
  t.equal(seen[1]!.length, 4, 'the second needed 4: 2 more');
  t.ok(seen[0]!.every((id) => seen[1]!.includes(id)), 'the second job kept the first job\'s threads');
  t.same(seen[2], seen[1], 'the third job started no thread');
  await cluster.close();
  await cluster.close(); // idempotent
  t.equal(cluster.threadIds.length, 0);
  t.equal(liveWorkers(), before, 'close() ended every thread of the cluster');
  await t.rejects(cluster.runJob(threadTags, { args: ['--count', '10', '--keys', '2'] }).result, { name: 'UsageError', message: /This MiniCluster is closed: start a new one/ });
});

t.test('a TypeScript job after a JavaScript job on the same threads writes the running word counts of its input', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'mini-cluster-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const cluster = new MiniCluster({ slots: 2 });
  t.teardown(() => cluster.close());
  const js = await cluster.runJob(threadTags, { parallelism: 2, args: ['--count', '500', '--keys', '3'] }).result;
  t.same(countsOf(tagged(js)), expectedCounts(500, 3));
  const threads = cluster.threadIds;
  for (const seed of [7, 8]) {
    const { text, lines } = seededText(seed, 4000);
    writeFileSync(join(dir, `text-${seed}.txt`), text);
    const output = join(dir, `out-${seed}`);
    await cluster.runJob(wordcount, { parallelism: 2, stateBackend: 'hashmap', args: ['--input', join(dir, `text-${seed}.txt`), '--output', output] }).result;
    t.same(readParts(output), lines, `seed ${seed}: the running counts of every word`);
  }
  t.same(cluster.threadIds, threads, 'both kinds of job ran on the same two threads');
});

t.test('a job submitted first runs first, even when a job submitted after it loads sooner', async (t) => {
  const cluster = new MiniCluster({ slots: 2 });
  t.teardown(() => cluster.close());
  // The first job's module takes 400 ms to load in the main thread; the second's at once.
  const slow = cluster.runJob(slowMainLoad, { parallelism: 1 });
  const quick = cluster.runJob(threadTags, { parallelism: 1, args: ['--count', '300', '--keys', '3'] });
  const [a, b] = await Promise.all([slow.result, quick.result]);
  t.same(a.collected['numbers'], Array.from({ length: 500 }, (_, i) => i + 1));
  t.same(countsOf(tagged(b)), expectedCounts(300, 3));
  const lastOfSlow = Math.max(...a.subtasks.map((s) => s.activeUntil!));
  const firstOfQuick = Math.min(...b.subtasks.map((s) => s.activeSince!));
  t.ok(firstOfQuick >= lastOfSlow, `the second job started (${firstOfQuick}) after the first ended (${lastOfSlow})`);
});

t.test('jobs submitted together run one after another, in submission order', async (t) => {
  const cluster = new MiniCluster({ slots: 2 });
  t.teardown(() => cluster.close());
  // 1200 records at 4000/s: each job runs for about 0.3 s.
  const handles = [0, 1, 2].map(() => cluster.runJob(threadTags, { parallelism: 1, args: ['--count', '1200', '--keys', '4', '--rate', '4000'] }));
  const results = await Promise.all(handles.map((h) => h.result));
  for (const r of results) t.same(countsOf(tagged(r)), expectedCounts(1200, 4));
  const spans = results.map((r) => ({
    first: Math.min(...r.subtasks.map((s) => s.activeSince!)),
    last: Math.max(...r.subtasks.map((s) => s.activeUntil!)),
  }));
  for (let i = 1; i < spans.length; i++) {
    t.ok(spans[i]!.first >= spans[i - 1]!.last, `job ${i + 1} started (${spans[i]!.first}) after job ${i} ended (${spans[i - 1]!.last})`);
  }
});

t.test('a job cancelled while it waits for the cluster ends at once; the jobs around it run', async (t) => {
  const cluster = new MiniCluster({ slots: 2 });
  t.teardown(() => cluster.close());
  // 3000 records at 3000/s: the first job holds the threads for about a second.
  const first = cluster.runJob(threadTags, { parallelism: 1, args: ['--count', '3000', '--keys', '4', '--rate', '3000'] });
  const waiting = cluster.runJob(threadTags, { parallelism: 1, args: ['--count', '100', '--keys', '4'] });
  const third = cluster.runJob(threadTags, { parallelism: 1, args: ['--count', '200', '--keys', '4'] });
  let firstDone = false;
  void first.result.then(() => (firstDone = true));
  // Cancelled once its module is loaded and it waits (the first job is running by then).
  while (first.metrics().subtasks.every((s) => s.recordsOut === 0)) await new Promise((resolve) => setTimeout(resolve, 10));
  t.equal(waiting.metrics().subtasks.length, 0, 'the second job is not deployed: it waits for the threads');
  waiting.cancel();
  await t.rejects(waiting.result, { name: 'JobCancelledError' });
  t.equal(firstDone, false, 'the cancelled job ended before the job it waited for');
  t.same(countsOf(tagged(await first.result)), expectedCounts(3000, 4));
  t.same(countsOf(tagged(await third.result)), expectedCounts(200, 4), 'the job after the cancelled one ran');
});

t.test('a thread killed by fault injection is replaced, the job stays exactly once, and the cluster runs the next job', async (t) => {
  const ck = mkdtempSync(join(tmpdir(), 'mini-cluster-ck-'));
  t.teardown(() => rmSync(ck, { recursive: true, force: true }));
  const cluster = new MiniCluster({ slots: 2 });
  t.teardown(() => cluster.close());
  const warm = await cluster.runJob(threadTags, { parallelism: 2, args: ['--count', '200', '--keys', '2'] }).result;
  t.same(countsOf(tagged(warm)), expectedCounts(200, 2));
  const threadsBefore = cluster.threadIds;
  let restored = 0;
  const result = await cluster.runJob(threadTags, {
    parallelism: 2,
    checkpointDir: ck,
    checkpointIntervalMs: 100,
    restartStrategy: 'fixed-delay:attempts=10,delay=0',
    killWorkerEveryMs: 300,
    killWorkerLimit: 2,
    killWorkerAfterCheckpoint: true,
    args: ['--count', '6000', '--keys', '5', '--rate', '6000'],
    onEvent: (e) => {
      if (e.type === 'restored') restored++;
    },
  }).result;
  t.equal(result.restarts, 2, 'two kills, two restarts');
  t.equal(restored, 2);
  t.same(countsOf(tagged(result)), expectedCounts(6000, 5), 'every running count exactly once across the restarts');
  t.ok(
    cluster.threadIds.some((id) => !threadsBefore.includes(id)),
    `a killed thread was replaced by a new one (${threadsBefore.join(',')} before, ${cluster.threadIds.join(',')} after)`,
  );
  const next = await cluster.runJob(threadTags, { parallelism: 2, args: ['--count', '800', '--keys', '2'] }).result;
  t.same(countsOf(tagged(next)), expectedCounts(800, 2), 'the next job runs on the cluster');
});

t.test('a failed job gives its threads back: the next one runs', async (t) => {
  const cluster = new MiniCluster({ slots: 1 });
  t.teardown(() => cluster.close());
  await t.rejects(cluster.runJob(scenarios, { parallelism: 1, slotSharing: true, stateBackend: 'hashmap', args: ['blame', JSON.stringify({ n: 3000, mapThrowAt: 2345 })] }).result, UserFunctionError);
  // Slot sharing puts each job's subtasks in one slot: one thread.
  const next = await cluster.runJob(threadTags, { parallelism: 1, slotSharing: true, args: ['--count', '300', '--keys', '3'] }).result;
  t.same(countsOf(tagged(next)), expectedCounts(300, 3));
  t.equal(cluster.threadIds.length, 1);
});

t.test('misuse is refused with a message that says what to do', async (t) => {
  t.throws(() => new MiniCluster({ slots: 0 }), new UsageError('MiniCluster slots must be an integer from 1 to 32768, got 0'));
  t.throws(() => new MiniCluster({ slots: 1.5 }), { name: 'UsageError' });
  const cluster = new MiniCluster({ slots: 2 });
  t.teardown(() => cluster.close());
  await t.rejects(cluster.runJob(threadTags, { parallelism: 3, slotSharing: false, args: ['--count', '10', '--keys', '2'] }).result, {
    name: 'UsageError',
    message: 'The job needs 6 worker threads (slots) and the MiniCluster has 2: start it with { slots: 6 } or lower the job\'s parallelism',
  });
  await t.rejects(cluster.runJob(threadTags, { parallelism: 1, workerMemoryMb: 256, args: ['--count', '10', '--keys', '2'] }).result, { name: 'UsageError', message: /workerMemoryMb does not apply to a job on a MiniCluster/ });
  t.equal(cluster.threadIds.length, 0, 'a refused job started no thread');
  // The refusals released the cluster: a job after them runs.
  const ok = await cluster.runJob(threadTags, { parallelism: 2, args: ['--count', '100', '--keys', '2'] }).result;
  t.same(countsOf(tagged(ok)), expectedCounts(100, 2));
});

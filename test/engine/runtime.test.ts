// Jobs run on real worker threads and rings; each result is checked against a plain
// computation of the same thing (the model).
import t from 'tap';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runJob, UsageError, UserFunctionError } from '../../src/index.js';
import type { RunJobOptions } from '../../src/index.js';
import { seededRandom, testSeed } from '../helpers/random.js';

const scenarios = new URL('../jobs/scenarios.js', import.meta.url);

function run(scenario: string, params: unknown, options: RunJobOptions = {}) {
  return runJob(scenarios, { parallelism: 2, ...options, args: [scenario, JSON.stringify(params)] }).result;
}

const sortNumbers = (xs: unknown[]) => (xs as number[]).slice().sort((a, b) => a - b);

t.test('map, filter and rebalance match the same work on an array', async (t) => {
  const seed = testSeed(7);
  const random = seededRandom(seed);
  const items = Array.from({ length: 5000 }, () => Math.floor(random() * 1e6));
  for (const parallelism of [1, 3]) {
    const result = await run('map-filter', { items, parallelism });
    const expected = items.map((x) => x * 3).filter((x) => x % 2 === 0).map((x) => x + 1);
    t.same(sortNumbers(result.collected.collect!), sortNumbers(expected), `parallelism ${parallelism} (seed ${seed})`);
    const mapOp = result.operators.find((o) => o.uid === 'map-3')!;
    t.equal(mapOp.recordsIn, expected.length, 'records in of the rebalanced map');
    t.equal(mapOp.parallelism, parallelism);
  }
});

t.test('keyed rolling sum: per key, the emitted totals are the prefix sums of that key', async (t) => {
  for (const [sources, parallelism, keys] of [[1, 1, 3], [2, 2, 7], [3, 2, 50]] as const) {
    const n = 20000;
    const result = await run('keyed-sum', { n, keys, sources, parallelism });
    const out = result.collected.collect as number[];
    t.equal(out.length, n, `one output per input (sources ${sources}, parallelism ${parallelism})`);
    // Group outputs by key: a total's key is unknown, so rebuild from the model instead:
    const modelTotals = new Map<number, number>();
    for (let x = 1; x <= n; x++) modelTotals.set(x % keys, (modelTotals.get(x % keys) ?? 0) + x);
    const finals = [...modelTotals.values()].sort((a, b) => a - b);
    const outSet = new Set(out);
    t.ok(finals.every((f) => outSet.has(f)), 'every key reaches its full total');
    t.ok(Math.max(...out) === finals[finals.length - 1], 'no total beyond the largest key total');
  }
});

t.test('sum(position) keeps the key field and sums the position, per key', async (t) => {
  const n = 3000;
  const keys = 11;
  const result = await run('keyed-sum-field', { n, keys });
  const last = new Map<string, number>();
  const seen = new Map<string, number>();
  for (const [k, v] of result.collected.collect as [string, number][]) {
    if (v < (last.get(k) ?? 0)) t.fail(`totals of ${k} never shrink: ${v} after ${last.get(k)}`);
    last.set(k, v);
    seen.set(k, (seen.get(k) ?? 0) + 1);
  }
  for (let k = 0; k < keys; k++) {
    let total = 0;
    let count = 0;
    for (let i = k; i < n; i += keys) {
      total += i;
      count++;
    }
    t.equal(last.get(`k${k}`), total, `k${k} total`);
    t.equal(seen.get(`k${k}`), count, `k${k} emits once per record`);
  }
});

t.test('every keyed state type in a process function agrees with a Map model', async (t) => {
  const n = 4000;
  const keys = 37;
  for (const parallelism of [1, 2]) {
    const result = await run('all-states', { n, keys }, { parallelism });
    const model = new Map<string, { count: number; recent: number[]; distinct: Set<number>; sum: number }>();
    const expectedLast = new Map<string, unknown[]>();
    for (let i = 0; i < n; i++) {
      const key = `key-${(i * 7919) % keys}`;
      const value = (i * 31) % 97;
      const m = model.get(key) ?? { count: 0, recent: [], distinct: new Set<number>(), sum: 0 };
      m.count++;
      m.recent = [...m.recent, value].slice(-3);
      m.distinct.add(value % 5);
      m.sum += value;
      model.set(key, m);
      expectedLast.set(key, [key, m.count, m.recent, m.distinct.size, m.sum, m.sum / m.count]);
    }
    t.equal(result.collected.collect!.length, n, 'one digest per record');
    const lastByKey = new Map<string, unknown[]>();
    for (const row of result.collected.collect as unknown[][]) {
      const prev = lastByKey.get(row[0] as string);
      if (prev === undefined || (row[1] as number) > (prev[1] as number)) lastByKey.set(row[0] as string, row);
    }
    t.equal(lastByKey.size, keys, `all keys seen (parallelism ${parallelism})`);
    for (const [key, expected] of expectedLast) t.same(lastByKey.get(key), expected, `${key} (parallelism ${parallelism})`);
  }
});

t.test('keyed reduce on objects emits the running count per word', async (t) => {
  const words = 'a b a c b a'.split(' ');
  const result = await run('reduce', { words });
  const got = (result.collected.collect as { word: string; n: number }[]).map((r) => `${r.word}${r.n}`).sort();
  t.same(got, ['a1', 'a2', 'a3', 'b1', 'b2', 'c1']);
});

t.test('union, broadcast and flatMap deliver every record the expected number of times', async (t) => {
  const n = 1000;
  const result = await run('union-broadcast', { n });
  const both = sortNumbers(result.collected.both!);
  const expected: number[] = [];
  for (let i = 1; i <= n; i++) expected.push(i, i, -i, -i);
  t.same(both, sortNumbers(expected), 'each record of both inputs reaches both subtasks');
  t.same((result.collected.chars as string[]).sort(), ['x', 'y', 'y']);
});

t.test('a full ring blocks the producer (backpressure) and loses nothing', async (t) => {
  const n = 30000;
  const result = await run('backpressure', { n, spin: 400 }, { ringSizeBytes: 4096, batchSize: 64 });
  t.same(sortNumbers(result.collected.collect!), Array.from({ length: n }, (_, i) => i + 1));
  const source = result.subtasks.find((s) => s.vertex.startsWith('Sequence Source'))!;
  t.ok(source.backpressuredMs > 0, `the source was blocked on the full ring for ${source.backpressuredMs.toFixed(1)} ms`);
});

t.test('text files are read line by line across subtasks', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'sluice-text-job-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const words: string[] = [];
  for (let f = 0; f < 5; f++) {
    const lines = Array.from({ length: 200 }, (_, i) => `w${f}_${i} x${i % 3}`);
    for (const l of lines) words.push(...l.split(' '));
    writeFileSync(join(dir, `f${f}.txt`), `${lines.join('\n')}\n`);
  }
  const result = await run('text', { input: dir });
  t.same((result.collected.collect as string[]).sort(), words.sort());
});

t.test('a throwing user function fails the job with operator, subtask, record and stack', async (t) => {
  const error = await run('fail-map', { n: 10000, failAt: 7777 }).catch((e: unknown) => e);
  t.type(error, UserFunctionError);
  const failure = (error as UserFunctionError).failure;
  t.equal(failure.operatorName, 'Exploding map');
  t.equal(failure.operatorUid, 'map-1');
  t.equal(failure.subtaskIndex, 1, 'record 7777 is read by the second sequence subtask');
  t.equal(failure.record, '7777');
  t.match(failure.position, /sequence index 7777/);
  t.match((error as Error).message, /Operator "Exploding map" \(uid map-1\) failed in subtask 2\/2 on record 7777 .*RangeError: boom at 7777/);
  t.match((error as Error).stack, /Caused by: RangeError: boom at 7777\n\s+at /);
});

t.test('a key selector returning an object fails with a message naming the key', async (t) => {
  const error = await run('fail-key', {}).catch((e: unknown) => e);
  t.match((error as Error).message, /Cannot hash key \{"a":1\}/);
});

t.test('bad job modules and options are usage errors naming the value and the fix', async (t) => {
  const missing = await runJob('/nonexistent/job.ts').result.catch((e: unknown) => e);
  t.type(missing, UsageError);
  t.match((missing as Error).message, /Job module \/nonexistent\/job.ts does not exist/);
  const noDefault = await runJob(new URL('../jobs/no-default.js', import.meta.url)).result.catch((e: unknown) => e);
  t.match((noDefault as Error).message, /has no default export made with defineJob\(\)/);
  const badParallelism = await runJob(scenarios, { parallelism: 0 }).result.catch((e: unknown) => e);
  t.match((badParallelism as Error).message, /parallelism must be an integer from 1 to 32768, got 0/);
  const badRing = await runJob(scenarios, { ringSizeBytes: 5000 }).result.catch((e: unknown) => e);
  t.match((badRing as Error).message, /ringSizeBytes must be a power of two, got 5000/);
  const missingInput = await run('text', { input: '/nonexistent/corpus' }).catch((e: unknown) => e);
  t.match((missingInput as Error).message, /Input \/nonexistent\/corpus does not exist: check the job's input path/);
});

t.test('a worker that runs out of memory fails its subtask with a message, not the process', async (t) => {
  const error = await runJob(scenarios, { parallelism: 1, workerMemoryMb: 64, args: ['oom', '{}'] }).result.catch((e: unknown) => e);
  t.match((error as Error).message, /Subtask .*Hoarding map.* failed: OutOfMemory: the worker ran out of memory \(workerMemoryMb 64 MiB\): raise workerMemoryMb,/);
});

t.test('a job whose plan differs between threads is refused', async (t) => {
  const error = await run('nondeterministic', {}).catch((e: unknown) => e);
  t.match((error as Error).message, /built a different plan in a worker than in the main thread: job definitions must be deterministic/);
});

t.test('cancel() stops a running job and rejects its result', async (t) => {
  const handle = runJob(scenarios, { parallelism: 1, args: ['backpressure', JSON.stringify({ n: 5e7, spin: 10 })] });
  await new Promise((resolve) => setTimeout(resolve, 1500));
  handle.cancel();
  const error = await handle.result.catch((e: unknown) => e);
  t.match((error as Error).name, 'JobCancelledError');
});

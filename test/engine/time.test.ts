// Event time end to end through runJob: timestamps travel with records through chains
// and rings, watermarks through the rings, event-time timers fire once each in timestamp
// order with the watermark past them, the maximum watermark at the end of input fires the
// rest before endInput, processing-time timers fire from the clock, side outputs are
// streams, and bad timestamps or timers without a key fail with the operator named.
import t from 'tap';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { runJob, UsageError, UserFunctionError } from '../../src/index.js';
import type { RunJobOptions } from '../../src/index.js';
import { tempDir, waitFor } from '../helpers/checkpoints.js';
import { seededRandom, testSeed } from '../helpers/random.js';

const timeJob = new URL('../jobs/time.js', import.meta.url);

function run(scenario: string, params: unknown, options: RunJobOptions = {}) {
  return runJob(timeJob, { parallelism: 2, ...options, args: [scenario, JSON.stringify(params)] });
}

function lines(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir)
    .filter((n) => !n.startsWith('.'))
    .flatMap((name) => readFileSync(join(dir, name), 'utf8').split('\n').filter((l) => l !== ''));
}

/** Every timer `key<TAB>ts` of events i = 0..n-1 (key i % keys, time i), delay `delay`. */
function expectedFirings(n: number, keys: number, delay: number): string[] {
  return Array.from({ length: n }, (_, i) => `k${i % keys}\t${i + delay}`).sort();
}

t.test('event-time timers: each fires once, after the watermark passed it, with its time as the record timestamp; both backends', async (t) => {
  const n = 3000;
  const keys = 7;
  for (const stateBackend of ['hashmap', 'lsm'] as const) {
    // ~1.5 s of input at 2000/s: periodic watermarks (every 50 ms) fire timers mid-stream.
    const result = await run('generated-timers', { n, keys, delay: 5, rate: 2000, outOfOrder: 3 }, { stateBackend }).result;
    const fired = result.collected.collect as string[];
    t.same(fired.map((l) => l.split('\t').slice(0, 2).join('\t')).sort(), expectedFirings(n, keys, 5), `${stateBackend}: every timer once`);
    t.ok(fired.every((l) => l.endsWith('\ttrue\ttrue')), `${stateBackend}: fired at a watermark >= its time, records stamped with it`);
    // Within one subtask the firings follow the timestamps.
    const times = fired.map((l) => Number(l.split('\t')[1]));
    const byKeyOrdered = [...new Set(fired.map((l) => l.split('\t')[0]!))].every((k) => {
      const ts = fired.filter((l) => l.startsWith(`${k}\t`)).map((l) => Number(l.split('\t')[1]));
      return ts.every((x, i) => i === 0 || x > ts[i - 1]!);
    });
    t.ok(byKeyOrdered, `${stateBackend}: per key in timestamp order (${times.length} firings)`);
  }
});

t.test('at the end of input the maximum watermark fires every remaining timer, then endInput runs', async (t) => {
  const events = [
    { key: 'a', t: 10 },
    { key: 'b', t: 5 },
    { key: 'a', t: 1_000_000 },
  ];
  const result = await run('end-input-after-timers', { events }, { parallelism: 1 }).result;
  const out = result.collected.collect as string[];
  const timers = out.filter((l) => l.startsWith('timer'));
  const ends = out.filter((l) => l.startsWith('end'));
  t.same(timers, ['timer b 6', 'timer a 11', 'timer a 1000001'], 'timers in timestamp order, the last one only by the final watermark');
  t.same(ends.sort(), ['end a 2', 'end b 1']);
  t.ok(out.indexOf(ends[0]!) > out.indexOf(timers.at(-1)!), 'endInput after the final watermark\'s timers');
});

t.test('processing-time timers fire from the clock while the job runs, and never after it ended', async (t) => {
  // Parallelism 1: every key in one subtask, so no key waits on another thread's start-up.
  const handle = run('processing-timers', { keys: 3, rate: 500, delay: 100 }, { parallelism: 1, checkpointDir: tempDir(t, 'proc-ck') });
  t.ok(await waitFor(() => (handle.metrics().operators.find((o) => o.uid === 'proc')?.recordsOut ?? 0) >= 15, 30_000), 'timers fired while running');
  await handle.stop(tempDir(t, 'proc-sp'));
  const result = await handle.result;
  const fired = result.collected.collect as Array<[string, number, boolean, string, boolean]>;
  t.ok(fired.length >= 15, `${fired.length} firings`);
  t.ok(fired.every(([, , due, domain, noTs]) => due && domain === 'PROCESSING_TIME' && noTs), 'each at or after its time, domain PROCESSING_TIME, output without a timestamp');
  for (const key of ['k0', 'k1', 'k2']) {
    const ts = fired.filter((f) => f[0] === key).map((f) => f[1]);
    t.ok(ts.length >= 2 && ts.every((x, i) => i === 0 || x === ts[i - 1]! + 100), `${key}: a timer every 100 ms (${ts.length})`);
  }
});

t.test('side outputs: bad records routed aside, shuffled and written like any stream', async (t) => {
  const good = tempDir(t, 'side-good');
  const bad = tempDir(t, 'side-bad');
  const n = 5000;
  await run('side-outputs', { n, badEvery: 10, good, bad }).result;
  const expectGood = Array.from({ length: n }, (_, i) => i).filter((i) => i % 10 !== 0);
  const expectBad = Array.from({ length: n }, (_, i) => i).filter((i) => i % 10 === 0).map((i) => `rejected ${-i - 1}`);
  t.same(lines(good).map(Number).sort((a, b) => a - b), expectGood, 'main output');
  t.same(lines(bad).sort(), expectBad.sort(), 'side output, through a keyBy');
});

t.test('bad input: a timestamp assigner returning NaN, a timer on a non-keyed stream', async (t) => {
  const nan = run('bad-timestamps', {}).result;
  await t.rejects(nan, UsageError);
  await nan.catch((e: Error) => t.match(e.message, /^The timestamp assigner of "Stamp events" returned NaN for record \{"key":"b","t":"NaN"\}: it must return ms since the epoch as a finite number$/));
  const unkeyed = run('timer-without-key', {}).result;
  await t.rejects(unkeyed, UserFunctionError);
  await unkeyed.catch((e: Error) => t.match(e.message, /Operator "Unkeyed timers" .* TypeError: Timers of "Unkeyed timers" need a keyed stream: a timer belongs to a key, so call keyBy\(\) before process\(\)/));
});

t.test('metrics: each subtask\'s current input watermark and event-time lag while the job runs', async (t) => {
  const handle = run('generated-timers', { n: 8000, keys: 5, delay: 1, rate: 2000 });
  const keyed = () => handle.metrics().subtasks.filter((s) => s.operators.some((o) => o.uid === 'timers'));
  t.ok(await waitFor(() => keyed().some((s) => (s.currentInputWatermark ?? -1) > 100), 30_000), 'the keyed subtasks see the watermark advance');
  const s = keyed().find((x) => x.currentInputWatermark !== undefined)!;
  t.ok(Math.abs(s.eventTimeLagMs! - (Date.now() - s.currentInputWatermark!)) < 5_000, 'lag = now - watermark');
  const sources = handle.metrics().subtasks.filter((x) => x.operators.some((o) => o.uid === 'events'));
  t.ok(sources.every((x) => x.currentInputWatermark === undefined), 'a source without a strategy has no watermark of its own');
  await handle.result;
});

t.test('watermarks through random job shapes: no record arrives behind the watermark, every timer fires once at its watermark (seeded)', async (t) => {
  const seed = testSeed(77);
  const random = seededRandom(seed);
  const int = (lo: number, hi: number) => lo + Math.floor(random() * (hi - lo + 1));
  for (let c = 0; c < 6; c++) {
    const sources = Array.from({ length: int(1, 2) }, () => ({ n: int(0, 1) === 0 ? int(1, 4) : int(200, 900), p: int(1, 3), stride: int(1, 5), ...(random() < 0.5 ? { idleMs: 50 } : {}) }));
    const params = { sources, keys: int(1, 9), middle: ['none', 'rebalance', 'keyBy'][int(0, 2)], pMiddle: int(1, 3), pFinal: int(1, 3), rate: 3000 };
    const result = await run('random-dag', params, { parallelism: 1 }).result;
    const out = result.collected.collect as unknown[][];
    const late = out.filter((r) => r[0] === 'late');
    const timers = out.filter((r) => r[0] === 'timer');
    const expectedTimers = new Set<string>();
    sources.forEach((src, k) => {
      for (let i = 0; i < src.n; i++) expectedTimers.add(`k${(i * 7 + k) % params.keys}@${i * src.stride}`);
    });
    const what = `seed ${seed} case ${c}: ${JSON.stringify(params)}`;
    t.same(late.slice(0, 3), [], `no late record (${what})`);
    t.same(timers.map((r) => `${r[1]}@${r[2]}`).sort(), [...expectedTimers].sort(), `every timer once (${what})`);
    t.ok(timers.every((r) => r[3] === true), `each at a watermark at or past it (${what})`);
  }
});

t.test('fromSource with a strategy: watermarks per split, so a split fast in event time makes no slow split\'s record late', async (t) => {
  const perSplit = await run('split-watermarks', { splits: 4, n: 400 }, { parallelism: 2 }).result;
  const out = perSplit.collected.collect as unknown[][];
  t.same(out.filter((r) => r[0] === 'late').slice(0, 3), [], 'per-split watermarks: no late record');
  t.equal(out.filter((r) => r[0] === 'timer').length, new Set(Array.from({ length: 4 }, (_, k) => Array.from({ length: 400 }, (_, i) => `k${i % 5}@${i * (k + 1)}`)).flat()).size, 'every timer once');
  // The same reader through its single output: the fast split's watermark overtakes the slow one.
  const single = await run('split-watermarks', { splits: 4, n: 400, perSplit: false }, { parallelism: 2 }).result;
  t.ok((single.collected.collect as unknown[][]).some((r) => r[0] === 'late'), 'one output for all splits: records come late');
});

t.test('processing-time timers never fire after the job ended', async (t) => {
  const started = Date.now();
  const result = await run('bounded-processing-timers', { delay: 60_000 }, { parallelism: 1 }).result;
  const out = result.collected.collect as unknown[][];
  t.equal(out.filter((r) => r[0] === 'registered').length, 3);
  t.same(out.filter((r) => r[0] === 'fired'), [], 'none fired');
  t.ok(Date.now() - started < 60_000, 'the job did not wait for them');
});

t.test('processing-time timers that came due while the job was stopped fire right after the restore', async (t) => {
  const checkpointDir = tempDir(t, 'proc-restore-ck');
  const params = { keys: 3, rate: 50, delay: 1500 };
  const first = run('processing-timers-restore', params, { checkpointDir });
  t.ok(await waitFor(() => (first.metrics().operators.find((o) => o.uid === 'proc')?.recordsOut ?? 0) >= 3, 30_000), 'a timer registered per key');
  await first.stop(tempDir(t, 'proc-restore-sp'));
  const stopped = await first.result;
  const registered = (stopped.collected.collect as unknown[][]).filter((r) => r[0] === 'registered');
  t.equal(registered.length, 3);
  t.same((stopped.collected.collect as unknown[][]).filter((r) => r[0] === 'fired'), [], 'stopped before they were due');
  // The job is down past every timer's time (the restore below takes longer anyway).
  const due = Math.max(...registered.map((r) => r[2] as number));
  await new Promise((resolve) => setTimeout(resolve, Math.max(0, due - Date.now())));
  const second = run('processing-timers-restore', params, { checkpointDir: tempDir(t, 'proc-restore-ck2'), fromSavepoint: stopped.savepoint! });
  t.ok(await waitFor(() => (second.metrics().operators.find((o) => o.uid === 'proc')?.recordsOut ?? 0) >= 3, 30_000), 'fired after the restore');
  await second.stop(tempDir(t, 'proc-restore-sp2'));
  const fired = ((await second.result).collected.collect as unknown[][]).filter((r) => r[0] === 'fired');
  t.same(fired.map((r) => r[1]).sort(), ['k0', 'k1', 'k2'], 'each key\'s timer once');
  t.ok(fired.every((r) => (r[3] as number) >= (r[2] as number)), 'at or after its time');
  t.same(fired.map((r) => r[2]).sort(), registered.map((r) => r[2]).sort(), 'the restored timers, not new ones');
});

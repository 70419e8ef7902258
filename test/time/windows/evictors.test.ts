// CountEvictor keeps the last maxCount elements; TimeEvictor keeps those newer than
// (newest timestamp - window); each acts before the window function, or after it with
// doEvictAfter, never both. Against filters over random windows (arrival order kept,
// duplicates and negative timestamps, elements without a timestamp). Seeded; replay with
// SLUICE_SEED=<seed>.
import t from 'tap';
import { CountEvictor, GlobalWindow, TimeEvictor, TimeWindow } from '../../../src/time/windows/index.js';
import type { Evictor, EvictorContext, TimestampedValue, Window } from '../../../src/time/windows/index.js';
import { seededRandom, testSeed } from '../../helpers/random.js';
import { randomInt } from './random-windows.js';

const ctx: EvictorContext = { getCurrentProcessingTime: () => 0, getCurrentWatermark: () => 0 };
const w = new TimeWindow(-100, 100);

function randomElements(random: () => number, withoutTimestamps: boolean): TimestampedValue<number>[] {
  return Array.from({ length: randomInt(random, 0, 12) }, (_, i) => ({
    value: i,
    timestamp: withoutTimestamps && random() < 0.2 ? Number.NaN : randomInt(random, -50, 50),
  }));
}

/** Runs before and after on a copy; returns what each left. */
function run(evictor: Evictor<unknown, Window>, elements: TimestampedValue<number>[]): { before: number[]; after: number[] } {
  const before = [...elements];
  evictor.evictBefore(before, before.length, w, ctx);
  const after = [...elements];
  evictor.evictAfter(after, after.length, w, ctx);
  return { before: before.map((e) => e.value), after: after.map((e) => e.value) };
}

t.test('CountEvictor keeps the last maxCount arrivals, before or (doEvictAfter) after', async (t) => {
  const seed = testSeed(601);
  const random = seededRandom(seed);
  for (let i = 0; i < 3000; i++) {
    const elements = randomElements(random, true);
    const maxCount = randomInt(random, 0, 14);
    const doEvictAfter = random() < 0.5;
    const all = elements.map((e) => e.value);
    const kept = all.slice(Math.max(0, all.length - maxCount));
    const expected = doEvictAfter ? { before: all, after: kept } : { before: kept, after: all };
    const got = run(CountEvictor.of(maxCount, doEvictAfter), elements);
    if (JSON.stringify(got) !== JSON.stringify(expected)) return void t.same(got, expected, `seed ${seed} case ${i}: CountEvictor.of(${maxCount}, ${doEvictAfter})`);
  }
  t.pass('3000 random windows');
});

t.test('TimeEvictor keeps elements newer than newest - window, before or (doEvictAfter) after', async (t) => {
  const seed = testSeed(602);
  const random = seededRandom(seed);
  for (let i = 0; i < 3000; i++) {
    // The first element has a timestamp (else the evictor does nothing, tested below); later ones may not.
    const elements = randomElements(random, true).map((e, j) => (j === 0 && Number.isNaN(e.timestamp) ? { ...e, timestamp: 0 } : e));
    const windowMs = randomInt(random, 0, 60);
    const doEvictAfter = random() < 0.5;
    const newest = Math.max(...elements.map((e) => e.timestamp).filter((ts) => !Number.isNaN(ts)));
    const all = elements.map((e) => e.value);
    const kept = elements.filter((e) => Number.isNaN(e.timestamp) || e.timestamp > newest - windowMs).map((e) => e.value);
    const expected = doEvictAfter ? { before: all, after: kept } : { before: kept, after: all };
    const got = run(TimeEvictor.of(windowMs, doEvictAfter), elements);
    if (JSON.stringify(got) !== JSON.stringify(expected)) return void t.same(got, expected, `seed ${seed} case ${i}: TimeEvictor.of(${windowMs}, ${doEvictAfter})`);
  }
  t.pass('3000 random windows');
});

t.test('worked examples: the boundary element goes, arrival order is kept, no timestamps means no eviction', async (t) => {
  const els = (...ts: number[]): TimestampedValue<string>[] => ts.map((timestamp, i) => ({ value: `e${i}`, timestamp }));
  const after = (e: Evictor<unknown, Window>, list: TimestampedValue<string>[], window: Window = w): string[] => {
    e.evictBefore(list, list.length, window, ctx);
    return list.map((x) => x.value);
  };
  t.same(after(TimeEvictor.of(10), els(5, 15, 6, 14)), ['e1', 'e2', 'e3'], 'newest 15: 5 = 15 - 10 goes, 6 stays; order kept');
  t.same(after(TimeEvictor.of(0), els(3, 3, 1)), [], 'a zero window keeps nothing (as Flink)');
  t.same(after(TimeEvictor.of(10), els(Number.NaN, 0, 100)), ['e0', 'e1', 'e2'], 'the first element has no timestamp: nothing evicted');
  t.same(after(TimeEvictor.of(10), []), []);
  t.same(after(CountEvictor.of(2), els(1, 2, 3), GlobalWindow.get()), ['e1', 'e2']);
  t.same(after(CountEvictor.of(0), els(1, 2, 3)), []);
  t.same(after(CountEvictor.of(5), els(1, 2)), ['e0', 'e1']);
  const list = els(1, 2, 3);
  const same = list;
  CountEvictor.of(1).evictBefore(list, 3);
  t.equal(list, same, 'evicts in place');
});

t.test('arguments, fields and names', async (t) => {
  for (const bad of [-1, 1.5, Number.NaN, Infinity, '2']) {
    t.throws(() => CountEvictor.of(bad as number), { name: 'RangeError', message: `CountEvictor.of: the count must be an integer >= 0, got ${String(bad)} (how many of the latest elements to keep)` });
  }
  t.throws(() => TimeEvictor.of(-1), new RangeError('TimeEvictor.of: window must be >= 0 ms, got -1 (how much time to keep before the newest element)'));
  for (const bad of [1.5, Number.NaN, Infinity]) t.throws(() => TimeEvictor.of(bad), { name: 'RangeError', message: /^TimeEvictor\.of: window must be a whole number of milliseconds/ });
  t.same([CountEvictor.of(3).maxCount, CountEvictor.of(3).doEvictAfter, CountEvictor.of(3, true).doEvictAfter], [3, false, true]);
  t.same([TimeEvictor.of(7).windowMs, TimeEvictor.of(7, true).doEvictAfter], [7, true]);
  t.equal(CountEvictor.of(3).toString(), 'CountEvictor(3)');
  t.equal(TimeEvictor.of(7).toString(), 'TimeEvictor(7)');
});

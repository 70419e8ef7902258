// TimeWindow and GlobalWindow: the interval arithmetic against brute force (window starts
// for random negative and positive timestamps and offsets; merging against connected
// components of an overlap graph), and the shapes the operator relies on. Seeded; replay
// with SLUICE_SEED.
import t from 'tap';
import { GlobalWindow, TimeWindow } from '../../../src/time/windows/index.js';
import { seededRandom, testSeed } from '../../helpers/random.js';
import { randomInt } from './random-windows.js';

t.test('a TimeWindow is [start, end): maxTimestamp, namespace, equals, toString', async (t) => {
  const w = new TimeWindow(-10, 20);
  t.equal(w.maxTimestamp(), 19);
  t.same(w.namespace(), [-10, 20]);
  t.equal(w.getStart(), -10);
  t.equal(w.getEnd(), 20);
  t.ok(w.equals(new TimeWindow(-10, 20)));
  t.notOk(w.equals(new TimeWindow(-10, 21)));
  t.notOk(w.equals(GlobalWindow.get()));
  t.equal(w.toString(), 'TimeWindow{start=-10, end=20}');
});

t.test('intersects is inclusive at both ends (touching windows intersect), cover spans both', async (t) => {
  const a = new TimeWindow(0, 10);
  t.ok(a.intersects(new TimeWindow(10, 20)), 'touching at the end');
  t.ok(a.intersects(new TimeWindow(-5, 0)), 'touching at the start');
  t.ok(a.intersects(new TimeWindow(3, 4)), 'contained');
  t.notOk(a.intersects(new TimeWindow(11, 20)));
  t.notOk(a.intersects(new TimeWindow(-5, -1)));
  t.same(a.cover(new TimeWindow(15, 30)).namespace(), [0, 30]);
  t.same(new TimeWindow(5, 6).cover(a).namespace(), [0, 10]);
});

t.test('the GlobalWindow is one instance with namespace [] that never ends', async (t) => {
  const g = GlobalWindow.get();
  t.equal(g, GlobalWindow.get());
  t.same(g.namespace(), []);
  t.equal(g.maxTimestamp(), Number.MAX_SAFE_INTEGER);
  t.ok(g.equals(GlobalWindow.get()));
  t.notOk(g.equals(new TimeWindow(0, 1)));
  t.equal(g.toString(), 'GlobalWindow');
});

t.test('getWindowStartWithOffset matches brute force for negative and positive timestamps and offsets', async (t) => {
  const seed = testSeed(7);
  const random = seededRandom(seed);
  for (let i = 0; i < 20_000; i++) {
    const size = randomInt(random, 1, i % 2 === 0 ? 20 : 100_000);
    const offset = randomInt(random, -(size - 1), size - 1);
    const scale = [30, 1e6, 1e12][i % 3]!;
    const timestamp = randomInt(random, -scale, scale);
    // Starts are offset + k * size; exactly one window [start, start + size) holds timestamp.
    const k0 = Math.floor((timestamp - offset) / size);
    const expected = [k0 - 1, k0, k0 + 1].map((k) => offset + k * size).filter((s) => s <= timestamp && timestamp < s + size);
    const got = TimeWindow.getWindowStartWithOffset(timestamp, offset, size);
    if (expected.length !== 1 || got !== expected[0] || Object.is(got, -0)) {
      t.fail(`seed ${seed}: start(${timestamp}, offset ${offset}, size ${size}) = ${got}, expected ${expected.join('|')}`);
      return;
    }
  }
  t.pass('20000 random cases');
});

t.test('mergeWindows calls back once per group of overlapping or touching windows, with their cover', async (t) => {
  const seed = testSeed(11);
  const random = seededRandom(seed);
  for (let round = 0; round < 2000; round++) {
    const windows = Array.from({ length: randomInt(random, 0, 8) }, () => {
      const start = randomInt(random, -50, 50);
      return new TimeWindow(start, start + randomInt(random, 1, 15));
    });
    // Reference: connected components of "intersects" over distinct windows.
    const distinct = windows.filter((w, i) => windows.findIndex((x) => x.equals(w)) === i);
    const component = distinct.map((_, i) => i);
    const find = (i: number): number => (component[i] === i ? i : (component[i] = find(component[i]!)));
    for (let i = 0; i < distinct.length; i++) for (let j = 0; j < i; j++) if (distinct[i]!.intersects(distinct[j]!)) component[find(i)] = find(j);
    const groups = new Map<number, TimeWindow[]>();
    distinct.forEach((w, i) => groups.set(find(i), [...(groups.get(find(i)) ?? []), w]));
    const expected = [...groups.values()]
      .filter((g) => g.length > 1)
      .map((g) => `${g.map(String).sort().join(' ')} => ${g.reduce((a, b) => a.cover(b)).toString()}`)
      .sort();
    const got: string[] = [];
    TimeWindow.mergeWindows(windows, (toMerge, result) => got.push(`${toMerge.map(String).sort().join(' ')} => ${result.toString()}`));
    got.sort();
    if (JSON.stringify(got) !== JSON.stringify(expected)) {
      t.same(got, expected, `seed ${seed} round ${round}: ${windows.join(', ')}`);
      return;
    }
  }
  t.pass('2000 random sets');
});

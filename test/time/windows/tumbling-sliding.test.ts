// Tumbling and sliding assigners against brute force: the windows of time t are all
// [s, s + size) with s = offset (mod slide) and s <= t < s + size, found by trying every
// integer s in (t - size, t]; Flink's order is the latest start first. Event time reads the
// record's timestamp, processing time the context's clock (never the timestamp). Seeded;
// replay with SLUICE_SEED=<seed> npx tap dist/test/time/windows/tumbling-sliding.test.js
import t from 'tap';
import { UsageError } from '../../../src/errors.js';
import {
  EventTimeTrigger,
  ProcessingTimeTrigger,
  SlidingEventTimeWindows,
  SlidingProcessingTimeWindows,
  TimeWindow,
  TumblingEventTimeWindows,
  TumblingProcessingTimeWindows,
  isMergingAssigner,
} from '../../../src/time/windows/index.js';
import { seededRandom, testSeed } from '../../helpers/random.js';
import { clockAt, noClock, randomInt } from './random-windows.js';

/** Mathematical modulo (non-negative for m > 0), unlike JS `%`. */
const mod = (x: number, m: number): number => ((x % m) + m) % m;

/** Every window [s, s + size) with s = offset (mod slide) holding t, latest start first. */
function bruteForce(t: number, size: number, slide: number, offset: number): string[] {
  const out: string[] = [];
  for (let s = t; s > t - size; s--) if (mod(s - offset, slide) === 0) out.push(`[${s},${s + size})`);
  return out;
}

const show = (ws: TimeWindow[]): string[] => ws.map((w) => `[${w.start},${w.end})`);

t.test('sliding windows of random size, slide, offset and timestamp are exactly the brute-force set, latest first', async (t) => {
  const seed = testSeed(101);
  const random = seededRandom(seed);
  const cases = 20_000;
  for (let i = 0; i < cases; i++) {
    const slide = randomInt(random, 1, [5, 60, 400][i % 3]!);
    // Sizes below, equal to, multiples of and above the slide; slides larger than the size leave gaps.
    const size = [randomInt(random, 1, 3 * slide), slide * randomInt(random, 1, 4), randomInt(random, 1, slide)][i % 3]!;
    const offset = randomInt(random, -(slide - 1), slide - 1);
    const scale = [50, 1e9, 2 ** 52][i % 3]!;
    const ts = randomInt(random, -scale, scale);
    const assigner = SlidingEventTimeWindows.of(size, slide, offset);
    const got = show(assigner.assignWindows('x', ts, noClock));
    const expected = bruteForce(ts, size, slide, offset);
    if (JSON.stringify(got) !== JSON.stringify(expected)) {
      t.same(got, expected, `seed ${seed} case ${i}: SlidingEventTimeWindows.of(${size}, ${slide}, ${offset}) at ${ts}`);
      return;
    }
  }
  t.pass(`${cases} random cases`);
});

t.test('tumbling windows are sliding windows with slide = size: one window per timestamp', async (t) => {
  const seed = testSeed(102);
  const random = seededRandom(seed);
  for (let i = 0; i < 20_000; i++) {
    const size = randomInt(random, 1, [7, 300, 3000][i % 3]!);
    const offset = randomInt(random, -(size - 1), size - 1);
    const ts = randomInt(random, -[100, 1e12, 2 ** 52][i % 3]!, [100, 1e12, 2 ** 52][i % 3]!);
    const got = show(TumblingEventTimeWindows.of(size, offset).assignWindows(null, ts, noClock));
    const expected = bruteForce(ts, size, size, offset);
    if (got.length !== 1 || JSON.stringify(got) !== JSON.stringify(expected)) {
      t.same(got, expected, `seed ${seed} case ${i}: TumblingEventTimeWindows.of(${size}, ${offset}) at ${ts}`);
      return;
    }
  }
  t.pass('20000 random cases');
});

t.test('worked examples: days in UTC+8, negative timestamps, gaps between sampled windows', async (t) => {
  const day = 86_400_000;
  const hour = 3_600_000;
  // 2024-01-01T20:00Z is 2024-01-02T04:00 in UTC+8: the day window starts at 2024-01-01T16:00Z.
  const ts = Date.UTC(2024, 0, 1, 20);
  t.same(show(TumblingEventTimeWindows.of(day, -8 * hour).assignWindows(null, ts, noClock)), [`[${Date.UTC(2024, 0, 1, 16)},${Date.UTC(2024, 0, 2, 16)})`]);
  t.same(show(TumblingEventTimeWindows.of(10).assignWindows(null, -1, noClock)), ['[-10,0)'], '-1 is in [-10, 0), not [0, 10)');
  t.same(show(TumblingEventTimeWindows.of(10).assignWindows(null, -10, noClock)), ['[-10,0)']);
  t.same(show(TumblingEventTimeWindows.of(10, 3).assignWindows(null, 2, noClock)), ['[-7,3)']);
  t.same(show(SlidingEventTimeWindows.of(10, 5).assignWindows(null, 7, noClock)), ['[5,15)', '[0,10)']);
  t.same(show(SlidingEventTimeWindows.of(10, 3).assignWindows(null, 0, noClock)), ['[0,10)', '[-3,7)', '[-6,4)', '[-9,1)']);
  t.same(show(SlidingEventTimeWindows.of(2, 5).assignWindows(null, 6, noClock)), ['[5,7)']);
  t.same(show(SlidingEventTimeWindows.of(2, 5).assignWindows(null, 7, noClock)), [], 'a time in the gap of a sampling window gets none');
  t.same(show(SlidingEventTimeWindows.of(10, 5, -2).assignWindows(null, 2, noClock)), ['[-2,8)', '[-7,3)']);
});

t.test('processing-time assigners window by the context clock and ignore the timestamp', async (t) => {
  const seed = testSeed(103);
  const random = seededRandom(seed);
  for (let i = 0; i < 2000; i++) {
    const slide = randomInt(random, 1, 50);
    const size = randomInt(random, 1, 120);
    const now = randomInt(random, -1e6, 1e6);
    const ts = random() < 0.5 ? Number.NaN : randomInt(random, -1e6, 1e6);
    const sliding = show(SlidingProcessingTimeWindows.of(size, slide, slide - 1).assignWindows(null, ts, clockAt(now)));
    const tumbling = show(TumblingProcessingTimeWindows.of(size, -(size - 1)).assignWindows(null, ts, clockAt(now)));
    if (JSON.stringify(sliding) !== JSON.stringify(bruteForce(now, size, slide, slide - 1)) || JSON.stringify(tumbling) !== JSON.stringify(bruteForce(now, size, size, -(size - 1)))) {
      t.fail(`seed ${seed} case ${i}: now ${now}, timestamp ${ts}: sliding ${sliding.join(' ')} tumbling ${tumbling.join(' ')}`);
      return;
    }
  }
  t.pass('2000 random clocks');
});

t.test('event-time assigners refuse a record without a timestamp, telling to assign timestamps', async (t) => {
  for (const a of [TumblingEventTimeWindows.of(10), SlidingEventTimeWindows.of(10, 5)]) {
    t.throws(() => a.assignWindows('x', Number.NaN, noClock), UsageError);
    t.throws(() => a.assignWindows('x', Number.NaN, noClock), { message: new RegExp(`^${a.toString().replace(/[()]/g, '\\$&')} needs event timestamps.*assignTimestampsAndWatermarks\\(\\)`) });
  }
});

t.test('time, triggers, kinds and names of the four assigners', async (t) => {
  const all = [
    [TumblingEventTimeWindows.of(10, 2), true, 'tumbling', 'TumblingEventTimeWindows(10)'],
    [TumblingProcessingTimeWindows.of(10), false, 'tumbling', 'TumblingProcessingTimeWindows(10)'],
    [SlidingEventTimeWindows.of(10, 5), true, 'sliding', 'SlidingEventTimeWindows(10, 5)'],
    [SlidingProcessingTimeWindows.of(10, 5), false, 'sliding', 'SlidingProcessingTimeWindows(10, 5)'],
  ] as const;
  for (const [a, eventTime, kind, name] of all) {
    t.equal(a.isEventTime(), eventTime, `${name} isEventTime`);
    t.type(a.getDefaultTrigger(), eventTime ? EventTimeTrigger : ProcessingTimeTrigger, `${name} default trigger`);
    t.equal(a.kind, kind);
    t.equal(a.toString(), name);
    t.notOk(isMergingAssigner(a), `${name} does not merge`);
  }
  const tumbling = TumblingEventTimeWindows.of(10, -3);
  t.same([tumbling.size, tumbling.slide, tumbling.offset], [10, 10, -3]);
  const sliding = SlidingProcessingTimeWindows.of(10, 4, 1);
  t.same([sliding.size, sliding.slide, sliding.offset], [10, 4, 1]);
});

t.test('windowOf restores a window from its namespace and refuses any other shape', async (t) => {
  const a = SlidingEventTimeWindows.of(10, 5);
  const [w] = a.assignWindows(null, -3, noClock);
  t.ok(a.windowOf(w!.namespace()).equals(w!));
  t.type(a.windowOf([-5, 5]), TimeWindow);
  for (const bad of [[], [1], [5, 5], [6, 5], [0, 1.5], [0, 10, 20], [Number.NaN, 1]]) {
    t.throws(() => a.windowOf(bad), { name: 'RangeError', message: `SlidingEventTimeWindows(10, 5).windowOf: ${JSON.stringify(bad)} is not a time window namespace [start, end] with integer start < end (state written by another assigner?)` });
  }
});

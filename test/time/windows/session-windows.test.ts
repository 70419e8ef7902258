// Session assigners: each element opens [time, time + gap) (gap fixed or from the element),
// and merging all of a key's windows gives its sessions: against a reference that sorts
// the times and starts a new session where the next time is more than the gap after the
// last one (a time exactly gap later touches, and as in Flink, joins). Seeded; replay with
// SLUICE_SEED=<seed> npx tap dist/test/time/windows/session-windows.test.js
import t from 'tap';
import { UsageError } from '../../../src/errors.js';
import {
  DynamicEventTimeSessionWindows,
  DynamicProcessingTimeSessionWindows,
  EventTimeSessionWindows,
  EventTimeTrigger,
  ProcessingTimeSessionWindows,
  ProcessingTimeTrigger,
  TimeWindow,
  isMergingAssigner,
} from '../../../src/time/windows/index.js';
import type { MergingWindowAssigner } from '../../../src/time/windows/index.js';
import { seededRandom, testSeed } from '../../helpers/random.js';
import { clockAt, noClock, randomInt } from './random-windows.js';

/** The sessions `assigner.mergeWindows` makes of `windows`: each merge result, and every window no merge took. */
function sessionsOf(assigner: MergingWindowAssigner<unknown, TimeWindow>, windows: TimeWindow[]): string[] {
  const merged: TimeWindow[] = [];
  const results: TimeWindow[] = [];
  assigner.mergeWindows(windows, (toMerge, result) => {
    merged.push(...toMerge);
    results.push(result);
  });
  const alone = windows.filter((w) => !merged.some((m) => m.equals(w)));
  const distinct = alone.filter((w, i) => alone.findIndex((x) => x.equals(w)) === i);
  return [...results, ...distinct].map(String).sort();
}

t.test('fixed-gap sessions: merging all windows gives the reference sessions', async (t) => {
  const seed = testSeed(201);
  const random = seededRandom(seed);
  for (let round = 0; round < 3000; round++) {
    const gap = randomInt(random, 1, 20);
    const times = Array.from({ length: randomInt(random, 1, 12) }, () => randomInt(random, -100, 100));
    const assigner = EventTimeSessionWindows.withGap(gap);
    const windows = times.flatMap((ts) => assigner.assignWindows('e', ts, noClock));
    if (windows.some((w, i) => w.start !== times[i] || w.end !== times[i]! + gap)) {
      t.fail(`seed ${seed} round ${round}: windows ${windows.join(' ')} for times ${times.join(' ')} gap ${gap}`);
      return;
    }
    const sorted = [...times].sort((a, b) => a - b);
    const expected: string[] = [];
    let first = sorted[0]!;
    for (let i = 1; i <= sorted.length; i++) {
      if (i === sorted.length || sorted[i]! - sorted[i - 1]! > gap) {
        expected.push(new TimeWindow(first, sorted[i - 1]! + gap).toString());
        first = sorted[i]!;
      }
    }
    const got = sessionsOf(assigner, windows);
    if (JSON.stringify(got) !== JSON.stringify(expected.sort())) {
      t.same(got, expected, `seed ${seed} round ${round}: times ${times.join(' ')} gap ${gap}`);
      return;
    }
  }
  t.pass('3000 random keys');
});

t.test('a time exactly one gap after the last joins the session; one ms more starts a new one', async (t) => {
  const a = EventTimeSessionWindows.withGap(10);
  const w = (ts: number): TimeWindow => a.assignWindows(null, ts, noClock)[0]!;
  t.same(sessionsOf(a, [w(0), w(10)]), ['TimeWindow{start=0, end=20}']);
  t.same(sessionsOf(a, [w(0), w(11)]), ['TimeWindow{start=0, end=10}', 'TimeWindow{start=11, end=21}']);
  t.same(sessionsOf(a, [w(-5), w(-5)]), ['TimeWindow{start=-5, end=5}'], 'equal windows are one session');
});

t.test('dynamic gaps: each element gives its own, from a function or an extract method', async (t) => {
  const seed = testSeed(202);
  const random = seededRandom(seed);
  const byFunction = EventTimeSessionWindows.withDynamicGap((e: { gap: number }) => e.gap);
  const byObject = DynamicEventTimeSessionWindows.withDynamicGap({ extract: (e: { gap: number }) => e.gap });
  for (let i = 0; i < 500; i++) {
    const e = { gap: randomInt(random, 1, 1e6) };
    const ts = randomInt(random, -1e9, 1e9);
    for (const a of [byFunction, byObject]) t.same(a.assignWindows(e, ts, noClock).map(String), [new TimeWindow(ts, ts + e.gap).toString()]);
  }
  // Windows of different lengths merge by overlap: [0,5) [3,30) [29,31) [40,41) -> [0,31) and [40,41).
  const elements = [
    { ts: 0, gap: 5 },
    { ts: 3, gap: 27 },
    { ts: 29, gap: 2 },
    { ts: 40, gap: 1 },
  ];
  const windows = elements.flatMap((e) => byFunction.assignWindows(e, e.ts, noClock));
  t.same(sessionsOf(byFunction, windows), ['TimeWindow{start=0, end=31}', 'TimeWindow{start=40, end=41}']);
});

t.test('processing-time sessions open at the clock and ignore the timestamp', async (t) => {
  const fixed = ProcessingTimeSessionWindows.withGap(30);
  t.same(fixed.assignWindows('e', Number.NaN, clockAt(1000)).map(String), ['TimeWindow{start=1000, end=1030}']);
  t.same(fixed.assignWindows('e', 5, clockAt(-7)).map(String), ['TimeWindow{start=-7, end=23}']);
  const dynamic = ProcessingTimeSessionWindows.withDynamicGap((e: number) => e);
  t.type(dynamic, DynamicProcessingTimeSessionWindows);
  t.same(dynamic.assignWindows(4, 99, clockAt(50)).map(String), ['TimeWindow{start=50, end=54}']);
});

t.test('event-time sessions refuse records without a timestamp', async (t) => {
  t.throws(() => EventTimeSessionWindows.withGap(5).assignWindows('e', Number.NaN, noClock), UsageError);
  t.throws(() => EventTimeSessionWindows.withDynamicGap(() => 5).assignWindows('e', Number.NaN, noClock), {
    name: 'UsageError',
    message: /^DynamicEventTimeSessionWindows\(\) needs event timestamps/,
  });
});

t.test('the four session assigners merge, with the right time, trigger and name', async (t) => {
  const all = [
    [EventTimeSessionWindows.withGap(5), true, 'EventTimeSessionWindows(5)'],
    [ProcessingTimeSessionWindows.withGap(5), false, 'ProcessingTimeSessionWindows(5)'],
    [EventTimeSessionWindows.withDynamicGap(() => 5), true, 'DynamicEventTimeSessionWindows()'],
    [ProcessingTimeSessionWindows.withDynamicGap(() => 5), false, 'DynamicProcessingTimeSessionWindows()'],
  ] as const;
  for (const [a, eventTime, name] of all) {
    t.ok(isMergingAssigner(a), `${name} merges`);
    t.equal(a.kind, 'session');
    t.equal(a.isEventTime(), eventTime);
    t.type(a.getDefaultTrigger(), eventTime ? EventTimeTrigger : ProcessingTimeTrigger);
    t.ok(a.getDefaultTrigger().canMerge(), 'the default trigger can merge');
    t.equal(a.toString(), name);
    t.ok(a.windowOf([3, 8]).equals(new TimeWindow(3, 8)));
    t.throws(() => a.windowOf([8, 3]), { name: 'RangeError', message: new RegExp(`^${name.replace(/[()]/g, '\\$&')}\\.windowOf: \\[8,3\\] is not a time window namespace`) });
  }
  t.equal(EventTimeSessionWindows.withGap(5).gap, 5);
});

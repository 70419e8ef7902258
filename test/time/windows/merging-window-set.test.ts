// MergingWindowSet under session windows of random gaps, driven as the window operator
// drives it (contents kept per state window and moved by the merge function), against a
// reference that keeps the merged intervals and their elements. After every step: the
// in-flight windows are the reference intervals and no two would merge; each has its own
// state window holding exactly its elements; the merge function got the merged windows,
// the result's state window and the others' state windows, with the set already updated;
// `changed` says whether the pairs differ from the last persisted ones. Random steps also
// retire windows, persist, and restore from a JSON round trip of `snapshot()`.
// Seeded; replay with SLUICE_SEED=<seed> npx tap dist/test/time/windows/merging-window-set.test.js
import t from 'tap';
import { EventTimeSessionWindows, MergingWindowSet, TimeWindow } from '../../../src/time/windows/index.js';
import type { MergingWindowSetData } from '../../../src/time/windows/index.js';
import { seededRandom, testSeed } from '../../helpers/random.js';
import { noClock, randomInt } from './random-windows.js';

interface Element {
  id: number;
  gap: number;
}
const assigner = EventTimeSessionWindows.withDynamicGap((e: Element) => e.gap);
const key = (w: TimeWindow): string => `[${w.start},${w.end})`;
const sortedPairs = (data: MergingWindowSetData): string => JSON.stringify(data.map((p) => JSON.stringify(p)).sort());

/** The reference: disjoint, non-touching intervals and the elements of each. */
class Sessions {
  readonly intervals = new Map<string, { window: TimeWindow; ids: number[] }>();
  /** Adds `w` with element `id`; returns the session it joined and the intervals it merged. */
  add(w: TimeWindow, id: number): { result: TimeWindow; touched: TimeWindow[] } {
    let cover = w;
    let touched: TimeWindow[] = [];
    for (let grew = true; grew; ) {
      grew = false;
      touched = [...this.intervals.values()].map((s) => s.window).filter((x) => x.intersects(cover));
      const next = touched.reduce((a, b) => a.cover(b), w);
      if (!next.equals(cover)) [cover, grew] = [next, true];
    }
    const ids = touched.flatMap((x) => this.intervals.get(key(x))!.ids);
    for (const x of touched) this.intervals.delete(key(x));
    this.intervals.set(key(cover), { window: cover, ids: [...ids, id] });
    return { result: cover, touched };
  }
}

interface MergeCall {
  mergeResult: TimeWindow;
  mergedWindows: TimeWindow[];
  stateWindowResult: TimeWindow;
  mergedStateWindows: TimeWindow[];
}

t.test('random session windows: the set follows the reference intervals and moves state right', async (t) => {
  const seed = testSeed(701);
  const random = seededRandom(seed);
  let merges = 0;
  let restores = 0;
  for (let run = 0; run < 200; run++) {
    let set = new MergingWindowSet(assigner);
    let persisted = sortedPairs(set.snapshot());
    const ref = new Sessions();
    const contents = new Map<string, number[]>(); // state window -> element ids, as the operator keeps them
    for (let step = 0; step < 60; step++) {
      const where = `seed ${seed} run ${run} step ${step}`;
      const r = random();
      const inFlight = set.windows();
      if (r < 0.08 && inFlight.length > 0) {
        const w = inFlight[randomInt(random, 0, inFlight.length - 1)]!;
        contents.delete(key(set.getStateWindow(w)!));
        set.retireWindow(w);
        ref.intervals.delete(key(w));
      } else if (r < 0.14) {
        set.markPersisted();
        persisted = sortedPairs(set.snapshot());
      } else if (r < 0.2) {
        const data = JSON.parse(JSON.stringify(set.snapshot())) as MergingWindowSetData;
        set = new MergingWindowSet(assigner, data);
        persisted = sortedPairs(set.snapshot());
        restores++;
        if (set.changed) return void t.fail(`${where}: a restored set is changed`);
      } else {
        // A new element; sometimes one whose window is exactly an in-flight window.
        const id = run * 1000 + step;
        const again = r < 0.25 && inFlight.length > 0 ? inFlight[randomInt(random, 0, inFlight.length - 1)] : undefined;
        const ts = again?.start ?? randomInt(random, -60, 60);
        const e: Element = { id, gap: again === undefined ? randomInt(random, 1, 15) : again.end - again.start };
        const w = assigner.assignWindows(e, ts, noClock)[0]!;
        const expected = ref.add(w, id);
        const prevState = new Map(inFlight.map((x) => [key(x), set.getStateWindow(x)]));
        const calls: MergeCall[] = [];
        const result = set.addWindow(w, (mergeResult, mergedWindows, stateWindowResult, mergedStateWindows) => {
          calls.push({ mergeResult, mergedWindows, stateWindowResult, mergedStateWindows });
          if (set.getStateWindow(mergeResult) !== stateWindowResult || mergedWindows.some((m) => !m.equals(mergeResult) && set.getStateWindow(m) !== undefined)) {
            throw new Error(`${where}: the merge function ran before the set was updated`);
          }
          const moved = mergedStateWindows.flatMap((s) => contents.get(key(s)) ?? []);
          for (const s of mergedStateWindows) contents.delete(key(s));
          contents.set(key(stateWindowResult), [...(contents.get(key(stateWindowResult)) ?? []), ...moved]);
        });
        const stateWindow = set.getStateWindow(result)!;
        contents.set(key(stateWindow), [...(contents.get(key(stateWindow)) ?? []), id]);
        if (!result.equals(expected.result)) return void t.equal(key(result), key(expected.result), `${where}: addWindow(${key(w)}) returned`);
        const swallowed = expected.touched.length === 1 && expected.touched[0]!.equals(expected.result);
        const expectedCalls = expected.touched.length === 0 || swallowed ? 0 : 1;
        if (calls.length !== expectedCalls) return void t.equal(calls.length, expectedCalls, `${where}: merge calls for ${key(w)} touching ${expected.touched.map(key).join(' ')}`);
        for (const c of calls) {
          merges++;
          const before = expected.touched.map((x) => key(prevState.get(key(x))!)).sort();
          const others = before.filter((x) => x !== key(c.stateWindowResult));
          const ok =
            c.mergeResult.equals(expected.result) &&
            JSON.stringify(c.mergedWindows.map(key).sort()) === JSON.stringify(expected.touched.map(key).sort()) &&
            before.includes(key(c.stateWindowResult)) &&
            JSON.stringify(c.mergedStateWindows.map(key).sort()) === JSON.stringify(others);
          if (!ok) return void t.fail(`${where}: merge call ${JSON.stringify({ ...c, touched: expected.touched, stateWindowsBefore: before })}`);
        }
      }
      const failure = checkInvariants(set, ref, contents, persisted);
      if (failure !== undefined) return void t.fail(`${where}: ${failure}`);
    }
  }
  t.ok(merges > 1000 && restores > 100, `${merges} merges, ${restores} restores checked`);
});

/** Undefined when the set agrees with the reference and keeps its invariants, else what is wrong. */
function checkInvariants(set: MergingWindowSet<TimeWindow>, ref: Sessions, contents: Map<string, number[]>, persisted: string): string | undefined {
  const windows = set.windows();
  const got = windows.map(key).sort();
  const expected = [...ref.intervals.keys()].sort();
  if (JSON.stringify(got) !== JSON.stringify(expected)) return `in flight ${got.join(' ')}, expected ${expected.join(' ')}`;
  for (const a of windows) for (const b of windows) if (a !== b && a.intersects(b)) return `${key(a)} and ${key(b)} would merge`;
  const stateWindows = windows.map((w) => set.getStateWindow(w)!);
  if (new Set(stateWindows.map(key)).size !== windows.length) return `state windows ${stateWindows.map(key).join(' ')} are not one per window`;
  for (const w of windows) {
    const ids = [...(contents.get(key(set.getStateWindow(w)!)) ?? [])].sort();
    const want = [...ref.intervals.get(key(w))!.ids].sort();
    if (JSON.stringify(ids) !== JSON.stringify(want)) return `${key(w)} holds ${ids.join(',')}, expected ${want.join(',')}`;
  }
  for (const [s, ids] of contents) if (ids.length > 0 && !stateWindows.some((x) => key(x) === s)) return `contents left under ${s}, no window's state window`;
  const changed = sortedPairs(set.snapshot()) !== persisted;
  if (set.changed !== changed) return `changed is ${set.changed}, expected ${changed}`;
  return undefined;
}

t.test('worked cases: alone, extended, bridged, swallowed, added again', async (t) => {
  const set = new MergingWindowSet(EventTimeSessionWindows.withGap(10));
  const calls: string[] = [];
  const record = (r: TimeWindow, merged: TimeWindow[], s: TimeWindow, others: TimeWindow[]): void =>
    void calls.push(`${key(r)} <- ${merged.map(key).join(' ')} state ${key(s)} + ${others.map(key).join(' ')}`);
  const w = (start: number, end: number): TimeWindow => new TimeWindow(start, end);

  t.ok(set.addWindow(w(0, 10), record).equals(w(0, 10)), 'alone: itself');
  t.ok(set.getStateWindow(w(0, 10))!.equals(w(0, 10)), 'its own state window');
  t.ok(set.addWindow(w(5, 15), record).equals(w(0, 15)), 'extended');
  t.ok(set.getStateWindow(w(0, 15))!.equals(w(0, 10)), 'keeps the old state window: no state renamed');
  t.equal(set.getStateWindow(w(0, 10)), undefined, 'the old window is no longer in flight');
  t.ok(set.addWindow(w(30, 40), record).equals(w(30, 40)));
  t.ok(set.addWindow(w(14, 31), record).equals(w(0, 40)), 'bridged');
  t.ok(set.addWindow(w(2, 5), record).equals(w(0, 40)), 'swallowed: the window that holds it');
  t.ok(set.addWindow(w(0, 40), record).equals(w(0, 40)), 'added again');
  t.ok(set.getStateWindow(w(0, 40))!.equals(w(0, 10)), 'adding an in-flight window keeps its state window (Flink would remap it to itself)');
  t.same(calls, ['[0,15) <- [0,10) state [0,10) + ', '[0,40) <- [0,15) [30,40) state [0,10) + [30,40)']);
  t.same(set.windows().map(key), ['[0,40)']);
});

t.test('changed, markPersisted, retireWindow, restore', async (t) => {
  const assignerOf10 = EventTimeSessionWindows.withGap(10);
  const set = new MergingWindowSet(assignerOf10);
  const none = (): void => undefined;
  t.notOk(set.changed, 'a new set');
  set.addWindow(new TimeWindow(0, 10), none);
  t.ok(set.changed);
  set.markPersisted();
  t.notOk(set.changed);
  set.addWindow(new TimeWindow(3, 4), none);
  t.notOk(set.changed, 'a swallowed window changes nothing');
  set.addWindow(new TimeWindow(50, 60), none);
  set.retireWindow(new TimeWindow(50, 60));
  t.notOk(set.changed, 'added and retired again: the pairs are as persisted');
  set.retireWindow(new TimeWindow(0, 10));
  t.ok(set.changed);
  t.same(set.snapshot(), []);
  t.throws(() => set.retireWindow(new TimeWindow(0, 10)), new Error('Window TimeWindow{start=0, end=10} is not in the in-flight window set'));

  const restored = new MergingWindowSet(assignerOf10, [
    [[0, 25], [0, 10]],
    [[40, 50], [40, 50]],
  ]);
  t.notOk(restored.changed);
  t.ok(restored.getStateWindow(new TimeWindow(0, 25))!.equals(new TimeWindow(0, 10)));
  t.same(JSON.parse(JSON.stringify(restored.snapshot())), restored.snapshot(), 'plain data');
  t.throws(() => new MergingWindowSet(assignerOf10, [[[5, 5], [5, 5]]]), { name: 'RangeError', message: /^EventTimeSessionWindows\(10\)\.windowOf: \[5,5\] is not a time window namespace/ });
});

t.test('an assigner that merges windows not in flight is an error naming it', async (t) => {
  const sessions = EventTimeSessionWindows.withGap(10);
  const bogus = Object.assign(Object.create(sessions) as typeof sessions, {
    mergeWindows: (_ws: readonly TimeWindow[], cb: (toMerge: TimeWindow[], result: TimeWindow) => void) => cb([new TimeWindow(100, 110), new TimeWindow(105, 120)], new TimeWindow(100, 120)),
  });
  const set = new MergingWindowSet(bogus);
  t.throws(() => set.addWindow(new TimeWindow(0, 10), () => undefined), new Error('MergingWindowSet: EventTimeSessionWindows(10) merged windows that are not in flight'));
});

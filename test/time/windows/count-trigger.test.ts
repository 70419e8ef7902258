// CountTrigger fires a window at every maxCount-th element since its last firing, keeping
// the count in reducing state "count". Against a reference Map of counts through random
// elements, merges (counts add up; an over-full merged window fires at its next element,
// as Flink) and clears, over several windows; the stored count must equal the reference's
// after every step. Seeded; replay with SLUICE_SEED=<seed>.
import t from 'tap';
import { CountTrigger, GlobalWindow, TimeWindow, TriggerResult } from '../../../src/time/windows/index.js';
import type { Trigger, Window } from '../../../src/time/windows/index.js';
import { seededRandom, testSeed } from '../../helpers/random.js';
import { FakeTriggerContext } from './fake-trigger-context.js';
import { randomInt } from './random-windows.js';

t.test('random elements, merges and clears against a reference of counts', async (t) => {
  const seed = testSeed(401);
  const random = seededRandom(seed);
  for (let run = 0; run < 300; run++) {
    const maxCount = randomInt(random, 1, 6);
    const trigger = CountTrigger.of(maxCount);
    const ctx = new FakeTriggerContext();
    let windows = [0, 1, 2, 3].map((i) => new TimeWindow(i * 100, i * 100 + 10));
    const counts = new Map<string, number>();
    for (let step = 0; step < 80; step++) {
      const r = random();
      const w = windows[randomInt(random, 0, windows.length - 1)]!;
      const where = `seed ${seed} run ${run} step ${step} (maxCount ${maxCount})`;
      if (r < 0.75) {
        const count = (counts.get(w.toString()) ?? 0) + 1;
        const expected = count >= maxCount ? TriggerResult.FIRE : TriggerResult.CONTINUE;
        counts.set(w.toString(), expected === TriggerResult.FIRE ? 0 : count);
        const got = trigger.onElement('e', w.start, w, ctx.forWindow(w));
        if (got !== expected) return void t.equal(got, expected, `${where}: element of ${w}`);
      } else if (r < 0.9 && windows.length > 1) {
        // Merge two windows into a new one covering both, as a session would.
        const [a, b] = [windows[0]!, windows[1]!];
        const merged = new TimeWindow(a.start, b.end + randomInt(random, 0, 5));
        const sum = (counts.get(a.toString()) ?? 0) + (counts.get(b.toString()) ?? 0);
        counts.delete(a.toString());
        counts.delete(b.toString());
        counts.set(merged.toString(), sum);
        trigger.onMerge(merged, ctx.merging(merged, [a, b]));
        windows = [merged, ...windows.slice(2)];
      } else {
        counts.delete(w.toString());
        trigger.clear(w, ctx.forWindow(w));
      }
      for (const x of windows) {
        const stored = ctx.cell(x, 'count');
        const expected = counts.get(x.toString()) || undefined;
        if (stored !== expected) return void t.equal(stored, expected, `${where}: stored count of ${x}`);
      }
      if (ctx.timers.event.size + ctx.timers.processing.size !== 0) return void t.fail(`${where}: CountTrigger set a timer`);
    }
  }
  t.pass('300 random runs');
});

t.test('fires every maxCount elements and resets', async (t) => {
  const trigger = CountTrigger.of(3);
  const g = GlobalWindow.get();
  const ctx = new FakeTriggerContext().forWindow(g);
  const results = Array.from({ length: 7 }, () => trigger.onElement('e', Number.NaN, g, ctx));
  t.same(results, ['CONTINUE', 'CONTINUE', 'FIRE', 'CONTINUE', 'CONTINUE', 'FIRE', 'CONTINUE']);
  t.equal(ctx.cell(g, 'count'), 1);
  const once = CountTrigger.of(1);
  t.same([once.onElement('e', 0, g, ctx), once.onElement('e', 0, g, ctx)], ['FIRE', 'FIRE'], 'of(1) fires on every element');
});

t.test('a merged window whose counts add up past maxCount fires at its next element, not at the merge', async (t) => {
  const trigger = CountTrigger.of(4);
  const [a, b, merged] = [new TimeWindow(0, 10), new TimeWindow(5, 15), new TimeWindow(0, 15)];
  const ctx = new FakeTriggerContext();
  for (let i = 0; i < 3; i++) trigger.onElement('e', 0, a, ctx.forWindow(a));
  for (let i = 0; i < 2; i++) trigger.onElement('e', 5, b, ctx.forWindow(b));
  trigger.onMerge(merged, ctx.merging(merged, [a, b]));
  t.equal(ctx.cell(merged, 'count'), 5);
  t.equal(ctx.cell(a, 'count'), undefined, 'the merged windows keep no count');
  t.equal(trigger.onElement('e', 7, merged, ctx.forWindow(merged)), TriggerResult.FIRE);
  t.equal(ctx.cell(merged, 'count'), undefined);
});

t.test('time never fires it; clear drops the count; it can merge', async (t) => {
  const trigger: Trigger<unknown, Window> = CountTrigger.of(2);
  const w = new TimeWindow(0, 10);
  const ctx = new FakeTriggerContext().forWindow(w);
  trigger.onElement('e', 1, w, ctx);
  t.equal(trigger.onEventTime(9, w, ctx), TriggerResult.CONTINUE);
  t.equal(trigger.onProcessingTime(9, w, ctx), TriggerResult.CONTINUE);
  t.equal(ctx.cell(w, 'count'), 1);
  trigger.clear(w, ctx);
  t.equal(ctx.cell(w, 'count'), undefined);
  t.equal(trigger.onElement('e', 1, w, ctx), TriggerResult.CONTINUE, 'counting starts over');
  t.ok(trigger.canMerge());
  t.equal(trigger.toString(), 'CountTrigger(2)');
  t.equal(CountTrigger.of(2).maxCount, 2);
});

t.test('the count must be an integer >= 1', async (t) => {
  for (const bad of [0, -1, 1.5, Number.NaN, Infinity, 2 ** 53, '3', undefined]) {
    t.throws(() => CountTrigger.of(bad as number), {
      name: 'RangeError',
      message: `CountTrigger.of: the count must be an integer >= 1, got ${String(bad)} (how many elements per firing)`,
    });
  }
});

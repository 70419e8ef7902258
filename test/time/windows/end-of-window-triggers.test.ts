// EventTimeTrigger and ProcessingTimeTrigger fire a window once its clock (watermark, or
// processing time) reaches window.maxTimestamp(). Driven through the fake context's timer
// service with random elements of several tumbling windows and random clock moves, against
// a reference: a window fires exactly once per element burst, when its clock first reaches
// its end; an event-time element arriving with the watermark already there fires at once
// (allowed lateness), a processing-time one fires at the next clock move. Also onMerge,
// clear and the single-call contract. Seeded; replay with SLUICE_SEED=<seed>.
import t from 'tap';
import { EventTimeTrigger, GlobalWindow, ProcessingTimeTrigger, TimeWindow, TriggerResult, TumblingEventTimeWindows } from '../../../src/time/windows/index.js';
import type { Trigger, Window } from '../../../src/time/windows/index.js';
import { seededRandom, testSeed } from '../../helpers/random.js';
import { FakeTriggerContext } from './fake-trigger-context.js';
import type { Domain } from './fake-trigger-context.js';
import { noClock, randomInt } from './random-windows.js';

const kinds: Array<{ domain: Domain; make: () => Trigger<unknown, Window>; name: string }> = [
  { domain: 'event', make: () => EventTimeTrigger.create(), name: 'EventTimeTrigger()' },
  { domain: 'processing', make: () => ProcessingTimeTrigger.create(), name: 'ProcessingTimeTrigger()' },
];
const other = (d: Domain): Domain => (d === 'event' ? 'processing' : 'event');

for (const { domain, make, name } of kinds) {
  const clockOf = (ctx: FakeTriggerContext): number => (domain === 'event' ? ctx.watermark : ctx.processingTime);
  const onTimer = (trigger: Trigger<unknown, Window>, ctx: FakeTriggerContext) => (time: number, w: Window) =>
    domain === 'event' ? trigger.onEventTime(time, w, ctx) : trigger.onProcessingTime(time, w, ctx);

  t.test(`${name}: random elements and clock moves fire each window once when its clock reaches its end`, async (t) => {
    const seed = testSeed(domain === 'event' ? 301 : 302);
    const random = seededRandom(seed);
    const assigner = TumblingEventTimeWindows.of(10);
    for (let run = 0; run < 200; run++) {
      const trigger = make();
      const ctx = new FakeTriggerContext();
      ctx.watermark = ctx.processingTime = randomInt(random, -30, 0);
      const pending = new Map<string, number>(); // window -> maxTimestamp, armed and not yet fired
      const log: string[] = [];
      const expected: string[] = [];
      for (let step = 0; step < 60; step++) {
        if (random() < 0.6) {
          const w = assigner.assignWindows(null, clockOf(ctx) + randomInt(random, -15, 30), noClock)[0]!;
          const result = trigger.onElement('e', w.start, w, ctx.forWindow(w));
          log.push(`element ${w} -> ${result}`);
          const late = domain === 'event' && w.maxTimestamp() <= clockOf(ctx);
          expected.push(`element ${w} -> ${late ? 'FIRE' : 'CONTINUE'}`);
          if (!late) pending.set(w.toString(), w.maxTimestamp());
        } else {
          const to = clockOf(ctx) + randomInt(random, 0, 25);
          for (const f of ctx.advance(domain, to, onTimer(trigger, ctx))) log.push(`timer ${f.time} ${f.window} -> ${f.result}`);
          const due = [...pending].filter(([, max]) => max <= to).sort((a, b) => a[1] - b[1] || (a[0] < b[0] ? -1 : 1));
          for (const [w, max] of due) {
            expected.push(`timer ${max} ${w} -> FIRE`);
            pending.delete(w);
          }
        }
        if (log.length !== expected.length || log.some((l, i) => l !== expected[i]) || ctx.timers[other(domain)].size !== 0 || ctx.cells.size !== 0) {
          t.same(log, expected, `seed ${seed} run ${run} step ${step}`);
          return;
        }
      }
    }
    t.pass('200 random runs');
  });

  t.test(`${name}: one call at a time`, async (t) => {
    const trigger = make();
    const w = new TimeWindow(0, 10);
    const ctx = new FakeTriggerContext().forWindow(w);
    ctx.watermark = ctx.processingTime = 5;
    t.equal(trigger.onElement('e', 3, w, ctx), TriggerResult.CONTINUE);
    t.same(ctx.timersOf(w, domain), [9], 'a timer at maxTimestamp');
    t.equal(trigger.onElement('e', 4, w, ctx), TriggerResult.CONTINUE);
    t.same(ctx.timersOf(w, domain), [9], 'the same timer again');
    t.same(ctx.timersOf(w, other(domain)), []);
    t.equal(domain === 'event' ? trigger.onEventTime(9, w, ctx) : trigger.onProcessingTime(9, w, ctx), TriggerResult.FIRE);
    t.equal(domain === 'event' ? trigger.onProcessingTime(9, w, ctx) : trigger.onEventTime(9, w, ctx), TriggerResult.CONTINUE, 'the other clock never fires it');
    if (domain === 'event') t.equal(trigger.onEventTime(8, w, ctx), TriggerResult.CONTINUE, 'an event timer at another time is not the end');
    trigger.clear(w, ctx);
    t.same(ctx.timersOf(w, domain), [], 'clear deletes the end timer');
    t.ok(trigger.canMerge());
    t.equal(trigger.toString(), name);
  });

  t.test(`${name}: onMerge sets the merged window's end timer unless its clock is already past it`, async (t) => {
    const trigger = make();
    const merged = new TimeWindow(0, 30);
    const parts = [new TimeWindow(0, 12), new TimeWindow(10, 30)];
    const ctx = new FakeTriggerContext();
    for (const p of parts) trigger.onElement('e', p.start, p, ctx.forWindow(p));
    ctx.watermark = ctx.processingTime = 28;
    trigger.onMerge(merged, ctx.merging(merged, parts));
    t.same(ctx.timersOf(merged, domain), [29]);
    t.same(ctx.timersOf(parts[0]!, domain), [11], "the merged windows' timers are the operator's to clear");
    for (const p of parts) trigger.clear(p, ctx.forWindow(p));
    t.same([ctx.timersOf(parts[0]!, domain), ctx.timersOf(parts[1]!, domain)], [[], []]);
    const late = new FakeTriggerContext();
    late.watermark = late.processingTime = 29;
    trigger.onMerge(merged, late.merging(merged, parts));
    t.same(late.timersOf(merged, domain), [], 'no timer when the clock is at the end already');
  });
}

t.test('EventTimeTrigger fires a late element at once, without a timer, from the watermark at maxTimestamp on', async (t) => {
  const trigger = EventTimeTrigger.create();
  const w = new TimeWindow(0, 10);
  for (const [watermark, result] of [
    [8, 'CONTINUE'],
    [9, 'FIRE'],
    [100, 'FIRE'],
  ] as const) {
    const ctx = new FakeTriggerContext().forWindow(w);
    ctx.watermark = watermark;
    t.equal(trigger.onElement('e', 5, w, ctx), result, `watermark ${watermark}`);
    t.same(ctx.timersOf(w, 'event'), result === 'FIRE' ? [] : [9]);
  }
});

t.test('ProcessingTimeTrigger: any processing timer of the window fires it; an element past the end still sets one', async (t) => {
  const trigger: Trigger<unknown, Window> = ProcessingTimeTrigger.create();
  const w = new TimeWindow(0, 10);
  const ctx = new FakeTriggerContext().forWindow(w);
  ctx.processingTime = 50;
  t.equal(trigger.onElement('e', Number.NaN, w, ctx), TriggerResult.CONTINUE, 'no event timestamp needed');
  t.same(ctx.timersOf(w, 'processing'), [9], 'due at once: fires at the next timer turn');
  t.equal(trigger.onProcessingTime(3, w, ctx), TriggerResult.FIRE);
});

t.test('the GlobalWindow ends at Number.MAX_SAFE_INTEGER', async (t) => {
  const g = GlobalWindow.get();
  const ctx = new FakeTriggerContext().forWindow(g);
  EventTimeTrigger.create().onElement('e', 1, g, ctx);
  ProcessingTimeTrigger.create().onElement('e', 1, g, ctx);
  t.same([ctx.timersOf(g, 'event'), ctx.timersOf(g, 'processing')], [[Number.MAX_SAFE_INTEGER], [Number.MAX_SAFE_INTEGER]]);
});

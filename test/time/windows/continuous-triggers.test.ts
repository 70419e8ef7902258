// ContinuousEventTimeTrigger and ContinuousProcessingTimeTrigger fire a window every
// interval of their clock, from the first element's interval boundary (Java's `%`: rounded
// toward zero), capped at window.maxTimestamp(). Driven through the fake timer service with
// random elements and clock moves, against a reference of the fire-time chain; the stored
// "fire-time" and the window's timers are checked after every step. Also onMerge (earliest
// fire time wins), clear, late elements, and no endless re-firing at the window's end.
// Seeded; replay with SLUICE_SEED=<seed>.
import t from 'tap';
import { UsageError } from '../../../src/errors.js';
import { ContinuousEventTimeTrigger, ContinuousProcessingTimeTrigger, TimeWindow, TriggerResult } from '../../../src/time/windows/index.js';
import type { Trigger, Window } from '../../../src/time/windows/index.js';
import { seededRandom, testSeed } from '../../helpers/random.js';
import { FakeTriggerContext } from './fake-trigger-context.js';
import type { Domain } from './fake-trigger-context.js';
import { randomInt } from './random-windows.js';

/**
 * The firings of one window, written as Flink's rule reads: the first on-time element (at
 * time `t0`, its timestamp or the clock) starts the chain first, first + interval, ... of
 * times below maxTimestamp, then maxTimestamp itself, where first = t0 rounded toward zero
 * to a multiple of the interval, plus one interval; each fires when the clock reaches it.
 * After the end: event time keeps the fire time (late elements fire at once), processing
 * time forgets it, so the next element starts a chain again (of just the end, due at once).
 */
class ChainReference {
  chain: number[] = [];
  next = 0;
  constructor(
    readonly window: TimeWindow,
    readonly interval: number,
    readonly domain: Domain,
  ) {}
  get maxTs(): number {
    return this.window.maxTimestamp();
  }
  get active(): boolean {
    return this.next < this.chain.length;
  }
  element(time: number, clock: number): TriggerResult {
    if (this.domain === 'event' && this.maxTs <= clock) return TriggerResult.FIRE;
    if (this.chain.length === 0 || (this.domain === 'processing' && !this.active)) {
      this.chain = [];
      this.next = 0;
      for (let at = Math.trunc(time / this.interval) * this.interval + this.interval; at < this.maxTs; at += this.interval) this.chain.push(at);
      this.chain.push(this.maxTs);
    }
    return TriggerResult.CONTINUE;
  }
  advance(to: number): number[] {
    const fired: number[] = [];
    while (this.active && this.chain[this.next]! <= to) fired.push(this.chain[this.next++]!);
    return fired;
  }
  /** What "fire-time" should hold. */
  stored(): number | undefined {
    if (this.active) return this.chain[this.next];
    return this.domain === 'event' && this.chain.length > 0 ? this.maxTs : undefined;
  }
  /** The window's pending timers: the next fire time, and for event time the end. */
  timers(): number[] {
    if (!this.active) return [];
    return [...new Set([this.chain[this.next]!, ...(this.domain === 'event' ? [this.maxTs] : [])])].sort((a, b) => a - b);
  }
}

const kinds: Array<{ domain: Domain; make: (interval: number) => Trigger<unknown, Window> }> = [
  { domain: 'event', make: (i) => ContinuousEventTimeTrigger.of(i) },
  { domain: 'processing', make: (i) => ContinuousProcessingTimeTrigger.of(i) },
];

for (const { domain, make } of kinds) {
  t.test(`${make(1).toString().replace('(1)', '')}: random elements and clock moves follow the fire-time chain`, async (t) => {
    const seed = testSeed(domain === 'event' ? 501 : 502);
    const random = seededRandom(seed);
    for (let run = 0; run < 400; run++) {
      const interval = randomInt(random, 1, 40);
      const start = randomInt(random, -150, 100);
      const window = new TimeWindow(start, start + randomInt(random, 1, 120));
      const trigger = make(interval);
      const ref = new ChainReference(window, interval, domain);
      const ctx = new FakeTriggerContext().forWindow(window);
      let clock = start - randomInt(random, 0, 60);
      ctx.watermark = ctx.processingTime = clock;
      for (let step = 0; step < 40; step++) {
        const where = `seed ${seed} run ${run} step ${step}: ${window}, interval ${interval}, clock ${clock}`;
        if (random() < 0.5) {
          const ts = domain === 'event' ? randomInt(random, window.start, window.end - 1) : Number.NaN;
          const expected = ref.element(domain === 'event' ? ts : clock, clock);
          const got = trigger.onElement('e', ts, window, ctx.forWindow(window));
          if (got !== expected) return void t.equal(got, expected, `${where}: element at ${ts}`);
        } else {
          clock += randomInt(random, 0, 30);
          const expected = ref.advance(clock);
          const got = ctx.advance(domain, clock, (time, w) => (domain === 'event' ? trigger.onEventTime(time, w, ctx) : trigger.onProcessingTime(time, w, ctx)), 1000);
          if (got.some((f) => f.result !== 'FIRE') || JSON.stringify(got.map((f) => f.time)) !== JSON.stringify(expected)) {
            return void t.same(got.map((f) => `${f.time} ${f.result}`), expected.map((x) => `${x} FIRE`), `${where}: clock to ${clock}`);
          }
        }
        const got = { stored: ctx.cell(window, 'fire-time'), timers: ctx.timersOf(window, domain), other: ctx.timers[domain === 'event' ? 'processing' : 'event'].size };
        const expected = { stored: ref.stored(), timers: ref.timers(), other: 0 };
        if (JSON.stringify(got) !== JSON.stringify(expected)) return void t.same(got, expected, where);
      }
    }
    t.pass('400 random windows');
  });
}

t.test('ContinuousProcessingTimeTrigger fires once at the end of a window its clock has passed, and sets no timer there again', async (t) => {
  // An event-time window (no cleanup at its processing-time end) with an early-firing
  // trigger: Flink re-registers the end after firing it, so its timer service fires it
  // again and again (FLINK-35069). Here the end fires once; the next element starts over.
  const trigger = ContinuousProcessingTimeTrigger.of(5);
  const w = new TimeWindow(0, 12);
  const ctx = new FakeTriggerContext().forWindow(w);
  ctx.processingTime = 3;
  trigger.onElement('e', 1, w, ctx);
  const fire = (time: number, win: Window): TriggerResult => trigger.onProcessingTime(time, win, ctx);
  t.same(ctx.advance('processing', 100, fire, 50).map((f) => `${f.time} ${f.result}`), ['5 FIRE', '10 FIRE', '11 FIRE']);
  t.same([ctx.timersOf(w, 'processing'), ctx.cell(w, 'fire-time')], [[], undefined]);
  t.equal(trigger.onElement('e', 1, w, ctx.forWindow(w)), TriggerResult.CONTINUE);
  t.same(ctx.advance('processing', 100, fire, 50).map((f) => `${f.time} ${f.result}`), ['11 FIRE'], 'an element after the end fires the window once more, at once');
});

t.test('ContinuousEventTimeTrigger: first fire time rounds toward zero (Java %), late elements fire at once', async (t) => {
  const trigger = ContinuousEventTimeTrigger.of(10);
  for (const [ts, first] of [
    [25, 30],
    [30, 40],
    [-75, -60],
    [-71, -60],
    [-70, -60],
    [-5, 10],
  ]) {
    const w = new TimeWindow(-200, 200);
    const ctx = new FakeTriggerContext().forWindow(w);
    t.equal(trigger.onElement('e', ts!, w, ctx), TriggerResult.CONTINUE);
    t.same(ctx.timersOf(w, 'event'), [first, 199], `element at ${ts}`);
  }
  const w = new TimeWindow(0, 10);
  const ctx = new FakeTriggerContext().forWindow(w);
  ctx.watermark = 9;
  t.equal(trigger.onElement('e', 3, w, ctx), TriggerResult.FIRE);
  t.same([ctx.timersOf(w, 'event'), ctx.cell(w, 'fire-time')], [[], undefined], 'no timer, no state');
  t.throws(() => trigger.onElement('e', Number.NaN, w, new FakeTriggerContext().forWindow(w)), UsageError);
});

for (const { domain, make } of kinds) {
  t.test(`${make(10).toString()}: onMerge keeps the earliest fire time and sets its timer; the merged window still fires at its end`, async (t) => {
    const trigger = make(10);
    const [a, b, merged] = [new TimeWindow(0, 25), new TimeWindow(14, 40), new TimeWindow(0, 40)];
    const ctx = new FakeTriggerContext();
    ctx.watermark = ctx.processingTime = 14;
    trigger.onElement('e', 14, b, ctx.forWindow(b)); // fire time 20
    ctx.processingTime = 3;
    trigger.onElement('e', 3, a, ctx.forWindow(a)); // fire time 10
    trigger.onMerge(merged, ctx.merging(merged, [a, b]));
    t.equal(ctx.cell(merged, 'fire-time'), 10);
    t.same([ctx.cell(a, 'fire-time'), ctx.cell(b, 'fire-time')], [undefined, undefined], "the parts' fire times moved");
    t.same(ctx.timersOf(merged, domain), [10]);
    for (const p of [a, b]) trigger.clear(p, ctx.forWindow(p)); // as the operator does after a merge
    const fired = ctx.advance(domain, 100, (time, w) => (domain === 'event' ? trigger.onEventTime(time, w, ctx) : trigger.onProcessingTime(time, w, ctx)));
    const ofMerged = fired.filter((f) => f.window.equals(merged)).map((f) => `${f.time} ${f.result}`);
    t.same(ofMerged, ['10 FIRE', '20 FIRE', '30 FIRE', '39 FIRE']);
    // As Flink: onMerge moved the parts' fire times, so clearing the parts finds none and
    // leaves their fire timers (and, for event time, their end timers). Those fire for
    // windows no longer in flight, which the operator ignores; the fire timers CONTINUE.
    const ofParts = fired.filter((f) => !f.window.equals(merged)).map((f) => `${f.window} ${f.time} ${f.result}`);
    const leftover = [`${a} 10 CONTINUE`, `${b} 20 CONTINUE`, ...(domain === 'event' ? [`${a} 24 FIRE`, `${b} 39 FIRE`] : [])];
    t.same(ofParts, leftover);
  });

  t.test(`${make(10).toString()}: clear deletes the pending fire timer and the fire time`, async (t) => {
    const trigger = make(10);
    const w = new TimeWindow(0, 100);
    const ctx = new FakeTriggerContext().forWindow(w);
    trigger.onElement('e', 5, w, ctx);
    trigger.clear(w, ctx);
    t.equal(ctx.cell(w, 'fire-time'), undefined);
    // As Flink, the event-time variant leaves the end timer (the operator's cleanup deletes it).
    t.same(ctx.timersOf(w, domain), domain === 'event' ? [99] : []);
    trigger.clear(w, ctx);
    t.ok(trigger.canMerge(), 'clearing twice is harmless; it can merge');
    trigger.onElement('e', 5, w, ctx);
    const otherClock = domain === 'event' ? trigger.onProcessingTime(10, w, ctx) : trigger.onEventTime(10, w, ctx);
    t.equal(otherClock, TriggerResult.CONTINUE, 'a timer of the other clock never fires it');
  });
}

t.test('the interval must be whole ms > 0', async (t) => {
  for (const [of, where] of [
    [ContinuousEventTimeTrigger.of, 'ContinuousEventTimeTrigger.of'],
    [ContinuousProcessingTimeTrigger.of, 'ContinuousProcessingTimeTrigger.of'],
  ] as const) {
    t.throws(() => of(0), new RangeError(`${where}: interval must be > 0 ms, got 0 (give a positive duration, e.g. Time.seconds(10))`));
    t.throws(() => of(-5), { name: 'RangeError', message: /interval must be > 0 ms, got -5/ });
    for (const bad of [1.5, Number.NaN, Infinity]) t.throws(() => of(bad), { name: 'RangeError', message: new RegExp(`^${where}: interval must be a whole number of milliseconds, got ${bad}`) });
    t.equal(of(7).intervalMs, 7);
    t.equal(of(7).toString(), `${where.replace('.of', '')}(7)`);
  }
});

// PurgingTrigger turns each FIRE of its nested trigger into FIRE_AND_PURGE and passes
// everything else through: results, timers, state, merging and clearing are the nested
// trigger's. Checked against a scripted nested trigger (every result, every method) and
// with the built-in triggers.
import t from 'tap';
import { CountTrigger, EventTimeTrigger, NeverTrigger, PurgingTrigger, TimeWindow, TriggerResult, isFire, isPurge } from '../../../src/time/windows/index.js';
import type { OnMergeContext, Trigger, TriggerContext, Window } from '../../../src/time/windows/index.js';
import { FakeTriggerContext } from './fake-trigger-context.js';

/** A trigger that answers `next` and records its calls. */
class Scripted implements Trigger<string, Window> {
  next: TriggerResult = TriggerResult.CONTINUE;
  merges = true;
  readonly calls: string[] = [];
  onElement(element: string, timestamp: number, window: Window, ctx: TriggerContext): TriggerResult {
    this.calls.push(`onElement ${element} ${timestamp} ${window} ${ctx.getCurrentWatermark()}`);
    return this.next;
  }
  onEventTime(time: number, window: Window): TriggerResult {
    this.calls.push(`onEventTime ${time} ${window}`);
    return this.next;
  }
  onProcessingTime(time: number, window: Window): TriggerResult {
    this.calls.push(`onProcessingTime ${time} ${window}`);
    return this.next;
  }
  canMerge(): boolean {
    return this.merges;
  }
  onMerge(window: Window, ctx: OnMergeContext): void {
    this.calls.push(`onMerge ${window} ${ctx.getCurrentProcessingTime()}`);
  }
  clear(window: Window): void {
    this.calls.push(`clear ${window}`);
  }
  toString(): string {
    return 'Scripted()';
  }
}

const purged: Record<TriggerResult, TriggerResult> = {
  CONTINUE: 'CONTINUE',
  FIRE: 'FIRE_AND_PURGE',
  PURGE: 'PURGE',
  FIRE_AND_PURGE: 'FIRE_AND_PURGE',
};

t.test('every result of every timer and element call, mapped; the calls reach the nested trigger unchanged', async (t) => {
  const nested = new Scripted();
  const trigger = PurgingTrigger.of(nested);
  const w = new TimeWindow(0, 10);
  const ctx = new FakeTriggerContext().forWindow(w);
  ctx.watermark = 4;
  for (const r of Object.values(TriggerResult)) {
    nested.next = r;
    t.equal(trigger.onElement('a', 3, w, ctx), purged[r], `onElement ${r}`);
    t.equal(trigger.onEventTime(9, w, ctx), purged[r], `onEventTime ${r}`);
    t.equal(trigger.onProcessingTime(8, w, ctx), purged[r], `onProcessingTime ${r}`);
  }
  t.same(nested.calls.slice(0, 3), [`onElement a 3 ${w} 4`, `onEventTime 9 ${w}`, `onProcessingTime 8 ${w}`]);
  nested.calls.length = 0;
  ctx.processingTime = 77;
  trigger.onMerge(w, ctx.merging(w, []));
  trigger.clear(w, ctx);
  t.same(nested.calls, [`onMerge ${w} 77`, `clear ${w}`]);
  t.ok(trigger.canMerge());
  nested.merges = false;
  t.notOk(trigger.canMerge(), 'canMerge is the nested trigger’s');
  t.equal(trigger.nestedTrigger, nested);
  t.equal(trigger.toString(), 'PurgingTrigger(Scripted())');
});

t.test('PurgingTrigger.of(CountTrigger.of(2)) fires and purges every second element', async (t) => {
  const trigger = PurgingTrigger.of(CountTrigger.of(2));
  const w = new TimeWindow(0, 10);
  const ctx = new FakeTriggerContext().forWindow(w);
  t.same(
    Array.from({ length: 5 }, () => trigger.onElement('e', 1, w, ctx)),
    ['CONTINUE', 'FIRE_AND_PURGE', 'CONTINUE', 'FIRE_AND_PURGE', 'CONTINUE'],
  );
  t.equal(ctx.cell(w, 'count'), 1, "the count is the nested trigger's state");
  trigger.clear(w, ctx);
  t.equal(ctx.cell(w, 'count'), undefined);
});

t.test('PurgingTrigger.of(EventTimeTrigger) purges at the end timer, and keeps its timers and merging', async (t) => {
  const trigger = PurgingTrigger.of(EventTimeTrigger.create());
  const w = new TimeWindow(0, 10);
  const ctx = new FakeTriggerContext().forWindow(w);
  ctx.watermark = 0;
  t.equal(trigger.onElement('e', 1, w, ctx), TriggerResult.CONTINUE);
  const firings = ctx.advance('event', 20, (time, win) => trigger.onEventTime(time, win, ctx));
  t.same(firings.map((f) => [f.time, f.result]), [[9, 'FIRE_AND_PURGE']]);
  t.equal(trigger.onElement('e', 1, w, ctx), TriggerResult.FIRE_AND_PURGE, 'a late element too');
  const merged = new TimeWindow(0, 40);
  trigger.onMerge(merged, ctx.merging(merged, [w]));
  t.same(ctx.timersOf(merged, 'event'), [39]);
  t.notOk(PurgingTrigger.of(new NeverTrigger()).canMerge());
});

t.test('isFire and isPurge read the four results', async (t) => {
  t.same(Object.values(TriggerResult).map((r) => [r, isFire(r), isPurge(r)]), [
    ['CONTINUE', false, false],
    ['FIRE', true, false],
    ['PURGE', false, true],
    ['FIRE_AND_PURGE', true, true],
  ]);
});

// GlobalWindows puts every element, with or without a timestamp, in the one GlobalWindow;
// its default trigger (NeverTrigger) never fires and cannot merge, as Flink's.
import t from 'tap';
import { GlobalWindow, GlobalWindows, NeverTrigger, TriggerResult, isMergingAssigner } from '../../../src/time/windows/index.js';
import type { Trigger, WindowAssigner } from '../../../src/time/windows/index.js';
import { FakeTriggerContext } from './fake-trigger-context.js';
import { clockAt } from './random-windows.js';

t.test('every element goes to the one GlobalWindow, whatever its timestamp or the clock', async (t) => {
  const a = GlobalWindows.create();
  const asAssigner: WindowAssigner<unknown, GlobalWindow> = a;
  for (const [ts, now] of [
    [Number.NaN, 0],
    [-5, 1e12],
    [Number.MAX_SAFE_INTEGER, -1],
  ]) {
    const windows = asAssigner.assignWindows('e', ts!, clockAt(now!));
    t.equal(windows.length, 1);
    t.equal(windows[0], GlobalWindow.get(), `timestamp ${ts}, clock ${now}`);
  }
  t.notOk(a.isEventTime());
  t.notOk(isMergingAssigner(a));
  t.equal(a.kind, 'global');
  t.equal(a.toString(), 'GlobalWindows()');
});

t.test('windowOf reads only the namespace []', async (t) => {
  const a = GlobalWindows.create();
  t.equal(a.windowOf([]), GlobalWindow.get());
  t.equal(a.windowOf(GlobalWindow.get().namespace()), GlobalWindow.get());
  t.throws(() => a.windowOf([0, 10]), new RangeError("GlobalWindows.windowOf: [0,10] is not the global window's namespace [] (state written by another assigner?)"));
});

t.test('the default NeverTrigger continues on everything, sets no timer, keeps no state, cannot merge', async (t) => {
  const trigger: Trigger<unknown, GlobalWindow> = GlobalWindows.create().getDefaultTrigger();
  t.type(trigger, NeverTrigger);
  const g = GlobalWindow.get();
  const ctx = new FakeTriggerContext().forWindow(g);
  ctx.watermark = Number.MAX_SAFE_INTEGER;
  for (let i = 0; i < 5; i++) t.equal(trigger.onElement('e', i, g, ctx), TriggerResult.CONTINUE);
  t.equal(trigger.onEventTime(g.maxTimestamp(), g, ctx), TriggerResult.CONTINUE);
  t.equal(trigger.onProcessingTime(g.maxTimestamp(), g, ctx), TriggerResult.CONTINUE);
  trigger.onMerge(g, ctx);
  trigger.clear(g, ctx);
  t.notOk(trigger.canMerge());
  t.same([ctx.timers.event.size, ctx.timers.processing.size, ctx.cells.size], [0, 0, 0]);
  t.equal(trigger.toString(), 'NeverTrigger()');
});

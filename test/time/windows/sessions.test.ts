// Session windows through the window operator, by hand: out-of-order elements that bridge
// two sessions merge them (contents, trigger state, timers), dynamic gaps, and the timers
// of windows merged away never fire. Both state backends.
import t from 'tap';
import { WindowedStream } from '../../../src/api/windowed-stream.js';
import type { OperatorSpec } from '../../../src/api/plan.js';
import { CountTrigger, EventTimeSessionWindows } from '../../../src/time/windows/index.js';
import type { Trigger, Window, WindowAssigner } from '../../../src/time/windows/index.js';
import type { WindowSpec } from '../../../src/time/windows/spec.js';
import { WindowHarness, makeBackend } from './harness.js';

interface Ev {
  id: string;
  gap?: number;
}

/** `process` listing each window's [start, end) and its element ids, sorted. */
function sessionSpec(assigner: WindowAssigner<Ev, Window>, trigger?: Trigger<Ev, Window>): WindowSpec {
  let spec: WindowSpec | undefined;
  const ws = new WindowedStream<Ev, string, Window>(assigner, ((_: string, op: OperatorSpec) => {
    if (op.kind === 'window') spec = op.spec;
  }) as never);
  if (trigger !== undefined) ws.trigger(trigger);
  ws.process({ process: (_key, ctx, elements, out) => out.collect([ctx.window.namespace(), elements.map((e) => e.id).sort()]) });
  return spec!;
}

for (const kind of ['heap', 'lsm'] as const) {
  t.test(`an out-of-order element bridging two sessions merges them, contents and timers (${kind})`, async (t) => {
    const h = await new WindowHarness(makeBackend(t, kind), sessionSpec(EventTimeSessionWindows.withGap(10))).open();
    h.element('a', { id: 'x0' }, 0);
    h.element('a', { id: 'x30' }, 30);
    h.element('a', { id: 'x15' }, 15);
    h.element('b', { id: 'b12' }, 12);
    h.watermark(8);
    t.same(h.takeMain(), [], 'nothing due');
    h.element('a', { id: 'x9' }, 9); // [9, 19) bridges [0, 10) and [15, 25)
    h.watermark(20);
    t.same(h.takeMain(), [], '[0, 10) was merged away: its timer at 9 does not fire');
    h.element('a', { id: 'x25' }, 25); // [25, 35) bridges [0, 25) and [30, 40)
    h.watermark(30);
    t.same(
      h.takeMain().map((e) => e.value),
      [[[12, 22], ['b12']]],
      'only b fires: a is one session [0, 40) now',
    );
    h.watermark(39);
    const fired = h.takeMain();
    t.same(fired.map((e) => e.value), [[[0, 40], ['x0', 'x15', 'x25', 'x30', 'x9']]], 'one session with all five elements');
    t.equal(fired[0]!.timestamp, 39, 'at the session\'s maxTimestamp');
    h.watermark(1000);
    t.same(h.takeMain(), [], 'each session fires once');
  });

  t.test(`dynamic gaps: each element's own gap decides what it reaches (${kind})`, async (t) => {
    const h = await new WindowHarness(makeBackend(t, kind), sessionSpec(EventTimeSessionWindows.withDynamicGap((e: Ev) => e.gap!))).open();
    h.element('k', { id: 'g20@50', gap: 20 }, 50); // [50, 70)
    h.element('k', { id: 'g2@75', gap: 2 }, 75); // [75, 77)
    h.element('k', { id: 'g1@90', gap: 1 }, 90); // [90, 91)
    h.element('k', { id: 'g7@69', gap: 7 }, 69); // [69, 76): bridges the first two
    h.watermark(200);
    t.same(
      h.takeMain().map((e) => e.value).sort(),
      [
        [[50, 77], ['g20@50', 'g2@75', 'g7@69']],
        [[90, 91], ['g1@90']],
      ],
    );
  });

  t.test(`a count trigger's state merges with its sessions (${kind})`, async (t) => {
    const h = await new WindowHarness(makeBackend(t, kind), sessionSpec(EventTimeSessionWindows.withGap(10), CountTrigger.of(3))).open();
    h.element('a', { id: 'p' }, 0);
    h.element('a', { id: 'q' }, 20);
    t.same(h.takeMain(), [], 'two sessions of one element each');
    h.element('a', { id: 'r' }, 10); // [10, 20) touches both: counts 1 + 1, then this element
    t.same(h.takeMain().map((e) => e.value), [[[0, 30], ['p', 'q', 'r']]], 'the merged count reached 3');
  });
}

// A reduce that updates its first argument in place (Flink's examples do: a.f1 += b.f1;
// return a) on sliding windows, where one record belongs to several windows: each window
// must still get its own sum, on both backends (the heap backend stores objects as given).
import t from 'tap';
import { WindowedStream } from '../../../src/api/windowed-stream.js';
import type { OperatorSpec } from '../../../src/api/plan.js';
import { SlidingEventTimeWindows } from '../../../src/time/windows/index.js';
import type { Window } from '../../../src/time/windows/index.js';
import type { WindowSpec } from '../../../src/time/windows/spec.js';
import { WindowHarness, makeBackend } from './harness.js';

for (const kind of ['heap', 'lsm'] as const) {
  t.test(`sliding windows with a reduce that mutates its first argument (${kind})`, async (t) => {
    let spec: WindowSpec | undefined;
    new WindowedStream<{ v: number }, string, Window>(SlidingEventTimeWindows.of(10, 5), ((_: string, op: OperatorSpec) => {
      if (op.kind === 'window') spec = op.spec;
    }) as never).reduce((a, b) => {
      a.v += b.v;
      return a;
    });
    const h = await new WindowHarness(makeBackend(t, kind), spec!).open();
    for (const [ts, v] of [[6, 1], [7, 10], [12, 100]] as const) h.element('k', { v }, ts);
    h.watermark(100);
    // [0, 10): 1 + 10; [5, 15): 1 + 10 + 100; [10, 20): 100.
    t.same(h.takeMain().map((e) => [e.timestamp, (e.value as { v: number }).v]).sort((a, b) => a[0]! - b[0]!), [[9, 11], [14, 111], [19, 100]]);
  });
}

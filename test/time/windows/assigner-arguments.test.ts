// The assigners check their arguments eagerly, with Flink's rules (size > 0, slide > 0,
// |offset| < size for tumbling and < slide for sliding, negative offsets allowed, gap > 0)
// plus whole milliseconds within 2^53, and throw one-line RangeErrors (TypeError for an
// extractor that is not one) that name the call, the argument and the value.
import t, { type Test } from 'tap';
import {
  DynamicEventTimeSessionWindows,
  DynamicProcessingTimeSessionWindows,
  EventTimeSessionWindows,
  ProcessingTimeSessionWindows,
  SlidingEventTimeWindows,
  SlidingProcessingTimeWindows,
  TumblingEventTimeWindows,
  TumblingProcessingTimeWindows,
} from '../../../src/time/windows/index.js';
import { clockAt } from './random-windows.js';

/** Not whole ms within 2^53. */
const notMs: unknown[] = [1.5, Number.NaN, Infinity, -Infinity, 2 ** 53, '10', undefined, null, 10n];
/** The same for offsets, which default to 0 when undefined. */
const notMsOffsets = notMs.filter((v) => v !== undefined);

/** Asserts `fn` throws a one-line `name` error whose message starts with `prefix` and mentions `value`. */
function throwsNaming(t: Test, fn: () => unknown, name: string, prefix: string, value: unknown): void {
  try {
    fn();
    t.fail(`${prefix}: expected a ${name} for ${String(value)}`);
  } catch (e) {
    const err = e as Error;
    const ok = err.name === name && err.message.startsWith(prefix) && !err.message.includes('\n') && err.message.includes(String(value));
    t.ok(ok, `${prefix} ${String(value)}: ${err.name}: ${err.message}`);
  }
}

t.test('tumbling: size must be whole ms > 0, |offset| < size', async (t) => {
  for (const [of, where] of [
    [TumblingEventTimeWindows.of, 'TumblingEventTimeWindows.of'],
    [TumblingProcessingTimeWindows.of, 'TumblingProcessingTimeWindows.of'],
  ] as const) {
    for (const size of [0, -1, -1000]) throwsNaming(t, () => of(size), 'RangeError', `${where}: size must be > 0 ms, got`, size);
    for (const size of notMs) throwsNaming(t, () => of(size as number), 'RangeError', `${where}: size must be a whole number of milliseconds, got`, size);
    for (const offset of [10, -10, 25, -1e9]) throwsNaming(t, () => of(10, offset), 'RangeError', `${where}: |offset| must be < size (10 ms), got offset`, offset);
    for (const offset of notMsOffsets) throwsNaming(t, () => of(10, offset as number), 'RangeError', `${where}: offset must be a whole number of milliseconds, got`, offset);
    t.doesNotThrow(() => of(10, 9));
    t.doesNotThrow(() => of(10, -9));
    t.doesNotThrow(() => of(1, 0));
    t.doesNotThrow(() => of(Number.MAX_SAFE_INTEGER, -(Number.MAX_SAFE_INTEGER - 1)));
  }
  t.throws(() => TumblingEventTimeWindows.of(10, 25), { message: /\(use offset % size, here 5\)$/ }, 'says what to use instead');
});

t.test('sliding: size and slide whole ms > 0, |offset| < slide (not size)', async (t) => {
  for (const [of, where] of [
    [SlidingEventTimeWindows.of, 'SlidingEventTimeWindows.of'],
    [SlidingProcessingTimeWindows.of, 'SlidingProcessingTimeWindows.of'],
  ] as const) {
    for (const size of [0, -5]) throwsNaming(t, () => of(size, 5), 'RangeError', `${where}: size must be > 0 ms, got`, size);
    for (const slide of [0, -5]) throwsNaming(t, () => of(10, slide), 'RangeError', `${where}: slide must be > 0 ms, got`, slide);
    for (const v of notMs) {
      throwsNaming(t, () => of(v as number, 5), 'RangeError', `${where}: size must be a whole number of milliseconds, got`, v);
      throwsNaming(t, () => of(10, v as number), 'RangeError', `${where}: slide must be a whole number of milliseconds, got`, v);
      if (v !== undefined) throwsNaming(t, () => of(10, 5, v as number), 'RangeError', `${where}: offset must be a whole number of milliseconds, got`, v);
    }
    for (const offset of [5, 7, -5, -9]) throwsNaming(t, () => of(10, 5, offset), 'RangeError', `${where}: |offset| must be < slide (5 ms), got offset`, offset);
    t.doesNotThrow(() => of(10, 5, 4));
    t.doesNotThrow(() => of(10, 5, -4));
    t.doesNotThrow(() => of(5, 10, 9), 'a slide above the size (sampling) may take an offset up to the slide');
  }
});

t.test('sessions: the gap must be whole ms > 0', async (t) => {
  for (const [withGap, where] of [
    [EventTimeSessionWindows.withGap, 'EventTimeSessionWindows.withGap'],
    [ProcessingTimeSessionWindows.withGap, 'ProcessingTimeSessionWindows.withGap'],
  ] as const) {
    for (const gap of [0, -1]) throwsNaming(t, () => withGap(gap), 'RangeError', `${where}: gap must be > 0 ms, got`, gap);
    for (const gap of notMs) throwsNaming(t, () => withGap(gap as number), 'RangeError', `${where}: gap must be a whole number of milliseconds, got`, gap);
  }
  t.throws(() => EventTimeSessionWindows.withGap('10' as never), { message: /got "10" \(use/ }, 'a string reads as one');
  t.throws(() => EventTimeSessionWindows.withGap(10n as never), { message: /got 10n \(use/ }, 'a bigint reads as one');
});

t.test('dynamic sessions: a bad extractor at once, a bad gap at the element that gives it', async (t) => {
  for (const make of [DynamicEventTimeSessionWindows.withDynamicGap, DynamicProcessingTimeSessionWindows.withDynamicGap, EventTimeSessionWindows.withDynamicGap]) {
    for (const bad of [undefined, null, 5, 'gap', {}, { extract: 5 }]) {
      t.throws(() => make(bad as never), { name: 'TypeError', message: /^Dynamic(Event|Processing)TimeSessionWindows\(\): the gap extractor must be a function \(element\) => gapMs or an object with extract\(element\), got / });
    }
  }
  for (const gap of [0, -3, 1.5, Number.NaN, Infinity, '5', undefined, 2 ** 53]) {
    const assigner = EventTimeSessionWindows.withDynamicGap((e: { id: number; gap: unknown }) => e.gap as number);
    const shown = typeof gap === 'string' ? JSON.stringify(gap) : String(gap);
    const prefix = `DynamicEventTimeSessionWindows(): the gap extractor returned ${shown} for element {"id":7`;
    throwsNaming(t, () => assigner.assignWindows({ id: 7, gap }, 100, clockAt(0)), 'RangeError', prefix, gap);
    const processing = ProcessingTimeSessionWindows.withDynamicGap({ extract: () => gap as number });
    throwsNaming(t, () => processing.assignWindows('e', Number.NaN, clockAt(0)), 'RangeError', 'DynamicProcessingTimeSessionWindows(): the gap extractor returned', gap);
  }
  const thrower = EventTimeSessionWindows.withDynamicGap(() => {
    throw new Error('boom');
  });
  t.throws(() => thrower.assignWindows('e', 0, clockAt(0)), { message: 'boom' }, "the extractor's own error passes through");
});

// Bad window arguments fail at once with a one-line error naming the call and the value
// (Flink's rules: sizes, slides and gaps > 0; |offset| < slide for sliding and < size for
// tumbling windows; merging assigners need merging triggers and aggregate functions; a
// windowAll operator runs in one subtask); a session gap extractor that returns a bad gap
// fails the job naming the operator, the value and the record. What Flink accepts is
// accepted: a slide larger than the size, a negative offset, allowed lateness on
// processing-time windows (ignored, as Flink does since FLINK-5247).
import t from 'tap';
import { StreamExecutionEnvironment } from '../../src/api/environment.js';
import {
  ContinuousEventTimeTrigger,
  CountEvictor,
  CountTrigger,
  EventTimeSessionWindows,
  EventTimeTrigger,
  NeverTrigger,
  ProcessingTimeSessionWindows,
  PurgingTrigger,
  SlidingEventTimeWindows,
  SlidingProcessingTimeWindows,
  Time,
  TimeEvictor,
  TumblingEventTimeWindows,
  TumblingProcessingTimeWindows,
  UserFunctionError,
  runJob,
} from '../../src/index.js';
import type { AggregateFunction, Trigger, Window } from '../../src/index.js';
import type { GapEvent } from '../jobs/windows-errors.js';

const keyed = () =>
  new StreamExecutionEnvironment(2)
    .fromCollection([1, 2, 3])
    .keyBy((x) => x % 2);
const sum: AggregateFunction<number, number, number> = { createAccumulator: () => 0, add: (v, acc) => acc + v, getResult: (acc) => acc };

/** [what, call, error class, message]: each message is one line naming the call and the value. */
const refused: Array<[string, () => unknown, typeof Error, RegExp]> = [
  ['a tumbling size of 0', () => TumblingEventTimeWindows.of(0), RangeError, /^TumblingEventTimeWindows\.of: size must be > 0 ms, got 0 /],
  ['a negative tumbling size', () => TumblingProcessingTimeWindows.of(-5), RangeError, /^TumblingProcessingTimeWindows\.of: size must be > 0 ms, got -5 /],
  ['a tumbling offset equal to the size', () => TumblingEventTimeWindows.of(10, 10), RangeError, /^TumblingEventTimeWindows\.of: \|offset\| must be < size \(10 ms\), got offset 10 /],
  ['a tumbling offset of minus the size', () => TumblingProcessingTimeWindows.of(Time.hours(1), -Time.hours(1)), RangeError, /\|offset\| must be < size \(3600000 ms\), got offset -3600000 /],
  ['a slide of 0', () => SlidingEventTimeWindows.of(10, 0), RangeError, /^SlidingEventTimeWindows\.of: slide must be > 0 ms, got 0 /],
  ['a negative slide', () => SlidingProcessingTimeWindows.of(10, -1), RangeError, /^SlidingProcessingTimeWindows\.of: slide must be > 0 ms, got -1 /],
  ['a sliding size of 0', () => SlidingEventTimeWindows.of(0, 5), RangeError, /^SlidingEventTimeWindows\.of: size must be > 0 ms, got 0 /],
  ['a sliding offset equal to the slide', () => SlidingEventTimeWindows.of(10, 5, 5), RangeError, /^SlidingEventTimeWindows\.of: \|offset\| must be < slide \(5 ms\), got offset 5 /],
  ['a negative sliding offset beyond the slide', () => SlidingProcessingTimeWindows.of(10, 5, -7), RangeError, /\|offset\| must be < slide \(5 ms\), got offset -7 \(use offset % slide, here -2\)/],
  ['a fractional size', () => TumblingEventTimeWindows.of(1.5), RangeError, /size must be a whole number of milliseconds, got 1\.5/],
  ['a session gap of 0', () => EventTimeSessionWindows.withGap(0), RangeError, /^EventTimeSessionWindows\.withGap: gap must be > 0 ms, got 0 /],
  ['a negative session gap', () => ProcessingTimeSessionWindows.withGap(-3), RangeError, /^ProcessingTimeSessionWindows\.withGap: gap must be > 0 ms, got -3 /],
  ['a gap extractor that is not one', () => EventTimeSessionWindows.withDynamicGap(5 as never), TypeError, /the gap extractor must be a function \(element\) => gapMs or an object with extract\(element\), got 5$/],
  ['timeWindow(0)', () => keyed().timeWindow(0), RangeError, /size must be > 0 ms, got 0 /],
  ['countWindow(0)', () => keyed().countWindow(0), RangeError, /^countWindow\(\) size must be an integer >= 1 \(a number of elements\), got 0$/],
  ['countWindow(3, 0)', () => keyed().countWindow(3, 0), RangeError, /^countWindow\(\) slide must be an integer >= 1 \(a number of elements\), got 0$/],
  ['countWindowAll(-1)', () => new StreamExecutionEnvironment(1).fromCollection([1]).countWindowAll(-1), RangeError, /^countWindowAll\(\) size must be an integer >= 1 \(a number of elements\), got -1$/],
  ['CountTrigger.of(0)', () => CountTrigger.of(0), RangeError, /^CountTrigger\.of: the count must be an integer >= 1, got 0 /],
  ['CountEvictor.of(-1)', () => CountEvictor.of(-1), RangeError, /^CountEvictor\.of: the count must be an integer >= 0, got -1 /],
  ['TimeEvictor.of(-1)', () => TimeEvictor.of(-1), RangeError, /^TimeEvictor\.of: window must be >= 0 ms, got -1 /],
  ['ContinuousEventTimeTrigger.of(0)', () => ContinuousEventTimeTrigger.of(0), RangeError, /^ContinuousEventTimeTrigger\.of: interval must be > 0 ms, got 0 /],
  [
    'a trigger that cannot merge on session windows',
    () => keyed().window(EventTimeSessionWindows.withGap(10)).trigger(new NeverTrigger()),
    TypeError,
    /^trigger\(\): NeverTrigger\(\) cannot merge \(canMerge\(\) returned false\), and EventTimeSessionWindows\(10\) merges windows: /,
  ],
  [
    'a purging trigger around one that cannot merge',
    () => keyed().window(ProcessingTimeSessionWindows.withGap(10)).trigger(PurgingTrigger.of(new NeverTrigger())),
    TypeError,
    /^trigger\(\): PurgingTrigger\(NeverTrigger\(\)\) cannot merge \(canMerge\(\) returned false\), and ProcessingTimeSessionWindows\(10\) merges/,
  ],
  [
    'a trigger object without canMerge on session windows',
    () => keyed().window(EventTimeSessionWindows.withGap(10)).trigger({ onElement: () => 'FIRE', onEventTime: () => 'CONTINUE', onProcessingTime: () => 'CONTINUE', clear() {} } as unknown as Trigger<number, Window>),
    TypeError,
    /^trigger\(\): the trigger cannot merge \(has no canMerge\(\)\), and EventTimeSessionWindows\(10\) merges windows/,
  ],
  [
    'aggregate() without merge on session windows',
    () => keyed().window(EventTimeSessionWindows.withGap(10)).aggregate(sum),
    TypeError,
    /^aggregate\(\) on EventTimeSessionWindows\(10\): the AggregateFunction has no merge\(a, b\), and merging windows merge their accumulators: add merge\(a, b\)$/,
  ],
  ['a negative allowed lateness', () => keyed().window(TumblingEventTimeWindows.of(10)).allowedLateness(-1), RangeError, /^allowedLateness\(\) expects an integer number of ms >= 0, got -1$/],
  ['a fractional allowed lateness', () => keyed().window(TumblingEventTimeWindows.of(10)).allowedLateness(0.5), RangeError, /^allowedLateness\(\) expects an integer number of ms >= 0, got 0\.5$/],
  [
    'windowAll().setParallelism(2)',
    () => new StreamExecutionEnvironment(1).fromCollection([1]).windowAll(TumblingEventTimeWindows.of(10)).sum().setParallelism(2),
    RangeError,
    /^setParallelism\(2\) of WindowAll\(TumblingEventTimeWindows\(10\)\): a windowAll\(\) operator runs in one subtask, its parallelism must be 1 /,
  ],
  ['window() of something else', () => keyed().window({} as never), TypeError, /^window\(\) expects a WindowAssigner, e\.g\. TumblingEventTimeWindows\.of\(Time\.seconds\(5\)\)$/],
];

t.test('bad window arguments are refused at once with one line naming the value', async (t) => {
  for (const [what, call, type, message] of refused) {
    let thrown: unknown;
    try {
      call();
    } catch (error) {
      thrown = error;
    }
    t.ok(thrown instanceof type, `${what}: ${type.name}`);
    t.match((thrown as Error | undefined)?.message, message, what);
    t.notOk((thrown as Error | undefined)?.message.includes('\n'), `${what}: one line`);
  }
});

t.test("what Flink accepts is accepted", async (t) => {
  t.doesNotThrow(() => SlidingEventTimeWindows.of(5, 10), 'a slide larger than the size (windows with gaps between them)');
  t.doesNotThrow(() => SlidingEventTimeWindows.of(5, 10, 7), 'an offset below the slide, though not below the size');
  t.doesNotThrow(() => TumblingEventTimeWindows.of(Time.days(1), -Time.hours(8)), 'a negative offset below the size (days in UTC+8)');
  t.doesNotThrow(() => keyed().window(TumblingEventTimeWindows.of(10)).allowedLateness(0), 'no allowed lateness');
  t.doesNotThrow(() => keyed().window(TumblingProcessingTimeWindows.of(10)).allowedLateness(Time.minutes(1)), 'allowed lateness on processing-time windows (ignored, as in Flink)');
  t.doesNotThrow(() => keyed().window(SlidingProcessingTimeWindows.of(10, 5)).allowedLateness(5).sum(), 'allowed lateness on sliding processing-time windows');
  t.doesNotThrow(() => keyed().window(EventTimeSessionWindows.withGap(10)).trigger(EventTimeTrigger.create()).sum(), 'a merging trigger on session windows');
  t.doesNotThrow(() => keyed().window(EventTimeSessionWindows.withGap(10)).trigger(PurgingTrigger.of(CountTrigger.of(2))).sum(), 'a purging count trigger on session windows');
  t.doesNotThrow(() => keyed().window(EventTimeSessionWindows.withGap(10)).evictor(CountEvictor.of(2)).aggregate(sum), 'aggregate() without merge on sessions with an evictor (elements are kept, not accumulators)');
  t.doesNotThrow(() => keyed().window(TumblingEventTimeWindows.of(10)).aggregate(sum), 'aggregate() without merge on windows that never merge');
  t.doesNotThrow(() => new StreamExecutionEnvironment(4).fromCollection([1]).windowAll(TumblingEventTimeWindows.of(10)).sum().setParallelism(1), 'windowAll().setParallelism(1)');
});

const job = new URL('../jobs/windows-errors.js', import.meta.url);

t.test('a session gap extractor returning a bad gap fails the job naming the operator, the value and the record', async (t) => {
  for (const [scenario, gap, assigner] of [
    ['event-time', 0, 'DynamicEventTimeSessionWindows()'],
    ['event-time', -5, 'DynamicEventTimeSessionWindows()'],
    ['event-time', 'NaN', 'DynamicEventTimeSessionWindows()'],
    ['processing-time', 1.5, 'DynamicProcessingTimeSessionWindows()'],
    ['processing-time', 0, 'DynamicProcessingTimeSessionWindows()'],
  ] as const) {
    const events: GapEvent[] = [
      { key: 'a', t: 1, gap: 10 },
      { key: 'b', t: 2, gap },
      { key: 'a', t: 3, gap: 10 },
    ];
    const run = runJob(job, { parallelism: 2, args: [scenario, JSON.stringify(events)] }).result;
    const error = await run.then(
      () => undefined,
      (e: unknown) => e,
    );
    t.ok(error instanceof UserFunctionError, `${scenario} gap ${gap}: the job fails with a UserFunctionError`);
    const message = (error as Error | undefined)?.message ?? '';
    t.match(message, /^Operator "Sessions" \(uid [^)]+\) failed in subtask \d\/2 on record \{"key":"b","t":2,"gap":[^}]+\}/, `${scenario} gap ${gap}: names the operator and the record`);
    t.ok(message.includes(`RangeError: ${assigner}: the gap extractor returned ${gap === 'NaN' ? 'NaN' : gap} for element`), `${scenario} gap ${gap}: names the assigner and the value`);
    t.ok(message.includes('a session gap must be a whole number of ms > 0'), 'and the rule');
    t.notOk(message.includes('\n'), 'one line');
  }
  const ok = await runJob(job, { parallelism: 2, args: ['event-time', JSON.stringify([{ key: 'a', t: 1, gap: 10 }, { key: 'a', t: 5, gap: 10 }, { key: 'b', t: 2, gap: 1 }])] }).result;
  t.same((ok.collected.collect as string[]).sort(), ['a:2', 'b:1'], 'good gaps: one session per key');
});

// Failure attribution (task/operators.ts FailureContext, ChainOperator.blame): a throw is
// blamed on the innermost operator it passed, with the record that operator was given,
// whether it comes from a record, a key selector, a timer, a window firing or endInput, and
// a throw some user function caught and swallowed earlier does not take the blame for a
// later one, even one of the same value (FailureContext names the one exception).
import t from 'tap';
import type { Test } from 'tap';
import { runJob, UserFunctionError } from '../../src/index.js';

const scenarios = new URL('../jobs/scenarios.js', import.meta.url);

interface BlameParams {
  n: number;
  keyThrowAt?: number;
  keyThrowsTwice?: boolean;
  mapThrowAt?: number;
  throwAt?: number;
  thrown?: 'new' | 'shared' | 'nan';
  mapThrown?: 'new' | 'shared' | 'nan';
  swallow?: boolean;
  endInput?: boolean;
  timerAt?: number;
  timer?: 'throw' | 'emit';
}

/** The failure of the `blame` scenario with `params`, a thread per subtask unless `slotSharing` (fails the test when the job succeeds). */
async function failureOf(t: Test, params: BlameParams, slotSharing = false) {
  const error = await runJob(scenarios, { parallelism: 1, slotSharing, stateBackend: 'hashmap', args: ['blame', JSON.stringify(params)] }).result.then(
    () => undefined,
    (e: unknown) => e,
  );
  t.type(error, UserFunctionError, `the job fails with a UserFunctionError (${JSON.stringify(params)})`);
  return (error as UserFunctionError).failure;
}

t.test('a throw in a chained operator names it and its record, not the operator that emitted to it', async (t) => {
  const failure = await failureOf(t, { n: 3000, mapThrowAt: 2345 });
  t.equal(failure.operatorName, 'Picky map');
  t.equal(failure.record, '2345');
  t.match(failure.causeMessage, /Picky map refuses 2345/);
});

t.test('a throw in the keyed operator itself names it and its record', async (t) => {
  const failure = await failureOf(t, { n: 3000, throwAt: 1234 });
  t.equal(failure.operatorName, 'Counting');
  t.equal(failure.record, '1234');
});

t.test('a throwing key selector: in the sender it names the sending operator, in the keyed subtask the keyed operator', async (t) => {
  // The record writer calls the selector to route the record (Flink's KeyGroupStreamPartitioner):
  // a throw there fails the sending subtask, at the source's position.
  const sending = await failureOf(t, { n: 3000, keyThrowAt: 777 }, false);
  t.equal(sending.operatorName, 'Sequence Source');
  t.match(sending.position, /sequence index 777/);
  // Sharing one thread (one module instance), the keyed subtask's own call is the second.
  const keyed = await failureOf(t, { n: 3000, keyThrowAt: 777, keyThrowsTwice: true }, true);
  t.equal(keyed.operatorName, 'Counting');
  t.equal(keyed.record, '777');
  t.match(keyed.causeMessage, /the key selector refuses 777/);
});

t.test('a throw the keyed operator swallowed does not take the blame for its own later throw', async (t) => {
  // Records 100 and 101 are in the same batch: the map's throw at 100 is caught by Counting,
  // which then throws at 101 itself.
  const failure = await failureOf(t, { n: 3000, mapThrowAt: 100, swallow: true, throwAt: 101 });
  t.equal(failure.operatorName, 'Counting');
  t.equal(failure.record, '101');
  t.match(failure.causeMessage, /Counting refuses 101/);
});

t.test('the same error object thrown again after a swallowed throw, and NaN, are blamed like any throw', async (t) => {
  // Picky map throws the shared error at 100, which Counting swallows; Counting throws that
  // very object itself at 2500: Counting is blamed, not the stale entry of record 100.
  const again = await failureOf(t, { n: 3000, mapThrowAt: 100, mapThrown: 'shared', swallow: true, throwAt: 2500, thrown: 'shared' });
  t.equal(again.operatorName, 'Counting');
  t.equal(again.record, '2500');
  // NaN is not === to itself: the innermost operator must still keep the blame.
  const nan = await failureOf(t, { n: 3000, mapThrowAt: 50, mapThrown: 'nan' });
  t.equal(nan.operatorName, 'Picky map');
  t.equal(nan.record, '50');
});

t.test('a throw downstream of endInput names the operator that threw, with the record', async (t) => {
  const failure = await failureOf(t, { n: 100, endInput: true, mapThrowAt: -2 });
  t.equal(failure.operatorName, 'Picky map');
  t.equal(failure.record, '-2');
});

t.test('a timer that throws names its operator and no record; a throw downstream of a timer names that operator', async (t) => {
  const timer = await failureOf(t, { n: 50, timerAt: 7, timer: 'throw' });
  t.equal(timer.operatorName, 'Counting');
  t.equal(timer.record, undefined);
  t.match(timer.causeMessage, /the timer refuses/);
  const downstream = await failureOf(t, { n: 50, timerAt: 7, timer: 'emit', mapThrowAt: -1 });
  t.equal(downstream.operatorName, 'Picky map');
  t.equal(downstream.record, '-1');
});

t.test('a window function that throws at a firing names the window operator, sliced or not, and no record', async (t) => {
  for (const sliced of [true, false]) {
    const error = await runJob(scenarios, { parallelism: 1, stateBackend: 'hashmap', args: ['blame-window', JSON.stringify({ n: 500, failAfter: 200, sliced })] }).result.then(
      () => undefined,
      (e: unknown) => e,
    );
    t.type(error, UserFunctionError, `the job fails (sliced: ${sliced})`);
    const failure = (error as UserFunctionError).failure;
    t.equal(failure.operatorName, 'Windowing', `sliced: ${sliced}`);
    t.equal(failure.record, undefined, `sliced: ${sliced}: a firing has no record`);
    t.match(failure.causeMessage, /the window ending 21\d refuses/);
  }
});

t.test('a watermark generator that throws at its periodic emit names its own operator', async (t) => {
  const error = await runJob(scenarios, { parallelism: 1, stateBackend: 'hashmap', args: ['blame-watermarks', JSON.stringify({ n: 2_000_000 })] }).result.then(
    () => undefined,
    (e: unknown) => e,
  );
  t.type(error, UserFunctionError, 'the job fails');
  const failure = (error as UserFunctionError).failure;
  t.equal(failure.operatorName, 'Stamping');
  t.match(failure.causeMessage, /the watermark generator refuses/);
});

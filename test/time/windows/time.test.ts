import t from 'tap';
import { Time } from '../../../src/time/windows/index.js';

t.test('Time gives milliseconds', async (t) => {
  t.equal(Time.milliseconds(250), 250);
  t.equal(Time.seconds(2), 2_000);
  t.equal(Time.minutes(5), 300_000);
  t.equal(Time.hours(-8), -28_800_000);
  t.equal(Time.days(1), 86_400_000);
  t.equal(Time.seconds(1.5), 1_500);
  t.equal(Time.seconds(1.1), 1_100, 'floating-point noise is rounded away');
  t.equal(Time.minutes(0.1), 6_000);
  t.ok(Object.is(Time.seconds(-0), 0), 'no -0');
});

t.test('Time refuses what is not a whole number of ms, naming the value', async (t) => {
  t.throws(() => Time.milliseconds(1.5), new RangeError('Time.milliseconds(1.5) is not a whole number of milliseconds within 2^53 (got 1.5 ms): give a finite value, or a smaller unit'));
  t.throws(() => Time.seconds(0.0005), { name: 'RangeError', message: /^Time\.seconds\(0\.0005\) is not a whole number of milliseconds/ });
  t.throws(() => Time.minutes(Number.NaN), { name: 'RangeError', message: /^Time\.minutes\(NaN\)/ });
  t.throws(() => Time.hours(Infinity), { name: 'RangeError', message: /^Time\.hours\(Infinity\)/ });
  t.throws(() => Time.days(2 ** 50), { name: 'RangeError', message: /within 2\^53/ });
});

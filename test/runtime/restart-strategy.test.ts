/** Restart strategies against plain reference models over seeded failure times; the CLI spec parser. */
import t from 'tap';
import {
  RestartBackoff,
  defaultRestartStrategy,
  parseRestartStrategy,
  restartAttemptsUnlimited,
  type RestartStrategyConfig,
} from '../../src/runtime/restart-strategy.js';
import { UsageError } from '../../src/errors.js';
import { seededRandom, testSeed } from '../helpers/random.js';

const seed = testSeed(20260421);
t.comment(`seed ${seed} (replay with SLUICE_SEED=${seed})`);

const randomInt = (rand: () => number, lo: number, hiExclusive: number): number => lo + Math.floor(rand() * (hiExclusive - lo));

/** Failure times: bursts of close failures separated by quiet stretches of about `quietMs`. */
function failureTimes(rand: () => number, count: number, closeMs: number, quietMs: number): number[] {
  const times: number[] = [];
  let now = randomInt(rand, 0, 1_000_000);
  for (let i = 0; i < count; i++) {
    now += rand() < 0.2 ? randomInt(rand, quietMs / 2, quietMs * 2) : randomInt(rand, 0, closeMs);
    times.push(now);
  }
  return times;
}

t.test('none never restarts', (t) => {
  const backoff = new RestartBackoff({ kind: 'none' });
  for (const now of [0, 10, 10_000_000]) t.equal(backoff.onFailure(now), undefined);
  t.equal(backoff.describe(), 'none');
  t.end();
});

t.test('fixed-delay restarts exactly `attempts` times, then gives up for good', (t) => {
  const rand = seededRandom(seed);
  for (let round = 0; round < 200; round++) {
    const attempts = randomInt(rand, 0, 8);
    const delayMs = randomInt(rand, 0, 5000);
    const backoff = new RestartBackoff({ kind: 'fixed-delay', attempts, delayMs });
    const times = failureTimes(rand, randomInt(rand, 0, 15), 1000, 100_000);
    const got = times.map((now) => backoff.onFailure(now));
    const want = times.map((_now, i) => (i + 1 <= attempts ? delayMs : undefined));
    if (!t.same(got, want, `seed ${seed} round ${round}`)) break;
  }
  t.equal(new RestartBackoff({ kind: 'fixed-delay', attempts: 3, delayMs: 1000 }).describe(), 'fixed-delay (3 attempts, 1000 ms)');
  t.end();
});

t.test('failure-rate gives up on the failure that makes more than maxFailures within the interval', (t) => {
  const rand = seededRandom(seed + 1);
  for (let round = 0; round < 300; round++) {
    const maxFailures = randomInt(rand, 1, 5);
    const intervalMs = randomInt(rand, 1, 10_000);
    const delayMs = randomInt(rand, 0, 3000);
    const backoff = new RestartBackoff({ kind: 'failure-rate', maxFailures, intervalMs, delayMs });
    const times = failureTimes(rand, randomInt(rand, 1, 25), intervalMs / 2, intervalMs);
    // Reference: count every failure so far whose age is within the interval (inclusive).
    const want: (number | undefined)[] = [];
    let failed = false;
    times.forEach((now, i) => {
      const inWindow = times.slice(0, i + 1).filter((t) => now - t <= intervalMs).length;
      failed ||= inWindow > maxFailures;
      want.push(failed ? undefined : delayMs);
    });
    const got = times.map((now) => backoff.onFailure(now));
    if (!t.same(got, want, `seed ${seed + 1} round ${round}: max ${maxFailures} per ${intervalMs} ms at ${times.join(',')}`)) break;
  }
  t.end();
});

t.test('failure-rate boundary: a failure exactly `interval` after the oldest still counts', (t) => {
  const backoff = new RestartBackoff({ kind: 'failure-rate', maxFailures: 2, intervalMs: 100, delayMs: 7 });
  t.equal(backoff.onFailure(0), 7);
  t.equal(backoff.onFailure(50), 7);
  t.equal(backoff.onFailure(101), 7, '0 is 101 ms old: out of the window');
  t.equal(backoff.onFailure(150), undefined, '50, 101, 150 are within 100 ms');
  t.equal(backoff.onFailure(10_000), undefined, 'stays given up');
  t.equal(backoff.describe(), 'failure-rate (2 failures per 100 ms, 7 ms)');
  t.end();
});

type Exponential = Extract<RestartStrategyConfig, { kind: 'exponential-delay' }>;

t.test('exponential-delay without jitter: grows by the multiplier, caps at max, resets after a quiet period', (t) => {
  const rand = seededRandom(seed + 2);
  let resets = 0;
  let capped = 0;
  for (let round = 0; round < 300; round++) {
    const initialMs = 16 * randomInt(rand, 1, 64);
    const config: Exponential = {
      kind: 'exponential-delay',
      initialMs,
      maxMs: initialMs * randomInt(rand, 1, 40),
      multiplier: [1, 1.5, 2, 3][randomInt(rand, 0, 4)]!,
      resetThresholdMs: randomInt(rand, 1, 60_000),
      jitter: 0,
    };
    const backoff = new RestartBackoff(config);
    const times = failureTimes(rand, randomInt(rand, 1, 30), 2 * config.maxMs, config.resetThresholdMs + config.maxMs);
    // Reference: the k-th failure since the last reset waits min(initial * multiplier^(k-1), max).
    let k = 0;
    let restartedAt = Number.NEGATIVE_INFINITY;
    const want: number[] = [];
    for (const now of times) {
      if (now - restartedAt >= config.resetThresholdMs) {
        if (k > 0) resets++;
        k = 0;
      }
      k++;
      const exact = config.initialMs * config.multiplier ** (k - 1);
      if (exact > config.maxMs) capped++;
      const delay = Math.min(config.maxMs, Math.round(exact));
      want.push(delay);
      restartedAt = now + delay;
    }
    const got = times.map((now) => backoff.onFailure(now));
    if (!t.same(got, want, `seed ${seed + 2} round ${round}: ${JSON.stringify(config)} at ${times.join(',')}`)) break;
  }
  t.ok(resets > 20 && capped > 20, `the sequences exercised resets (${resets}) and the cap (${capped})`);
  t.end();
});

t.test('exponential-delay jitter stays within +-jitter x backoff and below max, and varies', (t) => {
  const rand = seededRandom(seed + 3);
  const jitterRandom = seededRandom(seed + 4);
  const config: Exponential = { kind: 'exponential-delay', initialMs: 100, maxMs: 10_000, multiplier: 2, resetThresholdMs: 60_000, jitter: 0.25 };
  const distinct = new Set<number>();
  let below = 0;
  let above = 0;
  for (let round = 0; round < 100; round++) {
    const backoff = new RestartBackoff(config, jitterRandom);
    let base = 0;
    let restartedAt = Number.NEGATIVE_INFINITY;
    for (const now of failureTimes(rand, 12, 5000, 80_000)) {
      base = now - restartedAt >= config.resetThresholdMs ? config.initialMs : Math.min(base * config.multiplier, config.maxMs);
      const delay = backoff.onFailure(now)!;
      const lo = Math.round(base * (1 - config.jitter));
      const hi = Math.min(config.maxMs, Math.round(base * (1 + config.jitter)));
      if (!t.ok(delay >= lo && delay <= hi, `delay ${delay} within [${lo}, ${hi}] (seed ${seed + 3}, round ${round})`)) return t.end();
      if (base === config.initialMs) distinct.add(delay);
      if (delay < base) below++;
      if (delay > base && base < config.maxMs) above++;
      restartedAt = now + delay;
    }
  }
  t.ok(distinct.size > 20, `jitter varies the delay (${distinct.size} distinct first delays)`);
  t.ok(below > 100 && above > 100, `jitter goes both ways (${below} below, ${above} above the backoff)`);
  t.equal(new RestartBackoff(config).describe(), 'exponential-delay (100 ms to 10000 ms, x2, reset after 60000 ms, jitter 0.25)');
  t.end();
});

t.test('exponential-delay worked example: 100, 200, 400, cap 500, reset after 1 s of quiet', (t) => {
  const backoff = new RestartBackoff({ kind: 'exponential-delay', initialMs: 100, maxMs: 500, multiplier: 2, resetThresholdMs: 1000, jitter: 0 });
  t.same([0, 150, 400, 900, 1500].map((now) => backoff.onFailure(now)), [100, 200, 400, 500, 500]);
  t.equal(backoff.onFailure(2999), 500, 'restarted at 2000; 999 ms of quiet is not enough');
  t.equal(backoff.onFailure(4500), 100, 'restarted at 3499; 1001 ms of quiet resets');
  t.equal(backoff.onFailure(5500), 200, 'restarted at 4600; 900 ms of quiet');
  t.equal(backoff.onFailure(6700), 100, 'restarted at 5700; exactly 1000 ms of quiet resets');
  t.end();
});

t.test('failure times must not go back', (t) => {
  const backoff = new RestartBackoff({ kind: 'fixed-delay', attempts: 5, delayMs: 1 });
  backoff.onFailure(100);
  t.throws(() => backoff.onFailure(99), /must not go back/);
  t.end();
});

t.test('defaults: Flink fixed-delay with unlimited attempts when checkpointing, none without', (t) => {
  t.same(defaultRestartStrategy(true), { kind: 'fixed-delay', attempts: restartAttemptsUnlimited, delayMs: 1000 });
  t.same(defaultRestartStrategy(false), { kind: 'none' });
  t.equal(new RestartBackoff(defaultRestartStrategy(true)).describe(), 'fixed-delay (unlimited attempts, 1000 ms)');
  t.end();
});

t.test('parser accepts the documented specs, with Flink defaults for what is left out', (t) => {
  const cases: [string, RestartStrategyConfig][] = [
    ['none', { kind: 'none' }],
    ['fixed-delay', { kind: 'fixed-delay', attempts: 1, delayMs: 1000 }],
    ['fixed-delay:attempts=3,delay=1s', { kind: 'fixed-delay', attempts: 3, delayMs: 1000 }],
    ['fixed-delay:delay=250', { kind: 'fixed-delay', attempts: 1, delayMs: 250 }],
    [' fixed-delay : attempts = 0 , delay = 2m ', { kind: 'fixed-delay', attempts: 0, delayMs: 120_000 }],
    ['failure-rate', { kind: 'failure-rate', maxFailures: 1, intervalMs: 60_000, delayMs: 1000 }],
    ['failure-rate:max-failures=3,interval=60s,delay=1.5s', { kind: 'failure-rate', maxFailures: 3, intervalMs: 60_000, delayMs: 1500 }],
    ['exponential-delay', { kind: 'exponential-delay', initialMs: 1000, maxMs: 60_000, multiplier: 1.5, resetThresholdMs: 3_600_000, jitter: 0.1 }],
    [
      'exponential-delay:initial=100ms,max=10s,multiplier=2,reset=60s,jitter=0.1',
      { kind: 'exponential-delay', initialMs: 100, maxMs: 10_000, multiplier: 2, resetThresholdMs: 60_000, jitter: 0.1 },
    ],
  ];
  for (const [spec, want] of cases) t.same(parseRestartStrategy(spec), want, spec);
  t.end();
});

t.test('parser rejects bad specs with a UsageError naming the bad part and the accepted forms', (t) => {
  const cases: [string, RegExp][] = [
    ['', /unknown strategy ""/],
    ['fixed', /unknown strategy "fixed"/],
    ['none:attempts=1', /"none" takes no parameters/],
    ['fixed-delay:', /unknown parameter "" for fixed-delay \(it takes attempts, delay\)/],
    ['fixed-delay:tries=3', /unknown parameter "tries=3" for fixed-delay/],
    ['fixed-delay:attempts', /parameter attempts has no value/],
    ['fixed-delay:attempts=3,attempts=4', /attempts is given twice/],
    ['fixed-delay:attempts=-1', /attempts must be a whole number, got "-1"/],
    ['fixed-delay:attempts=2.5', /attempts must be a whole number, got "2.5"/],
    ['fixed-delay:attempts=3000000000', /attempts must be an integer from 0 to 2147483647, got 3000000000/],
    ['fixed-delay:delay=1h', /delay must be a duration in whole ms \(e.g. 500ms, 1s, 2m\), got "1h"/],
    ['fixed-delay:delay=0.5ms', /delay must be a duration/],
    ['failure-rate:max-failures=0', /max-failures must be an integer from 1/],
    ['failure-rate:interval=0s', /interval must be whole ms >= 1, got 0/],
    ['failure-rate:jitter=0.1', /unknown parameter "jitter=0.1" for failure-rate \(it takes max-failures, interval, delay\)/],
    ['exponential-delay:initial=2s,max=1s', /max must be whole ms >= initial \(2000 ms\), got 1000/],
    ['exponential-delay:multiplier=0.5', /multiplier must be a finite number >= 1, got 0.5/],
    ['exponential-delay:jitter=1.5', /jitter must be from 0 to 1, got 1.5/],
    ['exponential-delay:jitter=x', /jitter must be a number \(e.g. 1.5\), got "x"/],
  ];
  for (const [spec, message] of cases) {
    try {
      parseRestartStrategy(spec);
      t.fail(`${JSON.stringify(spec)} was accepted`);
    } catch (error) {
      t.ok(error instanceof UsageError, `${JSON.stringify(spec)} throws UsageError`);
      t.match((error as Error).message, message, spec);
      t.match((error as Error).message, /Accepted: none \| fixed-delay\[:attempts=N,delay=D\] \| failure-rate.*exponential-delay/);
      t.ok((error as Error).message.startsWith(`Bad restart strategy ${JSON.stringify(spec)}: `), 'names the spec');
    }
  }
  t.end();
});

t.test('the constructor validates configs given in code', (t) => {
  t.throws(() => new RestartBackoff({ kind: 'fixed-delay', attempts: -1, delayMs: 0 }), UsageError);
  t.throws(() => new RestartBackoff({ kind: 'exponential-delay', initialMs: 0, maxMs: 1, multiplier: 2, resetThresholdMs: 1, jitter: 0 }), /initial must be whole ms >= 1/);
  t.end();
});

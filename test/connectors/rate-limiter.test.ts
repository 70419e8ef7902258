// The token bucket of rate-limited sources against a manual clock: permits accrue at the
// rate, at most a burst is banked, the wait for the next permit is exact, and over a long
// run the permits handed out match rate x time whatever the asking pattern.
import t from 'tap';
import { RateLimiter, rateLimiterBurstMs } from '../../src/connectors/index.js';
import { seededRandom, testSeed } from '../helpers/random.js';

t.test('permits accrue at the rate; at most a burst is banked; msUntilNext is exact', async (t) => {
  let now = 1000;
  const limiter = new RateLimiter(1000, () => now); // 1 permit per ms
  t.equal(limiter.acquire(10), 0, 'none at the start');
  t.equal(limiter.msUntilNext(), 1);
  now += 5;
  t.equal(limiter.acquire(10), 5);
  now += 10_000; // a long pause banks only the burst
  t.equal(limiter.acquire(1_000_000), rateLimiterBurstMs, `a ${rateLimiterBurstMs} ms burst at most`);
  now += 0.25;
  t.equal(limiter.acquire(1), 0);
  t.equal(limiter.msUntilNext(), 0.75);
  const slow = new RateLimiter(2, () => now); // one permit per 500 ms, the burst still holds one
  t.equal(slow.msUntilNext(), 500);
  now += 500;
  t.equal(slow.acquire(5), 1);
  t.throws(() => new RateLimiter(0), /A rate limit must be a finite number of records per second > 0, got 0/);
  t.throws(() => new RateLimiter(Infinity), /got Infinity/);
});

t.test('over a long run the permits handed out equal rate x time, for any asking pattern (seeded)', async (t) => {
  const seed = testSeed(4242);
  const random = seededRandom(seed);
  for (const rate of [10, 10_000, 100_000, 1_000_000]) {
    let now = 0;
    const limiter = new RateLimiter(rate, () => now);
    let taken = 0;
    while (now < 10_000) {
      // The reader asks for a batch, or waits exactly until the next permit, or is busy elsewhere.
      const r = random();
      if (r < 0.5) taken += limiter.acquire(1 + Math.floor((random() * rate) / 50));
      else if (r < 0.8) now += Math.max(limiter.msUntilNext(), 0.001);
      else now += random() * 3;
    }
    const expected = (rate * now) / 1000;
    const burst = Math.max(1, (rate * rateLimiterBurstMs) / 1000);
    // Never more than the rate allows; less only by what is still banked at the end (the
    // asks keep up, so no pause outlasts the burst).
    t.ok(taken <= expected + 1e-6, `rate ${rate}: ${taken} <= ${expected.toFixed(0)} (seed ${seed})`);
    t.ok(taken >= expected - burst - 1, `rate ${rate}: ${taken} >= ${expected.toFixed(0)} - a burst (seed ${seed})`);
  }
});

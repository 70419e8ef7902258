/** Doorbell: one consumer sleeping on several input rings at once. */
import t from 'tap';
import { once } from 'node:events';
import { Worker } from 'node:worker_threads';
import { Doorbell, FrameKind, Ring } from '../../src/channel/index.js';
import { lostWakeUps, WAIT_SLICE_MS } from '../../src/channel/wait.js';
import { firstMismatch, kindOf, sizeOf, type ProducerJob, type ProducerReport } from './fixtures/frames.js';

const WORKER_URL = new URL('./fixtures/producer-worker.js', import.meta.url);

t.test('wait returns not-equal after a ring, ok when rung while waiting, timed-out otherwise', async (t) => {
  const bell = new Doorbell(Doorbell.allocate());
  const seen = bell.sequence();
  bell.ring();
  t.equal(await bell.wait(seen), 'not-equal');
  t.equal(bell.waitBlocking(seen, 0), 'not-equal');
  const now = bell.sequence();
  t.equal(now, (seen + 1) | 0);
  const waiting = bell.wait(now);
  bell.ring();
  t.equal(await waiting, 'ok');
  t.equal(await bell.wait(bell.sequence(), 1), 'timed-out');
  t.equal(bell.waitBlocking(bell.sequence(), 0), 'timed-out');
  t.throws(() => new Doorbell(new SharedArrayBuffer(64)), TypeError);
  t.throws(() => bell.wait(1.5), TypeError);
  t.throws(() => bell.wait(0, -5), RangeError);
});

t.test('a ring with a doorbell rings it on every publish', async (t) => {
  const bell = new Doorbell(Doorbell.allocate());
  const sab = Ring.allocate(4096);
  const producer = new Ring(sab, bell);
  const seen = bell.sequence();
  const waiting = bell.wait(seen);
  producer.tryWrite(FrameKind.WATERMARK, new Uint8Array(8));
  t.equal(await waiting, 'ok');
  t.equal(bell.sequence(), (seen + 1) | 0);
  t.equal(new Ring(sab).tryRead()?.kind, FrameKind.WATERMARK);
});

t.test('a lost wake-up (the word changed, no notify came) ends an unbounded wait within a slice', async (t) => {
  // Node 20's Atomics.waitAsync can lose a wake-up (native-notes §1): this is what one looks
  // like to the waiter, a changed sequence and no notify. The wait must still end.
  const bell = new Doorbell(Doorbell.allocate());
  const before = lostWakeUps();
  const seen = bell.sequence();
  const start = performance.now();
  const waiting = bell.wait(seen);
  Atomics.add(new Int32Array(bell.sab), 0, 1); // what ring() does, without its notify
  let watchdog: NodeJS.Timeout | undefined;
  const outcome = await Promise.race([waiting, new Promise<string>((resolve) => (watchdog = setTimeout(() => resolve('still asleep after 10 slices'), 10 * WAIT_SLICE_MS)))]);
  clearTimeout(watchdog);
  t.equal(outcome, 'ok', 'woken by the next slice');
  t.equal(lostWakeUps(), before + 1, 'counted as a lost wake-up');
  t.ok(performance.now() - start >= WAIT_SLICE_MS * 0.9, 'not before the slice ended');
  t.equal(await bell.wait(bell.sequence(), WAIT_SLICE_MS * 2.5), 'timed-out', 'a bounded wait of several slices with no change still times out');
});

t.test('two producer workers, two rings, one consumer sleeping on the doorbell', async (t) => {
  const seed = Number(process.env.SLUICE_SEED ?? Date.now() % 1_000_000);
  const lostBefore = lostWakeUps();
  const doorbellSab = Doorbell.allocate();
  const bell = new Doorbell(doorbellSab);
  const jobs: ProducerJob[] = [0, 1].map((n) => ({
    ringSab: Ring.allocate(4096),
    doorbellSab,
    frames: 30_000,
    seed: seed + n,
    largeMax: 2000,
    mode: n === 0 ? 'blocking' : 'async',
  }));
  const rings = jobs.map((job) => new Ring(job.ringSab));
  const workers = jobs.map((job) => new Worker(WORKER_URL, { workerData: job }));
  const reports = workers.map((w) => once(w, 'message').then(([m]) => m as ProducerReport));
  const exits = workers.map((w) => once(w, 'exit'));
  const next = [0, 0];
  const ended = [false, false];
  let sleeps = 0;
  let failure: string | undefined;
  while (failure === undefined && !(ended[0] && ended[1])) {
    const seen = bell.sequence(); // read before polling, so a publish after the poll changes it
    let progressed = false;
    for (let r = 0; r < 2; r++) {
      const frame = rings[r]!.tryRead();
      if (frame === undefined) continue;
      progressed = true;
      const i = next[r]!++;
      const job = jobs[r]!;
      if (frame.kind === FrameKind.END_OF_INPUT) ended[r] = true;
      else if (frame.kind !== kindOf(i, job.seed) || frame.payload.length !== sizeOf(i, job.seed, job.largeMax) || firstMismatch(frame.payload, i, job.seed) !== -1) {
        failure = `ring ${r} frame ${i} is not what the producer wrote (seed ${job.seed})`;
      }
    }
    if (!progressed && (await bell.wait(seen)) === 'ok') sleeps++;
  }
  const done = await Promise.all(reports);
  t.equal(failure, undefined);
  t.same(next, [30_001, 30_001], 'all frames and END_OF_INPUT from both rings');
  t.same(done.map((r) => r.written), [30_000, 30_000]);
  t.ok(sleeps > 0, `the consumer slept on the doorbell (${sleeps} times, ${lostWakeUps() - lostBefore} wake-ups lost by the platform and recovered)`);
  await Promise.all(exits);
});

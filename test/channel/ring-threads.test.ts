/**
 * Cross-thread: a producer in a real worker thread pushes 200k frames of varying size
 * through a small ring with blocking backpressure; this thread reads them with read()
 * (Atomics.waitAsync) and checks order, sizes, kinds and every byte.
 */
import t from 'tap';
import { once } from 'node:events';
import { Worker } from 'node:worker_threads';
import { FrameKind, Ring } from '../../src/channel/index.js';
import { FNV_OFFSET, firstMismatch, fnv1a, kindOf, sizeOf, type ProducerJob, type ProducerReport } from './fixtures/frames.js';

const WORKER_URL = new URL('./fixtures/producer-worker.js', import.meta.url);

function startProducer(job: ProducerJob): Promise<ProducerReport> {
  const worker = new Worker(WORKER_URL, { workerData: job });
  const report = once(worker, 'message').then(([message]) => message as ProducerReport);
  const exit = once(worker, 'exit').then(([code]) => {
    if (code !== 0) throw new Error(`producer worker exited with code ${String(code)}`);
  });
  return Promise.all([report, exit]).then(([r]) => r);
}

/** Reads until END_OF_INPUT, checking frame i against the deterministic stream. */
async function consume(ring: Ring, job: ProducerJob, zeroCopyEvery: number): Promise<{ frames: number; checksum: number; failure?: string }> {
  let checksum = FNV_OFFSET;
  for (let i = 0; ; i++) {
    let kind: FrameKind;
    let problem: string | undefined;
    const check = (k: FrameKind, payload: Uint8Array): void => {
      kind = k;
      if (k === FrameKind.END_OF_INPUT) return;
      checksum = fnv1a(checksum, payload);
      const size = sizeOf(i, job.seed, job.largeMax);
      if (k !== kindOf(i, job.seed)) problem = `frame ${i}: kind ${k}, expected ${kindOf(i, job.seed)}`;
      else if (payload.length !== size) problem = `frame ${i}: ${payload.length} bytes, expected ${size}`;
      else if (firstMismatch(payload, i, job.seed) !== -1) problem = `frame ${i}: differs at byte ${firstMismatch(payload, i, job.seed)}`;
    };
    if (i % zeroCopyEvery === 0 && (await ring.waitForData())) {
      ring.tryReadWith(check);
    } else {
      const frame = await ring.read();
      check(frame.kind, frame.payload);
    }
    if (problem !== undefined) return { frames: i, checksum, failure: `${problem} (seed ${job.seed})` };
    if (kind! === FrameKind.END_OF_INPUT) return { frames: i, checksum };
  }
}

for (const mode of ['blocking', 'async'] as const) {
  t.test(`200k frames from a worker (${mode} producer) arrive in order, byte for byte`, async (t) => {
    const seed = Number(process.env.SLUICE_SEED ?? Date.now() % 1_000_000);
    const job: ProducerJob = { ringSab: Ring.allocate(8192), frames: 200_000, seed, largeMax: 6000, mode };
    const ring = new Ring(job.ringSab);
    const producing = startProducer(job);
    const result = await consume(ring, job, 3);
    const report = await producing;
    t.equal(result.failure, undefined, `seed ${seed}`);
    t.equal(result.frames, job.frames, 'every frame, then END_OF_INPUT');
    t.equal(result.checksum, report.checksum, 'checksum of all payload bytes matches the producer');
    t.ok(report.producerWaitCount > 0, `the producer was blocked by backpressure (${report.producerWaitCount} sleeps)`);
    t.equal(ring.usedBytes(), 0);
    t.equal(ring.tryRead(), undefined);
  });
}

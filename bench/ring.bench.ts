/**
 * Ring throughput: frames/s and MB/s for small (64 B) and large (16 KiB) frames through a
 * 1 MiB ring, producer in a worker, with
 *   - blocking waits: producer writeBlocking, consumer readBlocking in a second worker;
 *   - async waits: producer tryWrite / await write(), consumer await read() on the main
 *     thread (Atomics.waitAsync on both sides);
 *   - async + zero-copy: as async, consumer drains with tryReadWith after waitForData.
 * Each case runs RUNS times; the table shows the median and the range. The consumer times
 * from its first frame to END_OF_INPUT (worker start-up is not measured).
 *
 * Run: `node dist/bench/ring.bench.js` (or via bench/run-all). This file is also the
 * worker entry: a worker started on it with `workerData.role` plays that role.
 */
import { once } from 'node:events';
import { pathToFileURL } from 'node:url';
import { Worker, isMainThread, parentPort, workerData } from 'node:worker_threads';
import { FrameKind, Ring } from '../src/channel/index.js';

const RING_BYTES = 1 << 20;
const RUNS = 3;
const CASES = [
  { name: '64 B', payloadBytes: 64, frames: 2_000_000 },
  { name: '16 KiB', payloadBytes: 16 * 1024, frames: 40_000 },
] as const;
type Mode = 'blocking' | 'async' | 'async zero-copy';
const MODES: readonly Mode[] = ['blocking', 'async', 'async zero-copy'];

interface RoleData {
  role: 'producer' | 'consumer';
  sab: SharedArrayBuffer;
  frames: number;
  payloadBytes: number;
  blocking: boolean;
}

/** What a consumer measured: elapsed ms from first frame to END_OF_INPUT, and checks. */
interface Measurement {
  ms: number;
  frames: number;
  checksum: number;
  producerWaits: number;
  consumerWaits: number;
}

async function produce(data: RoleData): Promise<number> {
  const ring = new Ring(data.sab);
  const payload = new Uint8Array(data.payloadBytes).fill(7);
  for (let i = 0; i < data.frames; i++) {
    payload[0] = i & 255;
    if (data.blocking) ring.writeBlocking(FrameKind.RECORDS, payload);
    else if (!ring.tryWrite(FrameKind.RECORDS, payload)) await ring.write(FrameKind.RECORDS, payload);
  }
  ring.writeBlocking(FrameKind.END_OF_INPUT, new Uint8Array(0));
  return ring.producerWaitCount;
}

function consumeBlocking(ring: Ring): Omit<Measurement, 'producerWaits'> {
  let frames = 0;
  let checksum = 0;
  let start = 0;
  for (;;) {
    const frame = ring.readBlocking();
    if (frame === undefined) throw new Error('readBlocking without timeout returned nothing');
    if (frames === 0) start = performance.now();
    if (frame.kind === FrameKind.END_OF_INPUT) break;
    checksum = (checksum + frame.payload[0]!) | 0;
    frames++;
  }
  return { ms: performance.now() - start, frames, checksum, consumerWaits: ring.consumerWaitCount };
}

async function consumeAsync(ring: Ring, zeroCopy: boolean): Promise<Omit<Measurement, 'producerWaits'>> {
  let frames = 0;
  let checksum = 0;
  let start = 0;
  let ended = false;
  const onFrame = (kind: FrameKind, payload: Uint8Array): void => {
    if (frames === 0) start = performance.now();
    if (kind === FrameKind.END_OF_INPUT) ended = true;
    else {
      checksum = (checksum + payload[0]!) | 0;
      frames++;
    }
  };
  while (!ended) {
    if (zeroCopy) {
      await ring.waitForData();
      while (!ended && ring.tryReadWith(onFrame) !== undefined);
    } else {
      const frame = await ring.read();
      onFrame(frame.kind, frame.payload);
    }
  }
  return { ms: performance.now() - start, frames, checksum, consumerWaits: ring.consumerWaitCount };
}

function startRole(data: RoleData): { done: Promise<unknown> } {
  const worker = new Worker(new URL(import.meta.url), { workerData: data });
  const message = once(worker, 'message').then(([m]) => m as unknown);
  const exit = once(worker, 'exit');
  return { done: Promise.all([message, exit]).then(([m]) => m) };
}

async function runCase(mode: Mode, payloadBytes: number, frames: number): Promise<Measurement> {
  const sab = Ring.allocate(RING_BYTES);
  const base = { sab, frames, payloadBytes, blocking: mode === 'blocking' };
  const producer = startRole({ ...base, role: 'producer' });
  let result: Omit<Measurement, 'producerWaits'>;
  if (mode === 'blocking') {
    result = (await startRole({ ...base, role: 'consumer' }).done) as Omit<Measurement, 'producerWaits'>;
  } else {
    result = await consumeAsync(new Ring(sab), mode === 'async zero-copy');
  }
  const producerWaits = (await producer.done) as number;
  if (result.frames !== frames) throw new Error(`ring bench: consumer got ${result.frames} frames, expected ${frames}`);
  return { ...result, producerWaits };
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)]!;
}

/** Runs every case RUNS times and prints a table; resolves when done. */
export async function main(): Promise<void> {
  console.log(`ring.bench: ${RING_BYTES / 1024} KiB ring, producer in a worker, median of ${RUNS} runs (range)`);
  const rows: Record<string, string>[] = [];
  for (const c of CASES) {
    for (const mode of MODES) {
      const runs: Measurement[] = [];
      for (let r = 0; r < RUNS; r++) runs.push(await runCase(mode, c.payloadBytes, c.frames));
      const framesPerS = runs.map((m) => (m.frames / m.ms) * 1000);
      const mbPerS = framesPerS.map((f) => (f * c.payloadBytes) / 1e6);
      rows.push({
        frame: c.name,
        waits: mode,
        consumer: mode === 'blocking' ? 'worker' : 'main thread',
        'frames/s': `${fmt(median(framesPerS))} (${fmt(Math.min(...framesPerS))}..${fmt(Math.max(...framesPerS))})`,
        'MB/s': `${median(mbPerS).toFixed(0)} (${Math.min(...mbPerS).toFixed(0)}..${Math.max(...mbPerS).toFixed(0)})`,
        'producer sleeps': String(median(runs.map((m) => m.producerWaits))),
        'consumer sleeps': String(median(runs.map((m) => m.consumerWaits))),
      });
    }
  }
  console.table(rows);
}

function fmt(n: number): string {
  return n >= 1e6 ? `${(n / 1e6).toFixed(2)}M` : `${(n / 1e3).toFixed(0)}k`;
}

if (!isMainThread && (workerData as RoleData | undefined)?.role !== undefined) {
  const data = workerData as RoleData;
  const port = parentPort!;
  if (data.role === 'producer') port.postMessage(await produce(data));
  else port.postMessage(consumeBlocking(new Ring(data.sab)));
} else if (isMainThread && process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  await main();
}

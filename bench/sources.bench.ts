/**
 * Source benchmarks (FLIP-27 readers in the mailbox loop):
 *
 *   1. Socket source throughput: `socketTextStream` -> map -> a dropping sink
 *      (bench/jobs/sources.ts) at parallelism 1 (one chain) and 2 (lines cross a ring),
 *      against a plain `node:net` reader that reads and splits the same bytes in one
 *      thread (hand-written: a byte search and a decode per line). The lines
 *      come from bench/line-server.ts in a child process, written as fast as the socket
 *      takes them, then the connection is closed and the job ends. The same jobs reading
 *      no line give their fixed cost (start-up, connection, teardown), taken off their CPU
 *      per line in the "net" columns.
 *   2. Rate-limited generator: `fromGenerator(i => i, Infinity, { recordsPerSecond })` at
 *      parallelism 2 for 10k, 100k and 1M records/s and without a limit: the rate
 *      achieved over a fixed window (source records out, from `handle.metrics()`, after a
 *      warm-up), then `handle.cancel()`.
 *   3. Idle cost: CPU time and context switches of the whole process (main thread and
 *      workers) while a socket job is connected to a server that sends nothing, against
 *      the same process with no job: in the first 10 s (V8 may still be busy after the
 *      start-up) and in 10 s after that.
 *
 * Method (as engine.bench.ts; the machine is small and shared, so only ratios measured
 * side by side mean much): an unmeasured warm-up, then `repetitions` rounds, each running
 * every variant once in an order rotated from round to round; ratios are taken within a
 * round and summarized as median [min-max]. CPU times are the whole process's, every
 * thread (the line server's child process is not counted). A measurement, never a test:
 * nothing asserts on speed, only on the work done (every line arrived).
 *
 *   node dist/bench/sources.bench.js      (SLUICEGATE_BENCH_REPS=n to change rounds)
 */
import assert from 'node:assert/strict';
import { fork } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { connect } from 'node:net';
import { availableParallelism, cpus } from 'node:os';
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { JobCancelledError, runJob } from '../src/index.js';
import type { JobHandle, JobMetrics, RunJobOptions } from '../src/index.js';
import { fixed, formatRate, formatSummary, loadAverage, printTable, repetitionsFromEnv, runRounds, summarize } from './report.js';
import type { RoundVariant } from './report.js';

/** Rounds of every section; 3 take about 6 minutes on 2 busy cores. */
const repetitionsDefault = 3;
/** Lines per socket run (~60 bytes each: ~180 MB). */
const socketLines = 3_000_000;
/** Section 2's requested rates, records/s over both subtasks; undefined: no limit. */
const generatorRates = [10_000, 100_000, 1_000_000, undefined] as const;
/** Section 2: time after the first record before the window opens (start-up, JIT), ms. */
const generatorWarmUpMs = 1000;
/** Section 2: the measured window, ms. */
const generatorWindowMs = 4000;
/**
 * Section 3: two windows of `idleWindowMs` after the connection: the first opens once
 * threads have started, the second once V8's one-off work after start-up is over (seen in
 * the first window in some runs, in the main thread, V8's helper threads and the worker).
 */
const idleWindowStartsMs = [1000, 13_000] as const;
const idleWindowMs = 10_000;
/** Longest wait for the sinks' reports after a socket job ended, ms. */
const reportTimeoutMs = 5000;

const jobModule = new URL('./jobs/sources.js', import.meta.url);
const serverModule = fileURLToPath(new URL('./line-server.js', import.meta.url));

/** Epoch ms with sub-ms precision, comparable with the line server's (another process). */
function nowMs(): number {
  return performance.timeOrigin + performance.now();
}

function cpuMsSince(start: NodeJS.CpuUsage): number {
  const used = process.cpuUsage(start);
  return (used.user + used.system) / 1000;
}

/** Options of every job here: heap state (none is used), no state folder. */
function jobOptions(args: string[], parallelism: number): RunJobOptions {
  return { args, parallelism, stateBackend: 'hashmap' };
}

// ---------------------------------------------------------------- the line server

interface Written {
  atMs: number;
  bytes: number;
  lines: number;
}

/** The child process of bench/line-server.ts and its IPC protocol (see there). */
class LineServer {
  private readonly waiters = new Map<string, Array<(message: Record<string, unknown>) => void>>();

  private constructor(
    private readonly child: ChildProcess,
    readonly port: number,
  ) {
    child.on('message', (m: Record<string, unknown>) => this.waiters.get(m['type'] as string)?.shift()?.(m));
  }

  static async start(): Promise<LineServer> {
    const child = fork(serverModule, [], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    const port = await new Promise<number>((resolve, reject) => {
      child.once('message', (m: { type: string; port: number }) => resolve(m.port));
      child.once('error', reject);
      child.once('exit', (code) => reject(new Error(`line server exited with code ${code} before listening`)));
    });
    return new LineServer(child, port);
  }

  private next(type: string): Promise<Record<string, unknown>> {
    return new Promise((resolve) => {
      const list = this.waiters.get(type) ?? [];
      list.push(resolve);
      this.waiters.set(type, list);
    });
  }

  /**
   * The next connection gets `lines` lines (connect once this resolved): promises of when
   * it was accepted and when the last byte was written.
   */
  async serve(lines: number): Promise<{ accepted: Promise<number>; written: Promise<Written> }> {
    const queued = this.next('queued');
    this.child.send({ type: 'serve', lines });
    await queued;
    return { accepted: this.next('accepted').then((m) => m['atMs'] as number), written: this.next('written') as unknown as Promise<Written> };
  }

  /** The next connection gets nothing until `release()` (connect once this resolved): when it was accepted. */
  async hold(): Promise<{ accepted: Promise<number> }> {
    const queued = this.next('queued');
    this.child.send({ type: 'hold' });
    await queued;
    return { accepted: this.next('accepted').then((m) => m['atMs'] as number) };
  }

  release(): void {
    this.child.send({ type: 'release' });
  }

  async close(): Promise<void> {
    const exited = new Promise((resolve) => this.child.once('exit', resolve));
    this.child.send({ type: 'exit' });
    await exited;
  }
}

// ---------------------------------------------------------------- 1. socket throughput

interface SocketSample {
  /** From the call (runJob, connect) to the result, ms. */
  wallMs: number;
  /** From the server's accept to the last line read, ms: the steady rate's time. */
  streamMs: number;
  cpuMs: number;
  lines: number;
  /** Bytes the server wrote. */
  bytes: number;
}

/**
 * Reads the server's lines in this thread, as one would by hand: each chunk searched for
 * "\n" bytes, each line decoded, a partial line carried to the next chunk; the "map" adds
 * up the lengths. (No "\r" handling and no line limit, which the engine's splitter has.)
 */
async function plainReader(server: LineServer): Promise<SocketSample> {
  const { accepted, written } = await server.serve(socketLines);
  const cpuStart = process.cpuUsage();
  const start = performance.now();
  let carry = Buffer.alloc(0);
  let count = 0;
  let length = 0;
  const endMs = await new Promise<number>((resolve, reject) => {
    const socket = connect({ host: '127.0.0.1', port: server.port });
    socket.on('data', (chunk: Buffer) => {
      let from = 0;
      let at = chunk.indexOf(0x0a);
      if (at >= 0 && carry.length > 0) {
        length += Buffer.concat([carry, chunk.subarray(0, at)]).toString().length;
        count++;
        from = at + 1;
        at = chunk.indexOf(0x0a, from);
      }
      for (; at >= 0; at = chunk.indexOf(0x0a, from)) {
        length += chunk.toString(undefined, from, at).length;
        count++;
        from = at + 1;
      }
      carry = from === 0 ? Buffer.concat([carry, chunk]) : Buffer.from(chunk.subarray(from));
    });
    socket.on('end', () => {
      if (carry.length > 0) count++;
      resolve(nowMs());
    });
    socket.on('error', reject);
  });
  const wallMs = performance.now() - start;
  const cpuMs = cpuMsSince(cpuStart);
  const { bytes } = await written;
  assert.equal(count, socketLines, 'the plain reader lost lines');
  assert.ok(length > 0);
  return { wallMs, streamMs: endMs - (await accepted), cpuMs, lines: count, bytes };
}

/**
 * The socket job at `parallelism` reading `lines` lines; the sinks report their counts and
 * last times on a BroadcastChannel. With 0 lines: the job's fixed cost (start-up, connect,
 * teardown), `streamMs` 0.
 */
async function socketJob(server: LineServer, parallelism: number, lines = socketLines): Promise<SocketSample> {
  const { accepted, written } = await server.serve(lines);
  const channelName = `sluicegate-sources-bench-${process.pid}-${Math.random().toString(36).slice(2)}`;
  const channel = new BroadcastChannel(channelName);
  const reports: Array<{ count: number; atMs: number }> = [];
  channel.onmessage = (event) => reports.push((event as MessageEvent).data as { count: number; atMs: number });
  try {
    const cpuStart = process.cpuUsage();
    const start = performance.now();
    const result = await runJob(jobModule, jobOptions(['socket', '--port', String(server.port), '--report', channelName], parallelism)).result;
    const wallMs = performance.now() - start;
    const cpuMs = cpuMsSince(cpuStart);
    const sinks = result.operators.find((o) => o.name === 'Drop');
    assert.equal(sinks?.recordsIn, lines, `the socket job at parallelism ${parallelism} lost lines`);
    const { bytes } = await written;
    if (lines === 0) return { wallMs, streamMs: 0, cpuMs, lines, bytes };
    const deadline = performance.now() + reportTimeoutMs;
    while (reports.reduce((n, r) => n + r.count, 0) < lines && performance.now() < deadline) await sleep(5);
    assert.equal(reports.reduce((n, r) => n + r.count, 0), lines, 'the sinks did not report every line');
    const lastMs = Math.max(...reports.map((r) => r.atMs));
    return { wallMs, streamMs: lastMs - (await accepted), cpuMs, lines, bytes };
  } finally {
    channel.close();
  }
}

async function socketSection(server: LineServer, repetitions: number): Promise<void> {
  console.log(`\n## 1. Socket source: ${socketLines.toLocaleString('en')} lines through the job vs a plain node:net reader (load average ${loadAverage()})`);
  const plain = 'plain node:net reader, 1 thread';
  const p1 = 'socketTextStream -> map -> sink, parallelism 1 (1 chain)';
  const p2 = 'socketTextStream -> map -> sink, parallelism 2 (3 subtasks)';
  /** The same job reading no line, by the job's name: its fixed cost. */
  const empty = new Map([
    [p1, `${p1}, no line`],
    [p2, `${p2}, no line`],
  ]);
  const variants: RoundVariant<SocketSample>[] = [
    { name: plain, run: () => plainReader(server) },
    { name: p1, run: () => socketJob(server, 1) },
    { name: p2, run: () => socketJob(server, 2) },
    { name: empty.get(p1)!, run: () => socketJob(server, 1, 0) },
    { name: empty.get(p2)!, run: () => socketJob(server, 2, 0) },
  ];
  const samples = await runRounds(variants, repetitions, variants);
  const base = samples.get(plain)!;
  const cpuPerLine = (s: SocketSample): number => (s.cpuMs * 1000) / s.lines;
  const rows = [plain, p1, p2].map((name) => {
    const list = samples.get(name)!;
    const fixedCost = empty.has(name) ? samples.get(empty.get(name)!)! : undefined;
    const rates = list.map((s) => (s.lines / s.streamMs) * 1000);
    const ratios = list.map((s, r) => base[r]!.streamMs / s.streamMs);
    const netCpuPerLine = list.map((s, r) => ((s.cpuMs - (fixedCost?.[r]!.cpuMs ?? 0)) * 1000) / s.lines);
    return [
      name,
      formatSummary(rates, formatRate),
      name === plain ? '1' : formatSummary(ratios, fixed(2)),
      formatSummary(list.map((s) => s.wallMs), fixed(0)),
      formatSummary(list.map(cpuPerLine), fixed(3)),
      formatSummary(netCpuPerLine, fixed(3)),
      name === plain ? '1' : formatSummary(netCpuPerLine.map((c, r) => c / cpuPerLine(base[r]!)), fixed(2)),
      formatSummary(list.map((s) => s.cpuMs / s.wallMs), fixed(2)),
    ];
  });
  printTable(
    `Socket source (${repetitions} rounds; lines/s from the server's accept to the last line in the sink; wall includes job start-up; net: less the same job's CPU for no line, same round)`,
    ['reader', 'lines/s', 'rate / plain', 'wall ms', 'CPU µs/line', 'net CPU µs/line', 'net CPU / plain', 'cores used'],
    rows,
  );
  for (const [job, name] of empty) {
    const list = samples.get(name)!;
    console.log(`fixed cost of "${job}": wall ${formatSummary(list.map((s) => s.wallMs), fixed(0))} ms, CPU ${formatSummary(list.map((s) => s.cpuMs), fixed(0))} ms`);
  }
  const { bytes, lines } = base[0]!;
  console.log(`(${(bytes / 2 ** 20).toFixed(0)} MiB, ${(bytes / lines).toFixed(1)} bytes a line with its "\\n"; load average ${loadAverage()})`);
}

// ---------------------------------------------------------------- 2. rate-limited generator

interface RateSample {
  /** Records/s out of the sources over the window. */
  achieved: number;
  /** CPU time of the process per second of the window, ms/s (1000 = one core). */
  cpuMsPerS: number;
}

function sourceRecordsOut(metrics: JobMetrics): number {
  const source = metrics.operators.find((o) => o.role === 'source');
  return source?.recordsOut ?? 0;
}

/** Waits until the job's source emitted something (the job is deployed and running). */
async function untilFirstRecord(handle: JobHandle, timeoutMs: number): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  while (sourceRecordsOut(handle.metrics()) === 0) {
    assert.ok(performance.now() < deadline, `the generator emitted nothing within ${timeoutMs} ms`);
    await sleep(10);
  }
}

/** Cancels the job and waits until it is gone (its result rejects with JobCancelledError). */
async function cancelled(handle: JobHandle): Promise<void> {
  handle.cancel();
  await handle.result.then(
    () => assert.fail('an unbounded job finished'),
    (error: unknown) => {
      if (!(error instanceof JobCancelledError)) throw error;
    },
  );
}

async function generatorRun(rate: number | undefined): Promise<RateSample> {
  const args = rate === undefined ? ['generator'] : ['generator', '--rate', String(rate)];
  const handle = runJob(jobModule, jobOptions(args, 2));
  try {
    await untilFirstRecord(handle, 30_000);
    await sleep(generatorWarmUpMs);
    const out0 = sourceRecordsOut(handle.metrics());
    const cpu0 = process.cpuUsage();
    const t0 = performance.now();
    await sleep(generatorWindowMs);
    const out1 = sourceRecordsOut(handle.metrics());
    const seconds = (performance.now() - t0) / 1000;
    const cpuMs = cpuMsSince(cpu0);
    return { achieved: (out1 - out0) / seconds, cpuMsPerS: cpuMs / seconds };
  } finally {
    await cancelled(handle);
  }
}

function rateName(rate: number | undefined): string {
  return rate === undefined ? 'no limit' : `${formatRate(rate).replace('.00 M', ' M').replace('.0 k', ' k')}`;
}

async function generatorSection(repetitions: number): Promise<void> {
  console.log(`\n## 2. Rate-limited generator, parallelism 2, ${generatorWindowMs} ms windows (load average ${loadAverage()})`);
  const variants: RoundVariant<RateSample>[] = generatorRates.map((rate) => ({ name: rateName(rate), run: () => generatorRun(rate) }));
  const samples = await runRounds(variants, repetitions, [variants[variants.length - 1]!]);
  const rows = generatorRates.map((rate) => {
    const list = samples.get(rateName(rate))!;
    return [
      rate === undefined ? 'no limit' : `${rateName(rate)}`,
      formatSummary(list.map((s) => s.achieved), formatRate),
      rate === undefined ? '-' : formatSummary(list.map((s) => s.achieved / rate), fixed(3)),
      formatSummary(list.map((s) => s.cpuMsPerS / 1000), fixed(2)),
      formatSummary(list.map((s) => (s.cpuMsPerS * 1000) / s.achieved), fixed(2)),
    ];
  });
  printTable(
    `Generator (${repetitions} rounds; i => i, map, dropping sink; records out of the sources over the window)`,
    ['requested', 'achieved', 'achieved / requested', 'cores used', 'CPU µs/record'],
    rows,
  );
  console.log(`(load average ${loadAverage()})`);
}

// ---------------------------------------------------------------- 3. idle cost

/** Voluntary and involuntary context switches of every thread of this process (Linux), or undefined. */
function contextSwitches(): { voluntary: number; involuntary: number; threads: number } | undefined {
  if (!existsSync('/proc/self/task')) return undefined;
  let voluntary = 0;
  let involuntary = 0;
  let threads = 0;
  for (const tid of readdirSync('/proc/self/task')) {
    let status: string;
    try {
      status = readFileSync(`/proc/self/task/${tid}/status`, 'utf8');
    } catch {
      continue; // the thread ended between the listing and the read
    }
    threads++;
    voluntary += Number(/voluntary_ctxt_switches:\s+(\d+)/.exec(status)?.[1] ?? 0);
    involuntary += Number(/nonvoluntary_ctxt_switches:\s+(\d+)/.exec(status)?.[1] ?? 0);
  }
  return { voluntary, involuntary, threads };
}

interface IdleWindow {
  cpuMs: number;
  /** Context switches per second, all threads (a thread that sleeps and wakes counts one). */
  switchesPerS: number;
  threads: number;
  windowMs: number;
}

/** CPU and context switches of the whole process over `idleWindowMs`. */
async function idleWindow(): Promise<IdleWindow> {
  const switches0 = contextSwitches();
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  await sleep(idleWindowMs);
  const cpuMs = cpuMsSince(cpu0);
  const windowMs = performance.now() - t0;
  const switches1 = contextSwitches();
  const switches = switches0 === undefined || switches1 === undefined ? NaN : switches1.voluntary + switches1.involuntary - switches0.voluntary - switches0.involuntary;
  return { cpuMs, switchesPerS: (switches / windowMs) * 1000, threads: switches1?.threads ?? 0, windowMs };
}

/** The windows of `idleWindowStartsMs`, counted from `since` (a performance.now() value). */
async function idleWindows(since: number): Promise<IdleWindow[]> {
  const windows: IdleWindow[] = [];
  for (const startMs of idleWindowStartsMs) {
    await sleep(Math.max(0, since + startMs - performance.now()));
    windows.push(await idleWindow());
  }
  return windows;
}

/** A socket job connected to a server that sends nothing, over the idle windows. */
async function idleSocketJob(server: LineServer, parallelism: number): Promise<IdleWindow[]> {
  const { accepted } = await server.hold();
  const handle = runJob(jobModule, jobOptions(['socket', '--port', String(server.port)], parallelism));
  let windows: IdleWindow[];
  try {
    await accepted;
    windows = await idleWindows(performance.now());
  } finally {
    server.release();
  }
  const result = await handle.result;
  assert.equal(result.operators.find((o) => o.name === 'Drop')?.recordsIn, 0, 'the idle job received lines');
  return windows;
}

async function idleSection(server: LineServer, repetitions: number): Promise<void> {
  console.log(`\n## 3. Idle cost: ${idleWindowMs / 1000} s windows from ${idleWindowStartsMs.map((ms) => ms / 1000).join(' s and ')} s after the connection (load average ${loadAverage()})`);
  const none = 'no job (the same process, sleeping)';
  const p1 = 'socket job connected, nothing sent, parallelism 1 (1 subtask)';
  const p2 = 'socket job connected, nothing sent, parallelism 2 (3 subtasks)';
  const variants: RoundVariant<IdleWindow[]>[] = [
    { name: none, run: () => idleWindows(performance.now()) },
    { name: p1, run: () => idleSocketJob(server, 1) },
    { name: p2, run: () => idleSocketJob(server, 2) },
  ];
  const samples = await runRounds(variants, repetitions, []);
  const [first, steady] = idleWindowStartsMs.map((ms) => `${ms / 1000}-${(ms + idleWindowMs) / 1000} s`);
  const perTenSeconds = (w: IdleWindow): number => (w.cpuMs / w.windowMs) * 10_000;
  const rows = variants.map(({ name }) => {
    const list = samples.get(name)!;
    return [
      name,
      formatSummary(list.map((s) => perTenSeconds(s[0]!)), fixed(1)),
      formatSummary(list.map((s) => perTenSeconds(s[1]!)), fixed(1)),
      formatSummary(list.map((s) => (s[1]!.cpuMs / s[1]!.windowMs) * 100), fixed(3)),
      formatSummary(list.map((s) => s[1]!.switchesPerS), fixed(1)),
      String(summarize(list.map((s) => s[1]!.threads)).median),
    ];
  });
  printTable(
    `Idle cost (${repetitions} rounds; CPU of the whole process, every thread)`,
    ['process', `CPU ms per 10 s, ${first}`, `CPU ms per 10 s, ${steady}`, `% of a core, ${steady}`, `context switches/s, ${steady}`, 'threads'],
    rows,
  );
  console.log(`(load average ${loadAverage()})`);
}

// ---------------------------------------------------------------- main

export async function main(): Promise<void> {
  const repetitions = repetitionsFromEnv(repetitionsDefault);
  const cpu = cpus()[0]?.model ?? 'unknown CPU';
  console.log(`# Source benchmarks (node ${process.version}, ${availableParallelism()} cores, ${cpu}; load average ${loadAverage()})`);
  const started = performance.now();
  const server = await LineServer.start();
  try {
    const only = process.env['SLUICEGATE_BENCH_SECTIONS'];
    if (only === undefined || only.includes('socket')) await socketSection(server, repetitions);
    if (only === undefined || only.includes('generator')) await generatorSection(repetitions);
    if (only === undefined || only.includes('idle')) await idleSection(server, repetitions);
  } finally {
    await server.close();
  }
  const seconds = ((performance.now() - started) / 1000).toFixed(0);
  console.log(`\nSource benchmarks took ${seconds} s (load average at the end ${loadAverage()})`);
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main().catch((error: unknown) => {
    console.error(error);
    process.exitCode = 1;
  });
}

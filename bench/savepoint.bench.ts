/**
 * Savepoint benchmarks: what a savepoint costs against the incremental checkpoint of the
 * same state, and what restoring it at another parallelism costs against the same one.
 *
 *   1. A job holding `state.keys` keys of LSM state (bench/jobs/keyed-updates.ts,
 *      parallelism 2) that, once every key is written, crawls through hot updates while a
 *      checkpoint runs every `state.intervalMs`. In each of `savepointRounds` rounds a
 *      periodic checkpoint completes, then `handle.savepoint()` is called: its wall time
 *      (an aligned checkpoint of its own, then writeSavepoint: a hard link per file, an
 *      fsync per file and of files/, every segment verified again) against the periodic
 *      checkpoint's duration, and the savepoint folder's bytes against the checkpoint's
 *      incremental bytes. The job is then stopped with a savepoint (`handle.stop()`).
 *   2. writeSavepoint alone, on the stopped job's last checkpoint, main thread, in rotated
 *      rounds: hard links (same file system) against copies (the link refused with EXDEV,
 *      as across file systems), against only verifying every segment, and loadSavepoint
 *      (what a restore checks before anything is deployed).
 *   3. The stop savepoint (parallelism 2) restored at parallelism 2 (segments linked in as
 *      they are), 1 and 4 (lsm-rescale: each new subtask reads the old segments clipped to
 *      its key groups and writes one new segment), reading the rest of the input at full
 *      speed (a restored generator keeps its split's end, so the rest is what the stopped
 *      job had not read), against a fresh start at the same parallelism reading as many.
 *      Measure: wall time from the runJob call to its result (the whole resumed run);
 *      restore cost = resumed - fresh at the same parallelism, in the same round.
 *
 * Method as bench/checkpoint.bench.ts: the machine is small and shared, so only ratios of
 * variants measured side by side, in rotated rounds, mean much; ratios are per round,
 * then median [min-max]. Nothing asserts on speed, only on the work done (every record
 * after the savepoint read once, the rescaled state reported as rescaled).
 *
 *   node dist/bench/savepoint.bench.js          (SLUICEGATE_BENCH_REPS=n to change rounds)
 */
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import { mkdirSync, mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { availableParallelism, cpus, tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { pathToFileURL } from 'node:url';
import { runJob } from '../src/index.js';
import type { JobEvent, JobHandle, JobResult, RunJobOptions } from '../src/index.js';
import { CheckpointStorage, loadSavepoint, writeSavepoint } from '../src/checkpoint/index.js';
import type { CheckpointMetadata, FsCalls } from '../src/checkpoint/index.js';
import { verifySegmentChecksums, verifySegmentFile } from '../src/state/lsm/index.js';
import { fixed, formatBytes, formatSummary, loadAverage, printTable, repetitionsFromEnv, runRounds, timed, timedJobRun } from './report.js';
import type { RoundVariant, Timing } from './report.js';

/** Rounds of section 3 (six job runs each). */
const repetitionsDefault = 3;
/** Rounds of section 2 (about 5 s each). */
const writeRepetitionsDefault = 5;
/** Savepoints taken while the job runs (section 1), each after a periodic checkpoint. */
const savepointRounds = 5;
/** Parallelism of the job whose savepoints are measured. */
const parallelism = 2;
/**
 * Section 1's job: `keys` new keys, then hot updates of `hot` keys slowed by `tailDelayUs`
 * of busy work each (tiny rings, so barriers pass quickly). `tail` must outlast section 1
 * (~20 s after the keys, at most ~20k updates/s; it ends with stop()); what it leaves
 * unread, section 3's restored runs read at full speed (~1 M/s).
 */
const state = { keys: 2_000_000, hot: 1000, tail: 600_000, tailDelayUs: 100, ringSizeBytes: 4096, intervalMs: 1000 } as const;
/** Periodic checkpoints holding every key to wait for before the first measured round. */
const warmCheckpoints = 2;
/** Pause after a periodic checkpoint before the round's savepoint, ms (so it never overlaps the next trigger's work). */
const savepointDelayMs = 300;
/** Section 3: parallelism of the restored runs; the first is the savepoint's own. */
const restoreParallelisms = [parallelism, 1, 4] as const;

const keyedUpdatesModule = new URL('./jobs/keyed-updates.js', import.meta.url);

function updatesArgs(keys: number, count: number, tailDelayUs = 0): string[] {
  return ['--keys', String(keys), '--hot', String(state.hot), '--count', String(count), '--tail-delay-us', String(tailDelayUs)];
}

function operatorStats(job: Pick<JobResult, 'operators'>, name: string): JobResult['operators'][number] {
  const stats = job.operators.find((o) => o.name === name);
  assert.ok(stats !== undefined, `the job has no operator named ${JSON.stringify(name)}`);
  return stats;
}

// ---------------------------------------------------------------- 1. savepoint against checkpoint

interface Completion {
  checkpointId: number;
  durationMs: number;
  bytesWritten: number;
  fullSizeBytes: number;
  /** performance.now() of the trigger (completion event time - duration). */
  triggeredAtMs: number;
}

/** What the folder of one savepoint holds: bytes referenced, and how many of them are hard links of the job's shared/ files. */
interface FolderSize {
  files: number;
  bytes: number;
  linkedBytes: number;
}

/** Sizes of the files under `<savepoint>/files`; a file is linked when it is the same inode as `sharedDir/<name>`. */
function folderSize(savepoint: string, sharedDir: string): FolderSize {
  const size: FolderSize = { files: 0, bytes: 0, linkedBytes: 0 };
  const filesDir = join(savepoint, 'files');
  for (const name of readdirSync(filesDir)) {
    const st = statSync(join(filesDir, name));
    size.files++;
    size.bytes += st.size;
    let shared: fs.Stats | undefined;
    try {
      shared = statSync(join(sharedDir, name));
    } catch {
      shared = undefined; // pruned since: count it as linked only if it still has another name
    }
    if (shared === undefined ? st.nlink > 1 : shared.ino === st.ino && shared.dev === st.dev) size.linkedBytes += st.size;
  }
  return size;
}

interface SavepointSample {
  /** Wall ms of the handle.savepoint() call. */
  wallMs: number;
  checkpoint: Completion;
  folder: FolderSize;
  /** The periodic checkpoint completed just before, in the same round. */
  periodic: Completion;
}

interface LiveRun {
  samples: SavepointSample[];
  /** Periodic checkpoints holding every key (warm-up ones included). */
  periodic: Completion[];
  stop: { wallMs: number; path: string; checkpoint: Completion; folder: FolderSize };
  job: JobResult;
  checkpointDir: string;
  buildMs: number;
}

/**
 * Runs section 1's job: waits until the source has emitted every key and `warmCheckpoints`
 * checkpoints triggered afterwards have completed, takes `savepointRounds` savepoints
 * (each `savepointDelayMs` after a periodic checkpoint), then stops it with a savepoint.
 */
async function liveSavepoints(workDir: string): Promise<LiveRun> {
  const checkpointDir = join(workDir, 'checkpoints');
  const savepointDir = join(workDir, 'savepoints');
  const completions = new Map<number, Completion>();
  const waiters: Array<() => void> = [];
  const failures: string[] = [];
  const onEvent = (e: JobEvent): void => {
    if (e.type === 'checkpoint-failed') failures.push(`${e.checkpointId}: ${e.reason}`);
    if (e.type !== 'checkpoint-completed') return;
    const { checkpointId, durationMs, bytesWritten, fullSizeBytes } = e;
    completions.set(checkpointId, { checkpointId, durationMs, bytesWritten, fullSizeBytes, triggeredAtMs: performance.now() - durationMs });
    for (const w of waiters.splice(0)) w();
  };
  const start = performance.now();
  const handle = runJob(keyedUpdatesModule, {
    parallelism,
    checkpointDir,
    checkpointIntervalMs: state.intervalMs,
    savepointDir,
    ringSizeBytes: state.ringSizeBytes,
    stateBackend: 'lsm',
    args: updatesArgs(state.keys, state.keys + state.tail, state.tailDelayUs),
    onEvent,
  });
  let ended = false;
  const ending = handle.result.then(
    () => (ended = true),
    () => (ended = true),
  );
  /** Resolves at the next completion (rejects if the job ended first). */
  const nextCompletion = async (): Promise<void> => {
    await Promise.race([new Promise<void>((resolve) => waiters.push(resolve)), ending]);
    if (!ended) return;
    await handle.result; // throws the job's failure
    throw new Error('the job finished before the bench was done: raise state.tail');
  };
  try {
    const run = await measureLive({ handle, nextCompletion, completions, ended: () => ended, start, failures, sharedDir: join(checkpointDir, handle.jobId, 'shared') });
    return { ...run, checkpointDir };
  } catch (error) {
    handle.cancel();
    await ending;
    throw error;
  }
}

/** The rounds of liveSavepoints, on the running job. */
async function measureLive(live: {
  handle: JobHandle;
  /** Resolves at the next checkpoint completion; throws if the job ended. */
  nextCompletion: () => Promise<void>;
  completions: ReadonlyMap<number, Completion>;
  ended: () => boolean;
  /** performance.now() of the runJob call. */
  start: number;
  failures: readonly string[];
  sharedDir: string;
}): Promise<Omit<LiveRun, 'checkpointDir'>> {
  const { handle, nextCompletion, completions, ended, start, failures, sharedDir } = live;
  const s = state;
  // Every key is in a checkpoint triggered after the source emitted record `keys`.
  let allKeysAtMs: number | undefined;
  while (allKeysAtMs === undefined) {
    if (ended()) await nextCompletion();
    const source = handle.metrics().operators.find((o) => o.name === 'Updates');
    if (source !== undefined && source.recordsOut > s.keys) allKeysAtMs = performance.now();
    else await sleep(20);
  }
  const full = (): Completion[] => [...completions.values()].filter((c) => c.triggeredAtMs > allKeysAtMs!);
  while (full().length < warmCheckpoints) await nextCompletion();
  const buildMs = performance.now() - start;
  process.stdout.write(`  state built in ${(buildMs / 1000).toFixed(1)} s; savepoints:`);
  const samples: SavepointSample[] = [];
  const savepointIds = new Set<number>();
  for (let round = 0; round < savepointRounds; round++) {
    const before = completions.size;
    while (completions.size === before) await nextCompletion();
    const periodic = [...completions.values()].at(-1)!;
    await sleep(savepointDelayMs);
    const t0 = performance.now();
    const path = await handle.savepoint();
    const wallMs = performance.now() - t0;
    const folder = folderSize(path, sharedDir);
    const id = idOfSavepoint(path);
    savepointIds.add(id);
    samples.push({ wallMs, checkpoint: completions.get(id)!, folder, periodic });
    process.stdout.write(` ${round + 1}/${savepointRounds}`);
  }
  const t0 = performance.now();
  const stopPath = await handle.stop();
  const stopWallMs = performance.now() - t0;
  const job = await handle.result;
  process.stdout.write(' | stopped\n');
  assert.equal(job.savepoint, stopPath);
  if (failures.length > 0) console.log(`  failed checkpoints: ${failures.join('; ')}`);
  const stopId = idOfSavepoint(stopPath);
  const stop = { wallMs: stopWallMs, path: stopPath, checkpoint: completions.get(stopId)!, folder: folderSize(stopPath, sharedDir) };
  const periodic = full().filter((c) => !savepointIds.has(c.checkpointId) && c.checkpointId !== stopId);
  return { samples, periodic, stop, job, buildMs };
}

/** The checkpoint id in a savepoint folder's name, `savepoint-<job>-<id>-<hex>`. */
function idOfSavepoint(path: string): number {
  const m = /-(\d+)-[0-9a-f]{6}$/.exec(basename(path));
  assert.ok(m !== null, `not a savepoint folder name: ${path}`);
  return Number(m[1]);
}

function reportLive(run: LiveRun): void {
  const { samples, periodic, stop } = run;
  const ms = fixed(0);
  const writeMs = (x: { wallMs: number; checkpoint: Completion }): number => x.wallMs - x.checkpoint.durationMs;
  const rows = [
    [
      `periodic checkpoint (${periodic.length}, all keys held)`,
      formatSummary(periodic.map((c) => c.durationMs), ms),
      '-',
      formatSummary(periodic.map((c) => c.durationMs), ms),
      '-',
      formatSummary(periodic.map((c) => c.bytesWritten), formatBytes),
      formatSummary(periodic.map((c) => c.fullSizeBytes), formatBytes),
      '-',
    ],
    [
      `handle.savepoint() (${samples.length})`,
      formatSummary(samples.map((x) => x.checkpoint.durationMs), ms),
      formatSummary(samples.map(writeMs), ms),
      formatSummary(samples.map((x) => x.wallMs), ms),
      formatSummary(samples.map((x) => x.folder.bytes - x.folder.linkedBytes), formatBytes),
      formatSummary(samples.map((x) => x.checkpoint.bytesWritten), formatBytes),
      formatSummary(samples.map((x) => x.folder.bytes), formatBytes),
      formatSummary(samples.map((x) => x.folder.files), fixed(0)),
    ],
    [
      'handle.stop() (1)',
      ms(stop.checkpoint.durationMs),
      ms(writeMs(stop)),
      ms(stop.wallMs),
      formatBytes(stop.folder.bytes - stop.folder.linkedBytes),
      formatBytes(stop.checkpoint.bytesWritten),
      formatBytes(stop.folder.bytes),
      String(stop.folder.files),
    ],
  ];
  printTable(
    `Savepoints against the periodic (incremental) checkpoints of the same running job: ${state.keys} keys, parallelism ${parallelism}, a checkpoint every ${state.intervalMs} ms ` +
      `(checkpoint ms: trigger to completion; folder ms: wall - checkpoint ms, i.e. writeSavepoint; median [min-max])`,
    ['what', 'checkpoint ms', 'folder ms', 'wall ms', 'bytes newly written', 'checkpoint bytes written', 'bytes referenced', 'files'],
    rows,
  );
  const perRound = (f: (x: SavepointSample) => number): string => formatSummary(samples.map(f), fixed(2));
  console.log(
    `\nPer round (savepoint / the periodic checkpoint just before it): wall / checkpoint duration ${perRound((x) => x.wallMs / x.periodic.durationMs)}; ` +
      `savepoint's own checkpoint duration / periodic ${perRound((x) => x.checkpoint.durationMs / x.periodic.durationMs)}; ` +
      `bytes referenced / periodic bytes written ${perRound((x) => x.folder.bytes / Math.max(x.periodic.bytesWritten, 1))}; ` +
      `bytes referenced / periodic full size ${perRound((x) => x.folder.bytes / x.periodic.fullSizeBytes)}`,
  );
}

// ---------------------------------------------------------------- 2. writeSavepoint alone

/** Time spent in fsync calls through one `FsCalls`. */
interface FsyncClock {
  ms: number;
  calls: number;
}

/**
 * node:fs with every fsync timed into `clock`; with `refuseLinks`, linkSync fails with
 * EXDEV as across file systems, so writeSavepoint copies every file.
 */
function benchFs(clock: FsyncClock, refuseLinks: boolean): FsCalls {
  const calls: FsCalls = {
    ...fs,
    fsyncSync: (fd: number): void => {
      const t0 = performance.now();
      fs.fsyncSync(fd);
      clock.ms += performance.now() - t0;
      clock.calls++;
    },
  };
  if (!refuseLinks) return calls;
  return {
    ...calls,
    linkSync: (from: fs.PathLike, to: fs.PathLike): void => {
      throw Object.assign(new Error(`EXDEV: cross-device link not permitted, link '${String(from)}' -> '${String(to)}'`), { code: 'EXDEV' });
    },
  };
}

interface WriteSample extends Timing {
  /** fsync ms and calls, for the writeSavepoint variants. */
  fsync: FsyncClock | undefined;
}

async function writeSection(workDir: string, checkpointDir: string, jobId: string, savepoint: string, repetitions: number): Promise<void> {
  const storage = CheckpointStorage.open(checkpointDir, jobId);
  const meta: CheckpointMetadata | undefined = storage.latestRestorable(() => undefined);
  assert.ok(meta !== undefined, 'the stopped job left no restorable checkpoint');
  const segments = readdirSync(join(savepoint, 'files'))
    .filter((n) => n.endsWith('.seg'))
    .map((n) => join(savepoint, 'files', n));
  const bytes = segments.reduce((sum, f) => sum + statSync(f).size, 0);
  const target = join(workDir, 'write-bench');
  mkdirSync(target);
  const writeVariant = (name: string, refuseLinks: boolean): RoundVariant<WriteSample> => ({
    name,
    run: async () => {
      const fsync: FsyncClock = { ms: 0, calls: 0 };
      const fsCalls = benchFs(fsync, refuseLinks);
      const { value: folder, ...timing } = await timed(async () => writeSavepoint(meta, storage.sharedDir, target, { fs: fsCalls }));
      rmSync(folder, { recursive: true, force: true });
      return { ...timing, fsync };
    },
  });
  const plain = (name: string, work: () => unknown): RoundVariant<WriteSample> => ({
    name,
    run: async () => ({ ...(await timed(async () => work())), fsync: undefined }),
  });
  const variants: RoundVariant<WriteSample>[] = [
    writeVariant('writeSavepoint, hard links', false),
    writeVariant('writeSavepoint, copies (link refused: EXDEV)', true),
    plain('verify every segment in full only (decode: restores)', () => segments.forEach((f) => verifySegmentFile(f))),
    plain('verify every segment\'s CRC32s only (savepoint writes)', () => segments.forEach((f) => verifySegmentChecksums(f))),
    plain('loadSavepoint (restore check)', () => loadSavepoint(savepoint)),
  ];
  console.log(`\n## 2. writeSavepoint alone, main thread: checkpoint ${meta.checkpointId}, ${segments.length} segments, ${formatBytes(bytes)}, ${repetitions} rounds`);
  const samples = await runRounds(variants, repetitions, variants.slice(0, 2));
  const base = samples.get(variants[0]!.name)!;
  const rows = variants.map(({ name }) => {
    const list = samples.get(name)!;
    const fsyncs = list.flatMap((t) => (t.fsync === undefined ? [] : [t.fsync]));
    return [
      name,
      formatSummary(list.map((t) => t.wallMs), fixed(0)),
      formatSummary(list.map((t) => t.cpuMs), fixed(0)),
      formatSummary(fsyncs.map((f) => f.ms), fixed(0)),
      fsyncs.length === 0 ? '-' : String(fsyncs[0]!.calls),
      formatSummary(list.map((t) => bytes / 2 ** 20 / (t.wallMs / 1000)), fixed(0)),
      formatSummary(list.map((t, i) => t.wallMs / base[i]!.wallMs), fixed(2)),
    ];
  });
  printTable(
    'writeSavepoint by hard links and by copies, against its verification pass alone (median [min-max])',
    ['variant', 'wall ms', 'CPU ms', 'in fsync ms', 'fsyncs', 'MiB/s', 'wall / hard links'],
    rows,
  );
}

// ---------------------------------------------------------------- 3. restore at another parallelism

interface RestoreSample extends Timing {
  job: JobResult;
  /** ms from the runJob call to the 'restored' event (undefined for a fresh start). */
  restoredAfterMs: number | undefined;
  rescaled: string[] | undefined;
}

async function timedRun(options: RunJobOptions): Promise<RestoreSample> {
  let restoredAfterMs: number | undefined;
  let rescaled: string[] | undefined;
  const start = performance.now();
  const onEvent = (e: JobEvent): void => {
    if (e.type === 'restored') restoredAfterMs = performance.now() - start;
    if (e.type === 'restored-savepoint') rescaled = e.rescaled;
  };
  const { value: job, ...timing } = await timedJobRun(() => runJob(keyedUpdatesModule, { ...options, stateBackend: 'lsm', onEvent }));
  return { ...timing, job, restoredAfterMs, rescaled };
}

const restoredName = (p: number): string => `from savepoint, p${p}${p === parallelism ? ' (same)' : ' (rescale)'}`;
const freshName = (p: number): string => `fresh start, p${p}`;

async function restoreSection(savepoint: string, rest: number, repetitions: number): Promise<void> {
  console.log(
    `\n## 3. Restore of the stop savepoint (parallelism ${parallelism}) at parallelism ${restoreParallelisms.join(', ')}, then the ${rest} hot updates left; ` +
      `against a fresh start with the same records; ${repetitions} rounds`,
  );
  const variants: RoundVariant<RestoreSample>[] = restoreParallelisms.flatMap((p) => [
    { name: restoredName(p), run: () => timedRun({ parallelism: p, fromSavepoint: savepoint, args: updatesArgs(state.keys, state.keys + state.tail) }) },
    { name: freshName(p), run: () => timedRun({ parallelism: p, args: updatesArgs(0, rest) }) },
  ]);
  const samples = await runRounds(variants, repetitions, variants.slice(0, 1));
  for (const p of restoreParallelisms) {
    for (const s of samples.get(restoredName(p))!) {
      assert.equal(operatorStats(s.job, 'Latest index').recordsIn, rest, `the p${p} restore did not resume at the savepoint's source position`);
      assert.deepEqual(s.rescaled, p === parallelism ? [] : ['latest'], `p${p}: rescaled uids`);
    }
  }
  /** Per round: restored wall - fresh wall at parallelism p. */
  const cost = (p: number, field: keyof Timing): number[] => {
    const fresh = samples.get(freshName(p))!;
    return samples.get(restoredName(p))!.map((s, i) => s[field] - fresh[i]![field]);
  };
  const same = cost(parallelism, 'wallMs');
  const rows = restoreParallelisms.flatMap((p) => {
    const restored = samples.get(restoredName(p))!;
    const fresh = samples.get(freshName(p))!;
    const wall = cost(p, 'wallMs');
    return [
      [
        restoredName(p),
        formatSummary(restored.map((s) => s.wallMs), fixed(0)),
        formatSummary(restored.map((s) => s.cpuMs), fixed(0)),
        formatSummary(restored.map((s) => s.restoredAfterMs!), fixed(0)),
        formatSummary(wall, fixed(0)),
        formatSummary(cost(p, 'cpuMs'), fixed(0)),
        p === parallelism ? '1' : formatSummary(wall.map((w, i) => w / same[i]!), fixed(2)),
        formatSummary(restored.map((s, i) => s.wallMs / samples.get(restoredName(parallelism))![i]!.wallMs), fixed(2)),
      ],
      [freshName(p), formatSummary(fresh.map((s) => s.wallMs), fixed(0)), formatSummary(fresh.map((s) => s.cpuMs), fixed(0)), '-', '-', '-', '-', '-'],
    ];
  });
  printTable(
    `Wall time of the whole run (runJob to result); restore cost = from savepoint - fresh start at the same parallelism, per round; ratios per round against p${parallelism} (median [min-max])`,
    ['variant', 'wall ms', 'CPU ms', "to 'restored' ms", 'restore cost ms', 'restore CPU ms', 'cost / same', 'wall / same'],
    rows,
  );
  console.log(`\n'restored' is emitted once the savepoint is loaded (metadata and every segment verified, main thread) and the subtasks are deployed, before they restore their state.`);
}

// ---------------------------------------------------------------- entry

/** Sections 1 to 3 on the job and savepoints made under `workDir`. */
async function sections(workDir: string): Promise<void> {
  console.log(`\n## 1. Savepoints of a running job against its incremental checkpoints: ${state.keys} keys, LSM state, parallelism ${parallelism}`);
  const live = await liveSavepoints(workDir);
  reportLive(live);
  await writeSection(workDir, live.checkpointDir, live.job.jobId, live.stop.path, repetitionsFromEnv(writeRepetitionsDefault));
  const rest = state.keys + state.tail - operatorStats(live.job, 'Updates').recordsOut;
  assert.ok(rest > 0, 'the stopped job had read all its input');
  await restoreSection(live.stop.path, rest, repetitionsFromEnv(repetitionsDefault));
}

export async function main(): Promise<void> {
  const started = performance.now();
  const machine = `node ${process.version}, ${availableParallelism()} cores, ${cpus()[0]?.model ?? 'unknown CPU'}`;
  console.log(`# Savepoint benchmarks (${machine}; load average ${loadAverage()})`);
  const workDir = mkdtempSync(join(tmpdir(), 'sluicegate-savepoint-bench-'));
  await sections(workDir).finally(() => rmSync(workDir, { recursive: true, force: true }));
  console.log(`\nSavepoint benchmarks took ${((performance.now() - started) / 1000).toFixed(0)} s (load average at the end ${loadAverage()})`);
}

// Run directly (not imported by run-all): a failure prints and exits 1.
if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) await main();

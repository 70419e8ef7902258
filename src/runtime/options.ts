/**
 * Options of `runJob`, validated at the boundary: every bad value is a `UsageError` that
 * names the option, the value and the accepted range. The option is named as its caller
 * knows it (option-names.ts): `checkpointIntervalMs` for runJob, `--checkpoint-interval`
 * for `sluice run`.
 */
import { isIP } from 'node:net';
import { availableParallelism } from 'node:os';
import { UsageError, previewRecord } from '../errors.js';
import { optionNamer } from '../option-names.js';
import type { EngineOptionName, OptionNamer, OptionStyle } from '../option-names.js';
import type { CheckpointMode, EngineOptions } from '../task/index.js';
import { defaultRestartStrategy, parseRestartStrategy } from './restart-strategy.js';
import type { RestartStrategyConfig } from './restart-strategy.js';
import { defaultLatencyTrackingIntervalMs } from '../metrics/latency-recorder.js';

export interface RunJobOptions {
  /** Arguments handed to the job's builder (`defineJob((env, args) => ...)`). */
  args?: readonly string[];
  /**
   * Job parameters: string keys to string values, fixed here in the main thread and the
   * same in every worker; read with `env.getJobParameters()` in `defineJob` and
   * `ctx.getJobParameters()` in rich functions (a `ParameterTool`). Flink: global job
   * parameters. CLI: `--param key=value`. Not kept with the job: give them again on resume.
   */
  params?: Readonly<Record<string, string>>;
  /** Default operator parallelism; default: the machine's cores. */
  parallelism?: number;
  /** Default max parallelism (number of key groups), 1..32768. */
  maxParallelism?: number;
  /** Longest time a partly filled batch waits, ms (Flink's buffer timeout); default 5. 0 flushes after every input batch. */
  bufferTimeoutMs?: number;
  /**
   * Sources emit a latency marker this often, ms; every operator it reaches records its
   * latency (JobMetrics `operators[].latency`). Default 0: off, as Flink's
   * `metrics.latency.interval`. 1..3600000 turns it on.
   */
  latencyTrackingIntervalMs?: number;
  /** Records per batch; default 512. */
  batchSize?: number;
  /**
   * Bytes per channel ring (power of two, 4096..2^30), the same for every channel. Default:
   * automatic: 64 KiB with a checkpoint directory (little data in flight, so barriers travel
   * fast), else a 512 KiB budget per consuming subtask shared by the channels into it, 64
   * to 256 KiB each (runtime/ring-sizing.ts; Flink's buffers per channel and per gate).
   */
  ringSizeBytes?: number;
  /** `lsm` (default: keyed state in the LSM tree on disk) or `hashmap` (on the heap). */
  stateBackend?: 'hashmap' | 'lsm';
  /** LSM memtable budget, bytes; default 64 MiB. */
  memtableSizeBytes?: number;
  /** Folder for LSM state files; default a temporary folder removed at the end. */
  stateDir?: string;
  /**
   * Checkpoint storage folder; required with `checkpointIntervalMs`. Given alone, there
   * are no periodic checkpoints but savepoints and stop-with-savepoint work (and the job
   * opens its control socket there).
   */
  checkpointDir?: string;
  /** Time between checkpoints, ms; no periodic checkpoints when unset. Flink: `execution.checkpointing.interval`. */
  checkpointIntervalMs?: number;
  /** Default target folder of savepoints (`savepoint()`, `stop()`, `sluice savepoint|stop`). Flink: `state.savepoints.dir`. */
  savepointDir?: string;
  /**
   * Start from this savepoint folder (as `writeSavepoint` made it, wherever it was moved):
   * state is matched to operators by uid and redistributed to the current parallelism.
   * Flink: `execution.savepoint.path`, `flink run -s`.
   */
  fromSavepoint?: string;
  /** With `fromSavepoint`: drop the state of operators (uids) the job no longer has, instead of failing. Flink: `--allowNonRestoredState`. */
  allowNonRestoredState?: boolean;
  /** `exactly-once` (default: barriers aligned) or `at-least-once` (barriers tracked). */
  checkpointMode?: CheckpointMode;
  /** A checkpoint not complete after this long is aborted, ms; default 600000. */
  checkpointTimeoutMs?: number;
  /** Least time from one checkpoint's completion to the next trigger, ms; default 0. */
  minPauseMs?: number;
  /** Checkpoints in flight at once; default 1. */
  maxConcurrentCheckpoints?: number;
  /** Consecutive failed checkpoints tolerated before the job fails; default 0 (as Flink). */
  tolerableFailedCheckpoints?: number;
  /** Completed checkpoints kept on disk; default 1 (as Flink). */
  retainedCheckpoints?: number;
  /** A restart strategy spec (see restart-strategy.ts) or config; default fixed-delay with unlimited attempts with checkpointing, none without. */
  restartStrategy?: string | RestartStrategyConfig;
  /** Restore from the latest completed checkpoint in `checkpointDir` (a new process after a crash). */
  resume?: boolean;
  /**
   * When the newest checkpoint is damaged, a restore falls back to an older one; sinks take
   * back what they published after it (connectors/sink.ts, item 5). A two-phase sink that
   * cannot (its committer has no `rollback`) makes that restore fail with a UsageError,
   * unless this is true: then it proceeds and that sink's output after the older
   * checkpoint is written again (duplicates, reported by a `fell-back` event).
   */
  allowDuplicatesOnFallback?: boolean;
  /** Fault injection: terminate a random slot's worker thread (every subtask in it) this often, ms. */
  killWorkerEveryMs?: number;
  /**
   * Fault injection: stop after this many kills over the whole run (all attempts), so a
   * test restarts the job a known number of times at most and then lets it finish.
   * Needs killWorkerEveryMs. Default: no limit.
   */
  killWorkerLimit?: number;
  /**
   * Fault injection: a kill is due only once the attempt has completed a checkpoint, so
   * every attempt makes progress and every restart restores one (a recovery test then does
   * not depend on how fast the machine takes its first checkpoint). Needs killWorkerEveryMs
   * and checkpointIntervalMs. Default: false (kills by the clock alone).
   */
  killWorkerAfterCheckpoint?: boolean;
  /**
   * Slot sharing: subtask i of every operator of a slot sharing group runs in slot i, one
   * worker thread, so the job runs as many threads as its highest parallelism per group
   * (runtime/slot-sharing.ts). False: one thread per subtask. Undefined (the default):
   * shared when the job has more subtasks than the machine has cores
   * (`os.availableParallelism()`), else one thread each, since then no thread competes
   * for a core and a pipeline's chains run on several cores (README, "Slot sharing").
   * Flink shares slots always, but runs each task in a thread of its own; its groups come
   * from `slotSharingGroup(name)`.
   */
  slotSharing?: boolean;
  /**
   * Heap limit of each worker thread, MiB (V8 old generation), shared by the subtasks of
   * its slot. A worker that exceeds it is terminated and its subtasks fail (the restart strategy applies) instead of the whole
   * process running out of memory. Default: V8's own limit.
   */
  workerMemoryMb?: number;
  /**
   * Serve the REST API, server-sent events and `/metrics` on this TCP port while the job
   * runs (0: any free port; see `JobHandle.webUrl`). Flink: `rest.port`. Off by default.
   */
  webPort?: number;
  /** Address the web server binds: an IP address or `localhost`; default 127.0.0.1 (this machine only). Flink: `rest.bind-address`. */
  webHost?: string;
  /**
   * Let any local client take savepoints, stop or cancel the job through the REST API.
   * Without it they need the bearer token in `<checkpointDir>/<jobId>/web-token` (mode 0600).
   */
  webAllowActions?: boolean;
  /**
   * How often the dashboard refreshes, ms, from 1000 (the metric readings' period) to
   * 3,600,000; default 3000. Flink: `web.refresh-interval` (default 3000). The event stream
   * `GET /jobs/:id/events?interval=<ms>` and `GET /config`'s `refresh-interval` carry it.
   */
  webRefreshIntervalMs?: number;
  /** Engine events for logs: restarts, skipped corrupt checkpoints, completed checkpoints. */
  onEvent?: (event: JobEvent) => void;
}

/** Something the job master reports while a job runs. */
export type JobEvent =
  | { type: 'restarting'; attempt: number; delayMs: number; cause: string }
  | { type: 'restored'; checkpointId: number; attempt: number }
  /** `resume` found no completed checkpoint: the job starts from the beginning (`existing`: under the id of an earlier run). */
  | { type: 'resumed-from-beginning'; jobId: string; checkpointDir: string; existing: boolean }
  | { type: 'checkpoint-skipped'; checkpointId: number; reason: string }
  /**
   * A restore falls back past completed checkpoints (`checkpointIds`, damaged) to
   * `restoredCheckpointId` (undefined: the beginning, or the savepoint the run started
   * from, `savepoint`); the sinks took back what they published after it, except
   * `duplicates` (`"name" (uid u)`, allowed by `allowDuplicatesOnFallback`).
   */
  | { type: 'fell-back'; restoredCheckpointId: number | undefined; savepoint?: string; checkpointIds: number[]; duplicates: string[] }
  | { type: 'checkpoint-completed'; checkpointId: number; durationMs: number; bytesWritten: number; fullSizeBytes: number }
  | { type: 'checkpoint-failed'; checkpointId: number; reason: string }
  | { type: 'savepoint-completed'; checkpointId: number; path: string; stop: boolean }
  /** The savepoint is complete but could not be added to `<job>/savepoints` (sluice checkpoints will not list it). */
  | { type: 'savepoint-unrecorded'; path: string; reason: string }
  /** A subtask failed after the stop-with-savepoint completed: the job ends stopped, the savepoint is whole. */
  | { type: 'failed-after-stop'; savepoint: string; cause: string }
  /** The job's terminal state could not be written to its checkpoint folder. */
  | { type: 'job-status-unrecorded'; state: string; reason: string }
  /** The job's worker threads could not all be ended after its result (a thread may stay until the process exits; the job's output is complete). */
  | { type: 'threads-unended'; reason: string }
  /** Old checkpoints could not be deleted (they stay on disk; retried after the next checkpoint). */
  | { type: 'prune-failed'; reason: string }
  | { type: 'restored-savepoint'; path: string; checkpointId: number; rescaled: string[]; dropped: string[] }
  | { type: 'worker-killed'; subtask: string }
  /** The web server listens at `url`; `tokenFile`: where the actions' bearer token is (absent with `webAllowActions` or without a checkpoint directory). */
  | { type: 'web-serving'; jobId: string; url: string; tokenFile?: string };

/** Resolved checkpoint settings (see RunJobOptions). */
export interface CheckpointConfig {
  dir: string;
  /** Undefined: no periodic checkpoints (a --checkpoint-dir alone allows savepoints and stop). */
  intervalMs: number | undefined;
  mode: CheckpointMode;
  timeoutMs: number;
  minPauseMs: number;
  maxConcurrent: number;
  tolerableFailures: number;
  retained: number;
  /** How messages name the options (`checkpointTimeoutMs` or `--checkpoint-timeout`); default runJob's names. */
  names?: OptionNamer;
}

export interface ResolvedOptions extends EngineOptions {
  /** Every ring's capacity, bytes; undefined: automatic per input gate (runtime/ring-sizing.ts). */
  ringSizeBytes: number | undefined;
  args: string[];
  /** Frozen, without a prototype. */
  params: Readonly<Record<string, string>>;
  parallelism: number;
  maxParallelism: number | undefined;
  checkpointing: CheckpointConfig | undefined;
  savepointDir: string | undefined;
  fromSavepoint: string | undefined;
  allowNonRestoredState: boolean;
  allowDuplicatesOnFallback: boolean;
  restartStrategy: RestartStrategyConfig;
  resume: boolean;
  killWorkerEveryMs: number | undefined;
  killWorkerLimit: number | undefined;
  killWorkerAfterCheckpoint: boolean;
  /** 'auto': shared when the subtasks outnumber the cores. */
  slotSharing: boolean | 'auto';
  workerMemoryMb: number | undefined;
  /** Undefined: no web server. */
  web: { port: number; host: string; allowActions: boolean; refreshIntervalMs: number } | undefined;
  onEvent: (event: JobEvent) => void;
}

// Every runJob option but args and onEvent has a `sluice run` flag in cliFlags, and no flag
// names an option that does not exist: a new option fails to compile until it has one.
type NamedOptions = Exclude<keyof RunJobOptions, 'args' | 'onEvent'>;
const everyOptionHasAFlag: [NamedOptions] extends [EngineOptionName] ? ([EngineOptionName] extends [NamedOptions] ? true : never) : never = true;
void everyOptionHasAFlag;

export const defaults = {
  bufferTimeoutMs: 5,
  batchSize: 512,
  memtableSizeBytes: 64 << 20,
} as const;

/** Checks an integer option; `n` names it. */
function boolean(n: OptionNamer, name: EngineOptionName, value: unknown): boolean {
  if (typeof value !== 'boolean') throw new UsageError(`${n(name)} must be true or false, got ${String(value)}`);
  return value;
}

function integer(n: OptionNamer, name: EngineOptionName, value: unknown, min: number, max: number): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    throw new UsageError(`${n(name)} must be an integer from ${min} to ${max}, got ${String(value)}`);
  }
  return value;
}

/**
 * `params` as a frozen object without a prototype.
 * @throws UsageError for a non-object, an empty key or a value that is not a string.
 */
function resolveParams(params: unknown): Readonly<Record<string, string>> {
  const out = Object.create(null) as Record<string, string>;
  if (params === undefined) return Object.freeze(out);
  if (params === null || typeof params !== 'object' || Array.isArray(params)) {
    throw new UsageError(`params must be an object of string values, e.g. { threshold: '10' }, got ${Array.isArray(params) ? 'an array' : String(params)}`);
  }
  for (const [key, value] of Object.entries(params)) {
    if (key === '') throw new UsageError('params has an empty key: every job parameter needs a name');
    if (typeof value !== 'string') {
      throw new UsageError(`params.${key} must be a string, got ${typeof value} ${previewRecord(value)}: job parameters are strings (read numbers with getNumber())`);
    }
    out[key] = value;
  }
  return Object.freeze(out);
}

/**
 * Validates and completes `options`; `style` is how messages name the options: `api`
 * (runJob's names) or `cli` (sluice run's flags). @throws UsageError naming the bad option.
 */
export function resolveOptions(options: RunJobOptions = {}, style: OptionStyle = 'api'): ResolvedOptions {
  const n = optionNamer(style);
  const args = options.args ?? [];
  if (!Array.isArray(args) || args.some((a) => typeof a !== 'string')) throw new UsageError('args must be an array of strings');
  const params = resolveParams(options.params);
  const ringSizeBytes = options.ringSizeBytes === undefined ? undefined : integer(n, 'ringSizeBytes', options.ringSizeBytes, 4096, 2 ** 30);
  if (ringSizeBytes !== undefined && (ringSizeBytes & (ringSizeBytes - 1)) !== 0) {
    throw new UsageError(`${n('ringSizeBytes')} must be a power of two, got ${ringSizeBytes} (try ${2 ** Math.round(Math.log2(ringSizeBytes))})`);
  }
  const stateBackend = options.stateBackend ?? 'lsm';
  if (stateBackend !== 'hashmap' && stateBackend !== 'lsm') {
    throw new UsageError(`${n('stateBackend')} must be "hashmap" or "lsm", got ${JSON.stringify(stateBackend)}`);
  }
  const checkpointing = resolveCheckpointing(options, n);
  for (const name of ['savepointDir', 'fromSavepoint'] as const) {
    const v = options[name];
    if (v !== undefined && (typeof v !== 'string' || v === '')) throw new UsageError(`${n(name)} must be a non-empty path, got ${JSON.stringify(v)}`);
  }
  if (options.fromSavepoint !== undefined && options.resume === true) {
    throw new UsageError(`give ${n('resume')} (continue the latest job in the checkpoint directory) or ${n('fromSavepoint')} (start a new job from a savepoint), not both`);
  }
  if (options.savepointDir !== undefined && checkpointing === undefined) {
    throw new UsageError(`${n('savepointDir')} needs ${n('checkpointDir')}: savepoints are taken through checkpoint storage (with or without ${n('checkpointIntervalMs')})`);
  }
  if (options.allowNonRestoredState === true && options.fromSavepoint === undefined) {
    throw new UsageError(`${n('allowNonRestoredState')} only applies with ${n('fromSavepoint')}`);
  }
  const restartStrategy =
    options.restartStrategy === undefined
      ? // Unlimited restarts only with periodic checkpoints to restore from: a checkpoint
        // directory alone (savepoints) would restart a failing job from scratch forever.
        defaultRestartStrategy(checkpointing?.intervalMs !== undefined)
      : typeof options.restartStrategy === 'string'
        ? parseRestartStrategy(options.restartStrategy)
        : options.restartStrategy;
  return {
    checkpointing,
    savepointDir: options.savepointDir,
    fromSavepoint: options.fromSavepoint,
    allowNonRestoredState: options.allowNonRestoredState === true,
    allowDuplicatesOnFallback: options.allowDuplicatesOnFallback === true,
    restartStrategy,
    resume: options.resume === true,
    killWorkerEveryMs: options.killWorkerEveryMs === undefined ? undefined : integer(n, 'killWorkerEveryMs', options.killWorkerEveryMs, 1, 3_600_000),
    killWorkerLimit: resolveKillWorkerLimit(options, n),
    killWorkerAfterCheckpoint: resolveKillWorkerAfterCheckpoint(options, n),
    slotSharing: options.slotSharing === undefined ? 'auto' : boolean(n, 'slotSharing', options.slotSharing),
    workerMemoryMb: options.workerMemoryMb === undefined ? undefined : integer(n, 'workerMemoryMb', options.workerMemoryMb, 16, 1 << 20),
    web: resolveWeb(options, n),
    onEvent: options.onEvent ?? (() => {}),
    args: [...args],
    params,
    parallelism: integer(n, 'parallelism', options.parallelism ?? availableParallelism(), 1, 32768),
    maxParallelism: options.maxParallelism === undefined ? undefined : integer(n, 'maxParallelism', options.maxParallelism, 1, 32768),
    bufferTimeoutMs: integer(n, 'bufferTimeoutMs', options.bufferTimeoutMs ?? defaults.bufferTimeoutMs, 0, 3_600_000),
    latencyTrackingIntervalMs: integer(n, 'latencyTrackingIntervalMs', options.latencyTrackingIntervalMs ?? defaultLatencyTrackingIntervalMs, 0, 3_600_000),
    batchSize: integer(n, 'batchSize', options.batchSize ?? defaults.batchSize, 1, 1 << 20),
    ringSizeBytes,
    stateBackend,
    memtableSizeBytes: integer(n, 'memtableSizeBytes', options.memtableSizeBytes ?? defaults.memtableSizeBytes, 4096, 2 ** 40),
    stateDir: options.stateDir,
    optionStyle: style,
  };
}

/** Flink's default `web.refresh-interval`, ms. */
export const webRefreshIntervalDefaultMs = 3000;

/** The web server's settings, or undefined without `webPort`. @throws UsageError for a bad port or host, or web options without a port. */
function resolveWeb(options: RunJobOptions, n: OptionNamer): ResolvedOptions['web'] {
  if (options.webPort === undefined) {
    for (const name of ['webHost', 'webAllowActions', 'webRefreshIntervalMs'] as const) {
      if (options[name] !== undefined && options[name] !== false) throw new UsageError(`${n(name)} needs ${n('webPort')}: the port to serve the REST API on`);
    }
    return undefined;
  }
  const port = integer(n, 'webPort', options.webPort, 0, 65535);
  const host = options.webHost ?? '127.0.0.1';
  if (typeof host !== 'string' || (isIP(host) === 0 && host !== 'localhost')) {
    throw new UsageError(`${n('webHost')} must be an IP address (e.g. 127.0.0.1, ::1, 0.0.0.0) or localhost, got ${JSON.stringify(host)}`);
  }
  const refreshIntervalMs = integer(n, 'webRefreshIntervalMs', options.webRefreshIntervalMs ?? webRefreshIntervalDefaultMs, 1000, 3_600_000);
  return { port, host, allowActions: options.webAllowActions === true, refreshIntervalMs };
}

function resolveCheckpointing(options: RunJobOptions, n: OptionNamer): CheckpointConfig | undefined {
  // Checkpointing is on with an interval; --resume alone also turns it on (default interval);
  // a checkpoint directory alone turns on savepoints without periodic checkpoints.
  const dir = options.checkpointDir;
  if (options.checkpointIntervalMs === undefined && options.resume !== true && (dir === undefined || dir === '')) return undefined;
  if (dir === undefined || dir === '') {
    const why = options.resume === true ? `${n('resume')} needs ${n('checkpointDir')}: the checkpoint directory of the job to resume` : `${n('checkpointIntervalMs')} needs ${n('checkpointDir')}: where checkpoints are written`;
    throw new UsageError(why);
  }
  const mode = options.checkpointMode ?? 'exactly-once';
  if (mode !== 'exactly-once' && mode !== 'at-least-once') {
    throw new UsageError(`${n('checkpointMode')} must be "exactly-once" or "at-least-once", got ${JSON.stringify(mode)}`);
  }
  return {
    dir,
    intervalMs:
      options.checkpointIntervalMs === undefined
        ? options.resume === true
          ? 60_000
          : undefined
        : integer(n, 'checkpointIntervalMs', options.checkpointIntervalMs, 10, 86_400_000),
    mode,
    timeoutMs: integer(n, 'checkpointTimeoutMs', options.checkpointTimeoutMs ?? 600_000, 10, 86_400_000),
    minPauseMs: integer(n, 'minPauseMs', options.minPauseMs ?? 0, 0, 86_400_000),
    maxConcurrent: integer(n, 'maxConcurrentCheckpoints', options.maxConcurrentCheckpoints ?? 1, 1, 100),
    tolerableFailures: integer(n, 'tolerableFailedCheckpoints', options.tolerableFailedCheckpoints ?? 0, 0, 1_000_000),
    retained: integer(n, 'retainedCheckpoints', options.retainedCheckpoints ?? 1, 1, 1000),
    names: n,
  };
}

/** killWorkerAfterCheckpoint: a boolean; true only beside killWorkerEveryMs and periodic checkpoints. */
function resolveKillWorkerAfterCheckpoint(options: RunJobOptions, n: OptionNamer): boolean {
  if (options.killWorkerAfterCheckpoint === undefined) return false;
  const on = boolean(n, 'killWorkerAfterCheckpoint', options.killWorkerAfterCheckpoint);
  if (on && options.killWorkerEveryMs === undefined) throw new UsageError(`${n('killWorkerAfterCheckpoint')} needs ${n('killWorkerEveryMs')}: it delays the kills of fault injection`);
  if (on && options.checkpointIntervalMs === undefined) throw new UsageError(`${n('killWorkerAfterCheckpoint')} needs ${n('checkpointIntervalMs')}: kills wait for a completed checkpoint`);
  return on;
}

/** killWorkerLimit: an integer from 1, only beside killWorkerEveryMs. */
function resolveKillWorkerLimit(options: RunJobOptions, n: OptionNamer): number | undefined {
  if (options.killWorkerLimit === undefined) return undefined;
  if (options.killWorkerEveryMs === undefined) throw new UsageError(`${n('killWorkerLimit')} needs ${n('killWorkerEveryMs')}: it limits how many workers fault injection kills`);
  return integer(n, 'killWorkerLimit', options.killWorkerLimit, 1, 1_000_000);
}

/**
 * How messages name an engine option: by its `runJob` option name when a program called
 * `runJob`, by its `sluice run` flag when the CLI did, so that a message never names an
 * option its reader has no way to give (a CLI user told "checkpointIntervalMs needs
 * checkpointDir", a program told "raise --ring-size"). Shared by the main thread and the
 * workers (a subtask's messages follow the style of its job).
 */

/** `api`: runJob option names (`checkpointIntervalMs`); `cli`: sluice run flags (`--checkpoint-interval`). */
export type OptionStyle = 'api' | 'cli';

/** The `sluice run` flag of each runJob option; test/engine/cli.test.ts checks that every one exists. */
export const cliFlags = {
  parallelism: '--parallelism',
  maxParallelism: '--max-parallelism',
  bufferTimeoutMs: '--buffer-timeout',
  batchSize: '--batch-size',
  ringSizeBytes: '--ring-size',
  stateBackend: '--state-backend',
  memtableSizeBytes: '--memtable-size',
  stateDir: '--state-dir',
  checkpointDir: '--checkpoint-dir',
  checkpointIntervalMs: '--checkpoint-interval',
  savepointDir: '--savepoint-dir',
  fromSavepoint: '--from-savepoint',
  allowNonRestoredState: '--allow-non-restored-state',
  checkpointMode: '--checkpoint-mode',
  checkpointTimeoutMs: '--checkpoint-timeout',
  minPauseMs: '--min-pause',
  maxConcurrentCheckpoints: '--max-concurrent-checkpoints',
  tolerableFailedCheckpoints: '--tolerable-failed-checkpoints',
  retainedCheckpoints: '--retained-checkpoints',
  restartStrategy: '--restart-strategy',
  resume: '--resume',
  allowDuplicatesOnFallback: '--allow-duplicates-on-fallback',
  killWorkerEveryMs: '--kill-worker-every',
  killWorkerLimit: '--kill-worker-limit',
  killWorkerAfterCheckpoint: '--kill-worker-after-checkpoint',
  slotSharing: '--slot-sharing',
  workerMemoryMb: '--worker-memory',
  params: '--param',
  latencyTrackingIntervalMs: '--latency-tracking-interval',
  webPort: '--web-port',
  webHost: '--web-host',
  webAllowActions: '--web-allow-actions',
  webRefreshIntervalMs: '--web-refresh-interval',
} as const;

/** A runJob option that `sluice run` has a flag for. */
export type EngineOptionName = keyof typeof cliFlags;

/** The option as `style` names it: `checkpointIntervalMs` or `--checkpoint-interval`. */
export function optionName(name: EngineOptionName, style: OptionStyle): string {
  return style === 'cli' ? cliFlags[name] : name;
}

/** `optionName` bound to a style: what message builders take. */
export type OptionNamer = (name: EngineOptionName) => string;

export function optionNamer(style: OptionStyle): OptionNamer {
  return (name) => optionName(name, style);
}

/**
 * The `sluice` command (commander). `sluice run [engine options] <job> [job arguments]`:
 * engine options come before the job module; everything after it goes to the job.
 * `sluice savepoint|stop <checkpoint-dir>` ask a running `sluice run` for a savepoint (or
 * to stop with one) through its control socket (Flink's `flink savepoint` / `flink stop`);
 * `sluice checkpoints <dir>` lists what is on disk; `sluice bench nexmark` runs the Nexmark
 * benchmark (bench.ts).
 *
 * Exit codes: 0 the job finished (or the savepoint was written); 1 the job failed (a user
 * function threw, a subtask crashed) or the savepoint failed; 2 a usage mistake (bad
 * option, missing job module, unreadable input, unwritable output or checkpoint directory,
 * no running job, a UsageError raised in a subtask: see findUserError), shown as one line
 * without a stack trace; type errors under `--typecheck` (that line, then one line per
 * error).
 */
import { fileURLToPath } from 'node:url';
import { Command, CommanderError, InvalidArgumentError, Option } from 'commander';
import { UsageError, findUserError } from '../errors.js';
import { resolveJobModule } from '../graph/index.js';
import { JobCancelledError, cancelRunningJob, defaults, listRunningJobs, requestControl, startJob } from '../runtime/index.js';
import { formatListing } from './listing.js';
import type { ControlCommand, JobEvent, JobHandle, RunJobOptions } from '../runtime/index.js';
import { addBenchCommand } from './bench.js';
import { checkpointsJson, formatCheckpoints } from './checkpoints.js';
import { showProgress } from './progress.js';
import { formatSummary, summarize } from './summary.js';
import { typecheckJobModule } from './typecheck.js';

/** 130 = 128 + SIGINT, what a shell reports for a program ended by Ctrl-C. */
export const exitCodes = { ok: 0, jobFailed: 1, usage: 2, cancelled: 130 } as const;

/** Where the CLI writes; tests pass their own. */
export interface CliIo {
  out(text: string): void;
  err(text: string): void;
}

const processIo: CliIo = {
  out: (text) => void process.stdout.write(text),
  err: (text) => void process.stderr.write(text),
};

function integerOption(name: string, min: number, max = Number.MAX_SAFE_INTEGER): (value: string) => number {
  return (value: string) => {
    const n = Number(value);
    if (!/^\d+$/.test(value.trim()) || !Number.isSafeInteger(n) || n < min || n > max) {
      throw new InvalidArgumentError(`${name} must be an integer from ${min} to ${max}, got "${value}"`);
    }
    return n;
  };
}

/**
 * Parses one `--param key=value` into the pairs so far (commander's repeatable option).
 * The key is what comes before the first `=`; the value may be empty or hold `=`.
 */
function paramOption(value: string, previous: Record<string, string> | undefined): Record<string, string> {
  const at = value.indexOf('=');
  if (at <= 0) throw new InvalidArgumentError(`--param takes key=value (e.g. --param threshold=10), got "${value}"`);
  const key = value.slice(0, at);
  const params = previous ?? (Object.create(null) as Record<string, string>);
  if (Object.hasOwn(params, key)) throw new InvalidArgumentError(`--param ${key} is given twice ("${params[key]}" and "${value.slice(at + 1)}"): give each job parameter once`);
  params[key] = value.slice(at + 1);
  return params;
}

interface RunFlags {
  param?: Record<string, string>;
  typecheck?: boolean;
  checkpointDir?: string;
  checkpointInterval?: number;
  checkpointMode: 'exactly-once' | 'at-least-once';
  checkpointTimeout: number;
  minPause: number;
  maxConcurrentCheckpoints: number;
  tolerableFailedCheckpoints: number;
  retainedCheckpoints: number;
  restartStrategy?: string;
  resume?: boolean;
  savepointDir?: string;
  fromSavepoint?: string;
  allowNonRestoredState?: boolean;
  allowDuplicatesOnFallback?: boolean;
  killWorkerEvery?: number;
  killWorkerLimit?: number;
  killWorkerAfterCheckpoint?: boolean;
  slotSharing?: boolean;
  workerMemory?: number;
  webPort?: number;
  webHost?: string;
  webAllowActions?: boolean;
  webRefreshInterval?: number;
  parallelism?: number;
  maxParallelism?: number;
  bufferTimeout: number;
  latencyTrackingInterval: number;
  batchSize: number;
  ringSize?: number;
  stateBackend: 'hashmap' | 'lsm';
  memtableSize: number;
  stateDir?: string;
  json?: boolean;
  progress: boolean;
}

/** Builds the command tree; `io` lets tests capture output. */
export function createProgram(io: CliIo, setExit: (code: number) => void): Command {
  const program = new Command('sluice')
    .description('sluicegate: stateful stream processing on worker threads, after Apache Flink')
    .enablePositionalOptions()
    .exitOverride()
    .configureOutput({ writeOut: io.out, writeErr: io.err, outputError: (s, write) => write(s) })
    .showSuggestionAfterError(true);

  program
    .command('run')
    .description(
      'run a job module (its default export made with defineJob) until its input ends (bounded sources), or until stopped or cancelled (Ctrl-C). ' +
        'Engine options come before the job module: everything after it goes to the job, engine options too',
    )
    .usage('[engine options] <job> [job arguments...]')
    .argument('<job>', 'job module: a .ts or .js file')
    .argument('[args...]', 'the job\'s own arguments, everything after the job module, e.g. --input corpus/ --output out/')
    .passThroughOptions()
    .addOption(new Option('--param <key=value>', 'a job parameter, the same in every subtask: env.getJobParameters() in defineJob, ctx.getJobParameters() in rich functions (repeatable; Flink\'s global job parameters)').argParser(paramOption))
    .addOption(new Option('-p, --parallelism <n>', 'default parallelism of operators (default: the machine\'s cores)').argParser(integerOption('--parallelism', 1, 32768)))
    .addOption(new Option('--max-parallelism <n>', 'number of key groups of keyed state (default: Flink\'s rule, at least 128)').argParser(integerOption('--max-parallelism', 1, 32768)))
    .addOption(new Option('--buffer-timeout <ms>', 'longest time a partly filled batch waits before it is sent; 0 sends after every input batch').argParser(integerOption('--buffer-timeout', 0, 3_600_000)).default(defaults.bufferTimeoutMs))
    .addOption(new Option('--latency-tracking-interval <ms>', 'sources emit a latency marker this often; operators record its latency (p50/p95/p99/p99.9/max in the summary and --json); 0 is off (Flink\'s metrics.latency.interval)').argParser(integerOption('--latency-tracking-interval', 0, 3_600_000)).default(0))
    .addOption(new Option('--batch-size <records>', 'records per batch sent between subtasks').argParser(integerOption('--batch-size', 1, 1 << 20)).default(defaults.batchSize))
    .addOption(new Option('--ring-size <bytes>', 'capacity of every channel ring, a power of two (default: 64 KiB with --checkpoint-dir, else 512 KiB per consuming subtask shared by the channels into it, 64 to 256 KiB each)').argParser(integerOption('--ring-size', 4096, 2 ** 30)))
    .addOption(new Option('--state-backend <name>', 'where keyed state lives: lsm (LSM tree on disk) or hashmap (heap)').choices(['lsm', 'hashmap']).default('lsm'))
    .addOption(new Option('--memtable-size <bytes>', 'LSM memtable budget per subtask').argParser(integerOption('--memtable-size', 4096)).default(defaults.memtableSizeBytes))
    .addOption(new Option('--state-dir <dir>', 'folder for LSM state files (default: a temporary folder)'))
    .addOption(new Option('--checkpoint-dir <dir>', 'where checkpoints are written: <dir>/<jobId>/{shared,taskowned,chk-<n>}'))
    .addOption(new Option('--checkpoint-interval <ms>', 'take a checkpoint this often (checkpointing is off without it)').argParser(integerOption('--checkpoint-interval', 10, 86_400_000)))
    .addOption(new Option('--checkpoint-mode <mode>', 'exactly-once aligns barriers; at-least-once only tracks them').choices(['exactly-once', 'at-least-once']).default('exactly-once'))
    .addOption(new Option('--checkpoint-timeout <ms>', 'abort a checkpoint not complete after this long').argParser(integerOption('--checkpoint-timeout', 10, 86_400_000)).default(600_000))
    .addOption(new Option('--min-pause <ms>', 'least time between a checkpoint\'s completion and the next trigger').argParser(integerOption('--min-pause', 0, 86_400_000)).default(0))
    .addOption(new Option('--max-concurrent-checkpoints <n>', 'checkpoints in flight at once').argParser(integerOption('--max-concurrent-checkpoints', 1, 100)).default(1))
    .addOption(new Option('--tolerable-failed-checkpoints <n>', 'consecutive failed checkpoints before the job fails').argParser(integerOption('--tolerable-failed-checkpoints', 0, 1_000_000)).default(0))
    .addOption(new Option('--retained-checkpoints <n>', 'completed checkpoints kept on disk').argParser(integerOption('--retained-checkpoints', 1, 1000)).default(1))
    .addOption(new Option('--restart-strategy <spec>', 'none | fixed-delay[:attempts=3,delay=1s] | failure-rate[:max-failures=3,interval=60s,delay=1s] | exponential-delay[:initial=1s,max=60s,multiplier=1.5,reset=1h,jitter=0.1] (default: fixed-delay, unlimited attempts, with checkpointing; none without)'))
    .option('--resume', 'continue the job of the latest run in --checkpoint-dir from its latest completed checkpoint (after a crash or kill -9), or start it from the beginning when none completed; refuses a FINISHED job')
    .addOption(new Option('--savepoint-dir <dir>', 'default folder of savepoints (Flink\'s state.savepoints.dir) for `sluice savepoint|stop` without --target; with it, SIGTERM stops the job with a savepoint (a second SIGTERM cancels)'))
    .addOption(new Option('--from-savepoint <path>', 'start from a savepoint folder (Flink\'s `flink run -s`): state goes to operators by uid, redistributed to the current parallelism'))
    .option('--allow-non-restored-state', 'with --from-savepoint: drop the state of operators the job no longer has instead of failing (Flink\'s --allowNonRestoredState)')
    .option('--allow-duplicates-on-fallback', 'when the newest checkpoint is damaged and the restore falls back to an older one, proceed even if a sink cannot take back what it published after that one (its output is then duplicated); without it such a restore is refused')
    .addOption(new Option('--kill-worker-every <ms>', 'fault injection: terminate a random subtask\'s worker thread this often').argParser(integerOption('--kill-worker-every', 1, 3_600_000)))
    .addOption(new Option('--kill-worker-after-checkpoint', 'fault injection: kill only once the attempt has completed a checkpoint (every restart restores one)'))
    .addOption(new Option('--kill-worker-limit <n>', 'fault injection: stop after this many kills over the whole run (with --kill-worker-every)').argParser(integerOption('--kill-worker-limit', 1, 1_000_000)))
    .option('--slot-sharing', 'subtask i of every operator shares slot i, one worker thread per slot (Flink\'s slot sharing); default: only when the job has more subtasks than the machine has cores')
    .option('--no-slot-sharing', 'run every subtask in its own worker thread')
    .addOption(new Option('--worker-memory <MiB>', 'heap limit of each worker thread (shared by the subtasks of its slot); a worker above it fails its subtasks instead of the process').argParser(integerOption('--worker-memory', 16, 1 << 20)))
    .option('--typecheck', 'type-check a .ts job module before it runs (as tsc --noEmit, with the nearest tsconfig.json, else strict defaults): type errors are listed as file:line:col, exit 2. Off by default, since tsx only strips types but a check takes seconds (1.8-7 s measured, about as long as starting a small job)')
    .addOption(new Option('--web-port <port>', 'serve Flink\'s REST API, live events and /metrics (Prometheus) on this port while the job runs (0: any free port; the URL is printed)').argParser(integerOption('--web-port', 0, 65535)))
    .addOption(new Option('--web-host <address>', 'address the web server binds (an IP address or localhost; default 127.0.0.1: this machine only)'))
    .addOption(new Option('--web-refresh-interval <ms>', "how often the dashboard refreshes (Flink's web.refresh-interval; default 3000)").argParser(integerOption('--web-refresh-interval', 1000, 3_600_000)))
    .option('--web-allow-actions', 'let any local client savepoint, stop or cancel the job through the REST API; without it they need the token in <checkpoint-dir>/<job id>/web-token')
    .option('--json', 'print the summary as JSON on standard output')
    .option('--no-progress', 'no live progress line (it is shown only on a terminal anyway)')
    .action(async (job: string, args: string[], flags: RunFlags, command: Command) => {
      const misplaced = misplacedEngineOptions(args, command);
      if (misplaced.length > 0) {
        const which = misplaced.length === 1 ? `${misplaced[0]} after the job module goes` : `${misplaced.join(', ')} after the job module go`;
        io.err(`sluice: warning: ${which} to the job, not to the engine: engine options come before the job module (sluice run [engine options] <job> [job arguments])\n`);
      }
      if (flags.typecheck === true) {
        const path = fileURLToPath(resolveJobModule(job));
        const { errors, configFile } = typecheckJobModule(path);
        if (errors.length > 0) {
          const n = errors.length === 1 ? '1 type error' : `${errors.length} type errors`;
          const config = configFile === undefined ? 'strict defaults, no tsconfig.json found' : configFile;
          io.err(`sluice: job module ${job} has ${n} (--typecheck, ${config}): fix ${errors.length === 1 ? 'it' : 'them'}, or run without --typecheck\n${errors.join('\n')}\n`);
          setExit(exitCodes.usage);
          return;
        }
      }
      const options: RunJobOptions = {
        args,
        ...(flags.param === undefined ? {} : { params: flags.param }),
        bufferTimeoutMs: flags.bufferTimeout,
        latencyTrackingIntervalMs: flags.latencyTrackingInterval,
        batchSize: flags.batchSize,
        ringSizeBytes: flags.ringSize,
        stateBackend: flags.stateBackend,
        memtableSizeBytes: flags.memtableSize,
        ...(flags.parallelism === undefined ? {} : { parallelism: flags.parallelism }),
        ...(flags.maxParallelism === undefined ? {} : { maxParallelism: flags.maxParallelism }),
        ...(flags.stateDir === undefined ? {} : { stateDir: flags.stateDir }),
        ...(flags.checkpointDir === undefined ? {} : { checkpointDir: flags.checkpointDir }),
        ...(flags.checkpointInterval === undefined ? {} : { checkpointIntervalMs: flags.checkpointInterval }),
        checkpointMode: flags.checkpointMode,
        checkpointTimeoutMs: flags.checkpointTimeout,
        minPauseMs: flags.minPause,
        maxConcurrentCheckpoints: flags.maxConcurrentCheckpoints,
        tolerableFailedCheckpoints: flags.tolerableFailedCheckpoints,
        retainedCheckpoints: flags.retainedCheckpoints,
        ...(flags.restartStrategy === undefined ? {} : { restartStrategy: flags.restartStrategy }),
        ...(flags.resume === true ? { resume: true } : {}),
        ...(flags.savepointDir === undefined ? {} : { savepointDir: flags.savepointDir }),
        ...(flags.fromSavepoint === undefined ? {} : { fromSavepoint: flags.fromSavepoint }),
        ...(flags.allowNonRestoredState === true ? { allowNonRestoredState: true } : {}),
        ...(flags.allowDuplicatesOnFallback === true ? { allowDuplicatesOnFallback: true } : {}),
        ...(flags.killWorkerEvery === undefined ? {} : { killWorkerEveryMs: flags.killWorkerEvery }),
        ...(flags.killWorkerLimit === undefined ? {} : { killWorkerLimit: flags.killWorkerLimit }),
        ...(flags.killWorkerAfterCheckpoint === undefined ? {} : { killWorkerAfterCheckpoint: flags.killWorkerAfterCheckpoint }),
        ...(flags.workerMemory === undefined ? {} : { workerMemoryMb: flags.workerMemory }),
        ...(flags.slotSharing === undefined ? {} : { slotSharing: flags.slotSharing }),
        ...(flags.webPort === undefined ? {} : { webPort: flags.webPort }),
        ...(flags.webHost === undefined ? {} : { webHost: flags.webHost }),
        ...(flags.webAllowActions === true ? { webAllowActions: true } : {}),
        ...(flags.webRefreshInterval === undefined ? {} : { webRefreshIntervalMs: flags.webRefreshInterval }),
        onEvent: (event) => {
          const line = describeEvent(event);
          if (line !== undefined) io.err(`sluice: ${line}\n`);
        },
      };
      const handle = startJob(job, options, 'cli');
      const stderr = process.stderr;
      const stop = flags.progress && !flags.json && stderr.isTTY ? showProgress(handle, stderr) : () => {};
      // Ctrl-C cancels the job (state CANCELED, exit 130); a second one exits at once.
      let interrupted = false;
      const onSignal = (): void => {
        if (interrupted) process.exit(exitCodes.cancelled);
        interrupted = true;
        stop();
        io.err('sluice: SIGINT: cancelling the job (Ctrl-C again to exit at once)\n');
        handle.cancel();
      };
      process.on('SIGINT', onSignal);
      // Without --savepoint-dir SIGTERM keeps Node's default: the process ends at once.
      const onTerm = flags.savepointDir === undefined ? undefined : stopOnSigterm(handle, flags.savepointDir, io);
      if (onTerm !== undefined) process.on('SIGTERM', onTerm);
      try {
        const result = await handle.result;
        stop();
        const summary = summarize(result);
        if (flags.json) io.out(`${JSON.stringify(summary, null, 2)}\n`);
        else io.err(`${formatSummary(summary)}\n`);
        setExit(exitCodes.ok);
      } catch (error) {
        // Cancelled by Ctrl-C, `sluice cancel` or the REST API: state CANCELED, exit 130.
        if (!(error instanceof JobCancelledError)) throw error;
        const resume = flags.checkpointDir === undefined ? '' : `; continue it with --resume --checkpoint-dir ${flags.checkpointDir}`;
        io.err(`sluice: job ${handle.jobId} cancelled (state CANCELED)${resume}\n`);
        setExit(exitCodes.cancelled);
      } finally {
        stop();
        process.off('SIGINT', onSignal);
        if (onTerm !== undefined) process.off('SIGTERM', onTerm);
      }
    });
  for (const [command, description] of [
    ['savepoint', 'take a savepoint of a running job while it goes on (Flink\'s `flink savepoint`); prints the savepoint folder'],
    ['stop', 'stop a running job with a savepoint (Flink\'s `flink stop`): sources stop, sinks commit, the job finishes; prints the savepoint folder'],
  ] as const) {
    program
      .command(command)
      .description(`${description}. Reaches the \`sluice run\` through the control socket in its job folder`)
      .argument('<checkpoint-dir>', 'the --checkpoint-dir of the running job, or its job folder')
      .option('--target <dir>', 'folder to write the savepoint into (default: the job\'s --savepoint-dir)')
      .option('--job <id>', 'the job id, when several jobs run with this checkpoint directory')
      .action(async (dir: string, flags: { target?: string; job?: string }) => {
        setExit(await controlCommand(command, dir, flags, io));
      });
  }
  program
    .command('list')
    .description('list the running jobs of a checkpoint directory (Flink\'s `flink list`): id, name, state, start time, parallelism, and the REST/dashboard URL when served')
    .argument('<checkpoint-dir>', 'the --checkpoint-dir of the running jobs')
    .option('--json', 'print them as JSON')
    .action(async (dir: string, flags: { json?: boolean }) => {
      const jobs = await listRunningJobs(dir);
      io.out(flags.json === true ? `${JSON.stringify(jobs, null, 2)}\n` : `${formatListing(jobs, dir)}\n`);
      setExit(exitCodes.ok);
    });
  program
    .command('cancel')
    .description('cancel a running job (Flink\'s `flink cancel`): it ends in state CANCELED and its `sluice run` exits 130; returns once it has ended')
    .argument('<checkpoint-dir>', 'the --checkpoint-dir of the running job, or its job folder')
    .option('--job <id>', 'the job id, when several jobs run with this checkpoint directory')
    .action(async (dir: string, flags: { job?: string }) => {
      const { jobId } = await cancelRunningJob(dir, flags.job);
      io.out(`Job ${jobId} cancelled (state CANCELED)\n`);
      setExit(exitCodes.ok);
    });
  program
    .command('checkpoints')
    .description('list the retained checkpoints of every job under a checkpoint directory')
    .argument('<dir>', 'a --checkpoint-dir, or one job folder in it')
    .option('--json', 'print them as JSON')
    .action((dir: string, flags: { json?: boolean }) => {
      const jobs = checkpointsJson(dir);
      io.out(flags.json === true ? `${JSON.stringify(jobs, null, 2)}\n` : `${formatCheckpoints(jobs)}\n`);
      setExit(exitCodes.ok);
    });
  addBenchCommand(program, io.out, setExit);
  return program;
}

/**
 * The job arguments that are exactly a long option of `sluice run` (`--parallelism`, or
 * `--parallelism=4`), each once: given after the job module they reach the job, which may
 * ignore them. Short options (`-p`) are left alone: jobs often have their own.
 */
export function misplacedEngineOptions(args: readonly string[], run: Command): string[] {
  const flags = new Set(run.options.map((o) => o.long).filter((f) => f !== undefined && f !== '--help'));
  return [...new Set(args.map((a) => a.split('=')[0]!).filter((a) => flags.has(a)))];
}

/**
 * SIGTERM handler of `sluice run --savepoint-dir`: the first SIGTERM stops the job with a
 * savepoint into `savepointDir` (as `flink stop`; the job then finishes and the summary
 * names the savepoint), a second one cancels it.
 */
function stopOnSigterm(handle: JobHandle, savepointDir: string, io: CliIo): () => void {
  let received = 0;
  return () => {
    received++;
    if (received > 1) {
      io.err('sluice: second SIGTERM: cancelling the job\n');
      handle.cancel();
      return;
    }
    io.err(`sluice: SIGTERM: stopping the job with a savepoint into ${savepointDir} (send SIGTERM again to cancel)\n`);
    handle.stop().catch((e: unknown) => io.err(`sluice: stop with savepoint failed, the job goes on: ${(e as Error).message}\n`));
  };
}

/**
 * `sluice savepoint|stop`: asks the running job for a savepoint through its control
 * socket and prints the folder on stdout. Usage mistakes (no running job, several) are
 * thrown for main() (exit 2); the job's own refusal or failure is reported here (exit 1).
 */
async function controlCommand(command: ControlCommand, dir: string, flags: { target?: string; job?: string }, io: CliIo): Promise<number> {
  try {
    const { savepoint } = await requestControl(dir, {
      command,
      ...(flags.target === undefined ? {} : { target: flags.target }),
      ...(flags.job === undefined ? {} : { jobId: flags.job }),
    });
    io.out(`${savepoint}\n`);
    return exitCodes.ok;
  } catch (e) {
    if (e instanceof UsageError) throw e;
    io.err(`sluice: ${command === 'stop' ? 'stop with savepoint' : 'savepoint'} failed: ${(e as Error).message}\n`);
    return exitCodes.jobFailed;
  }
}

/** One log line for an engine event; completed checkpoints show in the progress line instead. */
export function describeEvent(event: JobEvent): string | undefined {
  switch (event.type) {
    case 'restarting':
      return `restarting (attempt ${event.attempt}) in ${event.delayMs} ms after: ${event.cause.split('\n')[0]}`;
    case 'restored':
      return `restored from checkpoint ${event.checkpointId}`;
    case 'resumed-from-beginning':
      return event.existing
        ? `job ${event.jobId} has no completed checkpoint in ${event.checkpointDir}: starting it from the beginning (its sinks discard what the earlier run did not commit)`
        : `no job to resume in ${event.checkpointDir}: starting job ${event.jobId} from the beginning`;
    case 'checkpoint-skipped':
      return `checkpoint ${event.checkpointId} is unusable, trying an older one: ${event.reason}`;
    case 'fell-back': {
      const past = `checkpoint${event.checkpointIds.length === 1 ? '' : 's'} ${event.checkpointIds.join(', ')}`;
      const to = event.restoredCheckpointId !== undefined ? `checkpoint ${event.restoredCheckpointId}` : event.savepoint !== undefined ? `savepoint ${event.savepoint}` : 'the beginning';
      const duplicates = event.duplicates.length === 0 ? '' : `; ${event.duplicates.join(', ')} could not, and will hold duplicates (--allow-duplicates-on-fallback)`;
      return `falling back past ${past} to ${to}: the sinks took back what they published after it${duplicates}`;
    }
    case 'checkpoint-failed':
      return `checkpoint ${event.checkpointId} failed: ${event.reason}`;
    case 'worker-killed':
      return `fault injection: killed ${event.subtask}`;
    case 'savepoint-unrecorded':
      return `savepoint ${event.path} is complete but could not be recorded in the job folder (sluice checkpoints will not list it): ${event.reason}`;
    case 'failed-after-stop':
      return `a subtask failed after the stop savepoint ${event.savepoint} completed; the job ends stopped (the savepoint is whole): ${event.cause.split('\n')[0]}`;
    case 'job-status-unrecorded':
      return `the job's terminal state ${event.state} could not be recorded in its checkpoint folder: ${event.reason}`;
    case 'threads-unended':
      return `the job's worker threads could not all be ended (one may stay until the process exits; the job's output is complete): ${event.reason}`;
    case 'prune-failed':
      return `old checkpoints could not be deleted (retrying after the next checkpoint): ${event.reason}`;
    case 'savepoint-completed':
      return `${event.stop ? 'stopping with savepoint' : 'savepoint'} ${event.path} (of checkpoint ${event.checkpointId})`;
    case 'restored-savepoint': {
      const rescaled = event.rescaled.length === 0 ? '' : `; rescaled: ${event.rescaled.join(', ')}`;
      const dropped = event.dropped.length === 0 ? '' : `; state dropped (--allow-non-restored-state): ${event.dropped.join(', ')}`;
      return `restored from savepoint ${event.path} (checkpoint ${event.checkpointId})${rescaled}${dropped}`;
    }
    case 'web-serving':
      return `REST API and metrics at ${event.url} (GET /jobs/${event.jobId}, /metrics)${event.tokenFile === undefined ? '' : `; actions need the token in ${event.tokenFile}`}`;
    case 'checkpoint-completed':
      return undefined;
  }
}

/** Runs the CLI; resolves with the exit code. */
export async function main(argv: readonly string[], io: CliIo = processIo): Promise<number> {
  let code: number = exitCodes.ok;
  const program = createProgram(io, (c) => (code = c));
  try {
    await program.parseAsync([...argv], { from: 'user' });
    return code;
  } catch (error) {
    if (error instanceof CommanderError) {
      if (error.code === 'commander.helpDisplayed' || error.code === 'commander.version' || error.code === 'commander.help') return exitCodes.ok;
      if (error.code === 'commander.executeSubCommandAsync') return exitCodes.ok;
      // commander has printed its one-line message; add where to look.
      const command = program.commands.find((c) => c.name() === argv[0])?.name();
      io.err(`(run "sluice ${command === undefined ? '' : `${command} `}--help" for the options)\n`);
      return exitCodes.usage;
    }
    const userError = findUserError(error);
    if (userError !== undefined) {
      io.err(`sluice: ${userError.message}\n`);
      return exitCodes.usage;
    }
    const e = error as Error;
    io.err(`sluice: job failed: ${e.message}\n`);
    // A user function's failure carries the original stack after "Caused by:".
    const causedBy = e.stack?.indexOf('\nCaused by: ') ?? -1;
    if (causedBy >= 0) io.err(`${e.stack!.slice(causedBy + 1)}\n`);
    return exitCodes.jobFailed;
  }
}

/**
 * The environment a job definition receives: sources and job-wide settings.
 * Flink: `StreamExecutionEnvironment`.
 *
 * Every source is a FLIP-27 `Source` (connectors/source.ts): `fromSource` takes one of
 * the user's own; the others build the built-in ones.
 */
import { statSync } from 'node:fs';
import { registerType, type RegisterTypeOptions } from './registered-types.js';
import { SingleOutputStream } from './data-stream.js';
import { Plan } from './plan.js';
import type { SourceSpec } from './plan.js';
import { checkParallelism } from './validate.js';
import { ParameterTool } from './job-parameters.js';
import type { JobInfo, JobScope } from './job-parameters.js';
import {
  FileSource,
  IndexedSource,
  PipeSource,
  SocketSource,
  csvFormat,
  defaultSocketRetryDelayMs,
  isSource,
  jsonLinesFormat,
  stdinPath,
} from '../connectors/index.js';
import type { CsvReadOptions, JsonLinesReadOptions, LineFormat, Source } from '../connectors/index.js';
import { WatermarkStrategy } from '../time/index.js';

export interface TextFileOptions {
  /** When the path is a directory, read only files whose names end so (e.g. '.txt'). */
  suffix?: string;
  /**
   * Watch the directory: list it every this many ms and read each new file once
   * (unbounded). Flink: `FileSource...monitorContinuously(interval)`.
   */
  monitorIntervalMs?: number;
}

export interface GeneratorOptions {
  /** Records per second over all subtasks (each gets rate / parallelism). Flink: `RateLimiterStrategy.perSecond`. */
  recordsPerSecond?: number;
}

export interface SocketOptions {
  /** Wait between connection attempts, ms; default 500 (as Flink). */
  retryDelayMs?: number;
}

const fileOptionNames = ['suffix', 'monitorIntervalMs'] as const;

function checkFileOptions(what: string, options: TextFileOptions): void {
  if (options === null || typeof options !== 'object') throw new TypeError(`${what} expects an options object`);
  if (options.suffix !== undefined && (typeof options.suffix !== 'string' || options.suffix === '')) {
    throw new TypeError(`${what} option suffix must be a non-empty string, got ${JSON.stringify(options.suffix)}`);
  }
  const ms = options.monitorIntervalMs;
  if (ms !== undefined && (typeof ms !== 'number' || !Number.isInteger(ms) || ms < 1 || ms > 86_400_000)) {
    throw new RangeError(`${what} option monitorIntervalMs must be an integer from 1 to 86400000 ms, got ${String(ms)}`);
  }
}

/** Splits a reader's options into the file options and the format's own. */
function fileAndFormatOptions<O extends object>(options: O & TextFileOptions): { file: TextFileOptions; format: O } {
  const file: TextFileOptions = {};
  const format: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(options)) {
    if ((fileOptionNames as readonly string[]).includes(k)) (file as Record<string, unknown>)[k] = v;
    else format[k] = v;
  }
  return { file, format: format as O };
}

/** A path that is a pipe, socket or terminal (or '-', standard input): read as one stream. */
function isStream(path: string): boolean {
  if (path === stdinPath) return true;
  const stats = statSync(path, { throwIfNoEntry: false });
  return stats !== undefined && (stats.isFIFO() || stats.isSocket() || stats.isCharacterDevice());
}

/** Job-wide settings. Flink: `ExecutionConfig` (`env.getConfig()`). */
export class ExecutionConfig {
  /** @internal */
  constructor(private readonly plan: Plan) {}

  /**
   * How often watermark generators emit (`onPeriodicEmit`), ms; 200 by default. Flink:
   * `setAutoWatermarkInterval`. @throws RangeError unless an integer from 1 to 3600000.
   */
  setAutoWatermarkInterval(intervalMs: number): this {
    if (!Number.isInteger(intervalMs) || intervalMs < 1 || intervalMs > 3_600_000) {
      throw new RangeError(`setAutoWatermarkInterval() expects an integer from 1 to 3600000 ms, got ${String(intervalMs)}`);
    }
    this.plan.config.autoWatermarkIntervalMs = intervalMs;
    return this;
  }

  getAutoWatermarkInterval(): number {
    return this.plan.config.autoWatermarkIntervalMs;
  }
}

export class StreamExecutionEnvironment {
  /** @internal */
  readonly plan = new Plan();
  private readonly config = new ExecutionConfig(this.plan);

  /** Job-wide settings (the auto-watermark interval). Flink: `getConfig()`. */
  getConfig(): ExecutionConfig {
    return this.config;
  }

  /**
   * Lets instances of `Class` keep their class in records, keyed state, checkpoints and
   * `collect()`. Without it an instance of a class of your own is refused where it is
   * sent (a UsageError naming the class). Default: the own fields are carried and come back
   * in an object with the class's prototype, without calling the constructor; pass
   * `{ serializer }` for anything else, `{ name }` when two classes share a name. Flink:
   * `registerType` / `registerTypeWithKryoSerializer`. See registered-types.ts.
   * @throws TypeError as `registerType` in registered-types.ts.
   */
  registerType<T>(Class: abstract new (...args: never[]) => T, options?: RegisterTypeOptions<T>): this {
    registerType(Class, options);
    return this;
  }
  private parallelism: number;
  private maxParallelism: number | undefined;

  private readonly job: JobScope;

  /**
   * @internal Created by the runtime with the engine's default parallelism and the run's
   * job parameters and info (tests may leave them out: no parameters, a fixed info).
   */
  constructor(defaultParallelism: number, job?: { parameters: Readonly<Record<string, string>>; info: JobInfo }) {
    this.parallelism = defaultParallelism;
    this.job = {
      parameters: ParameterTool.fromMap(job?.parameters ?? {}),
      info: Object.freeze({ ...(job?.info ?? { jobId: '00000000-0000-0000-0000-000000000000', startTime: 0, seed: 0 }) }),
    };
  }

  /**
   * The job parameters of this run (`runJob(url, { params })`, `sluice run --param
   * key=value`): fixed in the main thread, the same in every worker, so the plan may
   * depend on them. Flink: `env.getConfig().getGlobalJobParameters()` as a `ParameterTool`.
   */
  getJobParameters(): ParameterTool {
    return this.job.parameters;
  }

  /**
   * The job's id, seed and start time (epoch ms): fixed once per job in the main thread,
   * the same in every worker and across restarts and `--resume`. Use them instead of
   * `Math.random()` or `Date.now()` in `defineJob`. Flink: `JobInfo`.
   */
  getJobInfo(): JobInfo {
    return this.job.info;
  }

  /** @internal The parameters and info, for the subtasks' runtime contexts. */
  jobScope(): JobScope {
    return this.job;
  }

  /**
   * Runs every operator in a chain (subtask) of its own: records between operators then
   * cross rings, encoded, where a chain would have handed them on by a call. Costs CPU, and
   * spreads a pipeline over more threads. Flink: `disableOperatorChaining()`.
   */
  disableOperatorChaining(): this {
    this.plan.config.chaining = false;
    return this;
  }

  /** False after `disableOperatorChaining()`. Flink: `isChainingEnabled()`. */
  isChainingEnabled(): boolean {
    return this.plan.config.chaining;
  }

  /** Default parallelism of operators that do not set their own. */
  setParallelism(parallelism: number): this {
    checkParallelism(parallelism, 'setParallelism()');
    this.parallelism = parallelism;
    return this;
  }
  getParallelism(): number {
    return this.parallelism;
  }

  /** Default number of key groups (1..32768); Flink's default rule applies when unset. */
  setMaxParallelism(maxParallelism: number): this {
    checkParallelism(maxParallelism, 'setMaxParallelism()', 32768);
    this.maxParallelism = maxParallelism;
    return this;
  }
  getMaxParallelism(): number | undefined {
    return this.maxParallelism;
  }

  private source<T>(name: string, spec: SourceSpec): SingleOutputStream<T> {
    const stream = new SingleOutputStream<T>(this.plan, this.plan.add(name, { kind: 'source', source: spec }, []));
    return spec.nonParallel ? stream.setParallelism(1) : stream;
  }

  /**
   * A stream from a source of one's own (connectors/source.ts: enumerator and reader).
   * Flink: `env.fromSource(source, watermarkStrategy, sourceName)`.
   * @param watermarkStrategy how records get timestamps and watermarks, per split in the
   *   reader (split-aware watermarking: the source's watermark is the minimum over its
   *   splits); undefined or `noWatermarks()` for none.
   * @throws TypeError for an object that is not a Source or an empty name.
   */
  fromSource<T>(source: Source<T, any, any>, watermarkStrategy: WatermarkStrategy<T> | undefined, sourceName: string): SingleOutputStream<T> {
    if (!isSource(source)) {
      throw new TypeError('fromSource() expects a Source: { boundedness, createEnumerator(ctx), restoreEnumerator(ctx, state), createReader(ctx) }');
    }
    if (watermarkStrategy !== undefined && !(watermarkStrategy instanceof WatermarkStrategy)) {
      throw new TypeError('fromSource() expects a WatermarkStrategy (e.g. WatermarkStrategy.noWatermarks()) or undefined as its second argument');
    }
    if (typeof sourceName !== 'string' || sourceName === '') throw new TypeError('fromSource() expects a source name as its third argument');
    const strategy = watermarkStrategy?.generatesWatermarks === true ? watermarkStrategy : undefined;
    return this.source<T>(sourceName, { source, nonParallel: false, what: 'fromSource()', watermarkStrategy: strategy });
  }

  /** The items, in order, from one subtask (non-parallel, as in Flink). Bounded. */
  fromCollection<T>(items: Iterable<T>): SingleOutputStream<T> {
    if (items === null || typeof (items as Iterable<T>)[Symbol.iterator] !== 'function') {
      throw new TypeError('fromCollection() expects an iterable');
    }
    const array = [...items];
    return this.source<T>('Collection Source', { source: new IndexedSource(array.length, (i) => array[i]!, { label: 'collection' }), nonParallel: true, what: 'fromCollection()' });
  }

  /** The integers from..to inclusive, split into contiguous ranges across subtasks. Bounded. */
  fromSequence(from: number, to: number): SingleOutputStream<number> {
    if (!Number.isSafeInteger(from) || !Number.isSafeInteger(to) || to < from) {
      throw new RangeError(`fromSequence(from, to) expects safe integers with from <= to, got ${from}, ${to}`);
    }
    return this.source<number>('Sequence Source', { source: new IndexedSource(to - from + 1, (i) => i, { label: 'sequence' }, from), nonParallel: false, what: 'fromSequence()' });
  }

  /**
   * One record per line (without the line break) of a file, or of every file of a
   * directory in name order (hidden `.x` and `_x` files skipped). Files are cut into
   * byte-range splits at line boundaries, shared among subtasks. Bounded, or unbounded
   * with `monitorIntervalMs` (new files of the directory are read as they arrive).
   * `'-'` reads standard input, and a pipe (FIFO) path is read as a stream: parallelism 1,
   * not replayable (at-most-once after a failover).
   */
  readTextFile(path: string, options: TextFileOptions = {}): SingleOutputStream<string> {
    return this.readLines<string>('readTextFile()', 'Text File Source', path, options, undefined);
  }

  /**
   * One JSON value per line (JSON lines), from files as `readTextFile` reads them. A bad
   * line fails the job naming file, line and content, or is skipped and counted with
   * `onParseError: 'skip'`. Blank lines are no records.
   */
  readJsonLines<T = unknown>(path: string, options: TextFileOptions & JsonLinesReadOptions = {}): SingleOutputStream<T> {
    const { file, format } = fileAndFormatOptions(options);
    return this.readLines<T>('readJsonLines()', 'JSON Lines Source', path, file, jsonLinesFormat<T>(format, 'readJsonLines()', fileOptionNames));
  }

  /**
   * CSV records, one per line (csv-parse), from files as `readTextFile` reads them: arrays
   * of fields, or objects by column name with `header` (the first line of every file) or
   * `columns`. Bad lines as `readJsonLines`.
   */
  readCsv<T = unknown>(path: string, options: TextFileOptions & CsvReadOptions = {}): SingleOutputStream<T> {
    const { file, format } = fileAndFormatOptions(options);
    return this.readLines<T>('readCsv()', 'CSV Source', path, file, csvFormat<T>(format, 'readCsv()', fileOptionNames));
  }

  private readLines<T>(what: string, name: string, path: string, options: TextFileOptions, format: LineFormat<T> | undefined): SingleOutputStream<T> {
    if (typeof path !== 'string' || path === '') throw new TypeError(`${what} expects a file or directory path ('-' for standard input)`);
    checkFileOptions(what, options);
    if (isStream(path)) {
      if (options.monitorIntervalMs !== undefined) throw new TypeError(`${what}: ${path} is a stream (a pipe or standard input), which cannot be monitored for new files`);
      return this.source<T>(name, { source: new PipeSource<T>(path, format), nonParallel: true, what: `${what} of a pipe` });
    }
    const source = new FileSource<T>({ path, suffix: options.suffix, monitorIntervalMs: options.monitorIntervalMs, format });
    return this.source<T>(name, { source, nonParallel: false, what });
  }

  /**
   * Lines from a TCP server, cut at `delimiter`. Flink: `socketTextStream`. Parallelism 1.
   * When the connection closes the source connects again after `retryDelayMs`, up to
   * `maxRetry` times (-1: forever); with no retry left it ends. Not replayable: after a
   * failover it reads on from a new connection (at-most-once).
   * @throws TypeError / RangeError for a bad host, port, delimiter or maxRetry.
   */
  socketTextStream(hostname: string, port: number, delimiter = '\n', maxRetry = 0, options: SocketOptions = {}): SingleOutputStream<string> {
    if (typeof hostname !== 'string' || hostname === '') throw new TypeError(`socketTextStream() expects a host name, got ${JSON.stringify(hostname)}`);
    if (!Number.isInteger(port) || port < 1 || port > 65535) throw new RangeError(`socketTextStream() port must be an integer from 1 to 65535, got ${String(port)}`);
    if (typeof delimiter !== 'string' || delimiter === '' || Buffer.from(delimiter, 'utf8').toString('utf8') !== delimiter) {
      throw new TypeError(`socketTextStream() delimiter must be a non-empty string of whole characters, got ${JSON.stringify(delimiter)}`);
    }
    if (!Number.isInteger(maxRetry) || maxRetry < -1) throw new RangeError(`socketTextStream() maxRetry must be an integer >= -1 (-1: retry forever), got ${String(maxRetry)}`);
    const retryDelayMs = options.retryDelayMs ?? defaultSocketRetryDelayMs;
    if (!Number.isInteger(retryDelayMs) || retryDelayMs < 0) throw new RangeError(`socketTextStream() retryDelayMs must be an integer >= 0, got ${String(retryDelayMs)}`);
    const source = new SocketSource<string>({ hostname, port, delimiter, maxRetry, retryDelayMs });
    return this.source<string>('Socket Stream', { source, nonParallel: true, what: 'socketTextStream()' });
  }

  /**
   * `fn(i)` for i in 0..count-1, split into contiguous ranges across subtasks; with
   * `count = Infinity`, unbounded (subtask k of p emits k, k+p, k+2p, ...). Optionally
   * rate-limited over all subtasks. Flink: `DataGeneratorSource` with `RateLimiterStrategy`.
   */
  fromGenerator<T>(fn: (index: number) => T, count: number, options: GeneratorOptions = {}): SingleOutputStream<T> {
    if (typeof fn !== 'function') throw new TypeError('fromGenerator() expects a function (index) => record');
    if (count !== Infinity && (!Number.isSafeInteger(count) || count < 0)) {
      throw new RangeError(`fromGenerator() count must be a non-negative integer or Infinity, got ${count}`);
    }
    if (options === null || typeof options !== 'object') throw new TypeError('fromGenerator() expects an options object');
    for (const key of Object.keys(options)) if (key !== 'recordsPerSecond') throw new TypeError(`fromGenerator() has no option "${key}"; its option is recordsPerSecond`);
    const rate = options.recordsPerSecond;
    if (rate !== undefined && (typeof rate !== 'number' || !Number.isFinite(rate) || rate <= 0)) {
      throw new RangeError(`fromGenerator() recordsPerSecond must be a finite number > 0, got ${String(rate)}`);
    }
    const source = new IndexedSource<T>(count, fn, { label: 'generator', ...(rate === undefined ? {} : { recordsPerSecond: rate }) });
    return this.source<T>('Generator Source', { source, nonParallel: false, what: 'fromGenerator()' });
  }
}

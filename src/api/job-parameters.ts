/**
 * What a job may know about itself that is the same in every thread: its parameters and
 * its identity (id, seed, start time).
 *
 * `defineJob` runs in the main thread and again in every worker, so a value it computes
 * itself (`Math.random()`, `Date.now()`, an environment variable) can differ between
 * subtasks. These values are fixed once, in the main thread, and handed to every worker:
 * - job parameters: string pairs given to the run (`runJob(url, { params })`, `sluice run
 *   --param key=value`). Flink: global job parameters, a `ParameterTool` set with
 *   `env.getConfig().setGlobalJobParameters(...)` and read with
 *   `getRuntimeContext().getGlobalJobParameters()`.
 * - job info: the job id, a random seed and the start time, fixed when the job is first
 *   submitted and kept across restarts and `--resume` (recorded in the checkpoint folder,
 *   `checkpoint/job-info.ts`). Flink: `JobInfo` (`getRuntimeContext().getJobInfo()`),
 *   which has the id; the seed and start time are ours.
 */
import { UsageError } from '../errors.js';

/** The job's identity, the same in every subtask and across restarts and `--resume`. Flink: `JobInfo`. */
export interface JobInfo {
  /** The job id: a UUID, the name of the job's folder under `--checkpoint-dir`. */
  readonly jobId: string;
  /**
   * When the job was first submitted (the `runJob` call of its first run), epoch ms. A
   * restart or a `--resume` keeps it; a start from a savepoint is a new job with a new one.
   */
  readonly startTime: number;
  /**
   * A random integer from 0 to 2^32 - 1 drawn once per job (as `startTime`): seed a
   * generator with it where a plan or a function needs randomness that every subtask and
   * every restart must agree on.
   */
  readonly seed: number;
}

/** How a job parameter is named in messages: the CLI option and the runJob option. */
const howToPass = (key: string): string => `pass it with --param ${key}=<value> (runJob: params: { ${JSON.stringify(key)}: '...' })`;

/**
 * Read-only job parameters: string keys to string values, as given to the run. Flink:
 * `ParameterTool` (the same getter names; `getNumber` stands for `getLong` / `getDouble`,
 * JavaScript having one number type). Getters that find a missing or malformed value
 * throw a `UsageError`: no restart can fix it, so the job fails at once (exit 2).
 */
export class ParameterTool {
  private readonly data: Readonly<Record<string, string>>;

  /**
   * A frozen copy of `map`. Flink: `ParameterTool.fromMap`.
   * @throws TypeError unless `map` is an object of string values.
   */
  static fromMap(map: Readonly<Record<string, string>>): ParameterTool {
    return new ParameterTool(map);
  }

  private constructor(map: Readonly<Record<string, string>>) {
    if (map === null || typeof map !== 'object' || Array.isArray(map)) throw new TypeError('ParameterTool.fromMap() expects an object of string values');
    const data: Record<string, string> = Object.create(null) as Record<string, string>;
    for (const [key, value] of Object.entries(map)) {
      if (typeof value !== 'string') throw new TypeError(`ParameterTool.fromMap(): the value of "${key}" must be a string, got ${typeof value}`);
      data[key] = value;
    }
    this.data = Object.freeze(data);
  }

  /** Whether the parameter is given (an empty value counts). Flink: `has`. */
  has(key: string): boolean {
    return Object.hasOwn(this.data, key);
  }

  /** The value, or `defaultValue` (undefined without one) when it is not given. Flink: `get`. */
  get(key: string): string | undefined;
  get(key: string, defaultValue: string): string;
  get(key: string, defaultValue?: string): string | undefined {
    return this.has(key) ? this.data[key] : defaultValue;
  }

  /** The value. Flink: `getRequired`. @throws UsageError when it is not given. */
  getRequired(key: string): string {
    if (!this.has(key)) throw new UsageError(`Job parameter "${key}" is missing: ${howToPass(key)}`);
    return this.data[key]!;
  }

  /**
   * The value as a number (JavaScript's number syntax: `12`, `-0.5`, `1e3`, `0x1f`), or
   * `defaultValue` when it is not given. Flink: `getLong` / `getDouble`.
   * @throws UsageError when it is not given and has no default, or is not a finite number.
   */
  getNumber(key: string, defaultValue?: number): number {
    if (!this.has(key) && defaultValue !== undefined) return defaultValue;
    const text = this.getRequired(key);
    const value = text.trim() === '' ? NaN : Number(text);
    if (!Number.isFinite(value)) throw new UsageError(`Job parameter "${key}" must be a number, got ${JSON.stringify(text)}: pass e.g. --param ${key}=10`);
    return value;
  }

  /**
   * The value as a safe integer, or `defaultValue` when it is not given. Flink: `getInt`.
   * @throws UsageError when it is not given and has no default, or is not an integer.
   */
  getInt(key: string, defaultValue?: number): number {
    const value = this.getNumber(key, defaultValue);
    if (!Number.isSafeInteger(value)) throw new UsageError(`Job parameter "${key}" must be an integer, got ${JSON.stringify(this.get(key, String(value)))}: pass e.g. --param ${key}=10`);
    return value;
  }

  /**
   * `true` for "true", `false` for "false" (any case), or `defaultValue` when it is not
   * given. Flink: `getBoolean` (which reads anything else as false; here it is refused).
   * @throws UsageError when it is not given and has no default, or is neither word.
   */
  getBoolean(key: string, defaultValue?: boolean): boolean {
    if (!this.has(key) && defaultValue !== undefined) return defaultValue;
    const text = this.getRequired(key);
    const lower = text.toLowerCase();
    if (lower === 'true') return true;
    if (lower === 'false') return false;
    throw new UsageError(`Job parameter "${key}" must be true or false, got ${JSON.stringify(text)}`);
  }

  /** How many parameters are given. Flink: `getNumberOfParameters`. */
  getNumberOfParameters(): number {
    return Object.keys(this.data).length;
  }

  /** All parameters, as a frozen object (no prototype). Flink: `toMap`. */
  toMap(): Readonly<Record<string, string>> {
    return this.data;
  }
}

/** The job parameters and job info a run hands to `defineJob` and to every subtask. */
export interface JobScope {
  readonly parameters: ParameterTool;
  readonly info: JobInfo;
}

/**
 * Restart strategies: after a failure, how long the job master waits before it redeploys
 * the job from the latest completed checkpoint, or whether it gives up. The four kinds are
 * Flink's `RestartBackoffTimeStrategy` implementations (none, fixed-delay, failure-rate,
 * exponential-delay), with Flink's defaults (1.19+, where exponential-delay got its
 * current multiplier 1.5 and max backoff 1 min).
 *
 * `RestartBackoff` is pure: the caller passes the failure time, and the random source for
 * jitter is injectable, so tests replay exact sequences without a clock or sleeps.
 */
import assert from 'node:assert';
import { UsageError } from '../errors.js';

export type RestartStrategyConfig =
  | { kind: 'none' }
  | { kind: 'fixed-delay'; attempts: number; delayMs: number }
  | { kind: 'failure-rate'; maxFailures: number; intervalMs: number; delayMs: number }
  | { kind: 'exponential-delay'; initialMs: number; maxMs: number; multiplier: number; resetThresholdMs: number; jitter: number };

/** Flink's `Integer.MAX_VALUE`: the attempts of the default fixed-delay strategy ("unlimited"). */
export const restartAttemptsUnlimited = 2 ** 31 - 1;

/** Flink's defaults for each parameter the spec leaves out. */
export const restartStrategyDefaults = {
  'fixed-delay': { kind: 'fixed-delay', attempts: 1, delayMs: 1000 },
  'failure-rate': { kind: 'failure-rate', maxFailures: 1, intervalMs: 60_000, delayMs: 1000 },
  'exponential-delay': { kind: 'exponential-delay', initialMs: 1000, maxMs: 60_000, multiplier: 1.5, resetThresholdMs: 3_600_000, jitter: 0.1 },
} as const satisfies Record<string, RestartStrategyConfig>;

const acceptedSpecs =
  'none | fixed-delay[:attempts=N,delay=D] | failure-rate[:max-failures=N,interval=D,delay=D] | ' +
  'exponential-delay[:initial=D,max=D,multiplier=X,reset=D,jitter=X], where D is a duration such as 500ms, 1s or 2m (bare number = ms)';

type ParamKind = 'count' | 'duration' | 'number';
/** Spec parameter name -> [config field, value kind], per strategy. */
const specParams: Record<Exclude<RestartStrategyConfig['kind'], 'none'>, Record<string, readonly [string, ParamKind]>> = {
  'fixed-delay': { attempts: ['attempts', 'count'], delay: ['delayMs', 'duration'] },
  'failure-rate': { 'max-failures': ['maxFailures', 'count'], interval: ['intervalMs', 'duration'], delay: ['delayMs', 'duration'] },
  'exponential-delay': {
    initial: ['initialMs', 'duration'],
    max: ['maxMs', 'duration'],
    multiplier: ['multiplier', 'number'],
    reset: ['resetThresholdMs', 'duration'],
    jitter: ['jitter', 'number'],
  },
};

const durationUnitsMs: Record<string, number> = { '': 1, ms: 1, s: 1000, m: 60_000 };

function parseValue(text: string, kind: ParamKind): number | undefined {
  if (kind === 'count') return /^\d+$/.test(text) ? Number(text) : undefined;
  if (kind === 'number') return /^\d+(\.\d+)?$/.test(text) ? Number(text) : undefined;
  const match = /^(\d+(?:\.\d+)?)(ms|s|m)?$/.exec(text);
  if (match === null) return undefined;
  const ms = Number(match[1]) * durationUnitsMs[match[2] ?? '']!;
  return Number.isSafeInteger(ms) ? ms : undefined;
}

const valueShapes: Record<ParamKind, string> = {
  count: 'a whole number',
  duration: 'a duration in whole ms (e.g. 500ms, 1s, 2m)',
  number: 'a number (e.g. 1.5)',
};

/**
 * Parses a CLI spec: `none` | `fixed-delay[:attempts=3,delay=1s]` |
 * `failure-rate[:max-failures=3,interval=60s,delay=1s]` |
 * `exponential-delay[:initial=100ms,max=10s,multiplier=2,reset=60s,jitter=0.1]`.
 * Durations accept ms|s|m suffixes (bare number = ms). Parameters left out take Flink's
 * defaults (`restartStrategyDefaults`).
 * @throws UsageError naming the bad part and listing what is accepted.
 */
export function parseRestartStrategy(spec: string): RestartStrategyConfig {
  const fail = (what: string): never => {
    throw new UsageError(`Bad restart strategy ${JSON.stringify(spec)}: ${what}. Accepted: ${acceptedSpecs}`);
  };
  const colon = spec.indexOf(':');
  const kind = (colon < 0 ? spec : spec.slice(0, colon)).trim();
  const paramText = colon < 0 ? undefined : spec.slice(colon + 1);
  if (kind === 'none') {
    if (paramText !== undefined) fail('"none" takes no parameters');
    return { kind: 'none' };
  }
  if (kind !== 'fixed-delay' && kind !== 'failure-rate' && kind !== 'exponential-delay') {
    return fail(`unknown strategy ${JSON.stringify(kind)}`);
  }
  const params = specParams[kind];
  const config: Record<string, number | string> = { ...restartStrategyDefaults[kind] };
  if (paramText !== undefined) {
    const seen = new Set<string>();
    for (const part of paramText.split(',')) {
      const eq = part.indexOf('=');
      const name = (eq < 0 ? part : part.slice(0, eq)).trim();
      const param = params[name];
      if (param === undefined) fail(`unknown parameter ${JSON.stringify(part.trim())} for ${kind} (it takes ${Object.keys(params).join(', ')})`);
      if (eq < 0) fail(`parameter ${name} has no value (write ${name}=...)`);
      if (seen.has(name)) fail(`parameter ${name} is given twice`);
      seen.add(name);
      const text = part.slice(eq + 1).trim();
      const value = parseValue(text, param![1]);
      if (value === undefined) fail(`${name} must be ${valueShapes[param![1]]}, got ${JSON.stringify(text)}`);
      config[param![0]] = value!;
    }
  }
  const problem = configProblem(config as RestartStrategyConfig);
  if (problem !== undefined) fail(problem);
  return config as RestartStrategyConfig;
}

/** Flink's default: with checkpointing, fixed-delay with 2^31-1 attempts and 1 s delay; without, none. */
export function defaultRestartStrategy(checkpointing: boolean): RestartStrategyConfig {
  return checkpointing ? { kind: 'fixed-delay', attempts: restartAttemptsUnlimited, delayMs: 1000 } : { kind: 'none' };
}

const isCount = (v: number, min: number): boolean => Number.isSafeInteger(v) && v >= min && v <= restartAttemptsUnlimited;
const isMs = (v: number, min: number): boolean => Number.isSafeInteger(v) && v >= min;

/** What is wrong with a config (in spec parameter names), or undefined when it is valid. */
function configProblem(c: RestartStrategyConfig): string | undefined {
  switch (c.kind) {
    case 'none':
      return undefined;
    case 'fixed-delay':
      if (!isCount(c.attempts, 0)) return `attempts must be an integer from 0 to ${restartAttemptsUnlimited}, got ${c.attempts}`;
      return isMs(c.delayMs, 0) ? undefined : `delay must be whole ms >= 0, got ${c.delayMs}`;
    case 'failure-rate':
      if (!isCount(c.maxFailures, 1)) return `max-failures must be an integer from 1 to ${restartAttemptsUnlimited}, got ${c.maxFailures}`;
      if (!isMs(c.intervalMs, 1)) return `interval must be whole ms >= 1, got ${c.intervalMs}`;
      return isMs(c.delayMs, 0) ? undefined : `delay must be whole ms >= 0, got ${c.delayMs}`;
    case 'exponential-delay':
      if (!isMs(c.initialMs, 1)) return `initial must be whole ms >= 1, got ${c.initialMs}`;
      if (!isMs(c.maxMs, c.initialMs)) return `max must be whole ms >= initial (${c.initialMs} ms), got ${c.maxMs}`;
      if (!(c.multiplier >= 1 && Number.isFinite(c.multiplier))) return `multiplier must be a finite number >= 1, got ${c.multiplier}`;
      if (!isMs(c.resetThresholdMs, 1)) return `reset must be whole ms >= 1, got ${c.resetThresholdMs}`;
      return c.jitter >= 0 && c.jitter <= 1 ? undefined : `jitter must be from 0 to 1, got ${c.jitter}`;
  }
}

/**
 * The restart decisions of one job, failure after failure.
 *
 * - none: never restarts.
 * - fixed-delay: restarts after `delayMs`, `attempts` times in the job's life; the failure
 *   after that gives up.
 * - failure-rate: restarts after `delayMs` unless this failure makes more than
 *   `maxFailures` failures within the last `intervalMs` (inclusive: failures at times t
 *   with nowMs - t <= intervalMs count, as Flink's `(now - earliest) > interval` test).
 * - exponential-delay: never gives up. The first failure waits `initialMs`; each later
 *   one multiplies the backoff by `multiplier`, capped at `maxMs`; after a quiet period
 *   of at least `resetThresholdMs` (from the previous restart, i.e. failure time plus the
 *   delay returned for it, to this failure) the backoff falls back to `initialMs`.
 *   Jitter adds a uniform offset in [-jitter, +jitter] x backoff, then the delay is
 *   rounded to whole ms and capped at `maxMs`. Flink measures the quiet period from the
 *   previous failure plus the un-jittered backoff; we use the real restart time.
 *
 * Once it gives up it stays given up: the job has failed.
 */
export class RestartBackoff {
  private readonly config: RestartStrategyConfig;
  private failures = 0;
  private gaveUp = false;
  private lastFailureMs = Number.NEGATIVE_INFINITY;
  /** failure-rate: times of the most recent failures, oldest first, at most maxFailures + 1. */
  private readonly recentFailuresMs: number[] = [];
  /** exponential-delay: current backoff before jitter (not rounded), and when the job was restarted. */
  private backoffMs = 0;
  private restartedAtMs = Number.NEGATIVE_INFINITY;

  /**
   * @param random uniform in [0, 1), for jitter; default Math.random.
   * @throws UsageError when the config is out of range.
   */
  constructor(config: RestartStrategyConfig, private readonly random: () => number = Math.random) {
    const problem = configProblem(config);
    if (problem !== undefined) throw new UsageError(`Bad restart strategy ${JSON.stringify(config)}: ${problem}`);
    this.config = { ...config };
  }

  /**
   * A failure happened at nowMs (epoch or monotonic ms, the caller's choice, consistent and
   * non-decreasing). Returns the delay before the restart, ms, or undefined when the
   * strategy gives up.
   */
  onFailure(nowMs: number): number | undefined {
    assert(Number.isFinite(nowMs) && nowMs >= this.lastFailureMs, `failure times must not go back: ${nowMs} after ${this.lastFailureMs}`);
    this.lastFailureMs = nowMs;
    this.failures++;
    if (this.gaveUp) return undefined;
    const delay = this.decide(nowMs);
    if (delay === undefined) this.gaveUp = true;
    return delay;
  }

  private decide(nowMs: number): number | undefined {
    const c = this.config;
    switch (c.kind) {
      case 'none':
        return undefined;
      case 'fixed-delay':
        return this.failures <= c.attempts ? c.delayMs : undefined;
      case 'failure-rate': {
        const recent = this.recentFailuresMs;
        recent.push(nowMs);
        if (recent.length > c.maxFailures + 1) recent.shift();
        return recent.length > c.maxFailures && nowMs - recent[0]! <= c.intervalMs ? undefined : c.delayMs;
      }
      case 'exponential-delay':
        return this.exponentialDelay(c, nowMs);
    }
  }

  private exponentialDelay(c: Extract<RestartStrategyConfig, { kind: 'exponential-delay' }>, nowMs: number): number {
    const quiet = nowMs - this.restartedAtMs >= c.resetThresholdMs;
    this.backoffMs = this.failures === 1 || quiet ? c.initialMs : Math.min(this.backoffMs * c.multiplier, c.maxMs);
    const offset = (2 * this.random() - 1) * c.jitter * this.backoffMs;
    const delay = Math.min(c.maxMs, Math.max(0, Math.round(this.backoffMs + offset)));
    this.restartedAtMs = nowMs + delay;
    return delay;
  }

  /** E.g. `fixed-delay (3 attempts, 1000 ms)`, for messages like "not restarting: fixed-delay (3 attempts, 1000 ms) exhausted". */
  describe(): string {
    const c = this.config;
    switch (c.kind) {
      case 'none':
        return 'none';
      case 'fixed-delay':
        return `fixed-delay (${c.attempts === restartAttemptsUnlimited ? 'unlimited' : c.attempts} attempts, ${c.delayMs} ms)`;
      case 'failure-rate':
        return `failure-rate (${c.maxFailures} failures per ${c.intervalMs} ms, ${c.delayMs} ms)`;
      case 'exponential-delay':
        return `exponential-delay (${c.initialMs} ms to ${c.maxMs} ms, x${c.multiplier}, reset after ${c.resetThresholdMs} ms, jitter ${c.jitter})`;
    }
  }
}

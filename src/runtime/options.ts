/**
 * Options of `runJob`, validated at the boundary: every bad value is a `UsageError` that
 * names the option, the value and the accepted range.
 */
import { availableParallelism } from 'node:os';
import { UsageError } from '../errors.js';
import type { EngineOptions } from '../task/index.js';

export interface RunJobOptions {
  /** Arguments handed to the job's builder (`defineJob((env, args) => ...)`). */
  args?: readonly string[];
  /** Default operator parallelism; default: the machine's cores. */
  parallelism?: number;
  /** Default max parallelism (number of key groups), 1..32768. */
  maxParallelism?: number;
  /** Longest time a partly filled batch waits, ms (Flink's buffer timeout); default 5. 0 flushes after every input batch. */
  bufferTimeoutMs?: number;
  /** Records per batch; default 512. */
  batchSize?: number;
  /** Bytes per channel ring (power of two, 4096..2^30); default 1 MiB. */
  ringSizeBytes?: number;
  /** `lsm` (default: keyed state in the LSM tree on disk) or `hashmap` (on the heap). */
  stateBackend?: 'hashmap' | 'lsm';
  /** LSM memtable budget, bytes; default 64 MiB. */
  memtableSizeBytes?: number;
  /** Folder for LSM state files; default a temporary folder removed at the end. */
  stateDir?: string;
}

export interface ResolvedOptions extends EngineOptions {
  args: string[];
  parallelism: number;
  maxParallelism: number | undefined;
}

export const defaults = {
  bufferTimeoutMs: 5,
  batchSize: 512,
  ringSizeBytes: 1 << 20,
  memtableSizeBytes: 64 << 20,
} as const;

function integer(name: string, value: unknown, min: number, max: number): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    throw new UsageError(`${name} must be an integer from ${min} to ${max}, got ${String(value)}`);
  }
  return value;
}

/** @throws UsageError naming the bad option. */
export function resolveOptions(options: RunJobOptions = {}): ResolvedOptions {
  const args = options.args ?? [];
  if (!Array.isArray(args) || args.some((a) => typeof a !== 'string')) throw new UsageError('args must be an array of strings');
  const ringSizeBytes = integer('ringSizeBytes', options.ringSizeBytes ?? defaults.ringSizeBytes, 4096, 2 ** 30);
  if ((ringSizeBytes & (ringSizeBytes - 1)) !== 0) {
    throw new UsageError(`ringSizeBytes must be a power of two, got ${ringSizeBytes} (try ${2 ** Math.round(Math.log2(ringSizeBytes))})`);
  }
  const stateBackend = options.stateBackend ?? 'lsm';
  if (stateBackend !== 'hashmap' && stateBackend !== 'lsm') {
    throw new UsageError(`stateBackend must be "hashmap" or "lsm", got ${JSON.stringify(stateBackend)}`);
  }
  return {
    args: [...args],
    parallelism: integer('parallelism', options.parallelism ?? availableParallelism(), 1, 32768),
    maxParallelism: options.maxParallelism === undefined ? undefined : integer('maxParallelism', options.maxParallelism, 1, 32768),
    bufferTimeoutMs: integer('bufferTimeoutMs', options.bufferTimeoutMs ?? defaults.bufferTimeoutMs, 0, 3_600_000),
    batchSize: integer('batchSize', options.batchSize ?? defaults.batchSize, 1, 1 << 20),
    ringSizeBytes,
    stateBackend,
    memtableSizeBytes: integer('memtableSizeBytes', options.memtableSizeBytes ?? defaults.memtableSizeBytes, 4096, 2 ** 40),
    stateDir: options.stateDir,
  };
}

/**
 * Options of `LsmStore.open`, validated at the boundary: a bad value throws `RangeError`
 * (or `TypeError` for a wrong type) naming the option and the value.
 */
import * as C from './constants.js';

export interface LsmStoreOptions {
  /** Memtable budget, bytes; default 64 MiB, min 4 KiB. A full memtable is frozen. */
  memtableSizeBytes?: number;
  /** Frozen memtables waiting for flush before a write flushes inline; default 2. */
  maxImmutableMemtables?: number;
  /** Data block target size, bytes; default 4 KiB. */
  blockSizeBytes?: number;
  /** Decoded block cache budget, bytes; default 32 MiB; 0 disables. */
  blockCacheSizeBytes?: number;
  /** Bloom filter bits per key, 1..32; default 10 (~1% false positives). */
  bloomBitsPerKey?: number;
  /** Default input bytes per `compactStep`/`maintenanceStep`; default 1 MiB. */
  compactionStepBytes?: number;
  /** fsync each segment before it is renamed into place; default true. */
  fsync?: boolean;
  /**
   * Restore: segment file names in `dir`, oldest first (as `liveSegments()` returned).
   * Without it the store starts empty; existing files in `dir` are left alone.
   */
  segments?: readonly string[];
  /**
   * Compaction filter: return true to drop an entry. Called only in merges that include
   * the oldest segment, where dropping cannot resurrect an older value (e.g. TTL expiry).
   */
  compactionFilter?: (key: Uint8Array, value: Uint8Array) => boolean;
  /**
   * Asked before deleting a segment that compaction made obsolete; return true to keep
   * the file (a retained checkpoint still uses it). Default: delete.
   */
  retainSegment?: (name: string) => boolean;
}

export interface ResolvedLsmStoreOptions {
  memtableSizeBytes: number;
  maxImmutableMemtables: number;
  blockSizeBytes: number;
  blockCacheSizeBytes: number;
  bloomBitsPerKey: number;
  compactionStepBytes: number;
  fsync: boolean;
  segments: readonly string[];
  compactionFilter: ((key: Uint8Array, value: Uint8Array) => boolean) | undefined;
  retainSegment: ((name: string) => boolean) | undefined;
}

function intIn(name: string, value: number | undefined, fallback: number, min: number, max: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < min || value > max) {
    throw new RangeError(`LsmStore option ${name} must be an integer in [${min}, ${max}], got ${String(value)}`);
  }
  return value;
}

function fnOrUndefined<F>(name: string, value: F | undefined): F | undefined {
  if (value !== undefined && typeof value !== 'function') {
    throw new TypeError(`LsmStore option ${name} must be a function, got ${typeof value}`);
  }
  return value;
}

function segmentNames(value: readonly string[] | undefined): readonly string[] {
  if (value === undefined) return [];
  if (!Array.isArray(value)) throw new TypeError('LsmStore option segments must be an array of file names');
  for (const name of value) {
    if (typeof name !== 'string' || !name.endsWith(C.segmentFileSuffix) || name.includes('/') || name.includes('\\')) {
      throw new RangeError(`LsmStore option segments: ${JSON.stringify(name)} is not a segment file name like "000012.seg"`);
    }
  }
  if (new Set(value).size !== value.length) throw new RangeError('LsmStore option segments lists a file twice');
  return [...value];
}

export function resolveOptions(o: LsmStoreOptions = {}): ResolvedLsmStoreOptions {
  if (o.fsync !== undefined && typeof o.fsync !== 'boolean') {
    throw new TypeError(`LsmStore option fsync must be a boolean, got ${String(o.fsync)}`);
  }
  const mib = 1024 * 1024;
  return {
    memtableSizeBytes: intIn('memtableSizeBytes', o.memtableSizeBytes, C.memtableSizeBytesDefault, C.memtableSizeBytesMin, C.memtableSizeBytesMax),
    maxImmutableMemtables: intIn('maxImmutableMemtables', o.maxImmutableMemtables, C.immutableMemtablesMaxDefault, 1, C.immutableMemtablesMax),
    blockSizeBytes: intIn('blockSizeBytes', o.blockSizeBytes, C.blockSizeBytesDefault, C.blockSizeBytesMin, C.blockSizeBytesMax),
    blockCacheSizeBytes: intIn('blockCacheSizeBytes', o.blockCacheSizeBytes, C.blockCacheSizeBytesDefault, 0, 64 * 1024 * mib),
    bloomBitsPerKey: intIn('bloomBitsPerKey', o.bloomBitsPerKey, C.bloomBitsPerKeyDefault, 1, C.bloomBitsPerKeyMax),
    compactionStepBytes: intIn('compactionStepBytes', o.compactionStepBytes, C.compactionStepBytesDefault, 1, 1024 * mib),
    fsync: o.fsync ?? true,
    segments: segmentNames(o.segments),
    compactionFilter: fnOrUndefined('compactionFilter', o.compactionFilter),
    retainSegment: fnOrUndefined('retainSegment', o.retainSegment),
  };
}

/**
 * Full segment verification spread over worker threads, for restores: decoding every
 * block runs at about 25 MiB/s per thread (native-notes §5), so a large checkpoint or
 * savepoint is verified on every core instead of the job master's main thread alone.
 * The result feeds `CheckpointStorageOptions.verified`: `load`, `latestRestorable` and
 * `loadSavepoint` then take each listed file's verdict instead of decoding it again, and
 * still make every other check (metadata, presence, sizes) themselves.
 * Idea: Flink restores state with a thread pool per task (`RocksDBIncrementalRestoreOperation`
 * downloads and opens in parallel); here the parallel step is verification.
 */
import { availableParallelism } from 'node:os';
import type * as PiscinaModule from 'piscina';
import { lazyRequire } from '../lazy-require.js';
import verifyOne from './parallel-verify-worker.js';

/** piscina, loaded by the first parallel verification (lazy-require.ts). */
const piscina = lazyRequire<typeof PiscinaModule>(import.meta.url, 'piscina');

/** Below this many bytes in all, one thread verifies them (starting workers costs more). */
export const parallelVerifyMinBytes = 16 * 1024 * 1024;

/**
 * Verifies every segment file in `files` (absolute paths with their sizes in bytes) on up
 * to `options.threads` worker threads (default: the machine's cores), the biggest first;
 * below `options.minBytes` in all (default `parallelVerifyMinBytes`) on this thread. Returns
 * path -> undefined (intact) or the damage reason, for every file that could be read; a
 * file that cannot be read (missing, EACCES) is left out, for the caller's own check to
 * report. Never throws for a damaged file.
 */
export async function verifySegmentsInParallel(
  files: ReadonlyArray<{ path: string; sizeBytes: number }>,
  options: { threads?: number; minBytes?: number } = {},
): Promise<Map<string, string | undefined>> {
  const threads = options.threads ?? availableParallelism();
  const verdicts = new Map<string, string | undefined>();
  const unique = [...new Map(files.map((f) => [f.path, f])).values()].sort((a, b) => b.sizeBytes - a.sizeBytes);
  const total = unique.reduce((sum, f) => sum + f.sizeBytes, 0);
  const workers = Math.max(1, Math.min(threads, unique.length));
  const record = (path: string, verdict: string | undefined | null): void => {
    if (verdict !== null) verdicts.set(path, verdict);
  };
  if (workers === 1 || total < (options.minBytes ?? parallelVerifyMinBytes)) {
    for (const f of unique) record(f.path, verifyOne(f.path));
    return verdicts;
  }
  const pool = new (piscina().Piscina)({ filename: new URL('./parallel-verify-worker.js', import.meta.url).href, minThreads: workers, maxThreads: workers, idleTimeout: 1000 });
  try {
    await Promise.all(unique.map(async (f) => record(f.path, (await pool.run(f.path)) as string | undefined | null)));
  } finally {
    await pool.destroy();
  }
  return verdicts;
}

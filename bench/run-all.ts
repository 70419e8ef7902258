/**
 * Runs every benchmark module's `main()` in sequence.
 *
 *   npm run bench                      (builds, then all of them)
 *   node dist/bench/run-all.js engine  (only those whose name contains "engine")
 *
 * A module that is not there (not written yet) is skipped with a note; a module that
 * fails is reported and the others still run, and the exit code is then 1.
 */
import { performance } from 'node:perf_hooks';

/** Bench module names, run in this order: `bench/<name>.bench.ts`. */
const benchNames = ['ring', 'codec', 'lsm', 'timers', 'engine', 'shuffle', 'startup', 'checkpoint', 'savepoint', 'sources', 'time', 'windows', 'latency', 'nexmark', 'nexmark-latency'] as const;

interface BenchModule {
  main: () => Promise<void>;
}

/** The module, or undefined when its file does not exist (errors inside it are thrown). */
async function load(name: string): Promise<BenchModule | undefined> {
  const url = new URL(`./${name}.bench.js`, import.meta.url);
  let module: Record<string, unknown>;
  try {
    module = (await import(url.href)) as Record<string, unknown>;
  } catch (error) {
    const e = error as NodeJS.ErrnoException & { url?: string };
    // Only the bench file itself missing is a skip: a missing import inside it is a failure.
    if (e.code === 'ERR_MODULE_NOT_FOUND' && (e.url === url.href || e.message.includes(url.pathname))) return undefined;
    throw error;
  }
  if (typeof module['main'] !== 'function') {
    throw new TypeError(`${url.pathname} has no exported main(): export async function main(): Promise<void>`);
  }
  return module as unknown as BenchModule;
}

async function runAll(filter: string | undefined): Promise<void> {
  const selected = benchNames.filter((n) => filter === undefined || n.includes(filter));
  if (selected.length === 0) {
    console.error(`No bench module matches ${JSON.stringify(filter)}: choose from ${benchNames.join(', ')}`);
    process.exitCode = 2;
    return;
  }
  const failed: string[] = [];
  for (const name of selected) {
    console.log(`\n=== bench/${name}.bench.ts ===`);
    const start = performance.now();
    try {
      const module = await load(name);
      if (module === undefined) {
        console.log(`(skipped: bench/${name}.bench.ts does not exist yet)`);
        continue;
      }
      await module.main();
      console.log(`=== ${name}: ${((performance.now() - start) / 1000).toFixed(1)} s ===`);
    } catch (error) {
      failed.push(name);
      console.error(`=== ${name} FAILED ===`);
      console.error(error);
    }
  }
  if (failed.length > 0) {
    console.error(`\nFailed: ${failed.join(', ')}`);
    process.exitCode = 1;
  }
}

await runAll(process.argv[2]);

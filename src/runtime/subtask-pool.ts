/**
 * The thread pool of one attempt: one piscina worker thread per subtask, none spare.
 *
 * Invariant: no thread of the pool is terminated while it loads modules. On Node 20 a
 * worker terminated while piscina `require()`s its ES module task file can abort the whole
 * process (`FATAL ERROR: v8::Module::IsGraphAsync must be used on an instantiated
 * module`), which no restart strategy can handle (native-notes §7, "Threads are terminated
 * only at safe points"). So:
 * - `minThreads: 0`: with `minThreads = subtasks` piscina replaces every thread that dies
 *   (a crash, fault injection) with a new one that starts loading the task file at once,
 *   and the attempt's `pool.destroy()` then terminated it mid-load. With 0, each task
 *   starts its own thread (up to `maxThreads`) and a dead thread is not replaced.
 * - `idleTimeout: Infinity`: a finished subtask's thread stays until the attempt ends
 *   (piscina arms no idle timer at all; a finite timeout above 2^31 - 1 ms would fire
 *   after 1 ms).
 * The job master keeps the rest of the invariant: fault injection kills only threads whose
 * subtask reported `running`, and a failed attempt waits for subtasks still loading before
 * it destroys the pool (`loadingGraceMs`).
 */
import assert from 'node:assert';
import { Piscina } from 'piscina';

export interface SubtaskPoolOptions {
  /** Threads, one per subtask (>= 1). */
  subtasks: number;
  /** Flags of every thread (`workerExecArgv`). */
  execArgv: string[];
  /** Heap limit per thread, MiB; undefined: V8's default. */
  workerMemoryMb: number | undefined;
  /** The task file (default: task/worker.js, which runs one subtask). */
  filename?: string;
}

export function createSubtaskPool(o: SubtaskPoolOptions): Piscina {
  assert(Number.isSafeInteger(o.subtasks) && o.subtasks >= 1, `a pool needs at least one subtask, got ${o.subtasks}`);
  return new Piscina({
    filename: o.filename ?? new URL('../task/worker.js', import.meta.url).href,
    minThreads: 0,
    maxThreads: o.subtasks,
    idleTimeout: Infinity,
    concurrentTasksPerWorker: 1,
    execArgv: o.execArgv,
    ...(o.workerMemoryMb === undefined ? {} : { resourceLimits: { maxOldGenerationSizeMb: o.workerMemoryMb } }),
  });
}

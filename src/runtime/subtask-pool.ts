/**
 * The worker threads of one job run (or of a MiniCluster, runtime/mini-cluster.ts, which
 * hands one pool to one job after another: `useFor`, `tasksEnded`): one piscina thread per slot (runtime/slot-sharing.ts:
 * with slot sharing, subtask i of every vertex shares slot i; without, one slot per
 * subtask), kept across attempts (issue 11). A restart deploys the new attempt onto
 * threads that have already loaded the engine and the job module, and a thread that died
 * (a crash, fault injection) is replaced at once by a warm-up task while the other
 * subtasks are being cancelled. As in
 * Flink 1.11+, where the user code class loader lives as long as the job holds the slot,
 * module-level values of the job module survive a restart in the threads that survive.
 *
 * Invariant: no thread is terminated while it loads modules. On Node 20 a worker
 * terminated while piscina `require()`s its ES module task file can abort the whole
 * process (`FATAL ERROR: v8::Module::IsGraphAsync must be used on an instantiated
 * module`), which no restart strategy can handle (native-notes §7, "Threads are terminated
 * only at safe points"). So:
 * - `minThreads: 0`: piscina never starts a thread on its own (with `minThreads =
 *   subtasks` it replaced every dead thread with one that began loading at once, and the
 *   attempt's end then terminated it mid-load); each thread starts for a task, up to
 *   `maxThreads`.
 * - `idleTimeout: Infinity`: an idle thread stays until the run ends (piscina arms no idle
 *   timer at all; a finite timeout above 2^31 - 1 ms would fire after 1 ms).
 * - `terminate(threadIds)` is for threads whose slot's subtasks all reported `running`
 *   (loaded; slot-sharing.ts `loadedThreads`);
 *   `destroy()` first waits for the warm-up tasks (which only load modules) to end.
 * The job master keeps the rest: fault injection kills only such threads, and
 * a failed attempt whose subtasks are still loading waits for them (`loadingGraceMs`)
 * before it gives up on the pool and destroys it.
 */
import assert from 'node:assert';
import type * as PiscinaModule from 'piscina';
import type { Piscina } from 'piscina';
import { Worker as WorkerThread } from 'node:worker_threads';
import type { Worker } from 'node:worker_threads';
import type { SlotDeployment, WarmUp } from '../task/index.js';
import { lazyRequire } from '../lazy-require.js';

/** piscina, loaded by the first pool: worker threads load this file too (lazy-require.ts). */
const piscina = lazyRequire<typeof PiscinaModule>(import.meta.url, 'piscina');

export interface SubtaskPoolOptions {
  /** Threads, one per slot (>= 1). */
  slots: number;
  /** Flags of every thread (`workerExecArgv`). */
  execArgv: string[];
  /** Heap limit per thread, MiB; undefined: V8's default. */
  workerMemoryMb: number | undefined;
  /** The task file (default: task/worker.js, which runs one slot or a warm-up; a TypeScript job's workers load the engine's worker bundle, graph/compile-job.ts). */
  filename?: string;
  /** Threads at most (default `slots`): a MiniCluster's pool has its own, and serves jobs of up to that many slots (`useFor`). */
  maxThreads?: number;
  /**
   * The pool serves one job after another (a MiniCluster's): a new thread loads no task
   * file before its first task (piscina's `filename: null`), since every task names its
   * own; else a new thread loads `filename` as it starts.
   */
  acrossJobs?: boolean;
}

/** The default task file: task/worker.js. */
const defaultTaskFile = new URL('../task/worker.js', import.meta.url).href;

export class SubtaskPool {
  private readonly piscina: Piscina;
  /** Threads at most. */
  readonly maxThreads: number;
  /** The slots of the job the pool serves now (warm-ups make up this many threads). */
  private size: number;
  /** The task file of the job the pool serves now: every task names it (a thread loads each task file it is given once). */
  private taskFile: string;
  /** Warm-up tasks in flight: `destroy()` waits for them (they load modules). */
  private readonly warming = new Set<Promise<unknown>>();
  /** Slot tasks in flight (settled either way): `tasksEnded()` waits for them. */
  private readonly slotTasks = new Set<Promise<undefined>>();
  /** Warm-up tasks started, for tests and the bench. */
  warmUps = 0;

  constructor(o: SubtaskPoolOptions) {
    assert(Number.isSafeInteger(o.slots) && o.slots >= 1, `a pool needs at least one slot, got ${o.slots}`);
    this.maxThreads = o.maxThreads ?? o.slots;
    assert(Number.isSafeInteger(this.maxThreads) && this.maxThreads >= o.slots, `a pool of ${this.maxThreads} threads cannot hold ${o.slots} slots`);
    this.size = o.slots;
    this.taskFile = o.filename ?? defaultTaskFile;
    // piscina starts threads inside run(), where a refused flag would throw and leave its
    // task queued (and rejected, unhandled, at destroy()): refuse such flags here instead.
    const accepted = withoutRefusedFlags(o.execArgv);
    if (accepted.length !== o.execArgv.length) {
      throw new Error(`Worker threads refuse the flags ${o.execArgv.filter((f) => !accepted.includes(f)).join(', ')}: pass execArgv through workerExecArgv(), which leaves them out`);
    }
    this.piscina = new (piscina().Piscina)({
      filename: o.acrossJobs === true ? null : this.taskFile,
      minThreads: 0,
      maxThreads: this.maxThreads,
      idleTimeout: Infinity,
      concurrentTasksPerWorker: 1,
      execArgv: o.execArgv,
      ...(o.workerMemoryMb === undefined ? {} : { resourceLimits: { maxOldGenerationSizeMb: o.workerMemoryMb } }),
    });
  }

  /**
   * Hands the pool to the next job (a MiniCluster's threads): its slot count and task file.
   * Only between jobs: no slot or warm-up task may be running.
   */
  useFor(slots: number, filename: string | undefined): void {
    assert(Number.isSafeInteger(slots) && slots >= 1 && slots <= this.maxThreads, `a pool of ${this.maxThreads} threads cannot hold ${slots} slots`);
    assert(this.warming.size === 0 && this.slotTasks.size === 0, 'useFor() while tasks run');
    this.size = slots;
    this.taskFile = filename ?? defaultTaskFile;
  }

  /** Runs one slot (its subtasks); settles when every subtask of it has returned, or rejects when its thread dies. */
  run(slot: SlotDeployment): Promise<unknown> {
    // The ports are transferred (a SharedArrayBuffer is not: it is shared by the task object).
    const ports = slot.subtasks.map((d) => d.port);
    const task = this.start(slot, ports.length === 0 ? {} : { transferList: ports as never });
    const settled = task.then(
      () => undefined,
      () => undefined,
    );
    this.slotTasks.add(settled);
    void settled.finally(() => this.slotTasks.delete(settled));
    return task;
  }

  /**
   * piscina's run(), whose synchronous throws (it starts a thread inside run(), and a
   * Worker that cannot start throws there) reach the caller as a rejection: the task's
   * failure, not an exception escaping the job master.
   */
  private start(task: unknown, options: NonNullable<Parameters<Piscina['run']>[1]>): Promise<unknown> {
    try {
      return this.piscina.run(task, { ...options, filename: this.taskFile });
    } catch (error) {
      return Promise.reject(error as Error);
    }
  }

  /** The live threads (dead ones are gone from the list). */
  get threads(): readonly Worker[] {
    return this.piscina.threads;
  }

  /**
   * Makes the pool whole for the next attempt while `busy` of its threads still run a slot
   * (cancelled subtasks): one warm-up task for every thread not busy, so that idle threads
   * take one (a no-op: their modules are loaded) and the rest start new threads, which
   * load the engine and the job module (`warmUp.importUrl`) and stay idle. Warm-ups in
   * flight count: calling it again adds none. A failed warm-up is ignored: the subtask
   * that lands on that thread loads again and reports the error itself.
   */
  warm(warmUp: WarmUp, busy: number): void {
    const wanted = this.size - busy - this.warming.size;
    for (let i = 0; i < wanted; i++) {
      this.warmUps++;
      const task = this.start(warmUp, {}).catch(() => undefined);
      this.warming.add(task);
      void task.finally(() => this.warming.delete(task));
    }
  }

  /** Terminates the threads with these ids (slots whose subtasks loaded and did not all end when cancelled). */
  async terminate(threadIds: ReadonlySet<number>): Promise<void> {
    await Promise.all(this.piscina.threads.filter((w) => threadIds.has(w.threadId)).map((w) => w.terminate()));
  }

  /** Settles once no slot or warm-up task is in flight (their threads stay): the pool can serve another job. */
  async tasksEnded(): Promise<void> {
    while (this.warming.size > 0 || this.slotTasks.size > 0) await Promise.allSettled([...this.warming, ...this.slotTasks]);
  }

  /** Ends every thread, after the warm-up tasks in flight have loaded their modules. */
  async destroy(): Promise<void> {
    await Promise.allSettled([...this.warming]);
    await this.piscina.destroy();
  }
}

/**
 * The Node.js flags subtask workers run with: the main thread's, without module-loading
 * hooks (`--import`, `--require`, `--loader`), and without the flags a worker thread
 * refuses. Workers load the engine and the job module themselves (tsx for TypeScript);
 * hooks registered for the main thread (a test runner's instrumentation, say) made every
 * worker start 3-4 s slower (native-notes.md §7). V8 flags (`--max-old-space-size`,
 * `--no-turbo-inlining`, `--stack-size 2000`) are process-wide, so workers have them
 * already, but `new Worker` throws ERR_WORKER_INVALID_EXEC_ARGV when its execArgv names
 * one: they are found by a probe (`new Worker` with the flags, once per process and set of
 * flags; it throws before a thread starts when a flag is refused) and left out.
 * @throws Error when the probe still fails after leaving out what Node named.
 */
export function workerExecArgv(execArgv: readonly string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < execArgv.length; i++) {
    const arg = execArgv[i]!;
    const hook = /^(--import|--require|-r|--loader|--experimental-loader)(=|$)/.exec(arg);
    if (hook === null) {
      out.push(arg);
      continue;
    }
    if (hook[2] === '') i++; // the value is the next argument
  }
  return withoutRefusedFlags(out);
}

const accepted = new Map<string, string[]>();

/** `argv` without the flags `new Worker` refuses (and the separate values of those flags). */
function withoutRefusedFlags(argv: string[]): string[] {
  if (argv.length === 0) return argv;
  const key = argv.join('\u0000');
  const known = accepted.get(key);
  if (known !== undefined) return [...known];
  let current = argv;
  for (let probe = 0; ; probe++) {
    const refused = refusedFlags(current);
    if (refused === undefined) break;
    const next: string[] = [];
    for (let i = 0; i < current.length; i++) {
      const arg = current[i]!;
      if (!refused.has(arg)) {
        next.push(arg);
        continue;
      }
      // `--stack-size 2000`: the value of a refused flag goes with it.
      if (!arg.includes('=') && current[i + 1] !== undefined && !current[i + 1]!.startsWith('-')) i++;
    }
    if (next.length === current.length || probe === 3) {
      throw new Error(`Worker threads refuse the Node.js flags ${[...refused].join(', ')} of this process and they could not be left out: start node without them`);
    }
    current = next;
  }
  accepted.set(key, current);
  return [...current];
}

/** The flags of `argv` that `new Worker` refuses, or undefined when it accepts them all (the probe thread is terminated at once). */
function refusedFlags(argv: string[]): Set<string> | undefined {
  try {
    const probe = new WorkerThread('', { eval: true, execArgv: argv, stdout: true, stderr: true });
    void probe.terminate();
    return undefined;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ERR_WORKER_INVALID_EXEC_ARGV') throw error;
    const listed = /flags: (.*)$/.exec((error as Error).message)?.[1];
    return new Set(listed === undefined ? argv : listed.split(', '));
  }
}

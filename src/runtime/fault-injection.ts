/**
 * Fault injection (`killWorkerEveryMs`, `killWorkerLimit`, `killWorkerAfterCheckpoint`; CLI
 * `--kill-worker-every`, `--kill-worker-limit`, `--kill-worker-after-checkpoint`): terminates a random worker thread of a running attempt, to test
 * recovery. The tests of exactly-once recovery use it (checkpoint-kill and its kin).
 */
import type { Worker } from 'node:worker_threads';
import type { ResolvedOptions } from './options.js';
import { loadedThreads } from './slot-sharing.js';

/** What the killer needs of an attempt (attempt.ts `Attempt`). */
export interface KillableAttempt {
  readonly failure: unknown;
  readonly deployed: Parameters<typeof loadedThreads>[0];
  readonly pool: { readonly threads: readonly Worker[] };
  /** The attempt's checkpoint coordinator: `completed` holds what this attempt completed. */
  readonly coordinator?: { readonly completed: readonly unknown[] } | undefined;
}

/** Kills worker threads across the attempts of one run, `killWorkerLimit` times at most. */
export class WorkerKiller {
  /** Threads killed so far, over every attempt. */
  killed = 0;

  /**
   * Starts the attempt's timer: `killWorkerEveryMs` after the attempt starts (and again
   * every period while no thread may be killed), it terminates a random slot's worker
   * thread (every subtask of the slot fails), once per attempt: the death fails the
   * attempt, and a second kill before the failure is noticed would only fold into the same
   * restart. Only threads whose slot's subtasks have all loaded their modules: on Node 20 a
   * worker terminated while piscina `require()`s its ES module task file can abort the
   * whole process (`FATAL ERROR: v8::Module::IsGraphAsync must be used on an instantiated
   * module`), which no restart strategy can handle (the pool's invariant: subtask-pool.ts).
   * A real crash during loading remains that risk. With `killWorkerAfterCheckpoint`, a kill
   * is also due only once the attempt has completed a checkpoint (checked every period). The
   * caller clears the timer when the attempt ends. REQUIRES: `options.killWorkerEveryMs` is set.
   */
  start(attempt: KillableAttempt, options: ResolvedOptions): NodeJS.Timeout {
    const timer = setInterval(() => {
      if (attempt.failure !== undefined) return;
      if (options.killWorkerAfterCheckpoint && (attempt.coordinator?.completed.length ?? 0) === 0) return;
      const running = loadedThreads(attempt.deployed);
      const threads = attempt.pool.threads.filter((w) => running.has(w.threadId));
      const victim = threads[Math.floor(Math.random() * threads.length)];
      if (victim === undefined) return;
      clearInterval(timer);
      if (options.killWorkerLimit !== undefined && this.killed >= options.killWorkerLimit) return;
      this.killed++;
      options.onEvent({ type: 'worker-killed', subtask: `thread ${victim.threadId}` });
      void victim.terminate();
    }, options.killWorkerEveryMs);
    timer.unref();
    return timer;
  }
}

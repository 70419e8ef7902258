/**
 * Fair sharing of one worker thread by the subtasks of a slot (runtime/slot-sharing.ts).
 * The subtasks interleave on the thread's event loop: a subtask gives the loop up whenever
 * it waits (ring space, ring data, its doorbell: all `Atomics.waitAsync`), but a subtask
 * that never waits (a source whose outputs never fill, a CPU-bound chain) would otherwise
 * keep the thread, its `await`s resolving as microtasks, and starve the others. So a busy
 * subtask of a shared slot yields to the event loop (`setImmediate`, after the poll phase
 * that delivers other subtasks' wake-ups) once its slice has run out. Flink's tasks are
 * threads of their own; this is the cooperative counterpart, as a mailbox executor that
 * yields (`MailboxExecutor.yield`) between actions.
 */
import { setImmediate as nextLoopTurn } from 'node:timers/promises';

/** How long a busy subtask of a shared slot runs before it yields, ms (native-notes §7, "Slot sharing"). */
export const slotSliceMs = 1;

export class SlotYield {
  private sliceEnd = 0;

  /** @param shared other subtasks run in this thread; without, `due()` is always false. */
  constructor(private readonly shared: boolean) {}

  /** True when this subtask should yield now (its slice has run out). `now`: performance.now(). */
  due(now: number): boolean {
    return this.shared && now >= this.sliceEnd;
  }

  /** Yields the thread for one turn of its event loop, then starts the next slice. */
  async yield(): Promise<void> {
    await nextLoopTurn();
    this.sliceEnd = performance.now() + slotSliceMs;
  }
}

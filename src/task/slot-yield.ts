/**
 * Sharing of one worker thread by the subtasks of a slot (runtime/slot-sharing.ts).
 * The subtasks interleave on the thread's event loop: a subtask gives the loop up whenever
 * it waits (ring space, ring data, its doorbell: all `Atomics.waitAsync`), but a subtask
 * that never waits (a source whose outputs never fill, a CPU-bound chain) would otherwise
 * keep the thread, its `await`s resolving as microtasks, and starve the others. So a busy
 * subtask of a shared slot yields to the event loop (`setImmediate`, after the poll phase
 * that delivers other subtasks' wake-ups) once its slice has run out. Flink's tasks are
 * threads of their own; this is the cooperative counterpart, as a mailbox executor that
 * yields (`MailboxExecutor.yield`) between actions.
 *
 * Downstream work first: a source of the slot skips its turn while another subtask of the
 * slot waits for its next slice after a turn that moved records (it yielded busy with
 * input: not for a state maintenance step or a pending snapshot alone), for at most
 * `sourceDeferMaxMs` since the source's last turn. A deferred source does not idle: it
 * comes back each loop turn (about one per neighbour's 1 ms slice) to check. Records
 * already read are then processed before more are read, as a push-based scheduler drains
 * before it fills. It
 * pays where keys are skewed: in a word count at parallelism 2, the slot of the counting
 * subtask that gets 65 % of the words also holds a source subtask, whose reading delayed
 * that counting; with the source deferred, the other slot's source reads more of the
 * input (the file splits go to whichever reader asks) and the job took 0.84 of a plain
 * loop's wall against 0.91 (native-notes §7, "Downstream first in a shared slot").
 */
import { setImmediate as nextLoopTurn } from 'node:timers/promises';

/** How long a busy subtask of a shared slot runs before it yields, ms (native-notes §7, "Slot sharing"). */
export const slotSliceMs = 1;

/** The longest a source of a shared slot skips turns for its busy neighbours, ms since its last turn. */
export const sourceDeferMaxMs = 20;

/** What the subtasks of one slot know of each other: one per slot (task/worker.ts `runSlot`). */
export class SlotThread {
  /** Non-source subtasks that yielded busy after moving records and wait for their next slice. */
  busy = 0;
}

export class SlotYield {
  private sliceEnd = 0;
  /** performance.now() of the source's last turn (sources only). */
  private lastSourceTurn = 0;

  /**
   * @param shared other subtasks run in this thread; without, `due()` is always false and a source never defers.
   * @param slot the slot's shared view (`SlotThread`).
   * @param source this subtask's chain is a source's.
   */
  constructor(
    private readonly shared: boolean,
    private readonly slot: SlotThread,
    private readonly source: boolean,
  ) {}

  /** True when this subtask should yield now (its slice has run out). `now`: performance.now(). */
  due(now: number): boolean {
    return this.shared && now >= this.sliceEnd;
  }

  /**
   * For a source: true when it should skip this turn (a neighbour waits busy, and the source
   * had a turn less than `sourceDeferMaxMs` ago); its slice then ends, so it yields at once.
   */
  deferSource(now: number): boolean {
    if (this.shared && this.slot.busy > 0 && now - this.lastSourceTurn < sourceDeferMaxMs) {
      this.sliceEnd = 0;
      return true;
    }
    this.lastSourceTurn = now;
    return false;
  }

  /**
   * Yields the thread for one turn of its event loop, then starts the next slice.
   * `movedRecords`: the turn that used the slice up moved records (a source of the slot then defers).
   */
  async yield(movedRecords: boolean): Promise<void> {
    if (this.source || !movedRecords) {
      await nextLoopTurn();
    } else {
      this.slot.busy++;
      try {
        await nextLoopTurn();
      } finally {
        this.slot.busy--;
      }
    }
    this.sliceEnd = performance.now() + slotSliceMs;
  }
}

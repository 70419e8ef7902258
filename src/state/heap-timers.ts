/**
 * Timers on the heap, as Flink's `HeapPriorityQueueSet` (a binary heap plus a hash set for
 * deduplication) under `InternalTimerServiceImpl`.
 *
 * Design: every timer is one `HeapTimer` object, held by two structures:
 *   - `heap`, an array-backed binary min-heap; each timer knows its slot (`index`), so
 *     `delete` removes from the middle in O(log n);
 *   - `byKey`, key identity -> (timestamp -> timer), the set that makes `add` idempotent
 *     and finds a timer to delete in O(1).
 * Order: (timestamp, key group, key identity), a total order since (identity, timestamp)
 * is unique: ties fire in the same order whatever the history, also after a restore.
 *
 * Snapshots: `snapshotCells()` renders the timers as the cells of a state with kind
 * 'timers' (identity -> `{ keyGroup, timestamps }`) that heap-backend.ts writes with the
 * other states, so 'heap' restores and 'heap-rescale' filtering by key group carry them;
 * `HeapTimerQueue.restore` heapifies such cells in O(n).
 */
import assert from 'node:assert/strict';
import type { StateKey, Timer, TimerQueue } from './api.js';
import { maxParallelismUpperBound } from './key-group.js';
import { checkPollBound, checkTimerKeyGroup, checkTimerTimestamp } from './timers.js';

/** One timer. `index` is its slot in the heap array. */
interface HeapTimer {
  readonly key: StateKey;
  readonly id: string;
  readonly keyGroup: number;
  readonly timestampMs: number;
  index: number;
}

/** A timer state's cell in a heap snapshot: the key's group and its timestamps (ms). */
export interface TimerCell {
  keyGroup: number;
  timestamps: number[];
}

/** Strict order of timers: timestamp, then key group, then key identity. */
function before(a: HeapTimer, b: HeapTimer): boolean {
  if (a.timestampMs !== b.timestampMs) return a.timestampMs < b.timestampMs;
  if (a.keyGroup !== b.keyGroup) return a.keyGroup < b.keyGroup;
  return a.id < b.id;
}

export class HeapTimerQueue implements TimerQueue {
  private readonly heap: HeapTimer[] = [];
  private readonly byKey = new Map<string, Map<number, HeapTimer>>();

  /**
   * @param identityOf the backend's `keyIdentity` (throws `TypeError` for a non-key).
   * @param keyFromIdentity its inverse, for restored cells.
   */
  constructor(
    private readonly identityOf: (key: StateKey) => string,
    private readonly keyFromIdentity: (identity: string) => StateKey,
  ) {}

  /**
   * Fills an empty queue from restored snapshot cells (see `TimerCell`). Throws `RangeError`
   * naming the state for a cell of another shape, a bad timestamp or key group.
   */
  restore(stateId: string, cells: ReadonlyMap<string, unknown>): void {
    assert.ok(this.heap.length === 0, 'restore() into a queue that holds timers');
    for (const [id, cell] of cells) {
      const c = cell as Partial<TimerCell> | undefined;
      if (typeof c?.keyGroup !== 'number' || !Array.isArray(c.timestamps)) {
        throw new RangeError(`Restored timers "${stateId}": the cell of key ${JSON.stringify(id)} is not { keyGroup, timestamps } (damaged snapshot?)`);
      }
      checkTimerKeyGroup(c.keyGroup, maxParallelismUpperBound);
      const key = this.keyFromIdentity(id);
      for (const t of c.timestamps) this.insert(key, id, c.keyGroup, checkTimerTimestamp(t), false);
    }
    for (let i = (this.heap.length >> 1) - 1; i >= 0; i--) this.siftDown(i);
  }

  /** The timers as snapshot cells: identity -> { keyGroup, timestamps }. O(n), a copy. */
  snapshotCells(): Map<string, TimerCell> {
    const cells = new Map<string, TimerCell>();
    for (const [id, timers] of this.byKey) {
      let keyGroup = -1;
      const timestamps: number[] = [];
      for (const timer of timers.values()) {
        keyGroup = timer.keyGroup;
        timestamps.push(timer.timestampMs);
      }
      cells.set(id, { keyGroup, timestamps });
    }
    return cells;
  }

  add(key: StateKey, keyGroup: number, timestampMs: number): void {
    const t = checkTimerTimestamp(timestampMs);
    checkTimerKeyGroup(keyGroup, maxParallelismUpperBound);
    this.insert(key, this.identityOf(key), keyGroup, t, true);
  }

  /** Adds unless present; `sift`: restore the heap order now (else the caller heapifies). */
  private insert(key: StateKey, id: string, keyGroup: number, timestampMs: number, sift: boolean): void {
    let timers = this.byKey.get(id);
    if (timers === undefined) {
      timers = new Map();
      this.byKey.set(id, timers);
    } else if (timers.has(timestampMs)) return;
    const timer: HeapTimer = { key, id, keyGroup, timestampMs, index: this.heap.length };
    timers.set(timestampMs, timer);
    this.heap.push(timer);
    if (sift) this.siftUp(timer.index);
  }

  delete(key: StateKey, keyGroup: number, timestampMs: number): void {
    const t = checkTimerTimestamp(timestampMs);
    checkTimerKeyGroup(keyGroup, maxParallelismUpperBound);
    const timer = this.byKey.get(this.identityOf(key))?.get(t);
    if (timer !== undefined) this.remove(timer);
  }

  peekTimestamp(): number | undefined {
    return this.heap[0]?.timestampMs;
  }

  pollDue(upToMs: number): Timer | undefined {
    checkPollBound(upToMs);
    const top = this.heap[0];
    if (top === undefined || top.timestampMs > upToMs) return undefined;
    this.remove(top);
    return { key: top.key, keyGroup: top.keyGroup, timestampMs: top.timestampMs };
  }

  size(): number {
    return this.heap.length;
  }

  /** Takes `timer` out of both structures. REQUIRES: it is in the queue. */
  private remove(timer: HeapTimer): void {
    const timers = this.byKey.get(timer.id)!;
    timers.delete(timer.timestampMs);
    if (timers.size === 0) this.byKey.delete(timer.id);
    const last = this.heap.pop()!;
    if (last === timer) return;
    const i = timer.index;
    assert.ok(this.heap[i] === timer, 'timer heap slot out of sync');
    this.heap[i] = last;
    last.index = i;
    if (i > 0 && before(last, this.heap[(i - 1) >> 1]!)) this.siftUp(i);
    else this.siftDown(i);
  }

  private siftUp(i: number): void {
    const timer = this.heap[i]!;
    while (i > 0) {
      const parentIndex = (i - 1) >> 1;
      const parent = this.heap[parentIndex]!;
      if (!before(timer, parent)) break;
      this.heap[i] = parent;
      parent.index = i;
      i = parentIndex;
    }
    this.heap[i] = timer;
    timer.index = i;
  }

  private siftDown(i: number): void {
    const timer = this.heap[i]!;
    const n = this.heap.length;
    for (;;) {
      let child = 2 * i + 1;
      if (child >= n) break;
      const right = child + 1;
      if (right < n && before(this.heap[right]!, this.heap[child]!)) child = right;
      const c = this.heap[child]!;
      if (!before(c, timer)) break;
      this.heap[i] = c;
      c.index = i;
      i = child;
    }
    this.heap[i] = timer;
    timer.index = i;
  }
}

/**
 * Sources that emit `fn(i)` for indexes i: `fromCollection` (the items by index),
 * `fromSequence` (i itself) and `fromGenerator` (a user function), bounded or, for the
 * generator, unbounded and rate-limited. Flink: `NumberSequenceSource` and
 * `DataGeneratorSource` with `RateLimiterStrategy`.
 *
 * Splits: a bounded source of n indexes is cut into one contiguous range per reader (at
 * the parallelism of the first run), an unbounded one into one arithmetic progression per
 * reader (`next, next + p, ...`); with `interleaved`, a bounded one too (the Nexmark
 * source: every reader walks the same timeline). A split's position is its next index, so a restore,
 * also at another parallelism, emits exactly the indexes not emitted before the
 * checkpoint. A reader holding several splits (after scaling in) takes turns among them.
 *
 * Assignment: in a fresh run reader i gets split i as soon as it registers (so subtask i
 * emits range i, as before FLIP-27, and a checkpoint finds it in that reader's state). A
 * reader that asks gets an unassigned split no other reader was planned for, else no more
 * splits. After a restore, unassigned unbounded splits are handed out as readers register
 * (a reader with an unbounded split never asks again). The enumerator's state is the
 * unassigned splits.
 */
import type {
  InputStatus,
  ReaderOutput,
  Source,
  SourceReader,
  SourceReaderContext,
  SourceSplit,
  SplitEnumerator,
  SplitEnumeratorContext,
} from './source.js';
import { Boundedness, SplitRequests, splitRange } from './source.js';
import { RateLimiter } from './rate-limiter.js';
import type { MonotonicClock } from './rate-limiter.js';

/** Indexes `next, next + step, ...` below `end` (Infinity: unbounded). */
export interface IndexSplit extends SourceSplit {
  next: number;
  end: number;
  step: number;
}

/** Records emitted per `pollNext` call at most. */
export const indexedPollRecords = 64;

/**
 * Least sleep of a rate-limited reader that ran out of permits, ms. Sleeping only until
 * the next permit (1 ms from 1,000 records/s a reader up) woke each reader about 850 times
 * a second for a few records each: 0.16-0.22 cores at parallelism 2 whatever the rate from
 * 10k to 1M records/s, against 0.09-0.12 with this floor (bench/sources.bench.ts; a wake
 * costs 70-170 µs of CPU on the 2-core VM measured). The reader then emits 5 ms of permits
 * at once (the default buffer timeout holds records as long). The rate is the same: permits
 * accrue while it sleeps and the bucket banks 50 ms of them (`rateLimiterBurstMs`).
 */
export const rateLimitedWaitMinMs = 5;

export interface IndexedSourceOptions<T = unknown> {
  /** Total rate over all readers, records/s (each reader gets rate / parallelism). */
  recordsPerSecond?: number;
  /** For messages: 'collection', 'sequence', 'generator', 'nexmark'. */
  label: string;
  /** Clock for the rate limiter; tests inject one. */
  clock?: MonotonicClock;
  /** Records per `pollNext` at most; default `indexedPollRecords` (tests use small values). */
  pollRecords?: number;
  /** Bounded splits as strides `i, i + p, ...` below the count, instead of contiguous ranges. */
  interleaved?: boolean;
  /** The record's timestamp in the source system (ms since the epoch), handed to `collect`. */
  timestampOf?: (record: T) => number;
}

/** Validates a split from a checkpoint (also the `[from, to]` ranges of metadata version 2). */
export function toIndexSplit(value: unknown, label: string): IndexSplit {
  if (Array.isArray(value) && value.length === 2 && Number.isSafeInteger(value[0]) && Number.isSafeInteger(value[1]) && value[0] <= value[1]) {
    return { splitId: `range-${value[0]}`, next: value[0], end: value[1], step: 1 };
  }
  const s = value as Partial<IndexSplit> | null;
  const ok =
    s !== null &&
    typeof s === 'object' &&
    typeof s.splitId === 'string' &&
    Number.isSafeInteger(s.next) &&
    (Number.isSafeInteger(s.end) || s.end === Infinity) &&
    Number.isSafeInteger(s.step) &&
    s.step! >= 1;
  if (!ok) throw new RangeError(`Cannot restore the ${label} source from split ${JSON.stringify(value)?.slice(0, 80)}: expected { splitId, next, end, step }`);
  return { splitId: s.splitId!, next: s.next!, end: s.end!, step: s.step! };
}

/** Emits `fn(i)` for the indexes of its splits (see the file comment). */
export class IndexedSource<T> implements Source<T, IndexSplit, IndexSplit[]> {
  readonly boundedness: Boundedness;

  /**
   * @param count number of indexes, 0..count-1, or Infinity (unbounded).
   * @param fn the record of index i; called in the reader's worker thread.
   */
  constructor(
    private readonly count: number,
    private readonly fn: (index: number) => T,
    private readonly options: IndexedSourceOptions<T>,
    /** First index (fromSequence). */
    private readonly from = 0,
  ) {
    this.boundedness = count === Infinity ? Boundedness.CONTINUOUS_UNBOUNDED : Boundedness.BOUNDED;
  }

  createEnumerator(context: SplitEnumeratorContext<IndexSplit>): SplitEnumerator<IndexSplit, IndexSplit[]> {
    const p = context.currentParallelism();
    const splits: IndexSplit[] = [];
    const owners = new Map<string, number>();
    for (let i = 0; i < p; i++) {
      let split: IndexSplit;
      if (this.count === Infinity || this.options.interleaved === true) {
        const end = this.from + this.count;
        if (this.from + i >= end) continue;
        split = { splitId: `stride-${this.from + i}-${p}`, next: this.from + i, end, step: p };
      } else {
        const [start, end] = splitRange(this.from, this.count, p, i);
        if (start === end) continue;
        split = { splitId: `range-${start}`, next: start, end, step: 1 };
      }
      splits.push(split);
      owners.set(split.splitId, i);
    }
    return new IndexEnumerator(context, splits, owners);
  }

  restoreEnumerator(context: SplitEnumeratorContext<IndexSplit>, state: IndexSplit[] | undefined): SplitEnumerator<IndexSplit, IndexSplit[]> {
    // undefined: a checkpoint of metadata version 2, whose readers held every split.
    return new IndexEnumerator(context, (state ?? []).map((s) => toIndexSplit(s, this.options.label)), new Map());
  }

  createReader(context: SourceReaderContext): SourceReader<T, IndexSplit> {
    const rate = this.options.recordsPerSecond;
    const limiter = rate === undefined ? undefined : new RateLimiter(rate / context.parallelism, this.options.clock);
    return new IndexReader(context, this.fn, this.options.label, limiter, this.options.pollRecords ?? indexedPollRecords, this.options.timestampOf);
  }
}

class IndexEnumerator implements SplitEnumerator<IndexSplit, IndexSplit[]> {
  constructor(
    private readonly context: SplitEnumeratorContext<IndexSplit>,
    private readonly pending: IndexSplit[],
    /** Split id -> the reader it was cut for, in a fresh run (none after a restore). */
    private readonly owners: ReadonlyMap<string, number>,
  ) {}

  start(): void {}

  /**
   * A fresh run's own split goes to its reader at once, without a round trip. Then the
   * unbounded splits that no reader holds (after a restore: splits assigned after the
   * checkpoint, or never asked for) are spread evenly over the readers still to register:
   * a reader holding an unbounded split never asks again, so waiting for requests would
   * starve them (a restore at a lower parallelism gives every reader restored splits).
   */
  addReader(subtaskIndex: number): void {
    const own = this.pending.findIndex((s) => this.owners.get(s.splitId) === subtaskIndex);
    if (own >= 0) this.context.assignSplit(this.pending.splice(own, 1)[0]!, subtaskIndex);
    const free = this.pending.filter((s) => s.end === Infinity && !this.owners.has(s.splitId));
    if (free.length === 0) return;
    const readersToCome = this.context.currentParallelism() - this.context.registeredReaders().size + 1;
    const share = free.slice(0, Math.ceil(free.length / Math.max(1, readersToCome)));
    for (const split of share) this.pending.splice(this.pending.indexOf(split), 1);
    this.context.assignSplits(new Map([[subtaskIndex, share]]));
  }

  handleSplitRequest(subtaskIndex: number): void {
    if (this.pending.length === 0) return this.context.signalNoMoreSplits(subtaskIndex);
    // A split cut for another reader waits for that reader (it asks at its start).
    const at = this.pending.findIndex((s) => (this.owners.get(s.splitId) ?? subtaskIndex) === subtaskIndex);
    if (at < 0) return this.context.signalNoMoreSplits(subtaskIndex);
    const [split] = this.pending.splice(at, 1);
    this.context.assignSplit(split!, subtaskIndex);
  }

  snapshotState(): IndexSplit[] {
    return this.pending.map((s) => ({ ...s }));
  }

  close(): void {}
}

class IndexReader<T> implements SourceReader<T, IndexSplit> {
  private readonly splits: IndexSplit[] = [];
  private current = 0;
  private readonly requests: SplitRequests;
  private timer: NodeJS.Timeout | undefined;
  /** The index emitted last, for failure positions. */
  lastIndex: number | undefined;

  constructor(
    private readonly context: SourceReaderContext,
    private readonly fn: (index: number) => T,
    private readonly label: string,
    private readonly limiter: RateLimiter | undefined,
    private readonly pollRecords: number,
    private readonly timestampOf: ((record: T) => number) | undefined,
  ) {
    this.requests = new SplitRequests(context);
  }

  start(): void {}

  addSplits(splits: IndexSplit[]): void {
    for (const s of splits) {
      const split = toIndexSplit(s, this.label);
      if (split.next < split.end) this.splits.push(split);
    }
    this.requests.splitsAdded();
  }

  notifyNoMoreSplits(): void {
    this.requests.noMore();
  }

  pollNext(output: ReaderOutput<T>): InputStatus {
    if (this.splits.length === 0) {
      return this.requests.noSplit();
    }
    let n = this.pollRecords;
    if (this.limiter !== undefined) {
      n = this.limiter.acquire(n);
      if (n === 0) return this.waitForPermit();
    }
    if (this.current >= this.splits.length) this.current = 0;
    const split = this.splits[this.current]!;
    const fn = this.fn;
    const timestampOf = this.timestampOf;
    let next = split.next;
    const { end, step } = split;
    for (let k = 0; k < n && next < end; k++) {
      this.lastIndex = next;
      // Advance first: a record emitted is never emitted again after a snapshot.
      split.next = next + step;
      const record = fn(next);
      if (timestampOf === undefined) output.collect(record);
      else output.collect(record, timestampOf(record));
      next = split.next;
    }
    if (split.next >= split.end) this.splits.splice(this.current, 1);
    else this.current++;
    return 'more';
  }

  private waitForPermit(): InputStatus {
    this.requests.available.reset();
    if (this.timer === undefined) {
      const ms = Math.max(rateLimitedWaitMinMs, Math.ceil(this.limiter!.msUntilNext()));
      this.timer = setTimeout(() => {
        this.timer = undefined;
        this.requests.available.signal();
      }, ms);
    }
    return 'nothing';
  }

  isAvailable(): Promise<void> {
    return this.requests.available.promise();
  }

  snapshotState(): IndexSplit[] {
    return this.splits.filter((s) => s.next < s.end).map((s) => ({ ...s }));
  }

  /** Where the record emitted last came from. */
  position(): string {
    return `${this.label} index ${this.lastIndex ?? 'none'}`;
  }

  close(): void {
    if (this.timer !== undefined) clearTimeout(this.timer);
  }
}

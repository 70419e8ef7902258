/**
 * The source API, after Flink's FLIP-27 (`org.apache.flink.api.connector.source`), in
 * TypeScript idiom. A source has two halves that run in different threads:
 *
 * - The **split enumerator** runs in the main thread (one per source operator and job
 *   attempt). It discovers splits (files, byte ranges, index ranges, partitions) and assigns
 *   them to readers, when they ask (`handleSplitRequest`) or when it decides to. Its state
 *   (`snapshotState`) is part of every checkpoint: it is taken in the main thread right
 *   before the checkpoint's trigger goes to the readers, on the same ordered port as every
 *   assignment, so a split is either in the enumerator's state or in exactly one reader's.
 * - The **source reader** runs in each source subtask (a worker thread). The mailbox loop
 *   calls `pollNext` between control mails; a reader whose data arrives asynchronously
 *   (a socket, a file watcher) returns 'nothing' and resolves `isAvailable()` when it has
 *   more, so an idle reader costs no CPU and never delays a checkpoint barrier.
 *
 * Splits are plain data (structured-cloneable and CBOR-encodable: they travel over
 * MessagePorts and into checkpoint metadata) with a `splitId`. A reader's state is the
 * list of its splits with their current positions (`snapshotState`), so a restore, also
 * at another parallelism, can hand any subset of them to any reader (even split, as
 * Flink's `SourceOperator` list state).
 *
 * Failover is global (every subtask and every enumerator restarts from one checkpoint),
 * so Flink's `SplitEnumerator.addSplitsBack` has no caller here and is not part of the
 * interface: splits assigned after the restored checkpoint are still in the restored
 * enumerator's state.
 */

/** Whether a source ends. Flink: `Boundedness`. */
export const Boundedness = {
  /** The source ends after a finite input (files, collections, counted generators). */
  BOUNDED: 'BOUNDED',
  /** The source runs until the job is cancelled or stopped (sockets, monitored directories). */
  CONTINUOUS_UNBOUNDED: 'CONTINUOUS_UNBOUNDED',
} as const;
export type Boundedness = (typeof Boundedness)[keyof typeof Boundedness];

/** A unit of work of a source: plain data with a stable id. Flink: `SourceSplit`. */
export interface SourceSplit {
  /** Unique within the source, stable across checkpoints (e.g. `file:a.txt:0`). */
  readonly splitId: string;
}

/**
 * What `pollNext` reports. Flink: `InputStatus`.
 * - `'more'`: call again at once (records may or may not have been emitted).
 * - `'nothing'`: nothing now; the loop waits until `isAvailable()` resolves.
 * - `'end'`: the reader is done for good (bounded: no split left and no more coming).
 */
export type InputStatus = 'more' | 'nothing' | 'end';

/**
 * Where a reader emits records. Flink: `ReaderOutput`. The runtime always provides the
 * split methods; readers that emit from several splits should use them, so that a
 * watermark strategy generates watermarks per split (the source's watermark is then the
 * minimum over its splits: split-aware watermarking).
 */
export interface ReaderOutput<T> {
  /** Emits `record`; `timestampMs` is its timestamp in the source system (ms since the epoch), if it has one. */
  collect(record: T, timestampMs?: number): void;
  /** The output of one split: its records get that split's watermark generator. */
  createOutputForSplit?(splitId: string): ReaderOutput<T>;
  /** The split is finished: its generator no longer holds the source's watermark back. */
  releaseOutputForSplit?(splitId: string): void;
}

/** What a reader knows of its subtask. Flink: `SourceReaderContext`. */
export interface SourceReaderContext {
  /** 0-based index of this reader's subtask. Flink: `getIndexOfSubtask()`. */
  readonly subtaskIndex: number;
  /** Number of readers (the source's parallelism). Flink: `currentParallelism()`. */
  readonly parallelism: number;
  /**
   * Asks the enumerator for a split; it answers with `addSplits` or `notifyNoMoreSplits`
   * (or later, for sources that discover splits over time). Flink: `sendSplitRequest()`.
   */
  sendSplitRequest(): void;
}

/**
 * Reads the splits assigned to one source subtask. Single-threaded (the subtask's mailbox
 * thread): no method is called while another runs, and none may block for long.
 * Flink: `SourceReader`.
 *
 * Life: `start()`, then `addSplits(restored)` when restoring, then any interleaving of
 * `pollNext`, `addSplits`, `notifyNoMoreSplits`, `snapshotState` and
 * `notifyCheckpointComplete`, then `close()`.
 */
export interface SourceReader<T, Split extends SourceSplit> {
  /** Opens resources; may ask for splits (`context.sendSplitRequest()`). */
  start(): void | Promise<void>;
  /**
   * Emits zero or more records through `output` (keep it to a few hundred per call: the
   * loop runs control mails and checkpoint barriers between calls) and says what next.
   * Throwing fails the subtask, naming the source.
   */
  pollNext(output: ReaderOutput<T>): InputStatus;
  /**
   * A promise that resolves once `pollNext` may have something again (new data, a new
   * split, the end). Called after `pollNext` returned 'nothing'; must resolve at once if
   * data arrived in between. A rejection fails the subtask.
   */
  isAvailable(): Promise<void>;
  /** Splits assigned by the enumerator (or restored from a checkpoint). */
  addSplits(splits: Split[]): void;
  /** The enumerator will assign no more splits to this reader (bounded sources end after their splits). */
  notifyNoMoreSplits(): void;
  /**
   * The splits this reader holds, each with its current position, as plain data: a
   * restore hands them back (to this or another reader) and reading resumes exactly
   * after the last record emitted before this call.
   */
  snapshotState(checkpointId: number): Split[];
  /** Checkpoint `checkpointId` is complete (e.g. acknowledge messages upstream). */
  notifyCheckpointComplete?(checkpointId: number): void;
  close(): void | Promise<void>;
}

/** What an enumerator can do. Flink: `SplitEnumeratorContext`. */
export interface SplitEnumeratorContext<Split extends SourceSplit> {
  /** Number of readers (the source's parallelism). */
  currentParallelism(): number;
  /** Subtask indexes of the readers that have started and registered. */
  registeredReaders(): ReadonlySet<number>;
  /**
   * Assigns a split to a registered reader. @throws RangeError for a subtask index
   * outside [0, parallelism) or a reader that has not registered.
   */
  assignSplit(split: Split, subtaskIndex: number): void;
  /** Assigns several splits: subtask index -> splits. Same errors as `assignSplit`. */
  assignSplits(assignment: ReadonlyMap<number, readonly Split[]>): void;
  /** Tells a reader that no split will follow (a bounded reader then ends). */
  signalNoMoreSplits(subtaskIndex: number): void;
  /**
   * Runs `callable` (it may be async) after `initialDelayMs`, and again every `periodMs`
   * when given (never overlapping a run still going), then `handler(result, error)` in
   * the main thread. A throw from `handler` fails the job. Stops when the enumerator
   * closes. Flink: `callAsync(Callable, BiConsumer, long, long)`.
   */
  callAsync<R>(callable: () => R | Promise<R>, handler: (result: R | undefined, error: Error | undefined) => void, initialDelayMs?: number, periodMs?: number): void;
}

/**
 * Discovers and assigns splits, in the main thread. Flink: `SplitEnumerator`. A throw
 * from any method fails the job attempt (the restart strategy applies).
 */
export interface SplitEnumerator<Split extends SourceSplit, EnumState> {
  start(): void;
  /** Reader `subtaskIndex` asked for a split (`sendSplitRequest`). */
  handleSplitRequest(subtaskIndex: number): void;
  /** Reader `subtaskIndex` started (also after every restore). */
  addReader(subtaskIndex: number): void;
  /**
   * The enumerator's state for checkpoint `checkpointId`: plain data (CBOR-encodable),
   * e.g. the splits not yet assigned and what was discovered. Taken just before the
   * readers snapshot; assignments after it reach readers after their snapshot.
   */
  snapshotState(checkpointId: number): EnumState;
  /** Checkpoint `checkpointId` is complete. */
  notifyCheckpointComplete?(checkpointId: number): void;
  close(): void | Promise<void>;
}

/**
 * A source: a factory for its enumerator (main thread) and readers (workers). The object
 * is built in every thread from the job module (`defineJob`), so it must hold only
 * configuration, never open resources. Flink: `Source`.
 */
export interface Source<T, Split extends SourceSplit = SourceSplit, EnumState = unknown> {
  readonly boundedness: Boundedness;
  createEnumerator(context: SplitEnumeratorContext<Split>): SplitEnumerator<Split, EnumState>;
  /** Rebuilds the enumerator from the state a checkpoint or savepoint holds. */
  restoreEnumerator(context: SplitEnumeratorContext<Split>, state: EnumState): SplitEnumerator<Split, EnumState>;
  createReader(context: SourceReaderContext): SourceReader<T, Split>;
}

/** True when `value` has the shape of a `Source` (checked by `env.fromSource`). */
export function isSource(value: unknown): value is Source<unknown> {
  if (value === null || typeof value !== 'object') return false;
  const s = value as Record<string, unknown>;
  return (
    (s.boundedness === Boundedness.BOUNDED || s.boundedness === Boundedness.CONTINUOUS_UNBOUNDED) &&
    typeof s.createEnumerator === 'function' &&
    typeof s.restoreEnumerator === 'function' &&
    typeof s.createReader === 'function'
  );
}

/** Contiguous near-equal ranges of [from, from+count): subtask i's `[start, end)`. */
export function splitRange(from: number, count: number, parallelism: number, index: number): [number, number] {
  const base = Math.floor(count / parallelism);
  const extra = count % parallelism;
  const start = from + index * base + Math.min(index, extra);
  return [start, start + base + (index < extra ? 1 : 0)];
}

/**
 * A resolvable promise for `isAvailable()`: `promise()` is pending until `signal()`, then
 * resolved until the next `reset()`. Flink: `FutureCompletingBlockingQueue`'s
 * availability future, reduced to one thread.
 */
export class AvailabilitySignal {
  private current: Promise<void> | undefined;
  private resolve: (() => void) | undefined;
  private signalled = false;

  /** Pending unless signalled since the last reset. */
  promise(): Promise<void> {
    if (this.signalled) return Promise.resolve();
    if (this.current === undefined) this.current = new Promise<void>((r) => (this.resolve = r));
    return this.current;
  }

  /** Something is available: resolves the pending promise. */
  signal(): void {
    this.signalled = true;
    this.resolve?.();
    this.current = undefined;
    this.resolve = undefined;
  }

  /** Consumed: the next promise() waits for the next signal(). */
  reset(): void {
    this.signalled = false;
  }
}

/**
 * The split bookkeeping every built-in reader shares (a part of Flink's `SourceReaderBase`):
 * ask the enumerator once when the reader runs dry, remember that no more splits will
 * come, and the availability signal that `addSplits` / `notifyNoMoreSplits` resolve.
 */
export class SplitRequests {
  private requested = false;
  /** The enumerator said no more splits will come. */
  noMoreSplits = false;
  readonly available = new AvailabilitySignal();

  constructor(private readonly context: Pick<SourceReaderContext, 'sendSplitRequest'>) {}

  /** `pollNext`'s answer when the reader has no split: 'end' after noMoreSplits, else ask (once) and 'nothing'. */
  noSplit(): InputStatus {
    if (this.noMoreSplits) return 'end';
    if (!this.requested) {
      this.requested = true;
      this.context.sendSplitRequest();
    }
    this.available.reset();
    return 'nothing';
  }

  /** Splits arrived (call from `addSplits`). */
  splitsAdded(): void {
    this.requested = false;
    this.available.signal();
  }

  /** Call from `notifyNoMoreSplits`. */
  noMore(): void {
    this.noMoreSplits = true;
    this.requested = false;
    this.available.signal();
  }
}

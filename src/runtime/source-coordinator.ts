/**
 * The main-thread half of a FLIP-27 source: one split enumerator per source operator and
 * job attempt, with its context. Flink: `SourceCoordinator` + `SourceCoordinatorContext`.
 *
 * - Created when the attempt deploys: `restoreEnumerator` with the state the restored
 *   checkpoint holds for the operator's uid, else `createEnumerator`.
 * - Readers register and ask for splits over their control ports (`onMessage`);
 *   assignments go back as `addSplits` / `noMoreSplits` mails, on the same ordered port as
 *   checkpoint triggers. `snapshot` runs right before each trigger (checkpoint-coordinator.ts).
 * - Any throw of the enumerator (or of a `callAsync` handler) fails the attempt; the
 *   restart strategy applies. A `UsageError` (bad input path) is not restarted.
 * - `close` stops its `callAsync` timers and closes the enumerator.
 */
import type { Source, SourceSplit, SplitEnumerator, SplitEnumeratorContext } from '../connectors/index.js';
import { findUserError } from '../errors.js';
import type { GraphNode } from '../graph/index.js';
import type { MasterMessage } from '../task/index.js';

export interface SourceCoordinatorIo {
  /** Posts a mail to the reader of subtask `subtaskIndex` (and rings its doorbell). */
  send(subtaskIndex: number, message: MasterMessage): void;
  /** The enumerator failed: fail the attempt. */
  fail(error: Error): void;
}

/** A failure of a source enumerator (restartable, unlike a UsageError). */
export class SourceEnumeratorError extends Error {
  constructor(source: string, what: string, cause: unknown) {
    super(`The split enumerator of source "${source}" failed in ${what}: ${(cause as Error)?.message ?? String(cause)}`, { cause });
    this.name = 'SourceEnumeratorError';
  }
}

export class SourceCoordinator {
  private enumerator: SplitEnumerator<SourceSplit, unknown> | undefined;
  private readonly registered = new Set<number>();
  private readonly timers = new Set<NodeJS.Timeout>();
  private closed = false;

  constructor(
    readonly node: GraphNode,
    private readonly io: SourceCoordinatorIo,
  ) {}

  private get source(): Source<unknown, SourceSplit, unknown> {
    const op = this.node.plan.op;
    if (op.kind !== 'source') throw new TypeError(`Operator "${this.node.name}" is not a source`);
    return op.source.source;
  }

  /**
   * Creates (or, with `restored`, restores) the enumerator and starts it.
   * @throws UsageError from the enumerator (e.g. a missing input), SourceEnumeratorError otherwise.
   */
  start(restored: { state: unknown } | undefined): void {
    const context = this.context();
    this.enumerator = this.call('createEnumerator', () =>
      restored === undefined ? this.source.createEnumerator(context) : this.source.restoreEnumerator(context, restored.state),
    );
    this.call('start', () => this.enumerator!.start());
  }

  /** A message from reader `subtaskIndex`. */
  onMessage(subtaskIndex: number, message: { type: 'readerRegistered' } | { type: 'splitRequest' }): void {
    if (this.closed || this.enumerator === undefined) return;
    if (message.type === 'readerRegistered') {
      this.registered.add(subtaskIndex);
      this.safely('addReader', () => this.enumerator!.addReader(subtaskIndex));
    } else {
      this.safely('handleSplitRequest', () => this.enumerator!.handleSplitRequest(subtaskIndex));
    }
  }

  /** The enumerator's state for checkpoint n. @throws SourceEnumeratorError (the checkpoint fails). */
  snapshot(checkpointId: number): unknown {
    return this.call('snapshotState', () => this.enumerator!.snapshotState(checkpointId));
  }

  notifyCheckpointComplete(checkpointId: number): void {
    this.safely('notifyCheckpointComplete', () => this.enumerator?.notifyCheckpointComplete?.(checkpointId));
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
    try {
      await this.enumerator?.close();
    } catch {
      // The attempt is over; a failing close changes nothing.
    }
  }

  /** Runs an enumerator method; its throw becomes the non-recoverable error in it (findUserError: a UsageError, kept) or a SourceEnumeratorError. */
  private call<R>(what: string, fn: () => R): R {
    try {
      return fn();
    } catch (error) {
      const userError = findUserError(error);
      if (userError !== undefined) throw userError;
      throw new SourceEnumeratorError(this.node.name, what, error);
    }
  }

  /** As `call`, but a throw fails the attempt instead of propagating. */
  private safely(what: string, fn: () => void): void {
    try {
      this.call(what, fn);
    } catch (error) {
      this.io.fail(error as Error);
    }
  }

  private context(): SplitEnumeratorContext<SourceSplit> {
    const parallelism = this.node.parallelism;
    const checkReader = (subtaskIndex: number, what: string): void => {
      if (!Number.isInteger(subtaskIndex) || subtaskIndex < 0 || subtaskIndex >= parallelism) {
        throw new RangeError(`${what}: subtask index ${subtaskIndex} is outside [0, ${parallelism}) of source "${this.node.name}"`);
      }
      if (!this.registered.has(subtaskIndex)) throw new RangeError(`${what}: the reader of subtask ${subtaskIndex} has not registered yet (wait for addReader)`);
    };
    const assign = (splits: readonly SourceSplit[], subtaskIndex: number): void => {
      checkReader(subtaskIndex, 'assignSplit');
      for (const split of splits) {
        if (split === null || typeof split !== 'object' || typeof split.splitId !== 'string') {
          throw new TypeError(`assignSplit: a split must be plain data with a string splitId, got ${JSON.stringify(split)?.slice(0, 80)}`);
        }
      }
      if (!this.closed && splits.length > 0) this.io.send(subtaskIndex, { type: 'addSplits', splits: structuredClone([...splits]) });
    };
    return {
      currentParallelism: () => parallelism,
      registeredReaders: () => new Set(this.registered),
      assignSplit: (split, subtaskIndex) => assign([split], subtaskIndex),
      assignSplits: (assignment) => {
        for (const [subtaskIndex, splits] of assignment) assign(splits, subtaskIndex);
      },
      signalNoMoreSplits: (subtaskIndex) => {
        checkReader(subtaskIndex, 'signalNoMoreSplits');
        if (!this.closed) this.io.send(subtaskIndex, { type: 'noMoreSplits' });
      },
      callAsync: (callable, handler, initialDelayMs = 0, periodMs) => {
        if (periodMs !== undefined && (!Number.isFinite(periodMs) || periodMs <= 0)) throw new RangeError(`callAsync: periodMs must be a number > 0, got ${periodMs}`);
        const run = async (): Promise<void> => {
          let result: unknown;
          let error: Error | undefined;
          try {
            result = await callable();
          } catch (e) {
            error = e instanceof Error ? e : new Error(String(e));
          }
          if (this.closed) return;
          this.safely('a callAsync handler', () => handler(result as never, error));
        };
        const schedule = (delayMs: number): void => {
          const timer = setTimeout(() => {
            this.timers.delete(timer);
            if (this.closed) return;
            // The next period starts when this run has ended: runs never overlap.
            void run().finally(() => {
              if (periodMs !== undefined && !this.closed) schedule(periodMs);
            });
          }, delayMs);
          this.timers.add(timer);
        };
        schedule(Math.max(0, initialDelayMs));
      },
    };
  }
}

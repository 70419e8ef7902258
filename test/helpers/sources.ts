// Shared by the source tests: driving readers by hand, and a fake SplitEnumeratorContext
// whose assignments queue up as mails per reader and whose callAsync runs only when the
// test says so (no timers).
import type { SourceReader, SourceSplit, SplitEnumeratorContext } from '../../src/connectors/index.js';

/** Polls until 'end' or 'nothing' (or, with `until`, until it returns true); returns the last status. */
export function drain<T>(reader: SourceReader<T, any>, out: T[], until: () => boolean = () => false): 'more' | 'nothing' | 'end' {
  for (;;) {
    if (until()) return 'more';
    const status = reader.pollNext({ collect: (r) => out.push(r) });
    if (status !== 'more') return status;
  }
}

/** A mail from the enumerator to one reader, in the order the runtime's port keeps. */
export type ReaderMail<Split> = { type: 'addSplits'; splits: Split[] } | { type: 'noMoreSplits' } | { type: 'trigger'; checkpointId: number };

interface Periodic {
  callable: () => unknown;
  handler: (result: any, error: Error | undefined) => void;
  periodMs: number | undefined;
}

/**
 * A SplitEnumeratorContext for tests: assignments become mails in `mailboxes[reader]`
 * (cloned, as structuredClone does on the real port); `callAsync` registrations wait for
 * `runCallAsync()`. Checks the contract as the runtime does (registered readers only).
 */
export class FakeEnumeratorContext<Split extends SourceSplit> implements SplitEnumeratorContext<Split> {
  readonly mailboxes: Array<Array<ReaderMail<Split>>>;
  readonly registered = new Set<number>();
  private readonly calls: Periodic[] = [];

  constructor(readonly parallelism: number) {
    this.mailboxes = Array.from({ length: parallelism }, () => []);
  }

  currentParallelism(): number {
    return this.parallelism;
  }
  registeredReaders(): ReadonlySet<number> {
    return new Set(this.registered);
  }
  private check(subtaskIndex: number): void {
    if (!this.registered.has(subtaskIndex)) throw new RangeError(`reader ${subtaskIndex} is not registered (of ${this.parallelism})`);
  }
  assignSplit(split: Split, subtaskIndex: number): void {
    this.check(subtaskIndex);
    this.mailboxes[subtaskIndex]!.push({ type: 'addSplits', splits: [structuredClone(split)] });
  }
  assignSplits(assignment: ReadonlyMap<number, readonly Split[]>): void {
    for (const [subtaskIndex, splits] of assignment) {
      this.check(subtaskIndex);
      this.mailboxes[subtaskIndex]!.push({ type: 'addSplits', splits: structuredClone([...splits]) });
    }
  }
  signalNoMoreSplits(subtaskIndex: number): void {
    this.check(subtaskIndex);
    this.mailboxes[subtaskIndex]!.push({ type: 'noMoreSplits' });
  }
  callAsync<R>(callable: () => R | Promise<R>, handler: (result: R | undefined, error: Error | undefined) => void, _initialDelayMs?: number, periodMs?: number): void {
    this.calls.push({ callable, handler, periodMs });
  }

  /** Number of callAsync registrations still due. */
  get pendingCalls(): number {
    return this.calls.length;
  }

  /**
   * Runs every due callAsync once (a listing, for the file source), callable then handler,
   * as one timer tick of the real context; periodic ones stay registered. Callables must
   * be synchronous here.
   */
  runCallAsync(): void {
    for (const call of [...this.calls]) {
      let result: unknown;
      let error: Error | undefined;
      try {
        result = call.callable();
      } catch (e) {
        error = e as Error;
      }
      if (result instanceof Promise) throw new Error('FakeEnumeratorContext.runCallAsync: callables must be synchronous');
      if (call.periodMs === undefined) this.calls.splice(this.calls.indexOf(call), 1);
      call.handler(result, error);
    }
  }
}

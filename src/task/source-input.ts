/**
 * The record path of a source chain: each loop turn polls the source reader for up to a
 * batch of records, which its output pushes through the chain as direct calls. A reader
 * with nothing now (`'nothing'`) arms one wake-up: its `isAvailable()` promise rings the
 * subtask's doorbell when it settles, so an idle source costs no CPU.
 *
 * Flink: `StreamTaskSourceInput` (`SourceOperator.emitNext`, and the availability future
 * the mailbox waits on).
 */
import type { Doorbell } from '../channel/index.js';
import { attributeFailure } from './operators.js';
import type { FailureContext } from './operators.js';
import type { SourceOperator } from './source-operator.js';

export class SourceInput {
  /** A wake-up on the source reader's availability is pending. */
  private availabilityArmed = false;
  /** The source reader's `isAvailable()` rejected: fails the subtask at the next poll. */
  private availabilityFailure: unknown;

  constructor(
    private readonly source: SourceOperator,
    /** Rung when the reader becomes available (or its availability rejects). */
    private readonly doorbell: Doorbell,
    /** Records per poll at most (the `batchSize` option). */
    private readonly batchSize: number,
    /** An output ring is backed up: the reader stops emitting for this turn. */
    private readonly outputBlocked: () => boolean,
    /** The subtask's failure context, to attribute a throw (operators.ts). */
    private readonly failure: FailureContext,
  ) {}

  /**
   * Polls the source reader for up to a batch of records. Returns true when it did
   * something; when the reader has nothing, arms a wake-up on its availability.
   * @throws TaskFailure naming the operator that threw, or a UsageError (bad input) as it is.
   */
  poll(): boolean {
    const source = this.source;
    if (this.availabilityFailure !== undefined) throw attributeFailure(this.failure, this.availabilityFailure, source);
    let status;
    try {
      status = source.poll(this.batchSize, this.outputBlocked);
    } catch (thrown) {
      // A bad input line (a UsageError) is the input's fault, not the reader's: attribute
      // passes it on as it is, and no restart runs.
      throw attributeFailure(this.failure, thrown, source);
    }
    if (status !== 'nothing') return true;
    if (!this.availabilityArmed) {
      this.availabilityArmed = true;
      source.isAvailable().then(
        () => {
          this.availabilityArmed = false;
          this.doorbell.ring();
        },
        (error: unknown) => {
          this.availabilityArmed = false;
          this.availabilityFailure = error ?? new Error('isAvailable() rejected');
          this.doorbell.ring();
        },
      );
    }
    return false;
  }
}

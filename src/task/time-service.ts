/**
 * A subtask's time-driven work, served by its mailbox loop between input turns: periodic
 * watermark emission every auto-watermark interval (sources with a watermark strategy,
 * timestamp assigners), processing-time timers that are due, and the maximum watermark
 * once at the end of input. Single-threaded like the loop: nothing here runs on a timer
 * callback; the loop asks `msUntilDue()` how long it may sleep.
 *
 * Flink: `ProcessingTimeService` (timers fired as mails of the task's mailbox), the
 * periodic emission `TimestampsAndWatermarksOperator` registers on it
 * (`pipeline.auto-watermark-interval`), and the `MAX_WATERMARK` a finished input sends.
 */
import { performance } from 'node:perf_hooks';
import { systemProcessingClock } from '../time/index.js';
import { attributeFailure } from './operators.js';
import type { ChainOperator, FailureContext } from './operators.js';
import type { ProcessingTimeOperator } from './process-operators.js';
import type { PeriodicWatermarkEmitter } from './timestamps-operator.js';

export class TaskTimeService {
  /** performance.now() of the next periodic watermark emission. */
  private nextPeriodicEmit = 0;
  /**
   * The maximum watermark has gone through the chain (end of input): set here, or by the
   * input processor when the inputs' valve passed it on.
   */
  finalWatermarkSent = false;

  constructor(
    /** Periodic watermark interval, ms (the job graph's `autoWatermarkIntervalMs`). */
    private readonly autoWatermarkIntervalMs: number,
    /** Watermark generators emitting every auto-watermark interval (sources with a strategy, assigners). */
    private readonly periodicEmitters: readonly PeriodicWatermarkEmitter[],
    /** Operators with processing-time timers, served every turn. */
    private readonly timerOperators: readonly ProcessingTimeOperator[],
    /** The chain's head: the final watermark enters the chain here. */
    private readonly head: ChainOperator,
    /** The subtask's failure context, to attribute a throw (operators.ts). */
    private readonly failure: FailureContext,
  ) {}

  /**
   * Time-driven work of a turn: periodic watermark emission every auto-watermark interval,
   * and processing-time timers that are due. Returns true when something ran.
   * @throws TaskFailure naming the emitter or timer operator that threw.
   */
  serve(): boolean {
    let ran = false;
    if (this.periodicEmitters.length > 0) {
      const now = performance.now();
      if (now >= this.nextPeriodicEmit) {
        this.nextPeriodicEmit = now + this.autoWatermarkIntervalMs;
        for (const e of this.periodicEmitters) {
          try {
            e.periodicEmit();
          } catch (thrown) {
            // Every emitter is a chain operator (a source or a timestamp assigner): a throwing generator names it.
            throw attributeFailure(this.failure, thrown, e as unknown as ChainOperator);
          }
        }
        ran = true;
      }
    }
    if (this.timerOperators.length > 0) {
      const now = systemProcessingClock.now();
      for (const op of this.timerOperators) {
        const next = op.nextProcessingTimer();
        if (next === undefined || next > now) continue;
        try {
          op.fireProcessingTimers();
        } catch (thrown) {
          throw attributeFailure(this.failure, thrown, op as unknown as ChainOperator);
        }
        ran = true;
      }
    }
    return ran;
  }

  /**
   * Milliseconds until periodic watermarks or a processing-time timer are due: Infinity
   * for none, negative when overdue (the caller clamps).
   */
  msUntilDue(): number {
    let due = Infinity;
    if (this.periodicEmitters.length > 0) due = this.nextPeriodicEmit - performance.now();
    if (this.timerOperators.length > 0) {
      const now = systemProcessingClock.now();
      for (const op of this.timerOperators) {
        const next = op.nextProcessingTimer();
        if (next !== undefined) due = Math.min(due, next - now);
      }
    }
    return due;
  }

  /** The maximum watermark through the chain, once (end of input). @throws TaskFailure naming the operator that threw. */
  sendFinalWatermark(): void {
    if (this.finalWatermarkSent) return;
    this.finalWatermarkSent = true;
    const head = this.head;
    try {
      head.processWatermark(Infinity);
    } catch (thrown) {
      throw attributeFailure(this.failure, thrown, head);
    }
  }
}

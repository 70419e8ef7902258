import { TriggerResult } from '../api.js';
import type { OnMergeContext, Trigger, TriggerContext, Window } from '../api.js';
import { eventTimestamp } from '../checks.js';
import { checkInterval, clearFiring, mergeFiring, onFireTimer, startFiring } from './continuous.js';

/**
 * Fires a window every `intervalMs` of event time (when the watermark passes each interval
 * boundary, the first after the first element's timestamp) and at its end, as
 * `EventTimeTrigger`. Early, repeated results of a long window; never purges. Fire times
 * are aligned to multiples of the interval from epoch 0 and capped at `window.maxTimestamp()`.
 * Flink: `ContinuousEventTimeTrigger` (with the cap of Flink 1.14+).
 *
 * Note, as Flink: `clear` deletes the pending interval timer but not the end timer.
 */
export class ContinuousEventTimeTrigger implements Trigger<unknown, Window> {
  private constructor(readonly intervalMs: number) {}

  /** @throws RangeError unless `intervalMs` is an integer > 0. */
  static of(intervalMs: number): ContinuousEventTimeTrigger {
    return new ContinuousEventTimeTrigger(checkInterval('ContinuousEventTimeTrigger.of', intervalMs));
  }

  /** @throws UsageError when the element has no timestamp (NaN). */
  onElement(_element: unknown, timestamp: number, window: Window, ctx: TriggerContext): TriggerResult {
    if (window.maxTimestamp() <= ctx.getCurrentWatermark()) return TriggerResult.FIRE;
    ctx.registerEventTimeTimer(window.maxTimestamp());
    startFiring(eventTimestamp(this, timestamp), this.intervalMs, window, ctx, 'event');
    return TriggerResult.CONTINUE;
  }

  onEventTime(time: number, window: Window, ctx: TriggerContext): TriggerResult {
    if (time === window.maxTimestamp()) return TriggerResult.FIRE;
    return onFireTimer(time, this.intervalMs, window, ctx, 'event');
  }

  onProcessingTime(): TriggerResult {
    return TriggerResult.CONTINUE;
  }

  canMerge(): boolean {
    return true;
  }

  onMerge(_window: Window, ctx: OnMergeContext): void {
    mergeFiring(ctx, 'event');
  }

  clear(_window: Window, ctx: TriggerContext): void {
    clearFiring(ctx, 'event');
  }

  toString(): string {
    return `ContinuousEventTimeTrigger(${this.intervalMs})`;
  }
}

import { TriggerResult } from '../api.js';
import type { OnMergeContext, Trigger, TriggerContext, Window } from '../api.js';
import { checkInterval, clearFiring, mergeFiring, onFireTimer, startFiring } from './continuous.js';

/**
 * Fires a window every `intervalMs` of processing time, starting at the interval boundary
 * after the first element's arrival; fire times are aligned to multiples of the interval
 * from epoch 0 and capped at `window.maxTimestamp()`, so a processing-time window also
 * fires at its end. Never purges. Flink: `ContinuousProcessingTimeTrigger` (1.14+).
 *
 * Unlike Flink (FLINK-35069), the firing at the window's end registers no further timer:
 * Flink registers the end again, which fires again at once, endlessly, for any window not
 * cleaned up at that moment (an event-time window). An element arriving after the end
 * fires the window once more, at the next timer turn.
 */
export class ContinuousProcessingTimeTrigger implements Trigger<unknown, Window> {
  private constructor(readonly intervalMs: number) {}

  /** @throws RangeError unless `intervalMs` is an integer > 0. */
  static of(intervalMs: number): ContinuousProcessingTimeTrigger {
    return new ContinuousProcessingTimeTrigger(checkInterval('ContinuousProcessingTimeTrigger.of', intervalMs));
  }

  onElement(_element: unknown, _timestamp: number, window: Window, ctx: TriggerContext): TriggerResult {
    startFiring(ctx.getCurrentProcessingTime(), this.intervalMs, window, ctx, 'processing');
    return TriggerResult.CONTINUE;
  }

  onEventTime(): TriggerResult {
    return TriggerResult.CONTINUE;
  }

  onProcessingTime(time: number, window: Window, ctx: TriggerContext): TriggerResult {
    return onFireTimer(time, this.intervalMs, window, ctx, 'processing');
  }

  canMerge(): boolean {
    return true;
  }

  onMerge(_window: Window, ctx: OnMergeContext): void {
    mergeFiring(ctx, 'processing');
  }

  clear(_window: Window, ctx: TriggerContext): void {
    clearFiring(ctx, 'processing');
  }

  toString(): string {
    return `ContinuousProcessingTimeTrigger(${this.intervalMs})`;
  }
}

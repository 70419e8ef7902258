import { TriggerResult } from '../api.js';
import type { OnMergeContext, Trigger, TriggerContext, Window } from '../api.js';

/**
 * Fires a window when the wall clock reaches its end: a processing-time timer at
 * `window.maxTimestamp()`. The default trigger of the processing-time assigners. Flink:
 * `ProcessingTimeTrigger`.
 */
export class ProcessingTimeTrigger implements Trigger<unknown, Window> {
  private constructor() {}

  static create(): ProcessingTimeTrigger {
    return new ProcessingTimeTrigger();
  }

  onElement(_element: unknown, _timestamp: number, window: Window, ctx: TriggerContext): TriggerResult {
    ctx.registerProcessingTimeTimer(window.maxTimestamp());
    return TriggerResult.CONTINUE;
  }

  onEventTime(): TriggerResult {
    return TriggerResult.CONTINUE;
  }

  /** Any processing-time timer of the window is its end (the only one this trigger sets). */
  onProcessingTime(): TriggerResult {
    return TriggerResult.FIRE;
  }

  canMerge(): boolean {
    return true;
  }

  /** Re-registers the merged window's end, unless the clock is already past it. */
  onMerge(window: Window, ctx: OnMergeContext): void {
    const end = window.maxTimestamp();
    if (end > ctx.getCurrentProcessingTime()) ctx.registerProcessingTimeTimer(end);
  }

  clear(window: Window, ctx: TriggerContext): void {
    ctx.deleteProcessingTimeTimer(window.maxTimestamp());
  }

  toString(): string {
    return 'ProcessingTimeTrigger()';
  }
}

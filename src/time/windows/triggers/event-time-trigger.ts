import { TriggerResult } from '../api.js';
import type { OnMergeContext, Trigger, TriggerContext, Window } from '../api.js';

/**
 * Fires a window once the watermark passes its end: an event-time timer at
 * `window.maxTimestamp()`. An element arriving when the watermark is already at or past
 * that (a late element within the allowed lateness) fires the window at once. The default
 * trigger of the event-time assigners. Flink: `EventTimeTrigger`.
 */
export class EventTimeTrigger implements Trigger<unknown, Window> {
  private constructor() {}

  static create(): EventTimeTrigger {
    return new EventTimeTrigger();
  }

  onElement(_element: unknown, _timestamp: number, window: Window, ctx: TriggerContext): TriggerResult {
    if (window.maxTimestamp() <= ctx.getCurrentWatermark()) return TriggerResult.FIRE;
    ctx.registerEventTimeTimer(window.maxTimestamp());
    return TriggerResult.CONTINUE;
  }

  onEventTime(time: number, window: Window): TriggerResult {
    return time === window.maxTimestamp() ? TriggerResult.FIRE : TriggerResult.CONTINUE;
  }

  onProcessingTime(): TriggerResult {
    return TriggerResult.CONTINUE;
  }

  canMerge(): boolean {
    return true;
  }

  /** Re-registers the merged window's end, unless the watermark is already past it. */
  onMerge(window: Window, ctx: OnMergeContext): void {
    const end = window.maxTimestamp();
    if (end > ctx.getCurrentWatermark()) ctx.registerEventTimeTimer(end);
  }

  clear(window: Window, ctx: TriggerContext): void {
    ctx.deleteEventTimeTimer(window.maxTimestamp());
  }

  toString(): string {
    return 'EventTimeTrigger()';
  }
}

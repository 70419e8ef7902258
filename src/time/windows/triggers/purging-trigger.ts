import { TriggerResult, isFire } from '../api.js';
import type { OnMergeContext, Trigger, TriggerContext, Window } from '../api.js';

/**
 * Wraps a trigger and turns each of its FIREs into FIRE_AND_PURGE, so every firing starts
 * the window afresh; everything else (timers, state, merging) is the nested trigger's.
 * Flink: `PurgingTrigger`.
 */
export class PurgingTrigger<T, W extends Window> implements Trigger<T, W> {
  private constructor(readonly nestedTrigger: Trigger<T, W>) {}

  static of<T, W extends Window>(nestedTrigger: Trigger<T, W>): PurgingTrigger<T, W> {
    return new PurgingTrigger(nestedTrigger);
  }

  onElement(element: T, timestamp: number, window: W, ctx: TriggerContext): TriggerResult {
    return purging(this.nestedTrigger.onElement(element, timestamp, window, ctx));
  }

  onEventTime(time: number, window: W, ctx: TriggerContext): TriggerResult {
    return purging(this.nestedTrigger.onEventTime(time, window, ctx));
  }

  onProcessingTime(time: number, window: W, ctx: TriggerContext): TriggerResult {
    return purging(this.nestedTrigger.onProcessingTime(time, window, ctx));
  }

  canMerge(): boolean {
    return this.nestedTrigger.canMerge();
  }

  onMerge(window: W, ctx: OnMergeContext): void {
    this.nestedTrigger.onMerge(window, ctx);
  }

  clear(window: W, ctx: TriggerContext): void {
    this.nestedTrigger.clear(window, ctx);
  }

  toString(): string {
    return `PurgingTrigger(${this.nestedTrigger.toString()})`;
  }
}

function purging(result: TriggerResult): TriggerResult {
  return isFire(result) ? TriggerResult.FIRE_AND_PURGE : result;
}

import { TriggerResult } from '../api.js';
import type { OnMergeContext, Trigger, TriggerContext, Window } from '../api.js';
import type { ReducingStateDescriptor } from '../../../state/api.js';

/**
 * Fires every `maxCount` elements of a window: a per-window count in reducing state
 * `"count"` (trigger state, merged by summing when sessions merge), reset at each firing.
 * Fires, never purges (wrap it in `PurgingTrigger` for that). Flink: `CountTrigger`.
 */
export class CountTrigger implements Trigger<unknown, Window> {
  private readonly stateDesc: Omit<ReducingStateDescriptor<number>, 'kind'> = { name: 'count', reduce: (a, b) => a + b };

  private constructor(readonly maxCount: number) {}

  /**
   * @param maxCount elements per firing, an integer >= 1.
   * @throws RangeError for anything else.
   */
  static of(maxCount: number): CountTrigger {
    if (!Number.isSafeInteger(maxCount) || maxCount < 1) {
      throw new RangeError(`CountTrigger.of: the count must be an integer >= 1, got ${String(maxCount)} (how many elements per firing)`);
    }
    return new CountTrigger(maxCount);
  }

  onElement(_element: unknown, _timestamp: number, _window: Window, ctx: TriggerContext): TriggerResult {
    const count = ctx.getPartitionedState.getReducingState(this.stateDesc);
    count.add(1);
    if ((count.get() ?? 0) >= this.maxCount) {
      count.clear();
      return TriggerResult.FIRE;
    }
    return TriggerResult.CONTINUE;
  }

  onEventTime(): TriggerResult {
    return TriggerResult.CONTINUE;
  }

  onProcessingTime(): TriggerResult {
    return TriggerResult.CONTINUE;
  }

  canMerge(): boolean {
    return true;
  }

  /** Sums the merged windows' counts (the merged window fires at its next element if over). */
  onMerge(_window: Window, ctx: OnMergeContext): void {
    ctx.mergePartitionedState(this.stateDesc);
  }

  clear(_window: Window, ctx: TriggerContext): void {
    ctx.getPartitionedState.getReducingState(this.stateDesc).clear();
  }

  toString(): string {
    return `CountTrigger(${this.maxCount})`;
  }
}

import { TriggerResult } from '../api.js';
import type { Trigger, Window } from '../api.js';

/**
 * Never fires: the default trigger of `GlobalWindows`, which needs a trigger of its own
 * (`.trigger(CountTrigger.of(100))`) to emit anything. Cannot merge. Flink:
 * `GlobalWindows.NeverTrigger`.
 */
export class NeverTrigger implements Trigger<unknown, Window> {
  onElement(): TriggerResult {
    return TriggerResult.CONTINUE;
  }

  onEventTime(): TriggerResult {
    return TriggerResult.CONTINUE;
  }

  onProcessingTime(): TriggerResult {
    return TriggerResult.CONTINUE;
  }

  canMerge(): boolean {
    return false;
  }

  onMerge(): void {}

  clear(): void {}

  toString(): string {
    return 'NeverTrigger()';
  }
}

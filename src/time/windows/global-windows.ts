import type { WindowAssigner } from './api.js';
import { NeverTrigger } from './triggers/never-trigger.js';
import { GlobalWindow } from './window.js';

/**
 * Puts every element into the one `GlobalWindow`, whose default trigger never fires: give
 * it a trigger (and maybe an evictor) of your own, e.g. `.trigger(PurgingTrigger.of(CountTrigger.of(100)))`.
 * Not event time. Flink: `GlobalWindows`.
 */
export class GlobalWindows implements WindowAssigner<unknown, GlobalWindow> {
  readonly kind = 'global' as const;

  private constructor() {}

  static create(): GlobalWindows {
    return new GlobalWindows();
  }

  assignWindows(): GlobalWindow[] {
    return [GlobalWindow.get()];
  }

  getDefaultTrigger(): NeverTrigger {
    return new NeverTrigger();
  }

  isEventTime(): boolean {
    return false;
  }

  /** The GlobalWindow, for namespace `[]`. @throws RangeError for any other namespace. */
  windowOf(ns: readonly number[]): GlobalWindow {
    if (ns.length !== 0) throw new RangeError(`GlobalWindows.windowOf: ${JSON.stringify(ns)} is not the global window's namespace [] (state written by another assigner?)`);
    return GlobalWindow.get();
  }

  toString(): string {
    return 'GlobalWindows()';
  }
}

/**
 * What the time-window assigners share: where the time of an element comes from (its event
 * timestamp, or the processing-time clock), their default trigger, and restoring windows
 * from namespaces.
 */
import type { Trigger, WindowAssignerContext } from './api.js';
import { eventTimestamp, timeWindowBounds } from './checks.js';
import { EventTimeTrigger } from './triggers/event-time-trigger.js';
import { ProcessingTimeTrigger } from './triggers/processing-time-trigger.js';
import { TimeWindow } from './window.js';

/** What kind of windows an assigner makes; the operator slices sliding event-time windows into panes. */
export type WindowAssignerKind = 'tumbling' | 'sliding' | 'session' | 'global';

export abstract class TimeWindowAssigner {
  abstract readonly kind: WindowAssignerKind;

  protected constructor(private readonly eventTime: boolean) {}

  isEventTime(): boolean {
    return this.eventTime;
  }

  /** `EventTimeTrigger` for event-time assigners, `ProcessingTimeTrigger` for the others. */
  getDefaultTrigger(): Trigger<unknown, TimeWindow> {
    return this.eventTime ? EventTimeTrigger.create() : ProcessingTimeTrigger.create();
  }

  /**
   * The TimeWindow of namespace `[start, end]`.
   * @throws RangeError for any other shape.
   */
  windowOf(ns: readonly number[]): TimeWindow {
    const [start, end] = timeWindowBounds(`${this.toString()}.windowOf`, ns);
    return new TimeWindow(start, end);
  }

  /**
   * The time an element is windowed by: its event timestamp (event time), or the context's
   * processing time (processing time: as Flink, the `timestamp` argument is not used).
   * @throws UsageError for event time when `timestamp` is NaN (the record has none).
   */
  protected timeOf(timestamp: number, context: WindowAssignerContext): number {
    return this.eventTime ? eventTimestamp(this, timestamp) : context.getCurrentProcessingTime();
  }

  abstract toString(): string;
}

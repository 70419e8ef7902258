/**
 * Windowing: windows, assigners, triggers, evictors and the merging window set, with
 * Flink's names and semantics. The contracts are in api.ts; the window operator drives them.
 */
export { TriggerResult, isFire, isMergingAssigner, isPurge } from './api.js';
export type {
  AllWindowFunction,
  EvictorContext,
  Evictor,
  MergingWindowAssigner,
  OnMergeContext,
  PartitionedStateStore,
  ProcessAllWindowFunction,
  ProcessWindowContext,
  ProcessWindowFunction,
  TimestampedValue,
  Trigger,
  TriggerContext,
  Window,
  WindowAssigner,
  WindowAssignerContext,
  WindowFunction,
} from './api.js';
export { Time } from './time.js';
export { GlobalWindow, TimeWindow } from './window.js';
export type { WindowAssignerKind } from './time-window-assigner.js';
export { TumblingEventTimeWindows, TumblingProcessingTimeWindows } from './tumbling-windows.js';
export { SlidingEventTimeWindows, SlidingProcessingTimeWindows } from './sliding-windows.js';
export {
  DynamicEventTimeSessionWindows,
  DynamicProcessingTimeSessionWindows,
  EventTimeSessionWindows,
  ProcessingTimeSessionWindows,
} from './session-windows.js';
export type { SessionWindowTimeGapExtractor } from './session-windows.js';
export { GlobalWindows } from './global-windows.js';
export { EventTimeTrigger } from './triggers/event-time-trigger.js';
export { ProcessingTimeTrigger } from './triggers/processing-time-trigger.js';
export { CountTrigger } from './triggers/count-trigger.js';
export { PurgingTrigger } from './triggers/purging-trigger.js';
export { ContinuousEventTimeTrigger } from './triggers/continuous-event-time-trigger.js';
export { ContinuousProcessingTimeTrigger } from './triggers/continuous-processing-time-trigger.js';
export { NeverTrigger } from './triggers/never-trigger.js';
export { CountEvictor, TimeEvictor } from './evictors.js';
export { MergingWindowSet } from './merging-window-set.js';
export type { MergeFunction, MergingWindowSetData } from './merging-window-set.js';

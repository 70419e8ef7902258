export { WatermarkStrategy, AscendingTimestampsWatermarks, BoundedOutOfOrdernessWatermarks, NoWatermarksGenerator, WatermarksWithIdleness } from './watermark-strategy.js';
export type { TimestampAssigner, WatermarkGenerator, WatermarkGeneratorContext, WatermarkOutput } from './watermark-strategy.js';
export { WatermarkValve } from './watermark-valve.js';
export type { ValveOutput } from './watermark-valve.js';
export { GeneratedOutput, OutputWatermarks } from './output-watermarks.js';
export type { CombinedWatermarkSink } from './output-watermarks.js';
export { InternalTimerService, systemProcessingClock } from './timer-service.js';
export type { FiredTimer, KeyContext, ProcessingClock, TimeDomain, TimerQueue, TimerService } from './timer-service.js';
export * from './windows/index.js';

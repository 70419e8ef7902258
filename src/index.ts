/**
 * sluicegate: a stateful stream processing engine for Node.js, after Apache Flink.
 * Public entry: the DataStream API to define jobs, and `runJob` to run them.
 */
export * from './api/index.js';
// The source and sink APIs (FLIP-27, Sink V2), the built-in file sink and its encoders.
export { AvailabilitySignal, Boundedness, FileSink, SplitRequests, csvEncoder, jsonLinesEncoder, textRowEncoder } from './connectors/index.js';
export { NexmarkSource, NexmarkGenerator, NexmarkConfig, NexmarkEvent, Person, Auction, Bid, EventType } from './connectors/index.js';
export type { NexmarkOptions, NexmarkSourceOptions } from './connectors/index.js';
export type {
  Committer,
  CommitterInitContext,
  CsvReadOptions,
  CsvWriteOptions,
  GlobalInitContext,
  InputStatus,
  JsonLinesReadOptions,
  ParseErrorPolicy,
  ReaderOutput,
  RollbackRequest,
  RowEncoder,
  Sink,
  SinkWriter,
  Source,
  SourceReader,
  SourceReaderContext,
  SourceSplit,
  SplitEnumerator,
  SplitEnumeratorContext,
  WriterInitContext,
} from './connectors/index.js';
export { WatermarkStrategy } from './time/index.js';
// Windows: assigners, triggers, evictors (Flink's names), and the contracts to write your own.
export {
  ContinuousEventTimeTrigger,
  ContinuousProcessingTimeTrigger,
  CountEvictor,
  CountTrigger,
  DynamicEventTimeSessionWindows,
  DynamicProcessingTimeSessionWindows,
  EventTimeSessionWindows,
  EventTimeTrigger,
  GlobalWindow,
  GlobalWindows,
  NeverTrigger,
  ProcessingTimeSessionWindows,
  ProcessingTimeTrigger,
  PurgingTrigger,
  SlidingEventTimeWindows,
  SlidingProcessingTimeWindows,
  Time,
  TimeEvictor,
  TimeWindow,
  TriggerResult,
  TumblingEventTimeWindows,
  TumblingProcessingTimeWindows,
} from './time/index.js';
export type {
  AllWindowFunction,
  Evictor,
  EvictorContext,
  MergingWindowAssigner,
  OnMergeContext,
  PartitionedStateStore,
  ProcessAllWindowFunction,
  ProcessWindowContext,
  ProcessWindowFunction,
  SessionWindowTimeGapExtractor,
  TimestampedValue,
  Trigger,
  TriggerContext,
  Window,
  WindowAssigner,
  WindowAssignerContext,
  WindowAssignerKind,
  WindowFunction,
} from './time/index.js';
export { runJob, MiniCluster, JobCancelledError, SubtaskError, startWorkersWithFullYoungGeneration, workerSemiSpaceMb } from './runtime/index.js';
export type { CompletedCheckpoint, JobEvent, JobHandle, JobMetrics, JobResult, MiniClusterOptions, OperatorStats, RestartStrategyConfig, RunJobOptions, SubtaskStats } from './runtime/index.js';
export type { LatencySummary } from './metrics/index.js';
export { UsageError, UserFunctionError } from './errors.js';
export type { UserFunctionFailure } from './errors.js';
export type * from './state/api.js';
export { assignToKeyGroup, defaultMaxParallelism, keyGroupRangeForSubtask, operatorIndexForKeyGroup } from './state/key-group.js';

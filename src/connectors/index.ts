export { AvailabilitySignal, Boundedness, SplitRequests, isSource, splitRange } from './source.js';
export type {
  InputStatus,
  ReaderOutput,
  Source,
  SourceReader,
  SourceReaderContext,
  SourceSplit,
  SplitEnumerator,
  SplitEnumeratorContext,
} from './source.js';
export { IndexedSource, indexedPollRecords, rateLimitedWaitMinMs, toIndexSplit } from './indexed-source.js';
export type { IndexSplit, IndexedSourceOptions } from './indexed-source.js';
export { RateLimiter, rateLimiterBurstMs } from './rate-limiter.js';
export type { MonotonicClock } from './rate-limiter.js';
export { FileSource } from './file-source.js';
export type { FileEnumeratorState, FileSourceOptions } from './file-source.js';
export { FileSplitReader, cutFile, fileSplitId, filePollLines, isHiddenFileName, lineNumberAt, planTextFileSplits, readChunkBytes, splitSizeMinBytes, toFileSplit } from './text-file.js';
export type { FileSplit } from './text-file.js';
export { LineDecoder, noRecord, skipLine, textLineFormat } from './line-format.js';
export type { LineDecoderFunctions, LineFormat, ParseErrorPolicy } from './line-format.js';
export { LineSplitter, lineLengthMaxBytes } from './line-splitter.js';
export { SingleSplitEnumerator, StreamLineReader, queuedLinesHigh, streamPollLines } from './stream-reader.js';
export type { StreamSplit } from './stream-reader.js';
export { PipeSource, stdinPath } from './pipe-source.js';
export { SocketSource, defaultSocketRetryDelayMs } from './socket-source.js';
export type { SocketSourceOptions } from './socket-source.js';
export { castCsvField, csvEncoder, csvFormat, jsonLinesEncoder, jsonLinesFormat } from './formats.js';
export type { CsvReadOptions, CsvWriteOptions, JsonLinesReadOptions } from './formats.js';
export { isSink } from './sink.js';
export type { Committer, CommitterInitContext, GlobalInitContext, RollbackRequest, Sink, SinkWriter, WriterInitContext } from './sink.js';
export { CollectSinkWriter, PrintSinkWriter, decodeCollectChunk, formatRecord, partFileName, textSinkBufferBytes } from './sinks.js';
export { FileCommitter, FileSink, FileSinkWriter, commitPendingFiles, discardPartFiles, textRowEncoder } from './file-sink.js';
export type { FileWriterState, PendingFile, RowEncoder } from './file-sink.js';
export * from './nexmark/index.js';

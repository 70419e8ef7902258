export { IndexedSourceReader, splitRange } from './source.js';
export type { SourceReader } from './source.js';
export { TextFileReader, planTextFileSplits, readChunkBytes, splitSizeMinBytes } from './text-file.js';
export type { FileSplit } from './text-file.js';
export { CollectSinkWriter, PrintSinkWriter, formatRecord, partFileName, textSinkBufferBytes } from './sinks.js';
export type { SinkWriter } from './sinks.js';
export type { PendingFileRef } from './sinks.js';
export { TwoPhaseCommitTextSinkWriter } from './two-phase-text-sink.js';
export type { PendingFile, TextSinkState } from './two-phase-text-sink.js';

export { IndexedSourceReader, splitRange } from './source.js';
export type { SourceReader } from './source.js';
export { TextFileReader, planTextFileSplits, readChunkBytes, splitSizeMinBytes } from './text-file.js';
export type { FileSplit } from './text-file.js';
export { CollectSinkWriter, PrintSinkWriter, TextFileSinkWriter, formatRecord, partFileName } from './sinks.js';
export type { SinkWriter } from './sinks.js';

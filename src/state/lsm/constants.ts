/**
 * Named limits of the LSM store, units last. Each default states its trade-off.
 * Idea: TigerBeetle's `constants.zig` (one place for every tunable).
 */

/** Target payload of one data block. Smaller: less read per cold get, bigger index. */
export const blockSizeBytesDefault = 4096;
export const blockSizeBytesMin = 256;
export const blockSizeBytesMax = 1024 * 1024;

/** Memtable budget. Bigger: fewer, larger flushes and fewer segments; more heap. */
export const memtableSizeBytesDefault = 64 * 1024 * 1024;
/** Tests use tiny memtables to produce many segments; 4 KiB is the floor. */
export const memtableSizeBytesMin = 4096;
export const memtableSizeBytesMax = 1024 * 1024 * 1024;
/**
 * Approximate heap cost of one memtable entry beyond its key and value bytes: the
 * skip-list node (48) and its hash-index slots (32, hash-index.ts).
 */
export const memtableEntryOverheadBytes = 80;

/** Frozen memtables awaiting flush; when exceeded, a write flushes the oldest inline. */
export const immutableMemtablesMaxDefault = 2;
export const immutableMemtablesMax = 16;

/** LRU cache of data blocks (raw, or decoded once a cursor read them). 0 disables caching. */
export const blockCacheSizeBytesDefault = 32 * 1024 * 1024;
/** Heap cost charged beyond its bytes per cached raw block, and per key of a decoded block (two array slots, a subarray). */
export const blockCacheEntryOverheadBytes = 80;

/** Bloom filter bits per key: 10 gives about 1% false positives (LevelDB's default). */
export const bloomBitsPerKeyDefault = 10;
export const bloomBitsPerKeyMax = 32;

/** Bytes of input one compaction or flush step processes; bounds the pause per step. */
export const compactionStepBytesDefault = 1024 * 1024;

/** Size-tiered policy: merge when at least this many adjacent newest segments qualify. */
export const compactionMinWidth = 4;
/** Most segments one merge reads (bounds open descriptors and merge fan-in). */
export const compactionMaxWidth = 16;
/** A segment joins the candidate run if its size <= ratio x the run's total so far. */
export const compactionSizeRatio = 1.5;
/** Merge everything when the newer segments together exceed this x the oldest one. */
export const compactionSpaceAmplificationMax = 1.0;
/** Above this many live segments, always merge the newest run (bounds read fan-out). */
export const liveSegmentsSoftMax = 24;

/** Skip-list height bound: with p = 1/4, 12 levels serve up to ~16 M entries. */
export const skiplistLevelsMax = 12;

/** Segment file layout constants (native-notes.md section 3). */
export const segmentFormatVersion = 1;
export const segmentFooterSizeBytes = 64;
/** Trailer after each block payload: CRC32 (u32 little-endian) of the payload. */
export const blockTrailerSizeBytes = 4;
/** "SLUICSEG" in ASCII, the last 8 bytes of every segment. */
export const segmentMagic = Uint8Array.of(0x53, 0x4c, 0x55, 0x49, 0x43, 0x53, 0x45, 0x47);
export const segmentFileSuffix = '.seg';
export const segmentTempSuffix = '.tmp';

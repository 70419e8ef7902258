/** Public entry of the LSM store (src/state/lsm/). */
export { LsmStore, type LsmStoreStats } from './store.js';
export type { LsmStoreOptions } from './options.js';
export { CorruptSegmentError, StoreClosedError } from './errors.js';
export { compareBytes, prefixEnd, keyGroupOf } from './bytes.js';
export { hashBytes } from './bloom.js';
export { pickMerge, type MergePick } from './compaction-policy.js';
export { crc32, crc32Portable } from './crc32.js';
export * as lsmConstants from './constants.js';
export { verifySegmentChecksums, verifySegmentFile } from './verify.js';

/**
 * Which segments to merge next: a size-tiered policy after RocksDB's "universal"
 * compaction, over live segments ordered oldest first. Only adjacent segments are merged,
 * so the merged output keeps its place in the age order (newest wins stays true).
 *
 * Rules, first match wins:
 * 1. Size ratio: starting at the newest segment, extend the run to the next older one
 *    while its size <= `compactionSizeRatio` x the run's total; merge the run when it
 *    has >= `compactionMinWidth` segments.
 * 2. Space amplification: when the newer segments together exceed
 *    `compactionSpaceAmplificationMax` x the oldest, merge all (when <= max width).
 * 3. Count bound: above `liveSegmentsSoftMax` segments, merge the newest max-width run.
 *
 * Trade-off: tiering rewrites each byte O(log(total / flush size)) times (low write
 * amplification, good for update-heavy streaming state) at the cost of more segments per
 * read than leveled compaction; bloom filters keep point reads at about one block read,
 * range scans merge one cursor per overlapping segment. Tombstones and filtered entries
 * are dropped only when a merge includes the oldest segment (rules 2 and sometimes 1, 3).
 */
import * as C from './constants.js';

/** A run [start, end) of the segment list, oldest first. */
export interface MergePick {
  start: number;
  end: number;
}

function sizeRatioRun(sizes: readonly number[]): MergePick | undefined {
  const n = sizes.length;
  let total = sizes[n - 1]!;
  let start = n - 1;
  while (start > 0 && n - start < C.compactionMaxWidth && sizes[start - 1]! <= C.compactionSizeRatio * total) {
    start--;
    total += sizes[start]!;
  }
  return n - start >= C.compactionMinWidth ? { start, end: n } : undefined;
}

/** The next merge for segment sizes (bytes, oldest first), or undefined if none is due. */
export function pickMerge(sizes: readonly number[]): MergePick | undefined {
  const n = sizes.length;
  if (n < 2) return undefined;
  const run = sizeRatioRun(sizes);
  if (run !== undefined) return run;
  const newer = sizes.slice(1).reduce((a, b) => a + b, 0);
  if (n <= C.compactionMaxWidth && newer > C.compactionSpaceAmplificationMax * sizes[0]!) {
    return { start: 0, end: n };
  }
  if (n > C.liveSegmentsSoftMax) return { start: n - C.compactionMaxWidth, end: n };
  return undefined;
}

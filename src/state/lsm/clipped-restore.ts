/**
 * Restore clipped to a key range (`LsmStore.restoreClipped`, for rescaling): the segment
 * files of several old stores, each one old subtask's snapshot, become the content of one
 * new store holding only the keys of the new subtask's key groups. Flink's
 * `RocksDBIncrementalRestoreOperation` with key-group clipping.
 */
import { BlockCache } from './block-cache.js';
import { compareBytes, keyGroupOf } from './bytes.js';
import { MergingCursor, type Cursor } from './cursor.js';
import type { ResolvedLsmStoreOptions } from './options.js';
import { SegmentReader } from './segment-reader.js';
import { SegmentWriter } from './segment-writer.js';
import { nextFreeSeq, placeSegments, segmentName } from './segment-files.js';
import path from 'node:path';

/**
 * Places in `dir` (created if missing) the segments of a store holding the live entries
 * of `sources` (each a list of segment files, oldest first) with `start <= key < end`:
 * a source wholly inside the range is linked as it is; the others are merged, clipped,
 * into one new segment (none when nothing is live). Returns the local names, oldest
 * first, and the clipped segment's entry count. Throws an `Error` when two sources'
 * key groups overlap, or naming a missing file. See `LsmStore.restoreClipped`.
 */
export function placeClippedSegments(
  dir: string,
  sources: readonly (readonly string[])[],
  start: Uint8Array,
  end: Uint8Array | undefined,
  options: ResolvedLsmStoreOptions,
): { names: string[]; entryCount: number } {
  const spans = sources.map((paths) => sourceSpan(paths));
  checkDisjoint(spans, start, end);
  const whole = spans.map((span) => span !== undefined && compareBytes(span.first, start) >= 0 && (end === undefined || compareBytes(span.last, end) < 0));
  const names = placeSegments(dir, sources.filter((_, i) => whole[i]).flat());
  const partial = sources.flatMap((paths, index) => (whole[index] ? [] : [{ index, paths }]));
  const name = segmentName(nextFreeSeq(dir));
  const entryCount = partial.length === 0 ? 0 : writeClipped(path.join(dir, name), partial, start, end, options);
  if (entryCount > 0) names.push(name);
  return { names, entryCount };
}

/** One source of `restoreClipped`, positioned at its first live entry in range. */
interface ClippedSource {
  index: number;
  cursor: Cursor;
}

/** First and last key over a source's segments (index only), or undefined without segments. */
function sourceSpan(paths: readonly string[]): { first: Uint8Array; last: Uint8Array } | undefined {
  const readers: SegmentReader[] = [];
  try {
    const segments = paths.map((p) => openSourceSegment(p, readers.length + 1, new BlockCache(0), readers));
    if (segments.length === 0) return undefined;
    let first = segments[0]!.firstKey;
    let last = segments[0]!.lastKey;
    for (const s of segments) {
      if (compareBytes(s.firstKey, first) < 0) first = s.firstKey;
      if (compareBytes(s.lastKey, last) > 0) last = s.lastKey;
    }
    return { first: first.slice(), last: last.slice() };
  } finally {
    for (const r of readers) r.unref();
  }
}

/**
 * Old subtasks owned disjoint key groups: two sources whose key-group spans (clipped to
 * the range) meet are a mistake (the same snapshot given twice?). Throws an `Error`
 * naming both.
 */
function checkDisjoint(spans: ReadonlyArray<{ first: Uint8Array; last: Uint8Array } | undefined>, start: Uint8Array, end: Uint8Array | undefined): void {
  const groups = spans.flatMap((span, index) => {
    if (span === undefined || compareBytes(span.last, start) < 0 || (end !== undefined && compareBytes(span.first, end) >= 0)) return [];
    const from = Math.max(keyGroupOf(span.first), keyGroupOf(start));
    // Keys below `end` reach its key group only when `end` is longer than the 2-byte prefix.
    const below = end === undefined ? Infinity : keyGroupOf(end) - (end.length <= 2 ? 1 : 0);
    const to = Math.min(keyGroupOf(span.last), below);
    return [{ index, from, to }];
  });
  groups.sort((a, b) => a.from - b.from);
  for (let i = 1; i < groups.length; i++) {
    const previous = groups[i - 1]!;
    const next = groups[i]!;
    if (next.from <= previous.to) {
      const [a, b] = previous.index < next.index ? [previous, next] : [next, previous];
      throw new Error(
        `Cannot rescale LSM state: the key groups of sources ${a.index} and ${b.index} overlap ` +
          `(source ${a.index} holds key groups ${a.from}..${a.to}, source ${b.index} ${b.from}..${b.to}): give each old subtask's snapshot once, as one source`,
      );
    }
  }
}

/**
 * Writes the live entries in [start, end) of every source into one new segment at
 * `to`; returns the entry count (0: no file written). See `LsmStore.restoreClipped`.
 */
function writeClipped(
  to: string,
  sources: ReadonlyArray<{ index: number; paths: readonly string[] }>,
  start: Uint8Array,
  end: Uint8Array | undefined,
  o: ResolvedLsmStoreOptions,
): number {
  // Blocks are read once, so they bypass the cache (fillCache false); ids are per reader.
  const cache = new BlockCache(0);
  const readers: SegmentReader[] = [];
  const open: ClippedSource[] = [];
  let writer: SegmentWriter | undefined;
  try {
    sources.forEach(({ index, paths }) => {
      const segments = paths.map((p) => openSourceSegment(p, readers.length + 1, cache, readers));
      const cursor = clippedCursor(segments, start, end);
      skipTombstones(cursor);
      if (cursor.valid()) open.push({ index, cursor });
      else cursor.close();
    });
    // Sources own disjoint key-group ranges, so copying them in order of their first key
    // yields one sorted run; the check below turns an overlap into a clear error.
    open.sort((a, b) => compareBytes(a.cursor.key(), b.cursor.key()));
    writer = new SegmentWriter(to, { blockSizeBytes: o.blockSizeBytes, bloomBitsPerKey: o.bloomBitsPerKey, fsync: o.fsync });
    let previous: { index: number; lastKey: Uint8Array } | undefined;
    for (const { index, cursor } of open) {
      const firstKey = cursor.key();
      if (previous !== undefined && keyGroupOf(firstKey) <= keyGroupOf(previous.lastKey)) {
        throw new Error(
          `Cannot rescale LSM state: the key groups of sources ${previous.index} and ${index} overlap ` +
            `(source ${previous.index} holds up to key group ${keyGroupOf(previous.lastKey)}, source ${index} ` +
            `from key group ${keyGroupOf(firstKey)}): give each old subtask's snapshot once, as one source`,
        );
      }
      let lastKey = firstKey;
      for (; cursor.valid(); cursor.next(), skipTombstones(cursor)) {
        lastKey = cursor.key();
        writer.add(lastKey, cursor.value());
      }
      previous = { index, lastKey };
    }
    const written = writer.finish();
    return written?.entryCount ?? 0;
  } catch (e) {
    writer?.abort();
    throw e;
  } finally {
    for (const { cursor } of open) cursor.close();
    for (const r of readers) r.unref();
  }
}

/** Advances `c` past tombstones: afterwards it is invalid or at a live entry. */
function skipTombstones(c: Cursor): void {
  while (c.valid() && c.value() === null) c.next();
}

/**
 * A cursor over [start, end) of one source's segments (oldest first), newest version per
 * key, tombstones included; segments outside the range are skipped. Uncached reads.
 */
function clippedCursor(segments: readonly SegmentReader[], start: Uint8Array, end: Uint8Array | undefined): Cursor {
  const cursors: Cursor[] = [];
  try {
    for (let i = segments.length - 1; i >= 0; i--) {
      const s = segments[i]!;
      if (compareBytes(s.lastKey, start) < 0 || (end !== undefined && compareBytes(s.firstKey, end) >= 0)) continue;
      cursors.push(s.cursor(start, false));
    }
  } catch (e) {
    for (const c of cursors) c.close();
    throw e;
  }
  return new MergingCursor(cursors, end);
}

/**
 * Opens a source segment read-only and appends it to `readers` (which the caller
 * releases); a missing file is an `Error` naming it.
 */
function openSourceSegment(file: string, id: number, cache: BlockCache, readers: SegmentReader[]): SegmentReader {
  try {
    const r = new SegmentReader(file, id, cache);
    readers.push(r);
    return r;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') {
      throw new Error(`Cannot rescale LSM state: segment file ${file} is missing (deleted, or not yet copied into place?)`, { cause: e });
    }
    throw e;
  }
}

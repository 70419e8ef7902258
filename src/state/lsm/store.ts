/**
 * LsmStore: a synchronous log-structured merge tree of byte keys and byte values in one
 * directory, after LevelDB/RocksDB, without a write-ahead log (durability comes from
 * checkpoints: `freeze` + `flushAll` + `liveSegments`).
 *
 * Design:
 * - Writes go to the mutable memtable. When its byte size reaches `memtableSizeBytes`
 *   it is frozen and appended to the immutable list; writes continue in a new one.
 * - Immutable memtables are flushed, oldest first, to segment files by `maintenanceStep`
 *   in bounded steps; when more than `maxImmutableMemtables` wait, a write flushes the
 *   oldest inline (the backpressure of the write path).
 * - Reads: memtable, immutable memtables newest first, then segments newest first
 *   (key range, bloom filter, index, one block through the block cache).
 * - Compaction (`compactStep`) merges adjacent segments chosen by `pickMerge` in bounded
 *   steps; a merge in progress keeps its cursor and writer between steps.
 *
 * Invariants:
 * - `segments` is ordered oldest first; for any key the newest entry is authoritative.
 * - A flush appends at the newest end; a compaction replaces a contiguous run in place.
 * - Segment names are `<seq>.seg` with `seq` increasing per directory; a name is used
 *   once. Files appear only complete (written as `.tmp`, renamed).
 * - One store per directory at a time.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { BlockCache } from './block-cache.js';
import { hashBytes } from './bloom.js';
import { compareBytes, prefixEnd } from './bytes.js';
import { segmentFileSuffix, segmentTempSuffix } from './constants.js';
import { MergingCursor, type Cursor } from './cursor.js';
import { StoreClosedError } from './errors.js';
import { Memtable } from './memtable.js';
import { MergeJob } from './merge-job.js';
import { pickMerge } from './compaction-policy.js';
import { resolveOptions, type LsmStoreOptions, type ResolvedLsmStoreOptions } from './options.js';
import { SegmentReader } from './segment-reader.js';
import { SegmentWriter } from './segment-writer.js';

/** Counters for tests, metrics and the benchmark. */
export interface LsmStoreStats {
  memtableSizeBytes: number;
  immutableMemtableCount: number;
  segmentCount: number;
  segmentSizeBytes: number;
  flushCount: number;
  compactionCount: number;
  compactionBytesWritten: number;
  blockCacheHits: number;
  blockCacheMisses: number;
}

interface FlushInProgress {
  memtable: Memtable;
  job: MergeJob;
}
interface CompactionInProgress {
  inputs: SegmentReader[];
  job: MergeJob;
}

const segmentNamePattern = /^(\d+)\.seg$/;

function segmentName(seq: number): string {
  return `${String(seq).padStart(6, '0')}${segmentFileSuffix}`;
}

export class LsmStore {
  private memtable = new Memtable();
  /** Frozen memtables, oldest first. */
  private readonly immutables: Memtable[] = [];
  /** Live segments, oldest first. */
  private segments: SegmentReader[] = [];
  private flushing: FlushInProgress | undefined;
  private compacting: CompactionInProgress | undefined;
  private readonly cache: BlockCache;
  private nextSeq = 1;
  private nextReaderId = 1;
  private closed = false;
  /** The last maintenance step flushed; the next one compacts if a merge is due. */
  private lastStepFlushed = false;
  private readonly counters = { flushCount: 0, compactionCount: 0, compactionBytesWritten: 0 };

  private constructor(
    readonly dir: string,
    private readonly options: ResolvedLsmStoreOptions,
  ) {
    this.cache = new BlockCache(options.blockCacheSizeBytes);
  }

  /**
   * Opens a store in `dir` (created if missing). With `options.segments` the listed files
   * are opened and verified (footer, index, bloom) as the store's content, oldest first.
   * Leftover `.tmp` files are removed. Throws `RangeError`/`TypeError` for bad options,
   * `CorruptSegmentError` for a damaged segment, the fs error for a missing one.
   */
  static open(dir: string, options?: LsmStoreOptions): LsmStore {
    const store = new LsmStore(dir, resolveOptions(options));
    fs.mkdirSync(dir, { recursive: true });
    for (const file of fs.readdirSync(dir)) {
      if (file.endsWith(segmentTempSuffix)) fs.rmSync(path.join(dir, file), { force: true });
      const m = segmentNamePattern.exec(file);
      if (m !== null) store.nextSeq = Math.max(store.nextSeq, Number(m[1]) + 1);
    }
    try {
      for (const name of store.options.segments) store.segments.push(store.openSegment(name));
    } catch (e) {
      store.close();
      throw e;
    }
    return store;
  }

  private openSegment(name: string): SegmentReader {
    return new SegmentReader(path.join(this.dir, name), this.nextReaderId++, this.cache);
  }

  private checkOpen(): void {
    if (this.closed) throw new StoreClosedError(this.dir);
  }

  /** Writes `key -> value`. The store keeps both arrays: do not mutate them afterwards. */
  put(key: Uint8Array, value: Uint8Array): void {
    this.write(key, value);
  }

  /** Deletes `key` (writes a tombstone). */
  delete(key: Uint8Array): void {
    this.write(key, null);
  }

  private write(key: Uint8Array, value: Uint8Array | null): void {
    this.checkOpen();
    if (!(key instanceof Uint8Array)) throw new TypeError(`LsmStore key must be a Uint8Array, got ${typeof key}`);
    if (value !== null && !(value instanceof Uint8Array)) {
      throw new TypeError(`LsmStore value must be a Uint8Array, got ${typeof value}`);
    }
    this.memtable.put(key, value);
    if (this.memtable.sizeBytes >= this.options.memtableSizeBytes) this.freeze();
  }

  /** The newest value of `key`, or undefined. The array must not be mutated. */
  get(key: Uint8Array): Uint8Array | undefined {
    this.checkOpen();
    let v = this.memtable.get(key);
    for (let i = this.immutables.length - 1; v === undefined && i >= 0; i--) v = this.immutables[i]!.get(key);
    if (v !== undefined) return v ?? undefined;
    const hash = hashBytes(key);
    for (let i = this.segments.length - 1; i >= 0; i--) {
      v = this.segments[i]!.get(key, hash);
      if (v !== undefined) return v ?? undefined;
    }
    return undefined;
  }

  /** A merged cursor over [start, end), tombstones included; sources newest first. */
  private cursor(start: Uint8Array | undefined, end: Uint8Array | undefined): Cursor {
    const sources: Cursor[] = [this.memtable.cursor(start)];
    for (let i = this.immutables.length - 1; i >= 0; i--) sources.push(this.immutables[i]!.cursor(start));
    for (let i = this.segments.length - 1; i >= 0; i--) {
      const s = this.segments[i]!;
      if (start !== undefined && compareBytes(s.lastKey, start) < 0) continue;
      if (end !== undefined && compareBytes(s.firstKey, end) >= 0) continue;
      sources.push(s.cursor(start));
    }
    return new MergingCursor(sources, end);
  }

  /**
   * Live entries with start <= key < end in ascending key order (either bound may be
   * omitted). Reflects the store when iteration starts; writes during iteration may or
   * may not be seen. Segments it reads stay open until it finishes or is returned from.
   */
  *scan(start?: Uint8Array, end?: Uint8Array): Generator<[Uint8Array, Uint8Array], void, undefined> {
    this.checkOpen();
    const c = this.cursor(start, end);
    try {
      for (; c.valid(); c.next()) {
        const v = c.value();
        if (v !== null) yield [c.key(), v];
      }
    } finally {
      c.close();
    }
  }

  /** Live entries whose key starts with `prefix`, ascending. */
  scanPrefix(prefix: Uint8Array): Generator<[Uint8Array, Uint8Array], void, undefined> {
    return this.scan(prefix, prefixEnd(prefix));
  }

  /** Freezes the memtable now (checkpoint seam) if it holds anything. */
  freeze(): void {
    this.checkOpen();
    if (this.memtable.entryCount === 0) return;
    this.memtable.frozen = true;
    this.immutables.push(this.memtable);
    this.memtable = new Memtable();
    while (this.immutables.length > this.options.maxImmutableMemtables) this.flushOldest(Infinity);
  }

  /** Flushes every immutable memtable to segments (checkpoint seam). */
  flushAll(): void {
    this.checkOpen();
    while (this.immutables.length > 0) this.flushOldest(Infinity);
  }

  /** One bounded flush step of the oldest immutable memtable; true when it completed. */
  private flushOldest(budgetBytes: number): boolean {
    const oldest = this.immutables[0];
    assert.ok(oldest !== undefined, 'flush without an immutable memtable');
    if (this.flushing === undefined) {
      const writer = this.newWriter();
      this.flushing = { memtable: oldest, job: new MergeJob(oldest.cursor(), writer, false, undefined) };
    }
    assert.ok(this.flushing.memtable === oldest, 'flush order');
    if (!this.flushing.job.step(budgetBytes)) return false;
    const written = this.flushing.job.finish();
    this.flushing = undefined;
    if (written !== undefined) this.segments.push(this.openSegment(path.basename(written.path)));
    this.immutables.shift();
    this.counters.flushCount++;
    return true;
  }

  private newWriter(): SegmentWriter {
    const name = segmentName(this.nextSeq++);
    const { blockSizeBytes, bloomBitsPerKey, fsync } = this.options;
    return new SegmentWriter(path.join(this.dir, name), { blockSizeBytes, bloomBitsPerKey, fsync });
  }

  /**
   * One bounded step of compaction (about `budgetBytes` of input, default
   * `compactionStepBytes`). Starts a merge when the policy picks one. Returns true if
   * compaction work remains (this merge unfinished or another one due).
   */
  compactStep(budgetBytes = this.options.compactionStepBytes): boolean {
    this.checkOpen();
    if (this.compacting === undefined && !this.startCompaction()) return false;
    const c = this.compacting;
    assert.ok(c !== undefined);
    if (c.job.step(budgetBytes)) this.installCompaction(c);
    return this.compacting !== undefined || pickMerge(this.segmentSizes()) !== undefined;
  }

  private segmentSizes(): number[] {
    return this.segments.map((s) => s.fileSizeBytes);
  }

  private startCompaction(): boolean {
    const pick = pickMerge(this.segmentSizes());
    if (pick === undefined) return false;
    const inputs = this.segments.slice(pick.start, pick.end);
    const cursors = inputs.map((s) => s.cursor(undefined, false)).reverse();
    const bottommost = pick.start === 0;
    const job = new MergeJob(new MergingCursor(cursors), this.newWriter(), bottommost, this.options.compactionFilter);
    this.compacting = { inputs, job };
    return true;
  }

  private installCompaction(c: CompactionInProgress): void {
    const written = c.job.finish();
    this.compacting = undefined;
    const at = this.segments.indexOf(c.inputs[0]!);
    assert.ok(at >= 0, 'compaction inputs vanished');
    c.inputs.forEach((s, i) => assert.ok(this.segments[at + i] === s, 'compaction inputs not contiguous'));
    const output = written === undefined ? [] : [this.openSegment(path.basename(written.path))];
    this.segments.splice(at, c.inputs.length, ...output);
    for (const s of c.inputs) this.retire(s);
    this.counters.compactionCount++;
    this.counters.compactionBytesWritten += written?.fileSizeBytes ?? 0;
  }

  /** Drops the store's reference and deletes the file unless `retainSegment` keeps it. */
  private retire(s: SegmentReader): void {
    s.unref();
    if (this.options.retainSegment?.(s.name) === true) return;
    fs.rmSync(s.path, { force: true });
  }

  /**
   * One bounded unit of background work: a flush step if a memtable waits, else a
   * compaction step; when both are due they take turns. Returns true if more is pending.
   */
  maintenanceStep(budgetBytes = this.options.compactionStepBytes): boolean {
    this.checkOpen();
    // When both are due, alternate: a writer that fills a memtable between every two
    // steps would otherwise keep flushing and never compact (segments pile up).
    const compactionDue = this.compacting !== undefined || pickMerge(this.segmentSizes()) !== undefined;
    if (this.immutables.length > 0 && !(compactionDue && this.lastStepFlushed)) {
      this.lastStepFlushed = true;
      this.flushOldest(budgetBytes);
      return true;
    }
    this.lastStepFlushed = false;
    return this.compactStep(budgetBytes) || this.immutables.length > 0;
  }

  /** Segment file names, oldest first: pass to `open(dir, { segments })` to restore. */
  liveSegments(): string[] {
    this.checkOpen();
    return this.segments.map((s) => s.name);
  }

  stats(): LsmStoreStats {
    return {
      memtableSizeBytes: this.memtable.sizeBytes,
      immutableMemtableCount: this.immutables.length,
      segmentCount: this.segments.length,
      segmentSizeBytes: this.segmentSizes().reduce((a, b) => a + b, 0),
      ...this.counters,
      blockCacheHits: this.cache.hits,
      blockCacheMisses: this.cache.misses,
    };
  }

  /**
   * Aborts work in progress and releases file descriptors. Unflushed memtables are
   * dropped (no write-ahead log): call `freeze()` + `flushAll()` first to keep them.
   * Idempotent.
   */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.flushing?.job.abort();
    this.compacting?.job.abort();
    this.flushing = undefined;
    this.compacting = undefined;
    for (const s of this.segments) s.unref();
    this.segments = [];
    this.immutables.length = 0;
  }
}

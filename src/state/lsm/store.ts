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
 * - Snapshots (`beginSnapshot`, Flink's two-phase asynchronous snapshot): the
 *   synchronous phase freezes the memtable and remembers the newest immutable memtable
 *   (the "barrier memtable"). The snapshot is every segment live at that moment plus
 *   every memtable immutable or frozen at that moment, once flushed. Flushes are FIFO,
 *   so the moment the barrier memtable's flush completes, the live segment list is
 *   exactly the snapshot: it is captured (names and sizes) right then, inside the flush.
 *   Writes after `beginSnapshot` go to newer memtables, whose segments are appended
 *   after the barrier memtable's output, never before it.
 * - Restore (`restore`): segment files from elsewhere (checkpoint storage) are hard
 *   linked (copied across file systems) into `dir` under fresh names, oldest first, and
 *   opened as the store's content. `restoreClipped` (rescaling) instead reads several
 *   sources read-only, each clipped to one key range, and writes their live entries into
 *   one new segment.
 *
 * Invariants:
 * - `segments` is ordered oldest first; for any key the newest entry is authoritative.
 * - A flush appends at the newest end; a compaction replaces a contiguous run in place.
 * - Segment names are `<seq>.seg` with `seq` increasing per directory; a name is used
 *   once. Files appear only complete (written as `.tmp`, renamed).
 * - One store per directory at a time.
 * - Compaction neither starts nor steps while any snapshot is not yet captured; flushes
 *   go on. Because flushes are FIFO, no post-snapshot segment exists before the capture,
 *   so a merge could not mix pre- and post-snapshot data anyway; the pause makes the
 *   snapshot exact: a bottommost merge's TTL filter would otherwise drop entries that
 *   expired after `beginSnapshot` (harmless for restores later in time, but no longer
 *   "the state as of the call"). It lasts one flush of the frozen memtables, not the
 *   upload. A merge in progress waits (its inputs stay live and contiguous).
 * - A file named by a captured, unreleased snapshot is never deleted: compaction may
 *   retire it (after capture compaction runs again), but the deletion is deferred until
 *   the last snapshot naming it is released. So the caller may link the files at leisure.
 * - Any number of snapshots may be pending; each is captured when its own barrier
 *   memtable is flushed, in order of `beginSnapshot`.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { BlockCache } from './block-cache.js';
import { hashBytes } from './bloom.js';
import { compareBytes, prefixEnd } from './bytes.js';
import { segmentTempSuffix } from './constants.js';
import { MergingCursor, type Cursor } from './cursor.js';
import { StoreClosedError } from './errors.js';
import { Memtable, type MemtableEntry } from './memtable.js';
import { MergeJob } from './merge-job.js';
import { pickMerge } from './compaction-policy.js';
import { resolveOptions, type LsmStoreOptions, type ResolvedLsmStoreOptions } from './options.js';
import { SegmentReader } from './segment-reader.js';
import { SegmentWriter } from './segment-writer.js';
import { nextFreeSeq, placeSegments, segmentName } from './segment-files.js';
import { placeClippedSegments } from './clipped-restore.js';

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

/** A captured segment of a snapshot: file name in the store's directory and its size. */
export interface SnapshotSegment {
  name: string;
  sizeBytes: number;
}

/**
 * Something that holds newer values for entries of the mutable memtable than their bytes
 * and writes them in place (`overwriteEntry`) on `writeBack()`, without allocating or
 * freezing (LsmStore.addDeferredWrites).
 */
export interface DeferredWrites {
  writeBack(): void;
}

/**
 * The asynchronous phase of one store snapshot (see the file comment). Owned by the
 * store's thread; `step` and `release` never block for more than one flush step.
 */
export class StoreSnapshot {
  /** The memtable whose flush completes the snapshot; undefined once captured. */
  barrier: Memtable | undefined;
  /** Segment list, oldest first, once captured. */
  captured: SnapshotSegment[] | undefined;
  released = false;

  constructor(
    private readonly store: LsmStore,
    barrier: Memtable | undefined,
  ) {
    this.barrier = barrier;
  }

  /**
   * One bounded flush step (about `budgetBytes` of input) towards the capture. Returns
   * the segment list, oldest first, once captured (the same array on later calls), else
   * undefined. Throws `StoreClosedError` after the store closed, and if released.
   */
  step(budgetBytes?: number): readonly SnapshotSegment[] | undefined {
    assert.ok(!this.released, 'step() on a released snapshot');
    return this.store.snapshotStep(this, budgetBytes);
  }

  /** Ends the snapshot: deferred deletions of its files happen now. Idempotent. */
  release(): void {
    if (this.released) return;
    this.released = true;
    this.store.releaseSnapshot(this);
  }
}

export class LsmStore {
  private memtable = new Memtable();
  /**
   * Changes whenever the mutable memtable is replaced (a freeze) or the store closes: an
   * entry from `mutableEntry` may be written through `overwriteEntry` while it holds.
   */
  memtableGeneration = 0;
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
  /** Unreleased snapshots, in order of `beginSnapshot`. */
  private readonly snapshots: StoreSnapshot[] = [];
  /** Segment name -> number of unreleased captured snapshots naming it. */
  private readonly pinned = new Map<string, number>();
  /** Paths retired by compaction while pinned: deleted when the last pin goes. */
  private readonly deferredDeletes = new Map<string, string>();
  /** Holders of deferred in-place writes (`addDeferredWrites`). */
  private readonly deferred: DeferredWrites[] = [];

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
    }
    store.nextSeq = nextFreeSeq(dir);
    try {
      for (const name of store.options.segments) store.segments.push(store.openSegment(name));
    } catch (e) {
      store.close();
      throw e;
    }
    return store;
  }

  /**
   * Opens a store in `dir` whose content is the segment files `sourcePaths` (oldest
   * first, e.g. in checkpoint storage). Each file is hard linked into `dir` under a fresh
   * name (copied when linking fails, e.g. across file systems); the sources are not
   * changed. Returns the store and the local names, in the order of `sourcePaths`.
   * `options.segments` must be absent. Throws as `open`, an `Error` naming a missing
   * source, or the fs error.
   */
  static restore(dir: string, sourcePaths: readonly string[], options?: LsmStoreOptions): { store: LsmStore; names: string[] } {
    if (options?.segments !== undefined) throw new RangeError('LsmStore.restore: pass the files as sourcePaths, not options.segments');
    if (!Array.isArray(sourcePaths)) throw new TypeError('LsmStore.restore: sourcePaths must be an array of file paths');
    const names = placeSegments(dir, sourcePaths);
    return { store: LsmStore.open(dir, { ...options, segments: names }), names };
  }

  /**
   * Opens a store in `dir` whose content is the live entries with `start <= key < end`
   * (`end` undefined: no upper bound) of several independent stores, each given as its
   * segment files, oldest first (`sources`). Used to rescale keyed state: each source is
   * one old subtask's snapshot, the range one new subtask's key groups (Flink's
   * `RocksDBIncrementalRestoreOperation` with key-group clipping).
   *
   * A source whose segments all lie inside the range (scaling in: an old subtask's key
   * groups fall wholly into the new one's) is taken over as it is: its files are hard
   * linked (copied across file systems), oldest first, nothing is read but their index.
   * Every other source is read through a merged cursor clipped to the range (newest
   * version per key; tombstones and older versions dropped); values are copied byte for
   * byte (no compaction filter runs), into one new segment (none if nothing is live)
   * written in key order, newest in the store. Sources are disjoint, so their order
   * among each other does not matter. The source files are never changed or deleted.
   * `names`: the local segment names, oldest first. `entryCount`: entries written to the
   * clipped segment (the adopted whole sources are not counted).
   *
   * REQUIRES: the sources' clipped entries lie in pairwise disjoint key-group intervals
   * (old subtasks owned disjoint key-group ranges); otherwise throws an `Error` naming
   * both sources and key groups. Also throws as `open`, an `Error` naming a missing
   * source file, or `CorruptSegmentError`. `options.segments` must be absent.
   */
  static restoreClipped(
    dir: string,
    sources: readonly (readonly string[])[],
    start: Uint8Array,
    end: Uint8Array | undefined,
    options?: LsmStoreOptions,
  ): { store: LsmStore; names: string[]; entryCount: number } {
    if (options?.segments !== undefined) throw new RangeError('LsmStore.restoreClipped: pass the files as sources, not options.segments');
    if (!Array.isArray(sources) || sources.some((s) => !Array.isArray(s) || s.some((p) => typeof p !== 'string'))) {
      throw new TypeError('LsmStore.restoreClipped: sources must be an array of arrays of segment file paths');
    }
    assert.ok(start instanceof Uint8Array && (end === undefined || compareBytes(start, end) <= 0), 'restoreClipped range');
    const { names, entryCount } = placeClippedSegments(dir, sources, start, end, resolveOptions(options));
    return { store: LsmStore.open(dir, { ...options, segments: names }), names, entryCount };
  }

  private openSegment(name: string): SegmentReader {
    return new SegmentReader(path.join(this.dir, name), this.nextReaderId++, this.cache);
  }

  private checkOpen(): void {
    if (this.closed) throw new StoreClosedError(this.dir);
  }

  /**
   * Writes `key -> value`. The store keeps both arrays: do not mutate them afterwards.
   * `hash`, when given, must be `hashBytes(key)` (callers that read and write the same
   * key hash it once).
   */
  put(key: Uint8Array, value: Uint8Array, hash?: number): void {
    this.write(key, value, hash);
  }

  /**
   * Writes `key -> a copy of value` that the store owns and may rewrite in place on the
   * key's next `overwrite` (RocksDB's `inplace_update_support`): no allocation when the
   * value's length is unchanged, so the caller may reuse `value` (a scratch buffer) at
   * once. The store keeps `key`: do not mutate it. A value `get`/`scan` returned for the
   * key is valid only until the key's next write; use it only for keys whose values are
   * decoded right after reading. Frozen memtables are never changed (snapshots stay
   * exact). `hash` must be `hashBytes(key)`.
   */
  overwrite(key: Uint8Array, value: Uint8Array, hash: number): void {
    this.checkWrite(key, value);
    this.memtable.overwrite(key, value, hash);
    if (this.memtable.sizeBytes >= this.options.memtableSizeBytes) this.freeze();
  }

  /**
   * The entry of `key` in the mutable memtable, or undefined: valid for `overwriteEntry`
   * and as the key's newest value while `memtableGeneration` stays the same (the mutable
   * memtable is the newest source). `hash` must be `hashBytes(key)`.
   */
  mutableEntry(key: Uint8Array, hash: number): MemtableEntry | undefined {
    this.checkOpen();
    return this.memtable.entry(key, hash);
  }

  /**
   * The length of `entry`'s value when the memtable owns it (so `overwriteEntry` can
   * rewrite it in place), else -1. `entry` must come from `mutableEntry`.
   */
  ownedValueLength(entry: MemtableEntry): number {
    return this.memtable.ownedValueLength(entry);
  }

  /**
   * Registers a holder of deferred writes (lsm-hot-keys.ts): values newer than the bytes
   * of their mutable-memtable entries, which only the holder reads. The store calls its
   * `writeBack()` before anything else can read the mutable memtable: a freeze (and so a
   * snapshot) and every cursor (`scan`, `first`). `get` does not: a holder reads its own
   * keys through itself, and other keys are not deferred.
   */
  addDeferredWrites(holder: DeferredWrites): void {
    this.deferred.push(holder);
  }

  private writeBackDeferred(): void {
    for (let i = 0; i < this.deferred.length; i++) this.deferred[i]!.writeBack();
  }

  /**
   * `overwrite` through an entry from `mutableEntry` of generation `generation`, when the
   * value's length is unchanged: true if written (in place, no allocation), false if the
   * generation changed or the length differs (then use `overwrite`).
   */
  overwriteEntry(entry: MemtableEntry, generation: number, value: Uint8Array): boolean {
    if (generation !== this.memtableGeneration) return false;
    return this.memtable.overwriteEntry(entry, value);
  }

  /** Deletes `key` (writes a tombstone). */
  delete(key: Uint8Array): void {
    this.write(key, null);
  }

  private checkWrite(key: Uint8Array, value: Uint8Array | null): void {
    this.checkOpen();
    if (!(key instanceof Uint8Array)) throw new TypeError(`LsmStore key must be a Uint8Array, got ${typeof key}`);
    if (value !== null && !(value instanceof Uint8Array)) {
      throw new TypeError(`LsmStore value must be a Uint8Array, got ${typeof value}`);
    }
  }

  private write(key: Uint8Array, value: Uint8Array | null, hash?: number): void {
    this.checkWrite(key, value);
    this.memtable.put(key, value, hash ?? hashBytes(key));
    if (this.memtable.sizeBytes >= this.options.memtableSizeBytes) this.freeze();
  }

  /**
   * The newest value of `key`, or undefined. The array must not be mutated. `hash`, when
   * given, must be `hashBytes(key)`.
   */
  get(key: Uint8Array, hash = hashBytes(key)): Uint8Array | undefined {
    this.checkOpen();
    let v = this.memtable.get(key, hash);
    for (let i = this.immutables.length - 1; v === undefined && i >= 0; i--) v = this.immutables[i]!.get(key, hash);
    if (v !== undefined) return v ?? undefined;
    for (let i = this.segments.length - 1; i >= 0; i--) {
      v = this.segments[i]!.get(key, hash);
      if (v !== undefined) return v ?? undefined;
    }
    return undefined;
  }

  /** A merged cursor over [start, end), tombstones included; sources newest first. */
  private cursor(start: Uint8Array | undefined, end: Uint8Array | undefined): Cursor {
    this.writeBackDeferred();
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

  /**
   * The first live entry with start <= key < end (no upper bound when `end` is
   * undefined), or undefined: one seek, as LevelDB's `Seek` then `Valid`. Tombstones on the
   * way are skipped one by one, so start past entries known to be deleted.
   */
  first(start: Uint8Array, end: Uint8Array | undefined): [Uint8Array, Uint8Array] | undefined {
    this.checkOpen();
    const c = this.cursor(start, end);
    try {
      for (; c.valid(); c.next()) {
        const v = c.value();
        if (v !== null) return [c.key(), v];
      }
      return undefined;
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
    this.writeBackDeferred();
    this.memtable.frozen = true;
    this.immutables.push(this.memtable);
    this.memtable = new Memtable();
    this.memtableGeneration++;
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
    for (const snap of this.snapshots) if (snap.barrier === oldest) this.capture(snap);
    return true;
  }

  /**
   * Synchronous phase of a snapshot: freezes the memtable (if it holds anything) and
   * returns the asynchronous phase. The snapshot holds exactly the writes made before
   * this call. Compaction pauses until it is captured (see the file comment).
   */
  beginSnapshot(): StoreSnapshot {
    this.checkOpen();
    this.freeze();
    const snap = new StoreSnapshot(this, this.immutables[this.immutables.length - 1]);
    this.snapshots.push(snap);
    if (snap.barrier === undefined) this.capture(snap);
    return snap;
  }

  private capture(snap: StoreSnapshot): void {
    assert.ok(snap.captured === undefined, 'snapshot captured twice');
    snap.barrier = undefined;
    snap.captured = this.segments.map((s) => ({ name: s.name, sizeBytes: s.fileSizeBytes }));
    for (const { name } of snap.captured) this.pinned.set(name, (this.pinned.get(name) ?? 0) + 1);
  }

  /** See `StoreSnapshot.step`. */
  snapshotStep(snap: StoreSnapshot, budgetBytes = this.options.compactionStepBytes): readonly SnapshotSegment[] | undefined {
    this.checkOpen();
    if (snap.captured === undefined) {
      assert.ok(snap.barrier !== undefined && this.immutables.includes(snap.barrier), 'snapshot barrier memtable lost');
      this.flushOldest(budgetBytes);
    }
    return snap.captured;
  }

  /** See `StoreSnapshot.release`. */
  releaseSnapshot(snap: StoreSnapshot): void {
    if (this.closed) return;
    const at = this.snapshots.indexOf(snap);
    assert.ok(at >= 0, 'release of an unknown snapshot');
    this.snapshots.splice(at, 1);
    for (const { name } of snap.captured ?? []) {
      const left = this.pinned.get(name)! - 1;
      assert.ok(left >= 0, 'snapshot pin count');
      if (left > 0) {
        this.pinned.set(name, left);
        continue;
      }
      this.pinned.delete(name);
      const deferred = this.deferredDeletes.get(name);
      if (deferred === undefined) continue;
      this.deferredDeletes.delete(name);
      if (this.options.retainSegment?.(name) !== true) fs.rmSync(deferred, { force: true });
    }
  }

  /** True while a snapshot waits for its capture: compaction must not run then. */
  private compactionPaused(): boolean {
    return this.snapshots.some((s) => s.captured === undefined);
  }

  /** Unreleased snapshots (captured or not), for metrics and tests. */
  pendingSnapshotCount(): number {
    return this.snapshots.length;
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
    if (this.compactionPaused()) return false;
    if (this.compacting === undefined && !this.startCompaction()) return false;
    const c = this.compacting;
    assert.ok(c !== undefined);
    if (c.job.step(budgetBytes)) this.installCompaction(c);
    return this.compactionDue();
  }

  private compactionDue(): boolean {
    if (this.compactionPaused()) return false;
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

  /**
   * Drops the store's reference and deletes the file unless `retainSegment` keeps it; a
   * file a pending snapshot names is deleted when that snapshot is released.
   */
  private retire(s: SegmentReader): void {
    s.unref();
    if (this.pinned.has(s.name)) {
      this.deferredDeletes.set(s.name, s.path);
      return;
    }
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
    const compactionDue = this.compactionDue();
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
    this.memtableGeneration++;
    this.flushing?.job.abort();
    this.compacting?.job.abort();
    this.flushing = undefined;
    this.compacting = undefined;
    for (const s of this.segments) s.unref();
    this.segments = [];
    this.immutables.length = 0;
    // Files of unreleased snapshots stay on disk (the caller may still be linking them).
    this.snapshots.length = 0;
    this.pinned.clear();
    this.deferredDeletes.clear();
  }
}

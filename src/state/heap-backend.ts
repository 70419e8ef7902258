/**
 * Keyed state on the JavaScript heap, as Flink's `HashMapStateBackend`: values are kept as
 * objects (no serialization), so reads and writes are cheap and state must fit in memory.
 * The LSM backend (lsm-backend.ts) is the choice for state larger than memory.
 *
 * Layout: per registered state, two `Map`s (`Cells`): string keys map from the key itself,
 * every other key from its identity string (`keyIdentity`); two maps, so that the string
 * "n1" and the number 1 stay two keys. A string key used to map from its identity
 * `s<key>` as well: a new string per record, 2-3 % of the word count's CPU (native-notes.md
 * §3, "Keyed state in the running word count"). With TTL, a value is wrapped as
 * `{ value, refreshedAtMs }`. Snapshots hold every cell by its identity (below).
 *
 * Key identities (`keyIdentity`, inverse `keyFromIdentity`) are defined in key-identity.ts.
 *
 * Snapshots (Flink's full heap snapshot): `snapshot()` serializes every state with cbor-x
 * in the synchronous phase (cost O(state), so later writes cannot leak in); the job's
 * `step()` writes the bytes to `scratchDir` in bounded chunks and returns the file.
 * Restored states wait in `restored` until an operator registers them (lazily), and are
 * written again by later snapshots meanwhile, so nothing is lost before registration.
 *
 * Heap snapshot file (format version 2; version 1 had the ambiguous array identities
 * `a[<item>,<item>]` and is refused), little-endian:
 *   `"SLUIHEAP" (8 bytes) | u32 version (2) | u32 CRC32 (IEEE) of the payload |
 *    u64 payload length | payload`
 * payload = cbor-x (`useRecords: false`; Map keeps its type via tag 259) of
 * `{ checkpointId, states: [{ id: "<operatorUid>/<name>", kind, ttl: boolean, cells, namespaced?: true }] }`
 * where `cells` is a Map from the key's identity string (`keyIdentity`) to the stored
 * value: as is; `{ value, refreshedAtMs }` when `ttl`; for map state a Map from the map
 * key's identity to `{ key, value, refreshedAtMs }` (TTL per entry, stamps always kept).
 * A state restored with TTL switched on or off is re-stamped (now) or unwrapped.
 * Timers (heap-timers.ts) are a state of kind 'timers' named `_timers/<domain>` of their
 * operator, `ttl` false, whose cells map the key's identity to `{ keyGroup, timestamps }`
 * (the key group as given to `add`, timestamps in ms): written from the queue at each
 * snapshot, and on restore kept aside until `timers()` asks for them.
 *
 * Restore kinds: 'heap' reads one file whole (same parallelism). 'heap-rescale' (restore
 * at another parallelism, Flink's `HeapRestoreOperation` over key-group ranges /
 * `KeyGroupPartitionedStateTable`) reads several old subtasks' files, read only, and
 * keeps only the cells whose key's key group, `assignToKeyGroup(keyFromIdentity(id),
 * maxParallelism)`, lies in the given range (a timer cell's own `keyGroup`; for a state
 * written with `namespaced: true` in its snapshot entry, window state whose keys are
 * `[key, namespace]`, the group of `key`); for map state the outer map is filtered the
 * same way. States are merged by id (kind and ttl flag must agree across files); the old
 * subtasks' key groups are disjoint, so a key group found in two files is refused as an
 * overlap. Stored values and TTL stamps are kept as they were written.
 */
import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Encoder } from 'cbor-x';
import { newCborEncoder } from '../cbor-x.js';
import type {
  TimeDomain,
  TimerQueue,
  AggregatingState,
  AggregatingStateDescriptor,
  Clock,
  KeyedStateBackend,
  ListState,
  ListStateDescriptor,
  MapState,
  MapStateDescriptor,
  ReducingState,
  ReducingStateDescriptor,
  SnapshotFiles,
  StateKey,
  StateRestore,
  StateSnapshotJob,
  StateTtlConfig,
  ValueState,
  ValueStateDescriptor,
} from './api.js';
import { systemClock } from './api.js';
import { assignToKeyGroup, maxParallelismUpperBound } from './key-group.js';
import { keyFromIdentity, keyIdentity, mapKeyIdentity } from './key-identity.js';
import { decodeHeapSnapshotFile, encodeHeapSnapshotHeader, SteppedFileWriter, CorruptSnapshotError } from './snapshot.js';
import { HeapTimerQueue } from './heap-timers.js';
import { checkUserStateName, timerStateName } from './timers.js';

interface Stamped {
  value: unknown;
  refreshedAtMs: number;
}

/**
 * A key as the heap backend's maps hold it: `id` is the key itself for a string key
 * (`string` true) and its `keyIdentity` for any other key. Made once per `setCurrentKey`.
 */
interface CellKey {
  id: string;
  string: boolean;
}

/** The CellKey of a key identity (snapshot form): strings are unwrapped. Does not check the rest. */
function cellKeyOfIdentity(identity: string): CellKey {
  return identity.charCodeAt(0) === 0x73 /* s */ ? { id: identity.slice(1), string: true } : { id: identity, string: false };
}

/**
 * One registered state's per-key cells, with TTL applied on access: string keys in
 * `strings` by the key itself, other keys in `others` by identity (file comment). Values
 * are kept as is (with TTL: wrapped with their refresh time), so readers see the stored object.
 */
class Cells {
  readonly strings = new Map<string, unknown>();
  readonly others = new Map<string, unknown>();

  constructor(
    private readonly backend: HeapKeyedStateBackend,
    private readonly ttl: StateTtlConfig | undefined,
  ) {}

  get(key: CellKey): unknown {
    const map = key.string ? this.strings : this.others;
    const stored = map.get(key.id);
    if (stored === undefined || this.ttl === undefined) return stored;
    const stamped = stored as Stamped;
    const now = this.backend.clock.nowMs();
    if (now - stamped.refreshedAtMs >= this.ttl.ttlMs) {
      map.delete(key.id);
      return undefined;
    }
    if (this.ttl.updateType === 'OnReadAndWrite') stamped.refreshedAtMs = now;
    return stamped.value;
  }

  set(key: CellKey, value: unknown): void {
    const map = key.string ? this.strings : this.others;
    if (this.ttl === undefined) map.set(key.id, value);
    else map.set(key.id, { value, refreshedAtMs: this.backend.clock.nowMs() } satisfies Stamped);
  }

  delete(key: CellKey): void {
    (key.string ? this.strings : this.others).delete(key.id);
  }

  /** Whether a cell (live or expired) is stored for `key`. */
  has(key: CellKey): boolean {
    return (key.string ? this.strings : this.others).has(key.id);
  }

  /** Stores a value as written (a restored cell: no TTL stamping). */
  put(key: CellKey, stored: unknown): void {
    (key.string ? this.strings : this.others).set(key.id, stored);
  }

  /** The stored cells by key identity, the snapshot's form: strings get their `s` back. */
  byIdentity(): Map<string, unknown> {
    const out = new Map<string, unknown>();
    for (const [key, stored] of this.strings) out.set(`s${key}`, stored);
    for (const [identity, stored] of this.others) out.set(identity, stored);
    return out;
  }

  /** The keys of the stored cells (a copy: callers may change the cells meanwhile). */
  cellKeys(): CellKey[] {
    const out: CellKey[] = [];
    for (const id of this.strings.keys()) out.push({ id, string: true });
    for (const id of this.others.keys()) out.push({ id, string: false });
    return out;
  }
}

export interface HeapBackendOptions {
  clock?: Clock;
  /** Where snapshots write their files (one per snapshot); default `os.tmpdir()`. */
  scratchDir?: string;
  /** fsync a snapshot file before it is renamed into place; default true. */
  fsync?: boolean;
  /**
   * Restore from a heap snapshot file (kind 'heap') or, at another parallelism, from
   * several (kind 'heap-rescale'); the files are read, not changed.
   */
  restore?: StateRestore;
}

/** One state as a snapshot holds it (see the file comment). */
interface SnapshotState {
  id: string;
  kind: string;
  ttl: boolean;
  cells: Map<string, unknown>;
  /** Keys are `[key, namespace]` pairs (window state); absent when false. */
  namespaced?: true;
}

interface Registration {
  kind: string;
  namespaced: boolean;
  handle: unknown;
  cells: Cells;
  /** Values are wrapped as `Stamped` (non-map states with TTL). */
  stamped: boolean;
}

/** The kind of timer states in snapshots. */
const timersKind = 'timers';

/** `copyBuffers`: restored byte arrays must not alias the whole file's buffer. */
let snapshotCodecOrUndefined: Encoder | undefined;
/** Made at the first snapshot or restore (cbor-x loads at its first use, ../cbor-x.ts). */
const snapshotCodec = (): Encoder => (snapshotCodecOrUndefined ??= newCborEncoder({ useRecords: false, copyBuffers: true }));

function validateOptions(o: HeapBackendOptions): void {
  if (typeof o !== 'object' || o === null) throw new TypeError('HeapKeyedStateBackend options must be an object');
  if (o.clock !== undefined && typeof o.clock?.nowMs !== 'function') {
    throw new TypeError('HeapKeyedStateBackend option clock must have a nowMs() method');
  }
  if (o.scratchDir !== undefined && (typeof o.scratchDir !== 'string' || o.scratchDir.length === 0)) {
    throw new RangeError(`HeapKeyedStateBackend option scratchDir must be a non-empty path, got ${String(o.scratchDir)}`);
  }
  if (o.fsync !== undefined && typeof o.fsync !== 'boolean') {
    throw new TypeError(`HeapKeyedStateBackend option fsync must be a boolean, got ${String(o.fsync)}`);
  }
  const r = o.restore;
  if (r === undefined || (r.kind === 'heap' && typeof r.path === 'string')) return;
  if (r.kind === 'heap-rescale') return validateRescale(r);
  throw new TypeError(
    `HeapKeyedStateBackend cannot restore ${JSON.stringify(r?.kind)}: it needs { kind: 'heap', path } or ` +
      `{ kind: 'heap-rescale', keyGroups, maxParallelism, paths } from heap snapshots`,
  );
}

type RescaleRestore = Extract<StateRestore, { kind: 'heap-rescale' }>;

function validateRescale(r: RescaleRestore): void {
  const maxP = r.maxParallelism;
  if (!Number.isSafeInteger(maxP) || maxP < 1 || maxP > maxParallelismUpperBound) {
    throw new RangeError(`HeapKeyedStateBackend option restore.maxParallelism must be an integer in [1, ${maxParallelismUpperBound}], got ${String(maxP)}`);
  }
  const g = r.keyGroups;
  if (typeof g !== 'object' || g === null || !Number.isSafeInteger(g.start) || !Number.isSafeInteger(g.end)) {
    throw new TypeError(`HeapKeyedStateBackend option restore.keyGroups must be an inclusive range { start, end } of integers, got ${JSON.stringify(g)}`);
  }
  if (g.start < 0 || g.end < g.start || g.end >= maxP) {
    throw new RangeError(
      `HeapKeyedStateBackend option restore.keyGroups must satisfy 0 <= start <= end < maxParallelism (${maxP}), ` +
        `got ${JSON.stringify(g)}: use keyGroupRangeForSubtask()`,
    );
  }
  if (!Array.isArray(r.paths) || r.paths.some((p) => typeof p !== 'string')) {
    throw new TypeError('HeapKeyedStateBackend option restore.paths must be an array of heap snapshot file paths, one per old subtask');
  }
  if (r.paths.some((p) => p.length === 0)) throw new RangeError('HeapKeyedStateBackend option restore.paths must not hold an empty path');
}

/** Reads and verifies a heap snapshot file. Throws `CorruptSnapshotError` or the fs error. */
function readSnapshotFile(file: string): Map<string, SnapshotState> {
  const payload = decodeHeapSnapshotFile(fs.readFileSync(file), file);
  const decoded = snapshotCodec().decode(payload) as { states?: unknown };
  if (!Array.isArray(decoded?.states)) throw new CorruptSnapshotError(file, 'payload has no states array');
  const out = new Map<string, SnapshotState>();
  for (const st of decoded.states as SnapshotState[]) {
    if (typeof st?.id !== 'string' || typeof st.kind !== 'string' || !(st.cells instanceof Map)) {
      throw new CorruptSnapshotError(file, 'a state entry lacks id, kind or cells');
    }
    out.set(st.id, st);
  }
  return out;
}

/**
 * The key group of one snapshot cell: timers carry theirs; a namespaced state's key is
 * `[key, namespace]`, grouped by `key`; any other cell by its key.
 */
function cellKeyGroup(st: SnapshotState, id: string, stored: unknown, maxParallelism: number): number {
  if (st.kind === timersKind) {
    const group = (stored as { keyGroup?: unknown } | undefined)?.keyGroup;
    if (typeof group !== 'number' || !Number.isInteger(group) || group < 0 || group >= maxParallelism) {
      throw new Error(`a timer cell whose keyGroup ${String(group)} is not in [0, ${maxParallelism})`);
    }
    return group;
  }
  const key = keyFromIdentity(id);
  if (st.namespaced === true) {
    if (!Array.isArray(key) || key.length !== 2) throw new Error('a window state cell whose key is not [key, namespace]');
    return assignToKeyGroup(key[0], maxParallelism);
  }
  return assignToKeyGroup(key, maxParallelism);
}

/**
 * The cells of several old subtasks' heap snapshot files whose key group lies in
 * `r.keyGroups`, states merged by id (file comment). Throws `CorruptSnapshotError` for a
 * damaged file, a malformed key identity or a state whose kind or ttl flag differs between
 * files; an `Error` naming both files when two hold the same key group; the fs error.
 */
function readRescaled(r: RescaleRestore): Map<string, SnapshotState> {
  const { start, end } = r.keyGroups;
  const merged = new Map<string, { state: SnapshotState; file: string }>();
  /** Key group -> index in `r.paths` of the file holding it (the old subtasks' ranges are disjoint). */
  const groupFile = new Map<number, number>();
  for (const [index, file] of r.paths.entries()) {
    for (const st of readSnapshotFile(file).values()) {
      let into = merged.get(st.id);
      if (into === undefined) {
        into = { state: { id: st.id, kind: st.kind, ttl: st.ttl, cells: new Map(), ...(st.namespaced === true ? { namespaced: true as const } : {}) }, file };
        merged.set(st.id, into);
      } else if (into.state.kind !== st.kind || into.state.ttl !== st.ttl || into.state.namespaced !== st.namespaced) {
        const describe = (x: SnapshotState) => `${x.kind} state ${x.ttl ? 'with' : 'without'} TTL`;
        throw new CorruptSnapshotError(file, `state "${st.id}" is ${describe(st)} here but ${describe(into.state)} in ${into.file}`);
      }
      for (const [id, stored] of st.cells) {
        let group: number;
        try {
          group = cellKeyGroup(st, id, stored, r.maxParallelism);
        } catch (e) {
          throw new CorruptSnapshotError(file, `state "${st.id}" has a cell whose key cannot be recovered (${(e as Error).message})`);
        }
        if (group < start || group > end) continue;
        const owner = groupFile.get(group);
        if (owner === undefined) groupFile.set(group, index);
        else if (owner !== index) {
          throw new Error(
            `Cannot restore heap state: snapshot files ${r.paths[owner]} (paths[${owner}]) and ${file} (paths[${index}]) both hold key group ${group} (state "${st.id}", ` +
              `key ${JSON.stringify(id)}): their key groups overlap — list each old subtask's file once, with the max parallelism it was written with`,
          );
        }
        into.state.cells.set(id, stored);
      }
    }
  }
  return new Map([...merged].map(([id, x]) => [id, x.state]));
}

/** Keyed state in `Map`s on the heap. See the file comment. */
export class HeapKeyedStateBackend implements KeyedStateBackend {
  readonly clock: Clock;
  private currentKey: StateKey | undefined;
  /** The current key as the cells hold it: one object, changed in place by setCurrentKey (no allocation per record). */
  private readonly currentCell: CellKey = { id: '', string: true };
  private readonly states = new Map<string, Registration>();
  /** Timer queues by state id `<operatorUid>/_timers/<domain>`. */
  private readonly timerQueues = new Map<string, HeapTimerQueue>();
  /** Restored states no operator has registered yet. */
  private readonly restored: Map<string, SnapshotState>;
  private readonly scratchDir: string;
  private readonly fsync: boolean;

  /** Throws `TypeError`/`RangeError` for bad options, `CorruptSnapshotError` or the fs error on restore. */
  constructor(options: HeapBackendOptions = {}) {
    validateOptions(options);
    this.clock = options.clock ?? systemClock;
    this.scratchDir = options.scratchDir ?? os.tmpdir();
    if (options.scratchDir !== undefined) fs.mkdirSync(this.scratchDir, { recursive: true });
    this.fsync = options.fsync ?? true;
    const r = options.restore;
    this.restored = r?.kind === 'heap' ? readSnapshotFile(r.path) : r?.kind === 'heap-rescale' ? readRescaled(r) : new Map();
  }

  /**
   * Serializes all state now (synchronous phase); the job writes the file in steps of
   * 1 MiB to `scratchDir` and returns it. `release()` deletes the file: link it first.
   */
  snapshot(checkpointId: number): StateSnapshotJob {
    if (!Number.isSafeInteger(checkpointId) || checkpointId < 0) {
      throw new RangeError(`Checkpoint id must be a non-negative integer, got ${String(checkpointId)}`);
    }
    const states: SnapshotState[] = [...this.restored.values()];
    for (const [id, r] of this.states) states.push({ id, kind: r.kind, ttl: r.stamped, cells: r.cells.byIdentity(), ...(r.namespaced ? { namespaced: true as const } : {}) });
    for (const [id, q] of this.timerQueues) states.push({ id, kind: timersKind, ttl: false, cells: q.snapshotCells() });
    // slice(): the encoder's output may share its internal buffer with later encodings.
    const payload = snapshotCodec().encode({ checkpointId, states }).slice();
    const file = path.join(this.scratchDir, `heap-chk${checkpointId}-${randomUUID()}.snap`);
    return new HeapSnapshotJob(new SteppedFileWriter(file, [encodeHeapSnapshotHeader(payload), payload], this.fsync));
  }

  /** Entries are found by key; key groups are computed where a restore at another parallelism needs them. */
  readonly readsKeyGroup = false;

  setCurrentKey(key: StateKey, _keyGroup: number): void {
    this.currentKey = key;
    const cell = this.currentCell;
    if (typeof key === 'string') {
      cell.id = key;
      cell.string = true;
    } else {
      cell.id = keyIdentity(key);
      cell.string = false;
    }
  }

  getCurrentKey(): StateKey | undefined {
    return this.currentKey;
  }

  /**
   * The current key as the cells hold it: valid until the next setCurrentKey, which changes
   * the same object (use it at once; keep `cellKeys()` copies instead). REQUIRES:
   * setCurrentKey was called.
   */
  currentKeyId(): CellKey {
    if (this.currentKey === undefined) {
      throw new Error('Keyed state was accessed outside a keyed context: use it on a keyBy() stream');
    }
    return this.currentCell;
  }

  /**
   * Registers a state (once per id) with fresh cells, filled from the restored snapshot
   * if it holds this state. `ttl`: of the descriptor; map state keeps stamps per entry.
   */
  private register<S>(
    operatorUid: string,
    d: { name: string; ttl?: StateTtlConfig | undefined; namespaced?: boolean | undefined },
    kind: string,
    make: (cells: Cells) => S,
  ): S {
    const { name, ttl } = d;
    const namespaced = d.namespaced === true;
    checkUserStateName(operatorUid, name);
    const id = `${operatorUid}/${name}`;
    const existing = this.states.get(id);
    if (existing !== undefined) {
      if (existing.kind !== kind) {
        throw new TypeError(
          `State "${name}" of operator ${operatorUid} is registered as ${existing.kind} state, not ${kind}: use another name`,
        );
      }
      if (existing.namespaced !== namespaced) {
        throw new TypeError(
          `State "${name}" of operator ${operatorUid} is registered as ${existing.namespaced ? '' : 'not '}window state: use another name for ${namespaced ? 'window' : 'global'} state`,
        );
      }
      return existing.handle as S;
    }
    const stamped = kind !== 'map' && ttl !== undefined;
    const cells = new Cells(this, stamped ? ttl : undefined);
    const restored = this.restored.get(id);
    if (restored !== undefined) {
      if (restored.kind !== kind) {
        throw new TypeError(
          `State "${name}" of operator ${operatorUid} was ${restored.kind} state in the restored snapshot, not ${kind}: keep the kind or use another name`,
        );
      }
      if ((restored.namespaced === true) !== namespaced) {
        throw new TypeError(`State "${name}" of operator ${operatorUid} was ${namespaced ? 'not ' : ''}window state in the restored snapshot: use another name`);
      }
      this.restored.delete(id);
      const now = this.clock.nowMs();
      for (const [identity, stored] of restored.cells) {
        const key = cellKeyOfIdentity(identity);
        if (restored.ttl === stamped || kind === 'map') cells.put(key, stored);
        else cells.put(key, stamped ? ({ value: stored, refreshedAtMs: now } satisfies Stamped) : (stored as Stamped).value);
      }
    }
    const handle = make(cells);
    this.states.set(id, { kind, namespaced, handle, cells, stamped });
    return handle;
  }

  getValueState<T>(operatorUid: string, d: ValueStateDescriptor<T>): ValueState<T> {
    return this.register(operatorUid, d, 'value', (cells) => {
      return {
        value: () => (cells.get(this.currentKeyId()) as T | undefined) ?? d.defaultValue,
        update: (value: T) => cells.set(this.currentKeyId(), value),
        clear: () => cells.delete(this.currentKeyId()),
      };
    });
  }

  getListState<T>(operatorUid: string, d: ListStateDescriptor<T>): ListState<T> {
    return this.register(operatorUid, d, 'list', (cells) => {
      const list = () => (cells.get(this.currentKeyId()) as T[] | undefined) ?? [];
      return {
        get: () => list().slice(),
        // Appends in place (the stored array is owned here: get() copies, update() copies).
        add: (value: T) => {
          const l = cells.get(this.currentKeyId()) as T[] | undefined;
          if (l === undefined) cells.set(this.currentKeyId(), [value]);
          else {
            l.push(value);
            cells.set(this.currentKeyId(), l);
          }
        },
        addAll: (values: readonly T[]) => {
          if (values.length === 0) return;
          const l = cells.get(this.currentKeyId()) as T[] | undefined;
          if (l === undefined) cells.set(this.currentKeyId(), values.slice());
          else {
            for (const v of values) l.push(v);
            cells.set(this.currentKeyId(), l);
          }
        },
        update: (values: readonly T[]) =>
          values.length === 0 ? cells.delete(this.currentKeyId()) : cells.set(this.currentKeyId(), values.slice()),
        clear: () => cells.delete(this.currentKeyId()),
      };
    });
  }

  getMapState<K, V>(operatorUid: string, d: MapStateDescriptor<K, V>): MapState<K, V> {
    return this.register(operatorUid, d, 'map', (cells) => new HeapMapState<K, V>(this, cells, d.ttl));
  }

  getReducingState<T>(operatorUid: string, d: ReducingStateDescriptor<T>): ReducingState<T> {
    return this.register(operatorUid, d, 'reducing', (cells) => {
      return {
        get: () => cells.get(this.currentKeyId()) as T | undefined,
        add: (value: T) => {
          const id = this.currentKeyId();
          const current = cells.get(id) as T | undefined;
          cells.set(id, current === undefined ? value : d.reduce(current, value));
        },
        clear: () => cells.delete(this.currentKeyId()),
      };
    });
  }

  getAggregatingState<IN, ACC, OUT>(
    operatorUid: string,
    d: AggregatingStateDescriptor<IN, ACC, OUT>,
  ): AggregatingState<IN, OUT> {
    return this.register(operatorUid, d, 'aggregating', (cells) => {
      return {
        get: () => {
          const acc = cells.get(this.currentKeyId()) as ACC | undefined;
          return acc === undefined ? undefined : d.aggregate.getResult(acc);
        },
        add: (value: IN) => {
          const id = this.currentKeyId();
          const acc = (cells.get(id) as ACC | undefined) ?? d.aggregate.createAccumulator();
          cells.set(id, d.aggregate.add(value, acc));
        },
        clear: () => cells.delete(this.currentKeyId()),
      };
    });
  }

  /**
   * The heap timer queue of `operatorUid` in `domain` (heap-timers.ts), filled from the
   * restored snapshot on first call. Throws `RangeError` for a bad domain or restored
   * timer cells of another shape.
   */
  timers(operatorUid: string, domain: TimeDomain): TimerQueue {
    const id = `${operatorUid}/${timerStateName(domain)}`;
    let queue = this.timerQueues.get(id);
    if (queue !== undefined) return queue;
    queue = new HeapTimerQueue(keyIdentity, keyFromIdentity);
    const restored = this.restored.get(id);
    if (restored !== undefined) {
      if (restored.kind !== timersKind) {
        throw new RangeError(`Restored state "${id}" is ${restored.kind} state, not timers: the snapshot was written by a build that allowed this name for user state`);
      }
      queue.restore(id, restored.cells);
      this.restored.delete(id);
    }
    this.timerQueues.set(id, queue);
    return queue;
  }

  applyToAllKeys(operatorUid: string, stateName: string, fn: (key: StateKey) => void): void {
    const registration = this.states.get(`${operatorUid}/${stateName}`);
    if (registration === undefined) throw new TypeError(`State "${stateName}" of operator ${operatorUid} is not registered: get it from the runtime context in open() first`);
    for (const key of registration.cells.cellKeys()) {
      if (!registration.cells.has(key)) continue;
      // The heap backend does not use key groups.
      this.setCurrentKey(key.string ? key.id : keyFromIdentity(key.id), 0);
      if (registration.cells.get(key) === undefined) continue; // expired (TTL)
      fn(this.currentKey!);
    }
  }

  async close(): Promise<void> {
    this.states.clear();
    this.timerQueues.clear();
    this.restored.clear();
  }
}

/** The asynchronous phase of a heap snapshot: writes the serialized bytes in steps. */
class HeapSnapshotJob implements StateSnapshotJob {
  private files: SnapshotFiles | undefined;
  private released = false;

  constructor(private readonly writer: SteppedFileWriter) {}

  step(): SnapshotFiles | undefined {
    if (this.released) throw new Error('Heap snapshot step() after release(): take a new snapshot');
    if (this.files !== undefined) return this.files;
    if (!this.writer.step()) return undefined;
    this.files = { kind: 'heap', localPath: this.writer.finalPath, sizeBytes: this.writer.sizeBytes };
    return this.files;
  }

  /** Deletes the file (and a partial temp file): the caller has linked or copied it. */
  release(): void {
    this.released = true;
    this.writer.discard();
  }
}

/**
 * MapState over a per-key `Map` of `mapKeyIdentity(mapKey) -> entry`. TTL applies to each
 * entry, as in Flink (and the LSM backend): an entry expires on its own.
 */
interface MapEntry<K, V> {
  key: K;
  value: V;
  refreshedAtMs: number;
}

class HeapMapState<K, V> implements MapState<K, V> {
  constructor(
    private readonly backend: HeapKeyedStateBackend,
    private readonly cells: Cells,
    private readonly ttl: StateTtlConfig | undefined,
  ) {}

  private map(create: boolean): Map<string, MapEntry<K, V>> | undefined {
    const id = this.backend.currentKeyId();
    let map = this.cells.get(id) as Map<string, MapEntry<K, V>> | undefined;
    if (map === undefined && create) {
      map = new Map();
      this.cells.set(id, map);
    }
    return map;
  }

  /** The live entry for `id`, dropping it if expired and refreshing it on read if asked. */
  private live(map: Map<string, MapEntry<K, V>>, id: string, now: number): MapEntry<K, V> | undefined {
    const entry = map.get(id);
    if (entry === undefined || this.ttl === undefined) return entry;
    if (now - entry.refreshedAtMs >= this.ttl.ttlMs) {
      map.delete(id);
      return undefined;
    }
    if (this.ttl.updateType === 'OnReadAndWrite') entry.refreshedAtMs = now;
    return entry;
  }

  private dropIfEmpty(map: Map<string, MapEntry<K, V>>): void {
    if (map.size === 0) this.cells.delete(this.backend.currentKeyId());
  }

  get(key: K): V | undefined {
    const map = this.map(false);
    if (map === undefined) return undefined;
    const entry = this.live(map, mapKeyIdentity(key), this.backend.clock.nowMs());
    if (entry === undefined) this.dropIfEmpty(map);
    return entry?.value;
  }
  put(key: K, value: V): void {
    this.map(true)!.set(mapKeyIdentity(key), { key, value, refreshedAtMs: this.backend.clock.nowMs() });
  }
  putAll(entries: Iterable<readonly [K, V]>): void {
    const map = this.map(true)!;
    const now = this.backend.clock.nowMs();
    for (const [key, value] of entries) map.set(mapKeyIdentity(key), { key, value, refreshedAtMs: now });
  }
  remove(key: K): void {
    const map = this.map(false);
    if (map === undefined) return;
    map.delete(mapKeyIdentity(key));
    this.dropIfEmpty(map);
  }
  contains(key: K): boolean {
    const map = this.map(false);
    return map !== undefined && this.live(map, mapKeyIdentity(key), this.backend.clock.nowMs()) !== undefined;
  }
  /** A snapshot of the live entries when iteration starts (removal while iterating is safe). */
  *entries(): IterableIterator<[K, V]> {
    const map = this.map(false);
    if (map === undefined) return;
    const now = this.backend.clock.nowMs();
    const live: [K, V][] = [];
    for (const id of [...map.keys()]) {
      const entry = this.live(map, id, now);
      if (entry !== undefined) live.push([entry.key, entry.value]);
    }
    this.dropIfEmpty(map);
    yield* live;
  }
  *keys(): IterableIterator<K> {
    for (const [k] of this.entries()) yield k;
  }
  *values(): IterableIterator<V> {
    for (const [, v] of this.entries()) yield v;
  }
  isEmpty(): boolean {
    for (const _ of this.entries()) return false;
    return true;
  }
  clear(): void {
    this.cells.delete(this.backend.currentKeyId());
  }
}

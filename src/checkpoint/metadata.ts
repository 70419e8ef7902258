/**
 * Checkpoint metadata: what a completed checkpoint consists of, and its file format
 * `chk-<n>/_metadata` (byte for byte in native-notes.md section 5):
 *
 *   magic "SLCK" (4) | u32 format version | u32 payload length N | payload (N) | u32 CRC32
 *
 * integers little-endian; payload = standard CBOR (cbor-x without its record extension) of
 * `CheckpointMetadata`; the CRC32 (IEEE, as segments) covers bytes [0, 12 + N): header and
 * payload. File size is exactly 16 + N.
 * Idea: Flink's `Checkpoints.storeCheckpointMetadata` / `MetadataV3Serializer` (magic
 * number, version, then the operator and keyed state handles).
 */
import type { Encoder } from 'cbor-x';
import { newCborEncoder } from '../cbor-x.js';
import { crc32 } from '../state/lsm/index.js';

/** A file in `<job>/shared/`, with the size it had when the checkpoint referenced it. */
export interface SharedFileRef {
  name: string;
  sizeBytes: number;
}

/** What one subtask's keyed state needs: LSM segments (oldest first) or one heap snapshot. */
export type KeyedStateHandle = { kind: 'lsm'; segments: SharedFileRef[] } | { kind: 'heap'; file: SharedFileRef };

/** One subtask's snapshot (Flink's `OperatorSubtaskState`). */
export interface SubtaskState {
  vertex: number;
  subtaskIndex: number;
  /** By operator uid; plain cbor-x-encodable data (source positions, sink pending files). */
  operatorState: Record<string, unknown>;
  keyedState: KeyedStateHandle | undefined;
  /** The subtask had finished its input (FLIP-147): a restore does not run it again. Absent: false. */
  finished?: boolean;
}

/** Figures of one checkpoint. Times in ms, sizes in bytes. */
export interface CheckpointStats {
  durationMs: number;
  /** Maximum over subtasks. */
  syncMs: number;
  /** Maximum over subtasks. */
  asyncMs: number;
  /** Maximum over subtasks. */
  alignmentMs: number;
  /** Bytes newly written to shared/ by this checkpoint (incremental size). */
  bytesWritten: number;
  /** Total size of all files the checkpoint references. */
  fullSizeBytes: number;
}

/** The content of `chk-<n>/_metadata` (Flink's `CheckpointMetadata`). */
export interface CheckpointMetadata {
  jobId: string;
  checkpointId: number;
  kind: 'checkpoint' | 'savepoint';
  mode: 'exactly-once' | 'at-least-once';
  /** Epoch ms. */
  triggeredAt: number;
  /** Epoch ms. */
  completedAt: number;
  planFingerprint: string;
  /** By operator uid. */
  parallelism: Record<string, number>;
  /** By operator uid. */
  maxParallelism: Record<string, number>;
  /**
   * The job's chains: `vertices[v].uids` are the operator uids that subtasks of vertex v
   * ran, the chain head first. A vertex's keyed state belongs to its head (the keyed
   * operator); a restore into a changed job maps state by these uids.
   */
  vertices: Array<{ uids: string[] }>;
  subtasks: SubtaskState[];
  /**
   * State of the operator coordinators in the job master, by operator uid: the source
   * enumerators (FLIP-27), plain data. Version 2 files have none: decoded as {}.
   */
  coordinatorState: Record<string, unknown>;
  stats: CheckpointStats;
}

export const metadataMagic = Uint8Array.of(0x53, 0x4c, 0x43, 0x4b); // "SLCK"
export const metadataFormatVersion = 3;
/** Older format versions this build still reads (restores of older savepoints). */
export const metadataReadableVersions: readonly number[] = [2, 3];
/** magic + version + payload length. */
export const metadataHeaderSizeBytes = 12;
export const metadataTrailerSizeBytes = 4;
/** A payload above this is refused (bounds the read of a damaged length field). */
export const metadataPayloadSizeBytesMax = 256 * 1024 * 1024;
/** File names in shared/ and job ids: one path component, no hidden or temp files. */
export const fileNameLengthMax = 200;

// Standard CBOR only: a record extension would make the file depend on encoder state.
let cborOrUndefined: Encoder | undefined;
/** Made at the first use (cbor-x loads at its first use, ../cbor-x.ts). */
const cbor = (): Encoder => (cborOrUndefined ??= newCborEncoder({ useRecords: false, copyBuffers: true }));

/**
 * Checks that `name` can be a file name in shared/ (or a job id): a non-empty string of
 * at most 200 characters, without `/`, `\` or NUL, not starting with `.`, not ending in
 * `.tmp` (reserved for writes in progress). Throws `TypeError` / `RangeError` naming it.
 */
export function checkFileName(what: string, name: unknown): asserts name is string {
  if (typeof name !== 'string') throw new TypeError(`${what} must be a string, got ${typeof name}`);
  if (name.length === 0 || name.length > fileNameLengthMax) {
    throw new RangeError(`${what} ${JSON.stringify(name)} must be 1 to ${fileNameLengthMax} characters`);
  }
  if (/[/\\\0]/.test(name) || name.startsWith('.') || name.endsWith('.tmp')) {
    throw new RangeError(`${what} ${JSON.stringify(name)} must be a plain file name (no /, \\ or NUL, no leading '.', no '.tmp' suffix)`);
  }
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function checkInt(what: string, v: unknown, min: number): void {
  if (typeof v !== 'number') throw new TypeError(`${what} must be a number, got ${typeof v}`);
  if (!Number.isSafeInteger(v) || v < min) throw new RangeError(`${what} must be an integer >= ${min}, got ${v}`);
}

function checkNonNegative(what: string, v: unknown): void {
  if (typeof v !== 'number') throw new TypeError(`${what} must be a number, got ${typeof v}`);
  if (!Number.isFinite(v) || v < 0) throw new RangeError(`${what} must be a finite number >= 0, got ${v}`);
}

function checkOneOf(what: string, v: unknown, allowed: readonly string[]): void {
  if (typeof v !== 'string' || !allowed.includes(v)) {
    throw new RangeError(`${what} must be one of ${allowed.map((a) => `'${a}'`).join(', ')}, got ${String(v)}`);
  }
}

function checkCounts(what: string, v: unknown): void {
  if (!isRecord(v)) throw new TypeError(`${what} must be an object of counts by operator uid`);
  for (const [uid, n] of Object.entries(v)) checkInt(`${what}[${JSON.stringify(uid)}]`, n, 1);
}

function checkFileRef(what: string, v: unknown): void {
  if (!isRecord(v)) throw new TypeError(`${what} must be { name, sizeBytes }`);
  checkFileName(`${what}.name`, v.name);
  checkInt(`${what}.sizeBytes`, v.sizeBytes, 0);
}

function checkSubtask(what: string, v: unknown): void {
  if (!isRecord(v)) throw new TypeError(`${what} must be an object`);
  checkInt(`${what}.vertex`, v.vertex, 0);
  checkInt(`${what}.subtaskIndex`, v.subtaskIndex, 0);
  if (!isRecord(v.operatorState)) throw new TypeError(`${what}.operatorState must be an object by operator uid`);
  if (v.finished !== undefined && typeof v.finished !== 'boolean') throw new TypeError(`${what}.finished must be a boolean when present`);
  const keyed = v.keyedState;
  if (keyed === undefined) return;
  if (!isRecord(keyed)) throw new TypeError(`${what}.keyedState must be undefined or a handle object`);
  if (keyed.kind === 'lsm') {
    if (!Array.isArray(keyed.segments)) throw new TypeError(`${what}.keyedState.segments must be an array`);
    keyed.segments.forEach((s, i) => checkFileRef(`${what}.keyedState.segments[${i}]`, s));
  } else if (keyed.kind === 'heap') {
    checkFileRef(`${what}.keyedState.file`, keyed.file);
  } else {
    throw new RangeError(`${what}.keyedState.kind must be 'lsm' or 'heap', got ${String(keyed.kind)}`);
  }
}

/**
 * Checks the shape of checkpoint metadata; throws `TypeError` (wrong type) or
 * `RangeError` (bad value) whose message names the field, e.g. `meta.subtasks[3].vertex`.
 */
export function validateMetadata(meta: unknown, what = 'meta'): asserts meta is CheckpointMetadata {
  if (!isRecord(meta)) throw new TypeError(`${what} must be a CheckpointMetadata object`);
  checkFileName(`${what}.jobId`, meta.jobId);
  checkInt(`${what}.checkpointId`, meta.checkpointId, 0);
  checkOneOf(`${what}.kind`, meta.kind, ['checkpoint', 'savepoint']);
  checkOneOf(`${what}.mode`, meta.mode, ['exactly-once', 'at-least-once']);
  checkNonNegative(`${what}.triggeredAt`, meta.triggeredAt);
  checkNonNegative(`${what}.completedAt`, meta.completedAt);
  if ((meta.completedAt as number) < (meta.triggeredAt as number)) {
    throw new RangeError(`${what}.completedAt ${meta.completedAt} is before triggeredAt ${meta.triggeredAt}`);
  }
  if (typeof meta.planFingerprint !== 'string') throw new TypeError(`${what}.planFingerprint must be a string`);
  checkCounts(`${what}.parallelism`, meta.parallelism);
  checkCounts(`${what}.maxParallelism`, meta.maxParallelism);
  if (!Array.isArray(meta.vertices)) throw new TypeError(`${what}.vertices must be an array of { uids }`);
  meta.vertices.forEach((v: unknown, i) => {
    if (!isRecord(v) || !Array.isArray(v.uids) || v.uids.length === 0 || v.uids.some((u) => typeof u !== 'string')) {
      throw new TypeError(`${what}.vertices[${i}] must be { uids: string[] } with at least the chain head's uid`);
    }
  });
  if (!Array.isArray(meta.subtasks)) throw new TypeError(`${what}.subtasks must be an array`);
  if (!isRecord(meta.coordinatorState)) throw new TypeError(`${what}.coordinatorState must be an object by operator uid`);
  meta.subtasks.forEach((s, i) => {
    checkSubtask(`${what}.subtasks[${i}]`, s);
    if ((s as SubtaskState).vertex >= (meta.vertices as unknown[]).length) {
      throw new RangeError(`${what}.subtasks[${i}].vertex ${(s as SubtaskState).vertex} has no entry in ${what}.vertices`);
    }
  });
  const stats = meta.stats;
  if (!isRecord(stats)) throw new TypeError(`${what}.stats must be a CheckpointStats object`);
  for (const f of ['durationMs', 'syncMs', 'asyncMs', 'alignmentMs', 'bytesWritten', 'fullSizeBytes'] as const) {
    checkNonNegative(`${what}.stats.${f}`, stats[f]);
  }
}

/** Every shared file the metadata references (names may repeat across subtasks). */
export function referencedFiles(meta: CheckpointMetadata): SharedFileRef[] {
  const out: SharedFileRef[] = [];
  for (const s of meta.subtasks) {
    const k = s.keyedState;
    if (k === undefined) continue;
    if (k.kind === 'lsm') out.push(...k.segments);
    else out.push(k.file);
  }
  return out;
}

/** The file bytes for `meta` (validated first: throws as `validateMetadata`). */
export function encodeMetadata(meta: CheckpointMetadata): Uint8Array {
  validateMetadata(meta);
  const payload = cbor().encode(meta);
  if (payload.length > metadataPayloadSizeBytesMax) {
    throw new RangeError(`checkpoint ${meta.checkpointId} metadata is ${payload.length} bytes, above the ${metadataPayloadSizeBytesMax}-byte limit (operator state too large?)`);
  }
  const out = new Uint8Array(metadataHeaderSizeBytes + payload.length + metadataTrailerSizeBytes);
  const view = new DataView(out.buffer);
  out.set(metadataMagic, 0);
  view.setUint32(4, metadataFormatVersion, true);
  view.setUint32(8, payload.length, true);
  out.set(payload, metadataHeaderSizeBytes);
  const end = metadataHeaderSizeBytes + payload.length;
  view.setUint32(end, crc32(out.subarray(0, end)), true);
  return out;
}

const hex = (n: number): string => `0x${(n >>> 0).toString(16).padStart(8, '0')}`;

/**
 * Parses metadata file bytes. Returns the metadata, or a reason (a phrase that follows
 * the file name: "is 10 bytes, ...", "fails CRC32 ...") when the bytes are not a
 * complete, intact metadata file of this format version.
 */
export function decodeMetadata(bytes: Uint8Array): CheckpointMetadata | string {
  const minSize = metadataHeaderSizeBytes + metadataTrailerSizeBytes;
  if (bytes.length < minSize) return `is ${bytes.length} bytes, shorter than the ${minSize}-byte header and trailer (truncated)`;
  for (let i = 0; i < metadataMagic.length; i++) {
    if (bytes[i] !== metadataMagic[i]) return 'does not start with the magic "SLCK" (not checkpoint metadata, or damaged)';
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const version = view.getUint32(4, true);
  if (!metadataReadableVersions.includes(version)) {
    return `has format version ${version}; this build reads versions ${metadataReadableVersions.join(' and ')} (written by another sluicegate version, or damaged)`;
  }
  const length = view.getUint32(8, true);
  const expected = minSize + length;
  if (bytes.length !== expected) {
    const what = bytes.length < expected ? 'truncated' : 'trailing bytes or a damaged length';
    return `is ${bytes.length} bytes, expected ${expected} for its recorded payload of ${length} bytes (${what})`;
  }
  const end = metadataHeaderSizeBytes + length;
  const stored = view.getUint32(end, true);
  const computed = crc32(bytes.subarray(0, end));
  if (stored !== computed) return `fails CRC32 (stored ${hex(stored)}, computed ${hex(computed)}): the file is damaged`;
  let meta: unknown;
  try {
    meta = cbor().decode(bytes.subarray(metadataHeaderSizeBytes, end));
  } catch (e) {
    return `has a checksum-valid payload that is not valid CBOR (${(e as Error).message})`;
  }
  // Version 2 had no coordinator state (sources were not FLIP-27 yet).
  if (version === 2 && typeof meta === 'object' && meta !== null && !('coordinatorState' in meta)) (meta as Record<string, unknown>).coordinatorState = {};
  try {
    validateMetadata(meta, 'metadata');
  } catch (e) {
    return `has a malformed payload: ${(e as Error).message}`;
  }
  return meta;
}

/**
 * What the job master hands a subtask (the piscina task object), and the layout of the
 * subtask's metrics block. Everything here must survive structured cloning: the rings and
 * doorbells are SharedArrayBuffers in the task object (never in a transfer list); the
 * control port is the only transferred object.
 */
import type { MessagePort } from 'node:worker_threads';
import type { CheckpointMode } from './barrier-handler.js';
import type { KeyedStateHandle, SubtaskState } from '../checkpoint/index.js';
import type { UserFunctionFailure } from '../errors.js';
import type { JobInfo } from '../api/index.js';
import type { OptionStyle } from '../option-names.js';
import type { LatencyReport } from '../metrics/latency-recorder.js';

export interface EngineOptions {
  /** Longest time a partly filled batch waits before it is sent, ms (Flink's buffer timeout). */
  bufferTimeoutMs: number;
  /** Records per batch before it is sent; also the most a source emits per mailbox turn. */
  batchSize: number;
  /** `hashmap` (state on the heap) or `lsm` (state in the LSM tree on disk). */
  stateBackend: 'hashmap' | 'lsm';
  /** LSM memtable budget, bytes. */
  memtableSizeBytes: number;
  /** Where LSM state files live (a folder per subtask is made under it). */
  stateDir: string | undefined;
  /** How messages name options: the job was started by runJob (`api`) or `sluice run` (`cli`). */
  optionStyle: OptionStyle;
  /** Sources emit a latency marker this often, ms; 0: latency tracking off. Flink: `metrics.latency.interval`. */
  latencyTrackingIntervalMs: number;
}

export interface InputChannel {
  channel: number;
  ring: SharedArrayBuffer;
  /** Index of the upstream subtask, for error positions. */
  fromSubtask: number;
}
export interface OutputChannel {
  channel: number;
  ring: SharedArrayBuffer;
  /** The consumer subtask's doorbell, rung after each frame. */
  doorbell: SharedArrayBuffer;
  toSubtask: number;
}

/**
 * A task that only loads: the engine (the task file) and the job module, then returns,
 * leaving its thread idle and warm for the next attempt's subtask (runtime/subtask-pool.ts).
 */
export interface WarmUp {
  warmUp: true;
  /** The job module as the user named it (file URL). */
  moduleUrl: string;
  /** What to import: its compiled bundle, or `moduleUrl`. */
  importUrl: string;
}

export interface SubtaskDeployment {
  jobId: string;
  /** The job module as the user named it (file URL; messages name it). */
  moduleUrl: string;
  /** What the worker imports: the module's compiled bundle (graph/compile-job.ts), or `moduleUrl`. */
  importUrl: string;
  args: string[];
  /** The run's job parameters (frozen in the main thread; the worker's ParameterTool holds a copy). */
  jobParameters: Readonly<Record<string, string>>;
  /** The job's id, seed and start time, fixed once per job by the main thread. */
  jobInfo: JobInfo;
  defaultParallelism: number;
  maxParallelism: number | undefined;
  /** Max parallelism by uid of the state the job was first restored from (see JobGraphOptions). */
  restoredMaxParallelism: Record<string, number> | undefined;
  /** The main thread's plan fingerprint: the worker's rebuilt plan must match it. */
  planFingerprint: string;
  vertex: number;
  subtaskIndex: number;
  /** Input channels, keyed by job edge id. */
  inputs: Record<number, InputChannel[]>;
  /** Output channels, keyed by job edge id, ordered by consumer subtask index. */
  outputs: Record<number, OutputChannel[]>;
  doorbell: SharedArrayBuffer;
  metrics: SharedArrayBuffer;
  /** Folder holding every subtask's state folder (lsm backend); made by the job master. */
  stateRoot: string | undefined;
  options: EngineOptions;
  /**
   * Where and how checkpoints are taken; undefined when checkpointing is off.
   * `finalCheckpoint`: periodic checkpoints are on, so a subtask whose input has ended
   * waits for the job's final checkpoint (FLIP-147) before it ends.
   */
  checkpointing: { dir: string; mode: CheckpointMode; finalCheckpoint: boolean } | undefined;
  /** The state this subtask resumes from (a completed checkpoint or a savepoint), if any. */
  restore: SubtaskRestore | undefined;
  /** 0 for the first deployment, then one more for every restart. */
  attempt: number;
  /**
   * Other subtasks run in the same worker thread (its slot holds more than this one): a
   * busy subtask then yields the event loop to them every few milliseconds
   * (task/slot-yield.ts).
   */
  sharesThread: boolean;
  port: MessagePort;
}

/**
 * One slot: the subtasks that run together in one worker thread, concurrently on its
 * event loop (runtime/slot-sharing.ts). The piscina task object of a subtask thread.
 * Flink: a slot of a `SlotSharingGroup`, holding subtask i of each of the group's vertices.
 */
export interface SlotDeployment {
  /** `group/index`, for messages. */
  slot: string;
  subtasks: SubtaskDeployment[];
}

/**
 * One subtask's share of a checkpoint or savepoint, planned by the job master
 * (runtime/restore-plan.ts): operator state already redistributed for this subtask, and
 * its keyed state either as one old subtask's handle (same parallelism) or as the old
 * subtasks' segments to clip to this subtask's key groups (rescaling).
 */
export interface SubtaskRestore {
  checkpointId: number;
  /** Absolute folder holding every file the keyed state names: the job's shared/, or a savepoint's files/. */
  filesDir: string;
  /**
   * The file names are this job's shared/ names: segments kept from the restore are not
   * uploaded again by later checkpoints (incremental). False for savepoints: the first
   * checkpoint after the restore links every file into the new job's shared/.
   */
  shared: boolean;
  /** By operator uid. */
  operatorState: Record<string, unknown>;
  /**
   * The subtask had finished its input when the checkpoint was taken (FLIP-147): it reads
   * nothing, does not run `endInput` again, and only takes part in checkpoints.
   */
  finished: boolean;
  keyed:
    | { kind: 'handle'; handle: KeyedStateHandle }
    /**
     * The keyed state of the old subtasks whose key groups meet `keyGroups` (inclusive), in
     * old-subtask order: LSM segment lists or heap snapshot files, read clipped to
     * `keyGroups` of `maxParallelism`.
     */
    | { kind: 'rescale'; keyGroups: { start: number; end: number }; maxParallelism: number; sources: KeyedStateHandle[] }
    | undefined;
}

/** Figures of one subtask's part of a checkpoint, ms and bytes. */
export interface SubtaskCheckpointStats {
  syncMs: number;
  asyncMs: number;
  alignmentMs: number;
  bytesWritten: number;
  fullSizeBytes: number;
}

/** Messages a subtask posts on its control port. */
export type SubtaskMessage =
  /** Records of a collect sink, written after checkpoint `epoch`'s barrier (0: before any). */
  | { type: 'collect'; name: string; batch: Uint8Array; epoch: number }
  /** This subtask's part of checkpoint n is durable. */
  | { type: 'ack'; checkpointId: number; state: SubtaskState; stats: SubtaskCheckpointStats }
  /**
   * This subtask cannot take checkpoint n: not ready (e.g. it is stopping with a
   * savepoint; does not count as a failure), or `failed` in its asynchronous phase (counts
   * against the tolerable failed checkpoints, as Flink's CHECKPOINT_ASYNC_EXCEPTION).
   */
  | { type: 'decline'; checkpointId: number; reason: string; failed?: true }
  /** The job module is loaded and the subtask starts running, in worker thread `threadId`. */
  | { type: 'running'; threadId: number }
  /** The source reader at this subtask's head started: the enumerator's `addReader`. */
  | { type: 'readerRegistered' }
  /** The source reader asks its enumerator for a split. */
  | { type: 'splitRequest' }
  /**
   * All input of this subtask has ended and its operators ran `endInput`: it takes
   * checkpoints directly from now on (no barrier reaches it) and waits for the final one.
   */
  | { type: 'inputEnded' }
  /** The latencies its operators recorded since the last report, µs (metrics/latency.ts), at most once a second. */
  | LatencyReport
  /**
   * The last message of a subtask that ended normally; without a final checkpoint, the
   * sinks' last committables by operator uid, for the job master to commit at job end.
   */
  | { type: 'finished'; committables: Array<{ uid: string; committables: unknown[] }> }
  /** The last message of a subtask whose user function threw. */
  | { type: 'failed'; failure: UserFunctionFailure }
  /** The last message of a subtask that failed otherwise (or was cancelled). */
  | { type: 'error'; name: string; message: string; stack: string | undefined; userError: boolean };

/** Messages the job master posts to a subtask. */
export type MasterMessage =
  | { type: 'cancel' }
  /**
   * To source subtasks: take checkpoint n now and emit its barrier. `stop`: a
   * stop-with-savepoint: emit nothing after the barrier, and end once n is complete (or go
   * on reading if n is aborted).
   */
  | { type: 'trigger'; checkpointId: number; timestamp: number; stop?: boolean }
  /**
   * Checkpoint n is complete: publish what it covers (two-phase-commit sinks). `final`:
   * every subtask had finished its input when n was taken; the subtask ends after it.
   */
  | { type: 'complete'; checkpointId: number; final?: boolean }
  /** Splits from the source's enumerator, for the reader at this subtask's head. */
  | { type: 'addSplits'; splits: unknown[] }
  /** The enumerator will send this reader no more splits. */
  | { type: 'noMoreSplits' }
  /** Checkpoint n failed or timed out: drop its partial work. */
  | { type: 'abort'; checkpointId: number };

/**
 * Metrics block: a Float64Array over a SharedArrayBuffer, one writer (the subtask), read by
 * the job master for progress. Plain (non-Atomics) stores: a reader may see a value one
 * batch old, never a torn one on the 64-bit platforms Node supports (aligned 8-byte stores).
 *   [0] backpressured ms (blocked on a full output ring)
 *   [1] idle ms (waiting for input)
 *   [2] finished flag (1 when the subtask ended normally)
 *   [3..7] state backend: segments, flushes, compactions, block cache hits, misses
 *   [8] records the source could not decode and skipped (Flink's numRecordsInErrors)
 *   [9] the current input watermark, ms (-Infinity before the first; a source's own for
 *       source chains with a watermark strategy). Flink: `currentInputWatermark`
 *   [10 + 3k] records in of chain node k, [11 + 3k] its records out, [12 + 3k] its late
 *       records dropped (window operators; Flink's `numLateRecordsDropped`)
 */
export const metricsSlot = {
  backpressuredMs: 0,
  idleMs: 1,
  finished: 2,
  stateSegments: 3,
  stateFlushes: 4,
  stateCompactions: 5,
  stateCacheHits: 6,
  stateCacheMisses: 7,
  recordsInErrors: 8,
  inputWatermark: 9,
  /** Encoded bytes of record batches read from input rings (frame payloads). Flink: `numBytesIn`. */
  bytesIn: 10,
  /** Encoded bytes of record batches written to output rings (frame payloads). Flink: `numBytesOut`. */
  bytesOut: 11,
  /** Epoch ms of the first turn that saw a record in or out of the chain; 0 before. */
  firstRecordAt: 12,
  /** Epoch ms of the latest turn that saw one. */
  lastRecordAt: 13,
  firstNode: 14,
  /** Slots per chain node: records in, records out, late records dropped. */
  perNode: 3,
} as const;

export function metricsBytes(chainLength: number): number {
  return Float64Array.BYTES_PER_ELEMENT * (metricsSlot.firstNode + metricsSlot.perNode * chainLength);
}

/**
 * The record path of a subtask with inputs: reads one frame of an input ring, decodes it
 * inside `tryReadWith` (records are copied out before the frame is released), and runs
 * its records through the chain's head as direct calls (`collect`, or `collectKeyed` with
 * the key and key group of a keyed edge). Watermark and idleness frames go through the
 * watermark valve (the minimum over the inputs), barriers and END_OF_INPUT to the
 * checkpoint side (task-checkpoints.ts), latency markers straight on.
 *
 * Flink: `StreamOneInputProcessor` / `StreamMultipleInputProcessor` with
 * `StreamTaskNetworkInput` (deserialization, `StatusWatermarkValve`, the record pushed
 * into the head operator).
 *
 * Hot path: `readFrame` -> `batch` -> `processBatch` runs per frame and per record; it
 * allocates nothing per record and is monomorphic (one class, fields fixed at
 * construction). A throw out of a batch is attributed once per batch (operators.ts).
 *
 * Invariants: no record is processed after END_OF_INPUT of its input; the run loop
 * (stream-task.ts) reads no frame of an input blocked for barrier alignment.
 */
import assert from 'node:assert/strict';
import { FrameKind } from '../channel/index.js';
import type { StateKey } from '../state/api.js';
import { assignToKeyGroup } from '../state/key-group.js';
import { WatermarkValve } from '../time/index.js';
import type { ValveOutput } from '../time/index.js';
import { createBatchDecoder, decodeTimestampedBatch, decodeWatermark, watermarkKind } from './batch-codec.js';
import { LatencyMarker, decodeLatencyMarker } from './latency-marker.js';
import type { ChainInput } from './operator-chain.js';
import { attributeFailure } from './operators.js';
import type { FailureContext } from './operators.js';
import type { TaskCheckpoints } from './task-checkpoints.js';
import type { TaskTimeService } from './time-service.js';

type Input = ChainInput;

export class StreamInputProcessor {
  private readonly decoder = createBatchDecoder();
  /** Combines the input channels' watermarks; undefined without inputs (a source chain). */
  readonly valve: WatermarkValve | undefined;
  /** Payload bytes of the record batches decoded from input rings (once per batch). */
  bytesIn = 0;
  private currentInput: Input | undefined;
  private currentIndexInBatch = 0;
  private currentBatchLength = 0;

  constructor(
    inputCount: number,
    /** The subtask's failure context, shared with its operators (operators.ts). */
    private readonly failure: FailureContext,
    /** The current record's event timestamp (NaN: none), shared by the chain. */
    private readonly timestamp: { value: number },
    private readonly checkpoints: TaskCheckpoints,
    private readonly time: TaskTimeService,
  ) {
    if (inputCount > 0) this.valve = new WatermarkValve(inputCount);
  }

  /** Where the record being processed came from (for failure messages); undefined between batches. */
  position(): string | undefined {
    const input = this.currentInput;
    if (input === undefined) return undefined;
    return `record ${input.recordsRead - this.currentBatchRemaining()} from ${input.label}`;
  }

  private currentBatchRemaining(): number {
    return this.currentBatchLength - this.currentIndexInBatch;
  }

  /**
   * Reads and processes one frame; false when the input has none now. A barrier that
   * completes an alignment leaves `checkpoints.triggered` set for the caller to take.
   * @throws TaskFailure naming the operator that threw (or a UsageError as it is).
   */
  readFrame(input: Input): boolean {
    const read = input.ring.tryReadWith((kind, view): unknown => {
      switch (kind) {
        case FrameKind.RECORDS:
          this.bytesIn += view.length;
          return this.decoder.decode(view) as unknown[];
        case FrameKind.TIMESTAMPED_RECORDS:
          this.bytesIn += view.length;
          return decodeTimestampedBatch(this.decoder, view);
        case FrameKind.BARRIER:
          return view.slice();
        case FrameKind.WATERMARK:
          return decodeWatermark(view);
        case FrameKind.LATENCY_MARKER:
          return decodeLatencyMarker(view);
        default:
          return kind;
      }
    });
    if (read === undefined) return false;
    const value = read.value;
    if (value === FrameKind.END_OF_INPUT) {
      input.ended = true;
      this.checkpoints.onEndOfInput(input.index);
      this.onValve(this.valve!.end(input.index), input);
      return true;
    }
    if (value instanceof Uint8Array) {
      // A BARRIER frame (the decoder copied its payload out of the ring).
      this.checkpoints.onBarrier(input.index, value);
      return true;
    }
    if (Array.isArray(value)) {
      this.batch(input, value, undefined);
      return true;
    }
    if (value instanceof LatencyMarker) {
      // Forwarded at once, never processed or counted (no user code runs: nothing to attribute).
      input.node.processLatencyMarker(value);
      return true;
    }
    const frame = value as { records: unknown[]; timestamps: Float64Array } | { value: number; kind: number };
    if ('records' in frame) {
      this.batch(input, frame.records, frame.timestamps);
      return true;
    }
    assert(typeof frame.kind === 'number', `unexpected frame on ${input.label}`);
    const valve = this.valve!;
    this.onValve(frame.kind === watermarkKind.WATERMARK ? valve.watermark(input.index, frame.value) : valve.status(input.index, frame.kind === watermarkKind.IDLE), input);
    return true;
  }

  /** Records of one frame through the chain; a throw is attributed to the operator running. */
  private batch(input: Input, records: unknown[], timestamps: Float64Array | undefined): void {
    // A record on an idle channel makes it active again.
    if (this.valve !== undefined && records.length > 0) this.onValve(this.valve.record(input.index), input);
    try {
      this.processBatch(input, records, timestamps);
    } catch (thrown) {
      throw attributeFailure(this.failure, thrown, input.node);
    }
  }

  /** What the valve decided: the head operator's new input watermark or status. */
  private onValve(out: ValveOutput, input: Input): void {
    if (out.idle === undefined && out.watermark === undefined) return;
    const head = input.node;
    try {
      if (out.idle !== undefined) head.processIdle(out.idle);
      if (out.watermark !== undefined) {
        if (out.watermark === Infinity) this.time.finalWatermarkSent = true;
        head.processWatermark(out.watermark);
      }
    } catch (thrown) {
      throw attributeFailure(this.failure, thrown, head);
    }
  }

  private processBatch(input: Input, records: unknown[], timestamps: Float64Array | undefined): void {
    this.currentInput = input;
    this.currentBatchLength = records.length;
    input.recordsRead += records.length;
    const { node, keySelector, keyGroups, maxParallelism } = input;
    // A blame left by a throw some user function swallowed is not carried into this batch.
    this.failure.operator = undefined;
    const ts = this.timestamp;
    if (timestamps === undefined) ts.value = NaN;
    for (let i = 0; i < records.length; i++) {
      this.currentIndexInBatch = i;
      const record = records[i];
      if (timestamps !== undefined) ts.value = timestamps[i]!;
      if (keySelector === undefined) {
        node.collect(record);
        continue;
      }
      let key: StateKey;
      let keyGroup: number;
      try {
        key = keySelector(record);
        // The sender hashed the same key to route the record here: hashed again only where
        // the head needs it (a backend that reads key groups, a window operator).
        keyGroup = keyGroups ? assignToKeyGroup(key, maxParallelism) : -1;
      } catch (thrown) {
        node.blame(thrown, record); // a throwing key selector, or a key it cannot hash, is blamed on the keyed operator
        throw thrown;
      }
      node.collectKeyed(record, key, keyGroup);
    }
    this.currentInput = undefined;
  }
}

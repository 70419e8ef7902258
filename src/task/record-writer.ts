/**
 * The record writer of one job edge: routes each record to a channel (forward,
 * rebalance, broadcast, or hash by key group), batches per channel, and sends a batch as a
 * RECORDS frame as soon as it holds `batchSize` records. Flink: `RecordWriter` with
 * `ChannelSelector`.
 *
 * Design: `collect` is synchronous and never waits. A full batch is encoded and written at
 * once if its ring has room; otherwise the frame joins the channel's queue and
 * `queuedFrames` (shared by the subtask's writers) rises, which tells sources and the
 * input loop to end their turn. The mailbox loop then awaits `flushReady()`, where a full
 * ring blocks (backpressure). So at most one turn's overflow waits in memory.
 */
import { UsageError } from '../errors.js';
import { optionName } from '../option-names.js';
import type { OptionStyle } from '../option-names.js';
import assert from 'node:assert/strict';
import { performance } from 'node:perf_hooks';
import { Doorbell, FrameKind, Ring } from '../channel/index.js';
import type { KeySelector } from '../api/index.js';
import type { JobEdge } from '../graph/index.js';
import { assignToKeyGroup, operatorIndexForKeyGroup } from '../state/key-group.js';
import { createBatchEncoder, encodeTimestampedBatch, encodeWatermark, framePayloadLimitBytes, watermarkKind } from './batch-codec.js';
import { encodeBarrier } from './barrier-codec.js';
import { encodeLatencyMarker } from './latency-marker.js';
import type { LatencyMarker } from './latency-marker.js';
import type { OutputChannel } from './deployment.js';
import type { Output } from './operators.js';

/** How long one wait for ring space lasts before the loop re-checks cancellation, ms. */
export const spaceWaitSliceMs = 100;

export class RecordWriter implements Output {
  private readonly rings: Ring[];
  private readonly pending: unknown[][];
  /** Per channel, the event timestamps of the pending records (NaN: none), empty until one of them has a timestamp, and how many are set. */
  private readonly pendingTimestamps: number[][];
  private readonly timestampCount: number[];
  /** performance.now() of each channel's oldest pending record, or Infinity. */
  private readonly pendingSince: number[];
  /** Encoded frames waiting for ring space, per channel, oldest first. */
  private readonly queued: Array<Array<{ kind: FrameKind; payload: Uint8Array }>>;
  /**
   * Per channel, LATENCY_MARKER payloads that wait behind the channel's pending records:
   * they go right after that batch, so a marker waits in the batch as its records do.
   */
  private readonly pendingMarkers: Uint8Array[][];
  private nextChannel: number;
  /**
   * A pending batch is sent when it holds this many records: `batchSize`, or fewer when
   * that many would encode to more than a frame may hold (learned from each frame sent,
   * so a batch is encoded once instead of being encoded, found too large and halved).
   */
  private sendAt: number;
  private readonly encoder = createBatchEncoder();
  private readonly keySelector: KeySelector<any> | undefined;
  /** Time blocked on full rings, ms. */
  backpressuredMs = 0;
  /** Payload bytes of the record batches encoded (counted once per batch, not per record). */
  bytesOut = 0;

  constructor(
    readonly edge: JobEdge,
    channels: readonly OutputChannel[],
    private readonly consumerParallelism: number,
    private readonly consumerMaxParallelism: number,
    private readonly batchSize: number,
    subtaskIndex: number,
    private readonly isCancelled: () => boolean,
    /** Frames queued behind full rings, over all writers of the subtask. */
    private readonly backlog: { queuedFrames: number },
    /** The subtask's current event timestamp (NaN: none), attached to each record written. */
    private readonly timestamp: { value: number } = { value: NaN },
    /** How messages name the ring size option (the job's caller: runJob or sluice run). */
    private readonly optionStyle: OptionStyle = 'api',
  ) {
    assert(channels.length > 0);
    this.rings = channels.map((c) => new Ring(c.ring, new Doorbell(c.doorbell)));
    // The subtask's loop awaits every turn, so a turn's frames wake a sleeping consumer once.
    for (const ring of this.rings) ring.deferWakeUps = true;
    this.sendAt = batchSize;
    this.pending = channels.map(() => []);
    this.pendingTimestamps = channels.map(() => []);
    this.timestampCount = channels.map(() => 0);
    this.queued = channels.map(() => []);
    this.pendingMarkers = channels.map(() => []);
    this.pendingSince = channels.map(() => Infinity);
    this.nextChannel = subtaskIndex % channels.length;
    this.keySelector = edge.keySelector;
    if (edge.partitioner === 'hash') assert(channels.length === consumerParallelism && this.keySelector !== undefined);
    if (edge.partitioner === 'forward') assert(channels.length === 1);
  }

  collect(record: unknown): void {
    switch (this.edge.partitioner) {
      case 'forward':
        this.add(0, record);
        return;
      case 'rebalance': {
        const channel = this.nextChannel;
        this.nextChannel = channel + 1 === this.rings.length ? 0 : channel + 1;
        this.add(channel, record);
        return;
      }
      case 'broadcast':
        for (let c = 0; c < this.rings.length; c++) this.add(c, record);
        return;
      case 'hash': {
        const keyGroup = assignToKeyGroup(this.keySelector!(record), this.consumerMaxParallelism);
        this.add(operatorIndexForKeyGroup(keyGroup, this.consumerParallelism, this.consumerMaxParallelism), record);
        return;
      }
    }
  }

  private add(channel: number, record: unknown): void {
    const batch = this.pending[channel]!;
    if (batch.length === 0) this.pendingSince[channel] = performance.now();
    const ts = this.timestamp.value;
    // Timestamps are kept only from a batch's first record that has one (NaN before it).
    if (ts === ts || this.timestampCount[channel]! > 0) this.addTimestamp(channel, batch.length, ts);
    batch.push(record);
    if (batch.length >= this.sendAt) this.sendPending(channel);
  }

  /** Records `ts` (NaN: none) for the record at `index` of the channel's pending batch. */
  private addTimestamp(channel: number, index: number, ts: number): void {
    const timestamps = this.pendingTimestamps[channel]!;
    while (timestamps.length < index) timestamps.push(NaN);
    timestamps.push(ts);
    if (ts === ts) this.timestampCount[channel]!++; // not NaN
  }

  /** Watermark `timestampMs` on every channel, behind every record written so far. */
  emitWatermark(timestampMs: number): void {
    this.broadcastControl(FrameKind.WATERMARK, encodeWatermark(timestampMs, watermarkKind.WATERMARK));
  }

  /** Idle (or active again) on every channel, behind every record written so far. */
  emitIdle(idle: boolean): void {
    this.broadcastControl(FrameKind.WATERMARK, encodeWatermark(0, idle ? watermarkKind.IDLE : watermarkKind.ACTIVE));
  }

  /**
   * A latency marker to one channel chosen at random (Flink: `RecordWriter.randomEmit`),
   * behind the records written to it so far: at once when the channel has no pending
   * batch, else right after that batch is sent (full, timed out, or flushed).
   */
  emitLatencyMarker(marker: LatencyMarker): void {
    const channel = this.rings.length === 1 ? 0 : Math.floor(Math.random() * this.rings.length);
    const payload = encodeLatencyMarker(marker);
    if (this.pending[channel]!.length === 0) this.writeOrQueue(channel, FrameKind.LATENCY_MARKER, payload);
    else this.pendingMarkers[channel]!.push(payload);
  }

  /** Sends the pending batches, then a WATERMARK frame on every channel (written or queued in order). */
  /** A control frame on every channel behind its pending batch: written now where it can be, else queued in order. */
  private broadcastControl(kind: FrameKind, payload: Uint8Array): void {
    for (let c = 0; c < this.rings.length; c++) {
      this.sendPending(c);
      this.writeOrQueue(c, kind, payload);
    }
  }

  /** Writes a frame now if nothing waits before it and the ring has room; else queues it. */
  private writeOrQueue(channel: number, kind: FrameKind, payload: Uint8Array): void {
    const queue = this.queued[channel]!;
    if (queue.length === 0 && this.rings[channel]!.tryWrite(kind, payload)) return;
    // cbor-x reuses its output buffer: a frame that waits must own its bytes.
    queue.push({ kind, payload: Uint8Array.prototype.slice.call(payload) });
    this.backlog.queuedFrames++;
  }

  /** performance.now() of the oldest pending record of any channel, or Infinity. */
  oldestPending(): number {
    let oldest = Infinity;
    for (const t of this.pendingSince) if (t < oldest) oldest = t;
    return oldest;
  }

  /** Encodes the channel's pending records and writes or queues the frame(s). */
  private sendPending(channel: number): void {
    const batch = this.pending[channel]!;
    if (batch.length === 0) return;
    const timestamps = this.timestampCount[channel]! > 0 ? this.pendingTimestamps[channel]! : undefined;
    this.pending[channel] = [];
    if (timestamps !== undefined) this.pendingTimestamps[channel] = [];
    this.timestampCount[channel] = 0;
    this.pendingSince[channel] = Infinity;
    this.encodeBatch(channel, batch, timestamps);
    const markers = this.pendingMarkers[channel]!;
    if (markers.length === 0) return;
    for (const payload of markers) this.writeOrQueue(channel, FrameKind.LATENCY_MARKER, payload);
    this.pendingMarkers[channel] = [];
  }

  /**
   * Encodes `batch` (a RECORDS frame, or TIMESTAMPED_RECORDS with `timestamps`) and writes
   * or queues it. A frame over a quarter ring is cut instead: into pieces of the records
   * per frame its size suggests, each encoded again (and cut again if still too large).
   */
  private encodeBatch(channel: number, batch: unknown[], timestamps: number[] | undefined): void {
    const ring = this.rings[channel]!;
    const payload = timestamps === undefined ? this.encoder.encode(batch) : encodeTimestampedBatch(this.encoder, batch, timestamps);
    const limit = framePayloadLimitBytes(ring.capacityBytes, ring.maxPayloadBytes);
    // Records per frame for a frame of at most 7/8 of the limit, at this batch's bytes per record.
    const fitting = Math.max(1, Math.floor((batch.length * limit * 0.875) / payload.length));
    this.sendAt = Math.min(this.batchSize, fitting);
    if (payload.length > limit && batch.length > 1) {
      const piece = Math.min(fitting, batch.length >> 1);
      for (let from = 0; from < batch.length; from += piece) {
        this.encodeBatch(channel, batch.slice(from, from + piece), timestamps?.slice(from, from + piece));
      }
      return;
    }
    if (payload.length > ring.maxPayloadBytes) {
      // The same record fails again after any restore: a usage error, not a restartable failure.
      const enough = Math.min(2 ** 30, 2 ** Math.ceil(Math.log2(payload.length + (ring.capacityBytes - ring.maxPayloadBytes))));
      throw new UsageError(
        `A record of ${payload.length} bytes does not fit a channel ring of ${ring.capacityBytes} bytes (at most ${ring.maxPayloadBytes} bytes per frame): ` +
          `set ${optionName('ringSizeBytes', this.optionStyle)} to ${enough} or more (unset, rings are 64 KiB in a job with a checkpoint directory, else 64-256 KiB by the number of channels into the receiving subtask)`,
      );
    }
    this.bytesOut += payload.length;
    this.writeOrQueue(channel, timestamps === undefined ? FrameKind.RECORDS : FrameKind.TIMESTAMPED_RECORDS, payload);
  }

  /** Writes every queued frame, waiting while a ring is full. */
  async flushReady(): Promise<void> {
    for (let c = 0; c < this.rings.length; c++) {
      const queue = this.queued[c]!;
      while (queue.length > 0) {
        const frame = queue[0]!;
        await this.writeFrame(this.rings[c]!, frame.kind, frame.payload);
        queue.shift();
        this.backlog.queuedFrames--;
      }
    }
  }

  /** Sends everything pending (buffer timeout, end of input). */
  async flushAll(): Promise<void> {
    for (let c = 0; c < this.rings.length; c++) this.sendPending(c);
    await this.flushReady();
  }

  private async writeFrame(ring: Ring, kind: FrameKind, payload: Uint8Array): Promise<void> {
    if (ring.tryWrite(kind, payload)) return;
    const blockedAt = performance.now();
    // The ring is full: wait in slices so that a cancel is seen within spaceWaitSliceMs.
    while (!ring.tryWrite(kind, payload)) {
      if (this.isCancelled()) throw new CancelledError();
      await ring.waitForSpace(payload.length, spaceWaitSliceMs);
    }
    this.backpressuredMs += performance.now() - blockedAt;
  }

  /**
   * Sends the pending batches, then BARRIER n on every channel behind every record: into
   * the ring at once where nothing is queued and it has room, else queued in order, like a
   * watermark. Returns true when every frame is in its ring, false when some wait for
   * `flushReady()`, which the caller then awaits. `stop` marks a stop-with-savepoint barrier.
   * Not awaiting when the rings have room matters with slot sharing: an `await` lets a
   * neighbour subtask of the thread run a turn first, and a freshly restored neighbour's
   * first turn took 60-220 ms, all of it before the barrier (native-notes §6, "The first
   * checkpoint after a restore").
   */
  barrier(checkpointId: number, timestamp: number, stop = false): boolean {
    this.broadcastControl(FrameKind.BARRIER, encodeBarrier(checkpointId, timestamp, stop));
    return this.queued.every((q) => q.length === 0);
  }

  /** Sends END_OF_INPUT on every channel. REQUIRES: flushAll() first. */
  async endOfInput(): Promise<void> {
    assert(this.pending.every((b) => b.length === 0) && this.queued.every((q) => q.length === 0));
    const empty = new Uint8Array(0);
    for (const ring of this.rings) await this.writeFrame(ring, FrameKind.END_OF_INPUT, empty);
  }
}

/** Thrown out of waits when the job master cancelled the subtask. */
export class CancelledError extends Error {
  constructor() {
    super('The subtask was cancelled');
    this.name = 'CancelledError';
  }
}

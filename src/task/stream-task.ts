/**
 * One subtask: builds its operator chain from the job graph, then runs the mailbox loop,
 * as Flink's `StreamTask` + `MailboxProcessor`. Single-threaded: records, control
 * messages (over the port) and timers all run on this worker's event loop.
 *
 * Loop turn: run control mails, poll the source reader (up to a batch) or read up to
 * `framesPerInputTurn` frames from each input, push the records through the chain
 * synchronously, await `flushReady()` on every writer (a full ring blocks here:
 * backpressure), flush batches older than the buffer timeout, and when nothing moved,
 * sleep on the doorbell until a producer, the job master, or the source reader's
 * availability (`isAvailable()`) rings it.
 *
 * End of input (FLIP-147): when the source reader ends or every input delivered
 * END_OF_INPUT, operators run `endInput`, END_OF_INPUT goes downstream, and (with periodic
 * checkpoints) the subtask reports `inputEnded` and stays: it takes checkpoints when
 * triggered directly (no barrier can reach it any more, and it sends none) until the
 * job's final checkpoint completes, so sinks commit everything before the job ends.
 *
 * Invariants: a frame's records are decoded (copied) before the frame is released; no
 * record is processed after END_OF_INPUT of its input; END_OF_INPUT goes downstream only
 * after all inputs ended and every operator flushed; no frame follows END_OF_INPUT.
 */
import assert from 'node:assert/strict';
import { performance } from 'node:perf_hooks';
import { receiveMessageOnPort } from 'node:worker_threads';
import { Doorbell, FrameKind } from '../channel/index.js';
import type { SourceSplit } from '../connectors/index.js';
import type { JobGraph } from '../graph/index.js';
import type { KeyedStateBackend, StateKey } from '../state/api.js';
import { assignToKeyGroup } from '../state/key-group.js';
import type { JobScope } from '../api/index.js';
import { createBatchDecoder } from './batch-codec.js';
import { metricsSlot } from './deployment.js';
import type { SubtaskDeployment, SubtaskMessage } from './deployment.js';
import type { ChainOperator } from './operators.js';
import type { ProcessingTimeOperator } from './process-operators.js';
import type { PeriodicWatermarkEmitter } from './timestamps-operator.js';
import { WatermarkValve, systemProcessingClock } from '../time/index.js';
import type { ValveOutput } from '../time/index.js';
import { decodeTimestampedBatch, decodeWatermark, watermarkKind } from './batch-codec.js';
import type { SourceOperator } from './source-operator.js';
import type { SinkOperator } from './sink-operator.js';
import { TaskFailure, blamesFor } from './operators.js';
import type { FailureContext, OperatorEnvironment } from './operators.js';
import { CancelledError } from './record-writer.js';
import type { RecordWriter } from './record-writer.js';
import { findUserError } from '../errors.js';
import { BarrierHandler } from './barrier-handler.js';
import { SubtaskCheckpointing } from './checkpointing.js';
import { decodeBarrier } from './barrier-codec.js';
import { LatencyMarker, decodeLatencyMarker } from './latency-marker.js';
import { LatencyTracking } from './latency-tracking.js';
import { SlotYield } from './slot-yield.js';
import { buildOperatorChain } from './operator-chain.js';
import type { ChainInput } from './operator-chain.js';
import type { MasterMessage } from './deployment.js';

/** Frames read from one input before the loop turns to the next input. */
export const framesPerInputTurn = 4;
/**
 * Longest single sleep on the doorbell, ms. Control mails (cancel too) and source
 * availability ring it, so this only bounds how late a lost wake-up would be noticed.
 */
export const idleWaitSliceMs = 500;

type Input = ChainInput;

export class StreamTask {
  private readonly operators: ChainOperator[];
  private readonly writers: RecordWriter[];
  private readonly inputs: Input[];
  private readonly doorbell: Doorbell;
  private readonly metrics: Float64Array;
  private readonly decoder = createBatchDecoder();
  private readonly source: SourceOperator | undefined;
  /** A wake-up on the source reader's availability is pending. */
  private availabilityArmed = false;
  /** The source reader's `isAvailable()` rejected: fails the subtask at the next turn. */
  private availabilityFailure: unknown;
  private cancelled = false;
  /** Operators ran `endInput` (or were restored finished) and END_OF_INPUT went downstream. */
  private inputEnded = false;
  /** The final checkpoint completed (or, without one, the input ended): leave the loop. */
  private done = false;
  /** The newest checkpoint this subtask took: a direct trigger of it again is ignored. */
  private lastCheckpointTaken = 0;
  private idleMs = 0;
  /** Lets the other subtasks of a shared slot run (slot-yield.ts). */
  private readonly slotYield: SlotYield;
  /** Records in and out of the chain at the last publishMetrics (to see whether a turn had any). */
  private recordsSeen = 0;
  /** Payload bytes of the record batches decoded from input rings (once per batch). */
  private bytesIn = 0;
  private currentInput: Input | undefined;
  private currentIndexInBatch = 0;
  /** Aligns barriers of several inputs; undefined for sources or without checkpointing. */
  private barriers: BarrierHandler | undefined;
  private readonly checkpointing: SubtaskCheckpointing | undefined;
  /** Control mails from the job master, run between record batches. */
  private readonly mailbox: MasterMessage[] = [];
  /** A checkpoint the last barrier frame completed, taken right after the frame. */
  private triggered: { checkpointId: number; timestamp: number; alignedSince: number | undefined } | undefined;
  /** Recently aborted checkpoint ids (the newest 64): a late stop barrier of one is not a stop. */
  private readonly abortedIds = new Set<number>();
  /** Ids whose barrier arrived marked as stop-with-savepoint (cleared when taken or aborted). */
  private readonly stopBarriers = new Set<number>();
  /**
   * The stop-with-savepoint this subtask has snapshotted and now waits on: no record
   * follows its barrier; `complete` ends the subtask without draining (operators get no
   * end of input, as Flink's stop without --drain), `abort` resumes normal work.
   */
  private stopping: number | undefined;
  /** The stop-with-savepoint completed: end now. */
  private stopped = false;
  private readonly sinks: SinkOperator[];
  /** Operators with processing-time timers, served every turn. */
  private readonly timerOperators: ProcessingTimeOperator[];
  /** Watermark generators emitting every auto-watermark interval (sources with a strategy, assigners). */
  private readonly periodicEmitters: PeriodicWatermarkEmitter[];
  /** performance.now() of the next periodic watermark emission. */
  private nextPeriodicEmit = 0;
  /** Combines the input channels' watermarks (subtasks with inputs). */
  private valve: WatermarkValve | undefined;
  /** The maximum watermark has gone through the chain (end of input). */
  private finalWatermarkSent = false;
  /** Latency markers: emitted (source chains) and recorded; undefined with tracking off. */
  private readonly latency: LatencyTracking | undefined;
  /** Without a final checkpoint: the sinks' last committables, for the job master to commit at job end. */
  readonly finalCommittables: Array<{ uid: string; committables: unknown[] }> = [];

  constructor(
    private readonly graph: JobGraph,
    private readonly d: SubtaskDeployment,
    private readonly backend: KeyedStateBackend,
    private readonly post: (message: SubtaskMessage) => void,
    private readonly job: JobScope,
  ) {
    this.doorbell = new Doorbell(d.doorbell);
    this.slotYield = new SlotYield(d.sharesThread);
    this.metrics = new Float64Array(d.metrics);
    const chain = buildOperatorChain({ graph, d, env: this.env(), post, cancelled: () => this.cancelled, backlog: this.backlog });
    ({ operators: this.operators, writers: this.writers, inputs: this.inputs, source: this.source, sinks: this.sinks } = chain);
    ({ timerOperators: this.timerOperators, periodicEmitters: this.periodicEmitters } = chain);
    if (this.inputs.length > 0) this.valve = new WatermarkValve(this.inputs.length);
    this.latency = LatencyTracking.create(d.options.latencyTrackingIntervalMs, this.operators, this.source, d.subtaskIndex, post);
    if (d.checkpointing !== undefined) {
      const keyed = graph.nodes[graph.vertices[d.vertex]!.head]!.keyed;
      this.checkpointing = new SubtaskCheckpointing(d.checkpointing.dir, d.jobId, d.vertex, d.subtaskIndex, backend, post, keyed);
      if (this.inputs.length > 0) this.barriers = new BarrierHandler(this.inputs.length, d.checkpointing.mode);
    }
  }

  cancel(): void {
    this.cancelled = true;
  }

  /**
   * A control mail from the job master; runs at the next turn boundary, in arrival order.
   * A cancel also takes effect at once in waits (RecordWriter), but `complete` mails that
   * arrived before it still commit (see settleBeforeCancel).
   */
  control(message: MasterMessage): void {
    if (message.type === 'cancel') this.cancel();
    this.mailbox.push(message);
  }

  /** Operator state restored for the node with this uid, if any. */
  private restored(uid: string): unknown {
    return this.d.restore?.operatorState[uid];
  }

  private readonly failure: FailureContext = { operator: undefined, record: undefined, thrown: undefined, seq: 0 };
  /** Frames queued behind full output rings; > 0 ends the current turn early. */
  private readonly backlog = { queuedFrames: 0 };
  private readonly outputBlocked = (): boolean => this.backlog.queuedFrames > 0;

  /** The current record's event timestamp (NaN: none), shared by the chain. */
  private readonly timestamp = { value: NaN };

  private env(): OperatorEnvironment {
    return {
      subtaskIndex: this.d.subtaskIndex,
      backend: this.backend,
      failure: this.failure,
      position: () => this.position(),
      restoredState: (uid) => this.restored(uid),
      timestamp: this.timestamp,
      clock: systemProcessingClock,
      job: this.job,
    };
  }

  /**
   * Attributes a throw out of a batch to the operator that was running (see
   * FailureContext). A non-recoverable error (a UsageError: bad input data, a bad
   * timestamp, an async user function; see findUserError) passes as it is: no restart can fix it.
   */
  private attribute(thrown: unknown, fallback: ChainOperator): TaskFailure | Error {
    const userError = findUserError(thrown);
    if (userError !== undefined) return userError;
    const f = this.failure;
    const blamed = blamesFor(f, thrown);
    const op = blamed ? f.operator! : fallback;
    const record = blamed ? f.record : undefined;
    f.operator = undefined;
    f.record = undefined;
    f.thrown = undefined;
    return op.failure(thrown, record);
  }

  /** Where the record being processed came from (for failure messages). */
  private position(): string | undefined {
    if (this.source !== undefined) return this.source.position();
    const input = this.currentInput;
    if (input === undefined) return undefined;
    return `record ${input.recordsRead - this.currentBatchRemaining()} from ${input.label}`;
  }
  private currentBatchLength = 0;
  private currentBatchRemaining(): number {
    return this.currentBatchLength - this.currentIndexInBatch;
  }

  /** Periodic checkpoints are on: after its input ends, the subtask waits for the final checkpoint. */
  private get waitsForFinalCheckpoint(): boolean {
    return this.d.checkpointing?.finalCheckpoint === true;
  }

  /**
   * Runs until the input ended (and, with periodic checkpoints, the final checkpoint
   * completed) or a stop-with-savepoint completed.
   * @throws TaskFailure, CancelledError (sinks discard their uncommitted output first), or engine errors.
   */
  async run(): Promise<void> {
    try {
      await this.runLoop();
    } catch (error) {
      if (error instanceof CancelledError) await this.settleBeforeCancel();
      throw error;
    }
  }

  private async runLoop(): Promise<void> {
    for (const op of this.operators) await op.open();
    // Restored from a checkpoint taken after this subtask finished: its output is all
    // downstream already; it only takes part in checkpoints.
    if (this.d.restore?.finished === true) await this.finishInput(false);
    let liveInputs = this.inputs.length;
    const timeoutMs = this.d.options.bufferTimeoutMs;
    while (!this.stopped && !this.done) {
      if (this.cancelled) throw new CancelledError();
      const seen = this.doorbell.sequence();
      let moved = await this.runMailbox();
      if (this.stopped || this.done) break;
      if (this.source !== undefined && !this.source.ended && !this.inputEnded && this.stopping === undefined) {
        moved = this.pollSource() || moved;
        // Not once stopping with a savepoint (checked above): nothing may follow its barrier.
        if (this.latency !== undefined) moved = this.latency.emitIfDue(performance.now()) || moved;
      }
      for (const input of this.inputs) {
        for (let f = 0; f < framesPerInputTurn && !input.ended && this.backlog.queuedFrames === 0; f++) {
          if (this.barriers?.blocked.has(input.index) === true) break;
          if (!this.readFrame(input)) break;
          moved = true;
          if (input.ended) liveInputs--;
          if (this.triggered !== undefined) {
            const { checkpointId, timestamp, alignedSince } = this.triggered;
            this.triggered = undefined;
            await this.checkpoint(checkpointId, timestamp, alignedSince);
          }
        }
      }
      const allEnded = this.source !== undefined ? this.source.ended : liveInputs === 0;
      if (allEnded && !this.inputEnded && this.stopping === undefined) {
        await this.finishInput(true);
        moved = true;
      }
      if (!this.inputEnded) moved = this.serveTime() || moved;
      this.checkpointing?.step();
      if (this.backlog.queuedFrames > 0) for (const w of this.writers) await w.flushReady();
      await this.flushTimedOut(timeoutMs);
      this.publishMetrics();
      // Without a final checkpoint the subtask ends with its input (once its pending
      // snapshots have acked).
      if (this.inputEnded && !this.waitsForFinalCheckpoint && this.checkpointing?.hasPending() !== true) this.done = true;
      // State maintenance (LSM flush and compaction) in bounded steps: one every turn, so
      // a subtask that never idles still compacts, and an idle turn does a step before it
      // sleeps (the loop comes straight back while steps remain).
      const maintenancePending = this.backend.maintenanceStep?.() ?? false;
      const busy = moved || maintenancePending || this.checkpointing?.hasPending() === true;
      if (!busy && !this.done) await this.idle(seen, timeoutMs);
      else if (this.slotYield.due(performance.now())) await this.slotYield.yield();
    }
    this.declineTriggers(this.stopped ? 'the job is stopping with a savepoint' : 'its input has ended');
    if (!this.inputEnded) {
      // Stopped with a savepoint: the state is in the savepoint and nothing followed its
      // barrier, so operators are not told that input ended (no final emissions, no final
      // sink parts): a restore from the savepoint continues exactly there.
      for (const w of this.writers) {
        await w.flushAll();
        await w.endOfInput();
      }
    } else if (!this.waitsForFinalCheckpoint && !this.stopped) {
      for (const sink of this.sinks) {
        const committables = sink.finalCommittables();
        if (committables.length > 0) this.finalCommittables.push({ uid: sink.node.uid, committables });
      }
    }
    for (const op of this.operators) await op.close();
    this.checkpointing?.close();
    this.publishMetrics(true);
    this.metrics[metricsSlot.finished] = 1;
  }

  /**
   * Polls the source reader for up to a batch of records. Returns true when it did
   * something; when the reader has nothing, arms a wake-up on its availability.
   */
  private pollSource(): boolean {
    const source = this.source!;
    if (this.availabilityFailure !== undefined) throw this.attribute(this.availabilityFailure, source);
    let status;
    try {
      status = source.poll(this.d.options.batchSize, this.outputBlocked);
    } catch (thrown) {
      // A bad input line (a UsageError) is the input's fault, not the reader's: attribute
      // passes it on as it is, and no restart runs.
      throw this.attribute(thrown, source);
    }
    if (status !== 'nothing') return true;
    if (!this.availabilityArmed) {
      this.availabilityArmed = true;
      source.isAvailable().then(
        () => {
          this.availabilityArmed = false;
          this.doorbell.ring();
        },
        (error: unknown) => {
          this.availabilityArmed = false;
          this.availabilityFailure = error ?? new Error('isAvailable() rejected');
          this.doorbell.ring();
        },
      );
    }
    return false;
  }

  /**
   * The input has ended: operators run `endInput` (unless restored finished) and
   * END_OF_INPUT goes downstream; with periodic checkpoints the job master learns it.
   */
  private async finishInput(runEndInput: boolean): Promise<void> {
    if (runEndInput) {
      // The maximum watermark first (sources send it, a subtask whose inputs all ended
      // passes it on): every remaining event-time timer fires before endInput.
      this.sendFinalWatermark();
      for (const op of this.operators) {
        try {
          op.endInput();
        } catch (thrown) {
          // What endInput emits runs downstream: a throw there names the operator that threw.
          throw this.attribute(thrown, op);
        }
      }
    }
    for (const w of this.writers) {
      await w.flushAll();
      await w.endOfInput();
    }
    this.inputEnded = true;
    if (this.waitsForFinalCheckpoint) this.post({ type: 'inputEnded' });
  }

  /**
   * Runs the control mails in arrival order: a trigger (sources, and subtasks whose input
   * ended) takes checkpoint n, `complete` commits what it covers, `abort` drops it, split
   * assignments go to the reader, `cancel` throws. Returns true when something ran.
   */
  private async runMailbox(): Promise<boolean> {
    // Take control mails synchronously: a subtask that never waits (a source whose outputs
    // never fill, a CPU-bound chain) would otherwise never yield to the event loop, and a
    // port listener would never see a trigger or a cancel.
    for (let m = receiveMessageOnPort(this.d.port); m !== undefined; m = receiveMessageOnPort(this.d.port)) {
      this.control(m.message as MasterMessage);
    }
    if (this.mailbox.length === 0) return false;
    while (this.mailbox.length > 0) {
      const mail = this.mailbox.shift()!;
      switch (mail.type) {
        case 'trigger':
          await this.onTrigger(mail.checkpointId, mail.timestamp, mail.stop === true);
          break;
        case 'complete':
          await this.onComplete(mail.checkpointId);
          if (mail.checkpointId === this.stopping) this.stopped = true;
          if (mail.final === true && this.inputEnded) this.done = true;
          break;
        case 'abort':
          if (this.abortedIds.size >= 64) this.abortedIds.delete(this.abortedIds.values().next().value!);
          this.abortedIds.add(mail.checkpointId);
          this.checkpointing?.abort(mail.checkpointId);
          this.barriers?.abort(mail.checkpointId);
          this.stopBarriers.delete(mail.checkpointId);
          // A failed stop-with-savepoint: the job goes on (sources read on).
          if (this.stopping === mail.checkpointId) this.stopping = undefined;
          break;
        case 'addSplits':
          this.source?.addSplits(mail.splits as SourceSplit[]);
          break;
        case 'noMoreSplits':
          this.source?.notifyNoMoreSplits();
          break;
        case 'cancel':
          this.cancel();
          throw new CancelledError();
      }
    }
    return true;
  }

  /** A direct trigger: sources (they start the barrier) and subtasks whose input ended. */
  private async onTrigger(checkpointId: number, timestamp: number, stop: boolean): Promise<void> {
    // Taken already through barriers (a trigger raced with this subtask's end of input).
    if (checkpointId <= this.lastCheckpointTaken) return;
    if (this.checkpointing === undefined) return this.post({ type: 'decline', checkpointId, reason: 'checkpointing is off in this subtask' });
    if (this.stopping !== undefined) return this.post({ type: 'decline', checkpointId, reason: `the subtask is stopping with savepoint ${this.stopping}` });
    if (this.source === undefined && !this.inputEnded) return this.post({ type: 'decline', checkpointId, reason: 'a running subtask takes checkpoints at barriers' });
    if (stop) this.stopBarriers.add(checkpointId);
    await this.checkpoint(checkpointId, timestamp, undefined);
  }

  /** Checkpoint n is complete: sinks commit what it covers, the reader is told. */
  private async onComplete(checkpointId: number): Promise<void> {
    for (const sink of this.sinks) {
      try {
        await sink.notifyComplete(checkpointId);
      } catch (thrown) {
        throw sink.failure(thrown, undefined);
      }
    }
    this.source?.notifyCheckpointComplete(checkpointId);
  }

  /**
   * After a cancel: commits what `complete` mails that arrived before the cancel cover
   * (their checkpoints are complete: their output must stay), then lets the sinks discard
   * everything else they staged, so a cancelled job leaves no hidden files.
   */
  private async settleBeforeCancel(): Promise<void> {
    for (let m = receiveMessageOnPort(this.d.port); m !== undefined; m = receiveMessageOnPort(this.d.port)) this.mailbox.push(m.message as MasterMessage);
    for (const mail of this.mailbox.splice(0)) {
      if (mail.type === 'cancel') break;
      if (mail.type === 'complete') await this.onComplete(mail.checkpointId).catch(() => undefined);
    }
    for (const sink of this.sinks) await sink.abort().catch(() => undefined);
  }

  private declineTriggers(reason: string): void {
    for (const mail of this.mailbox) {
      if (mail.type === 'trigger') this.post({ type: 'decline', checkpointId: mail.checkpointId, reason });
    }
  }

  /**
   * Takes checkpoint n: the synchronous phase (operator state, keyed state snapshot
   * started), then, unless the input has ended, the barrier goes downstream behind every
   * record emitted so far.
   */
  private async checkpoint(checkpointId: number, timestamp: number, alignedSince: number | undefined): Promise<void> {
    const checkpointing = this.checkpointing;
    assert(checkpointing !== undefined);
    assert(checkpointId > this.lastCheckpointTaken, `checkpoint ${checkpointId} after ${this.lastCheckpointTaken}`);
    this.lastCheckpointTaken = checkpointId;
    const startedAt = performance.now();
    const operatorState: Record<string, unknown> = {};
    for (const op of this.operators) {
      const lists = op.snapshotOperatorState(checkpointId);
      if (lists !== undefined) operatorState[op.node.uid] = lists;
    }
    if (this.source !== undefined) {
      try {
        operatorState[this.source.node.uid] = { splits: this.source.snapshotSplits(checkpointId) };
      } catch (thrown) {
        throw this.source.failure(thrown, undefined);
      }
    }
    for (const sink of this.sinks) {
      let state: unknown;
      try {
        state = sink.snapshotSink(checkpointId);
      } catch (thrown) {
        throw sink.failure(thrown, undefined);
      }
      if (state !== undefined) operatorState[sink.node.uid] = state;
    }
    checkpointing.begin(checkpointId, operatorState, startedAt, alignedSince === undefined ? 0 : startedAt - alignedSince, this.inputEnded);
    const stop = this.stopBarriers.delete(checkpointId);
    if (stop) this.stopping = checkpointId;
    // After END_OF_INPUT no frame may follow (downstream reads no more from this channel).
    if (this.inputEnded) return;
    // Written without waiting when the rings have room (RecordWriter.barrier).
    for (const w of this.writers) if (!w.barrier(checkpointId, timestamp, stop)) await w.flushReady();
  }

  /** Reads and processes one frame; false when the input has none now. */
  private readFrame(input: Input): boolean {
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
      if (this.barriers !== undefined) this.onBarrierActions(this.barriers.endOfInput(input.index), 0);
      this.onValve(this.valve!.end(input.index), input);
      return true;
    }
    if (value instanceof Uint8Array) {
      // A BARRIER frame (the decoder copied its payload out of the ring).
      const barrier = decodeBarrier(value);
      if (barrier.stop && !this.abortedIds.has(barrier.checkpointId)) this.stopBarriers.add(barrier.checkpointId);
      if (this.barriers !== undefined) this.onBarrierActions(this.barriers.barrier(input.index, barrier.checkpointId, performance.now()), barrier.timestamp);
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
      throw this.attribute(thrown, input.node);
    }
  }

  /** What the valve decided: the head operator's new input watermark or status. */
  private onValve(out: ValveOutput, input: Input): void {
    if (out.idle === undefined && out.watermark === undefined) return;
    const head = input.node;
    try {
      if (out.idle !== undefined) head.processIdle(out.idle);
      if (out.watermark !== undefined) {
        if (out.watermark === Infinity) this.finalWatermarkSent = true;
        head.processWatermark(out.watermark);
      }
    } catch (thrown) {
      throw this.attribute(thrown, head);
    }
  }

  private onBarrierActions(actions: import('./barrier-handler.js').BarrierActions, timestamp: number): void {
    for (const id of actions.aborted ?? []) this.checkpointing?.abort(id);
    if (actions.trigger !== undefined) {
      this.triggered = { checkpointId: actions.trigger, timestamp, alignedSince: actions.alignedSince };
    }
  }

  private processBatch(input: Input, records: unknown[], timestamps: Float64Array | undefined): void {
    this.currentInput = input;
    this.currentBatchLength = records.length;
    input.recordsRead += records.length;
    const { node, keySelector, maxParallelism } = input;
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
        keyGroup = assignToKeyGroup(key, maxParallelism);
      } catch (thrown) {
        node.blame(thrown, record); // a throwing key selector, or a key it cannot hash, is blamed on the keyed operator
        throw thrown;
      }
      node.collectKeyed(record, key, keyGroup);
    }
    this.currentInput = undefined;
  }

  private async flushTimedOut(timeoutMs: number): Promise<void> {
    const now = performance.now();
    for (const w of this.writers) if (now - w.oldestPending() >= timeoutMs) await w.flushAll();
  }

  /** Sleeps until a producer rings, a batch times out, or a slice passes (to see cancels). */
  /**
   * Time-driven work of a turn: periodic watermark emission every auto-watermark interval,
   * and processing-time timers that are due. Returns true when something ran.
   */
  private serveTime(): boolean {
    let ran = false;
    if (this.periodicEmitters.length > 0) {
      const now = performance.now();
      if (now >= this.nextPeriodicEmit) {
        this.nextPeriodicEmit = now + this.graph.autoWatermarkIntervalMs;
        for (const e of this.periodicEmitters) {
          try {
            e.periodicEmit();
          } catch (thrown) {
            // Every emitter is a chain operator (a source or a timestamp assigner): a throwing generator names it.
            throw this.attribute(thrown, e as unknown as ChainOperator);
          }
        }
        ran = true;
      }
    }
    if (this.timerOperators.length > 0) {
      const now = systemProcessingClock.now();
      for (const op of this.timerOperators) {
        const next = op.nextProcessingTimer();
        if (next === undefined || next > now) continue;
        try {
          op.fireProcessingTimers();
        } catch (thrown) {
          throw this.attribute(thrown, op as unknown as ChainOperator);
        }
        ran = true;
      }
    }
    return ran;
  }

  /** The maximum watermark through the chain, once (end of input). */
  private sendFinalWatermark(): void {
    if (this.finalWatermarkSent) return;
    this.finalWatermarkSent = true;
    const head = this.operators[0]!;
    try {
      head.processWatermark(Infinity);
    } catch (thrown) {
      throw this.attribute(thrown, head);
    }
  }

  /** Milliseconds until time-driven work is due (periodic watermarks, processing-time timers); Infinity for none. */
  private msUntilTimeWork(): number {
    if (this.inputEnded) return Infinity;
    let due = Infinity;
    if (this.periodicEmitters.length > 0) due = this.nextPeriodicEmit - performance.now();
    if (this.timerOperators.length > 0) {
      const now = systemProcessingClock.now();
      for (const op of this.timerOperators) {
        const next = op.nextProcessingTimer();
        if (next !== undefined) due = Math.min(due, next - now);
      }
    }
    if (this.latency !== undefined && this.source !== undefined && !this.source.ended && this.stopping === undefined) due = Math.min(due, this.latency.msUntilMarker(performance.now()));
    return Math.max(0, due);
  }

  private async idle(seen: number, timeoutMs: number): Promise<void> {
    let oldest = Infinity;
    for (const w of this.writers) oldest = Math.min(oldest, w.oldestPending());
    const untilTimeout = oldest === Infinity ? idleWaitSliceMs : Math.max(0, oldest + timeoutMs - performance.now());
    const waitMs = Math.min(idleWaitSliceMs, untilTimeout, this.msUntilTimeWork());
    if (waitMs <= 0) return;
    const start = performance.now();
    await this.doorbell.wait(seen, waitMs);
    this.idleMs += performance.now() - start;
  }

  private publishMetrics(final = false): void {
    this.latency?.report(performance.now(), final);
    const m = this.metrics;
    let backpressured = 0;
    let bytesOut = 0;
    for (const w of this.writers) {
      backpressured += w.backpressuredMs;
      bytesOut += w.bytesOut;
    }
    m[metricsSlot.backpressuredMs] = backpressured;
    m[metricsSlot.bytesIn] = this.bytesIn;
    m[metricsSlot.bytesOut] = bytesOut;
    m[metricsSlot.idleMs] = this.idleMs;
    m[metricsSlot.recordsInErrors] = this.source?.numRecordsInErrors ?? 0;
    m[metricsSlot.inputWatermark] = this.valve?.output ?? this.source?.currentWatermark ?? -Infinity;
    const state = this.backend.stats?.();
    if (state !== undefined) {
      m[metricsSlot.stateSegments] = state.segmentCount;
      m[metricsSlot.stateFlushes] = state.flushCount;
      m[metricsSlot.stateCompactions] = state.compactionCount;
      m[metricsSlot.stateCacheHits] = state.blockCacheHits;
      m[metricsSlot.stateCacheMisses] = state.blockCacheMisses;
    }
    let records = 0;
    this.operators.forEach((op, k) => {
      const slot = metricsSlot.firstNode + metricsSlot.perNode * k;
      m[slot] = op.recordsIn;
      m[slot + 1] = op.recordsOut;
      m[slot + 2] = op.numLateRecordsDropped;
      records += op.recordsIn + op.recordsOut;
    });
    // The active span (for records per active second in the summary): one clock read per turn with records.
    if (records > this.recordsSeen) {
      this.recordsSeen = records;
      const now = Date.now();
      if (m[metricsSlot.firstRecordAt] === 0) m[metricsSlot.firstRecordAt] = now;
      m[metricsSlot.lastRecordAt] = now;
    }
  }
}

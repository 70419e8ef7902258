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
 * The concepts a turn drives live beside this file: the record path of a source chain
 * (source-input.ts) and of input frames (stream-input-processor.ts); checkpoint
 * triggers, barriers, commits and stop-with-savepoint (task-checkpoints.ts; the
 * asynchronous phase in checkpointing.ts); time-driven work (time-service.ts); the
 * metrics block (task-metrics.ts).
 *
 * Invariants: a frame's records are decoded (copied) before the frame is released; no
 * record is processed after END_OF_INPUT of its input; END_OF_INPUT goes downstream only
 * after all inputs ended and every operator flushed; no frame follows END_OF_INPUT.
 */
import { performance } from 'node:perf_hooks';
import { receiveMessageOnPort } from 'node:worker_threads';
import { Doorbell } from '../channel/index.js';
import type { SourceSplit } from '../connectors/index.js';
import type { JobGraph } from '../graph/index.js';
import type { KeyedStateBackend } from '../state/api.js';
import type { JobScope } from '../api/index.js';
import type { MasterMessage, SubtaskDeployment, SubtaskMessage } from './deployment.js';
import { systemProcessingClock } from '../time/index.js';
import { attributeFailure } from './operators.js';
import type { ChainOperator, FailureContext, OperatorEnvironment } from './operators.js';
import type { SourceOperator } from './source-operator.js';
import type { SinkOperator } from './sink-operator.js';
import { CancelledError } from './record-writer.js';
import type { RecordWriter } from './record-writer.js';
import { BarrierHandler } from './barrier-handler.js';
import { SubtaskCheckpointing } from './checkpointing.js';
import { LatencyTracking } from './latency-tracking.js';
import { SlotThread, SlotYield } from './slot-yield.js';
import { buildOperatorChain } from './operator-chain.js';
import type { ChainInput } from './operator-chain.js';
import { SourceInput } from './source-input.js';
import { StreamInputProcessor } from './stream-input-processor.js';
import { TaskCheckpoints } from './task-checkpoints.js';
import { TaskMetrics } from './task-metrics.js';
import { TaskTimeService } from './time-service.js';

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
  private readonly source: SourceOperator | undefined;
  private cancelled = false;
  /** Operators ran `endInput` (or were restored finished) and END_OF_INPUT went downstream. */
  private inputEnded = false;
  /** The final checkpoint completed (or, without one, the input ended): leave the loop. */
  private done = false;
  /** Lets the other subtasks of a shared slot run (slot-yield.ts). */
  private readonly slotYield: SlotYield;
  /** Aligns barriers of several inputs; undefined for sources or without checkpointing (also in `checkpoints`). */
  private readonly barriers: BarrierHandler | undefined;
  private readonly checkpointing: SubtaskCheckpointing | undefined;
  /** Control mails from the job master, run between record batches. */
  private readonly mailbox: MasterMessage[] = [];
  private readonly sinks: SinkOperator[];
  /** Latency markers: emitted (source chains) and recorded; undefined with tracking off. */
  private readonly latency: LatencyTracking | undefined;
  /** Polls the source reader: defined exactly when `source` is. */
  private readonly sourceInput: SourceInput | undefined;
  /** Input frames through the chain (no inputs in a source chain). */
  private readonly input: StreamInputProcessor;
  /** Triggers, barriers, commits, aborts and stop-with-savepoint. */
  private readonly checkpoints: TaskCheckpoints;
  /** Periodic watermarks, processing-time timers, the final watermark. */
  private readonly time: TaskTimeService;
  private readonly metrics: TaskMetrics;
  /** Without a final checkpoint: the sinks' last committables, for the job master to commit at job end. */
  readonly finalCommittables: Array<{ uid: string; committables: unknown[] }> = [];

  constructor(
    graph: JobGraph,
    private readonly d: SubtaskDeployment,
    private readonly backend: KeyedStateBackend,
    private readonly post: (message: SubtaskMessage) => void,
    private readonly job: JobScope,
    /** The subtasks of this one's slot (slot-yield.ts); one of its own when it runs alone. */
    slot: SlotThread = new SlotThread(),
  ) {
    this.doorbell = new Doorbell(d.doorbell);
    const chain = buildOperatorChain({ graph, d, env: this.env(), post, cancelled: () => this.cancelled, backlog: this.backlog });
    ({ operators: this.operators, writers: this.writers, inputs: this.inputs, source: this.source, sinks: this.sinks } = chain);
    this.slotYield = new SlotYield(d.sharesThread, slot, this.source !== undefined);
    this.latency = LatencyTracking.create(d.options.latencyTrackingIntervalMs, this.operators, this.source, d.subtaskIndex, post);
    if (d.checkpointing !== undefined) {
      const keyed = graph.nodes[graph.vertices[d.vertex]!.head]!.keyed;
      this.checkpointing = new SubtaskCheckpointing(d.checkpointing.dir, d.jobId, d.vertex, d.subtaskIndex, backend, post, keyed);
      if (this.inputs.length > 0) this.barriers = new BarrierHandler(this.inputs.length, d.checkpointing.mode);
    }
    this.checkpoints = new TaskCheckpoints(this.checkpointing, this.barriers, chain, post);
    this.time = new TaskTimeService(graph.autoWatermarkIntervalMs, chain.periodicEmitters, chain.timerOperators, this.operators[0]!, this.failure);
    if (this.source !== undefined) this.sourceInput = new SourceInput(this.source, this.doorbell, d.options.batchSize, this.outputBlocked, this.failure);
    this.input = new StreamInputProcessor(this.inputs.length, this.failure, this.timestamp, this.checkpoints, this.time);
    this.metrics = new TaskMetrics(d.metrics, chain, this.input, backend, this.latency);
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

  /** Where the record being processed came from (for failure messages). */
  private position(): string | undefined {
    if (this.source !== undefined) return this.source.position();
    return this.input.position();
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
    while (!this.checkpoints.stopped && !this.done) {
      if (this.cancelled) throw new CancelledError();
      const seen = this.doorbell.sequence();
      let moved = await this.runMailbox();
      if (this.checkpoints.stopped || this.done) break;
      if (this.source !== undefined && !this.source.ended && !this.inputEnded && this.checkpoints.stopping === undefined) {
        // In a shared slot, records read already go first (slot-yield.ts `deferSource`).
        if (this.slotYield.deferSource(performance.now())) moved = true;
        else moved = this.sourceInput!.poll() || moved;
        // Not once stopping with a savepoint (checked above): nothing may follow its barrier.
        if (this.latency !== undefined) moved = this.latency.emitIfDue(performance.now()) || moved;
      }
      for (const input of this.inputs) {
        for (let f = 0; f < framesPerInputTurn && !input.ended && this.backlog.queuedFrames === 0; f++) {
          if (this.barriers?.blocked.has(input.index) === true) break;
          if (!this.input.readFrame(input)) break;
          moved = true;
          if (input.ended) liveInputs--;
          if (this.checkpoints.triggered !== undefined) await this.checkpoints.takeTriggered(this.inputEnded);
        }
      }
      const allEnded = this.source !== undefined ? this.source.ended : liveInputs === 0;
      if (allEnded && !this.inputEnded && this.checkpoints.stopping === undefined) {
        await this.finishInput(true);
        moved = true;
      }
      if (!this.inputEnded) moved = this.time.serve() || moved;
      this.checkpointing?.step();
      if (this.backlog.queuedFrames > 0) for (const w of this.writers) await w.flushReady();
      await this.flushTimedOut(timeoutMs);
      this.metrics.publish();
      // Without a final checkpoint the subtask ends with its input (once its pending
      // snapshots have acked).
      if (this.inputEnded && !this.waitsForFinalCheckpoint && this.checkpointing?.hasPending() !== true) this.done = true;
      // State maintenance (LSM flush and compaction) in bounded steps: one every turn, so
      // a subtask that never idles still compacts, and an idle turn does a step before it
      // sleeps (the loop comes straight back while steps remain).
      const maintenancePending = this.backend.maintenanceStep?.() ?? false;
      const busy = moved || maintenancePending || this.checkpointing?.hasPending() === true;
      if (!busy && !this.done) await this.idle(seen, timeoutMs);
      else if (this.slotYield.due(performance.now())) await this.slotYield.yield(moved);
    }
    this.checkpoints.declineTriggers(this.mailbox, this.checkpoints.stopped ? 'the job is stopping with a savepoint' : 'its input has ended');
    if (!this.inputEnded) {
      // Stopped with a savepoint: the state is in the savepoint and nothing followed its
      // barrier, so operators are not told that input ended (no final emissions, no final
      // sink parts): a restore from the savepoint continues exactly there.
      for (const w of this.writers) {
        await w.flushAll();
        await w.endOfInput();
      }
    } else if (!this.waitsForFinalCheckpoint && !this.checkpoints.stopped) {
      for (const sink of this.sinks) {
        const committables = sink.finalCommittables();
        if (committables.length > 0) this.finalCommittables.push({ uid: sink.node.uid, committables });
      }
    }
    for (const op of this.operators) await op.close();
    this.checkpointing?.close();
    this.metrics.publish(true);
    this.metrics.markFinished();
  }

  /**
   * The input has ended: operators run `endInput` (unless restored finished) and
   * END_OF_INPUT goes downstream; with periodic checkpoints the job master learns it.
   */
  private async finishInput(runEndInput: boolean): Promise<void> {
    if (runEndInput) {
      // The maximum watermark first (sources send it, a subtask whose inputs all ended
      // passes it on): every remaining event-time timer fires before endInput.
      this.time.sendFinalWatermark();
      for (const op of this.operators) {
        try {
          op.endInput();
        } catch (thrown) {
          // What endInput emits runs downstream: a throw there names the operator that threw.
          throw attributeFailure(this.failure, thrown, op);
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
          await this.checkpoints.onTrigger(mail.checkpointId, mail.timestamp, mail.stop === true, this.inputEnded);
          break;
        case 'complete':
          await this.checkpoints.onComplete(mail.checkpointId);
          if (mail.final === true && this.inputEnded) this.done = true;
          break;
        case 'abort':
          this.checkpoints.onAbort(mail.checkpointId);
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

  /**
   * After a cancel: the mails not run yet, with any still on the port, go to the
   * checkpoint side (task-checkpoints.ts), which commits what completed before the cancel
   * and lets the sinks discard the rest.
   */
  private async settleBeforeCancel(): Promise<void> {
    for (let m = receiveMessageOnPort(this.d.port); m !== undefined; m = receiveMessageOnPort(this.d.port)) this.mailbox.push(m.message as MasterMessage);
    await this.checkpoints.settleBeforeCancel(this.mailbox.splice(0));
  }

  private async flushTimedOut(timeoutMs: number): Promise<void> {
    const now = performance.now();
    for (const w of this.writers) if (now - w.oldestPending() >= timeoutMs) await w.flushAll();
  }

  /** Milliseconds until time-driven work is due (periodic watermarks, processing-time timers, latency markers); Infinity for none. */
  private msUntilTimeWork(): number {
    if (this.inputEnded) return Infinity;
    let due = this.time.msUntilDue();
    if (this.latency !== undefined && this.source !== undefined && !this.source.ended && this.checkpoints.stopping === undefined) due = Math.min(due, this.latency.msUntilMarker(performance.now()));
    return Math.max(0, due);
  }

  /** Sleeps until a producer rings, a batch times out, or a slice passes (to see cancels). */
  private async idle(seen: number, timeoutMs: number): Promise<void> {
    let oldest = Infinity;
    for (const w of this.writers) oldest = Math.min(oldest, w.oldestPending());
    const untilTimeout = oldest === Infinity ? idleWaitSliceMs : Math.max(0, oldest + timeoutMs - performance.now());
    const waitMs = Math.min(idleWaitSliceMs, untilTimeout, this.msUntilTimeWork());
    if (waitMs <= 0) return;
    const start = performance.now();
    await this.doorbell.wait(seen, waitMs);
    this.metrics.idleMs += performance.now() - start;
  }
}

/**
 * One subtask: builds its operator chain from the job graph, then runs the mailbox loop,
 * as Flink's `StreamTask` + `MailboxProcessor`. Single-threaded: records, control
 * messages (over the port) and timers all run on this worker's event loop.
 *
 * Loop turn: read up to `framesPerInputTurn` frames from each input (or one source batch),
 * push the records through the chain synchronously, await `flushReady()` on every writer
 * (a full ring blocks here: backpressure), flush batches older than the buffer timeout,
 * and when nothing moved, sleep on the doorbell until a producer rings it.
 *
 * Invariants: a frame's records are decoded (copied) before the frame is released; no
 * record is processed after END_OF_INPUT of its input; END_OF_INPUT goes downstream only
 * after all inputs ended and every operator flushed.
 */
import assert from 'node:assert/strict';
import { performance } from 'node:perf_hooks';
import { receiveMessageOnPort } from 'node:worker_threads';
import { Doorbell, FrameKind, Ring } from '../channel/index.js';
import {
  CollectSinkWriter,
  IndexedSourceReader,
  PrintSinkWriter,
  TextFileReader,
  TwoPhaseCommitTextSinkWriter,
  splitRange,
} from '../connectors/index.js';
import type { FileSplit, SinkWriter, SourceReader, TextSinkState } from '../connectors/index.js';
import type { GraphNode, JobGraph } from '../graph/index.js';
import type { KeyedStateBackend, StateKey } from '../state/api.js';
import { assignToKeyGroup } from '../state/key-group.js';
import type { KeySelector } from '../api/index.js';
import { createBatchDecoder } from './batch-codec.js';
import { metricsSlot } from './deployment.js';
import type { SubtaskDeployment, SubtaskMessage } from './deployment.js';
import {
  ChainOperator,
  FanOut,
  FilterOperator,
  FlatMapOperator,
  KeyedProcessOperator,
  MapOperator,
  ReduceOperator,
  SinkOperator,
  SourceOperator,
} from './operators.js';
import { TaskFailure } from './operators.js';
import type { FailureContext, OperatorEnvironment, Output } from './operators.js';
import { CancelledError, RecordWriter } from './record-writer.js';
import { BarrierHandler } from './barrier-handler.js';
import { SubtaskCheckpointing } from './checkpointing.js';
import { decodeBarrier } from './barrier-codec.js';
import type { MasterMessage } from './deployment.js';
import type { PendingFileRef } from '../connectors/index.js';

/** Frames read from one input before the loop turns to the next input. */
export const framesPerInputTurn = 4;
/** Longest single sleep on the doorbell, ms: bounds how late a cancel is seen. */
export const idleWaitSliceMs = 100;

interface Input {
  /** Position among the subtask's inputs (the barrier handler's input index). */
  index: number;
  ring: Ring;
  node: ChainOperator;
  keySelector: KeySelector<any> | undefined;
  maxParallelism: number;
  ended: boolean;
  label: string;
  recordsRead: number;
}

export class StreamTask {
  private readonly operators: ChainOperator[] = [];
  private readonly writers: RecordWriter[] = [];
  private readonly inputs: Input[] = [];
  private readonly doorbell: Doorbell;
  private readonly metrics: Float64Array;
  private readonly decoder = createBatchDecoder();
  private source: { reader: SourceReader; head: ChainOperator } | undefined;
  private cancelled = false;
  private idleMs = 0;
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
  private readonly sinks: SinkOperator[] = [];
  /** Files the sinks leave for the job master to publish at job end. */
  readonly pendingFiles: PendingFileRef[] = [];

  constructor(
    private readonly graph: JobGraph,
    private readonly d: SubtaskDeployment,
    private readonly backend: KeyedStateBackend,
    private readonly post: (message: SubtaskMessage) => void,
  ) {
    this.doorbell = new Doorbell(d.doorbell);
    this.metrics = new Float64Array(d.metrics);
    this.buildChain();
    if (d.checkpointing !== undefined) {
      const keyed = graph.nodes[graph.vertices[d.vertex]!.head]!.keyed;
      this.checkpointing = new SubtaskCheckpointing(d.checkpointing.dir, d.jobId, d.vertex, d.subtaskIndex, backend, post, keyed);
      if (this.inputs.length > 0) this.barriers = new BarrierHandler(this.inputs.length, d.checkpointing.mode);
    }
  }

  cancel(): void {
    this.cancelled = true;
  }

  /** A control mail from the job master; runs at the next turn boundary. */
  control(message: MasterMessage): void {
    if (message.type === 'cancel') this.cancel();
    else this.mailbox.push(message);
  }

  /** Operator state restored for the node with this uid, if any. */
  private restored(uid: string): unknown {
    return this.d.restore?.operatorState[uid];
  }

  private readonly failure: FailureContext = { operator: undefined, record: undefined };
  /** Frames queued behind full output rings; > 0 ends the current turn early. */
  private readonly backlog = { queuedFrames: 0 };
  private readonly outputBlocked = (): boolean => this.backlog.queuedFrames > 0;

  private env(): OperatorEnvironment {
    return {
      subtaskIndex: this.d.subtaskIndex,
      backend: this.backend,
      failure: this.failure,
      position: () => this.position(),
      restoredState: (uid) => this.restored(uid),
    };
  }

  /** Attributes a throw out of a batch to the operator that was running (see FailureContext). */
  private attribute(thrown: unknown, fallback: ChainOperator): TaskFailure {
    const op = this.failure.operator ?? fallback;
    const record = this.failure.operator === undefined ? undefined : this.failure.record;
    this.failure.operator = undefined;
    this.failure.record = undefined;
    return op.failure(thrown, record);
  }

  /** Where the record being processed came from (for failure messages). */
  private position(): string | undefined {
    if (this.source !== undefined) return this.source.reader.position();
    const input = this.currentInput;
    if (input === undefined) return undefined;
    return `record ${input.recordsRead - this.currentBatchRemaining()} from ${input.label}`;
  }
  private currentBatchLength = 0;
  private currentBatchRemaining(): number {
    return this.currentBatchLength - this.currentIndexInBatch;
  }

  private buildChain(): void {
    const vertex = this.graph.vertices[this.d.vertex]!;
    const env = this.env();
    const byNode = new Map<number, ChainOperator>();
    for (const id of vertex.nodes) {
      const op = this.createOperator(this.graph.nodes[id]!, env);
      byNode.set(id, op);
      this.operators.push(op);
    }
    for (const id of vertex.nodes) {
      const targets: Output[] = (this.graph.chainedOutputs.get(id) ?? []).map((next) => byNode.get(next)!);
      for (const edge of this.graph.edges) {
        if (edge.from !== id) continue;
        const consumer = this.graph.nodes[edge.to]!;
        const writer = new RecordWriter(
          edge,
          this.d.outputs[edge.id] ?? [],
          consumer.parallelism,
          consumer.maxParallelism,
          this.d.options.batchSize,
          this.d.subtaskIndex,
          () => this.cancelled,
          this.backlog,
        );
        this.writers.push(writer);
        targets.push(writer);
      }
      byNode.get(id)!.connect(targets.length === 1 ? targets[0]! : new FanOut(targets));
    }
    const head = byNode.get(vertex.head)!;
    for (const edge of this.graph.edges) {
      if (edge.to !== vertex.head) continue;
      const upstream = this.graph.nodes[edge.from]!;
      for (const input of this.d.inputs[edge.id] ?? []) {
        this.inputs.push({
          index: this.inputs.length,
          ring: new Ring(input.ring),
          node: head,
          keySelector: edge.keySelector,
          maxParallelism: head.node.maxParallelism,
          ended: false,
          label: `"${upstream.name}" subtask ${input.fromSubtask + 1}`,
          recordsRead: 0,
        });
      }
    }
  }

  private createOperator(node: GraphNode, env: OperatorEnvironment): ChainOperator {
    const op = node.plan.op;
    switch (op.kind) {
      case 'source': {
        const head = new SourceOperator(node, env);
        this.source = { reader: this.createReader(node), head };
        return head;
      }
      case 'map':
        return new MapOperator(node, env, op.fn);
      case 'filter':
        return new FilterOperator(node, env, op.fn);
      case 'flatMap':
        return new FlatMapOperator(node, env, op.fn);
      case 'reduce':
        return new ReduceOperator(node, env, op.fn);
      case 'process':
        return new KeyedProcessOperator(node, env, op.fn);
      case 'sink': {
        const sink = new SinkOperator(node, env, this.createSinkWriter(node));
        this.sinks.push(sink);
        return sink;
      }
    }
  }

  private createReader(node: GraphNode): SourceReader {
    const op = node.plan.op;
    assert(op.kind === 'source');
    const spec = op.source;
    const i = this.d.subtaskIndex;
    // A restore hands back the splits the checkpoint held for this subtask.
    const restored = (this.restored(node.uid) as { splits?: unknown[] } | undefined)?.splits;
    switch (spec.kind) {
      case 'collection':
        return new IndexedSourceReader(restored ?? [[0, spec.items.length]], (k) => spec.items[k], 'collection');
      case 'sequence':
        return new IndexedSourceReader(restored ?? [splitRange(spec.from, spec.to - spec.from + 1, node.parallelism, i)], (k) => k, 'sequence');
      case 'generator':
        return new IndexedSourceReader(restored ?? [splitRange(0, spec.count, node.parallelism, i)], spec.fn, 'generator');
      case 'textFile':
        return new TextFileReader((restored as FileSplit[] | undefined) ?? this.d.splits ?? []);
    }
  }

  private createSinkWriter(node: GraphNode): SinkWriter {
    const op = node.plan.op;
    assert(op.kind === 'sink');
    const spec = op.sink;
    switch (spec.kind) {
      case 'collect':
        return new CollectSinkWriter(spec.name, (m) => this.post(m), this.d.restore?.checkpointId ?? 0);
      case 'print':
        return new PrintSinkWriter(this.d.subtaskIndex, node.parallelism, (text) => process.stdout.write(text));
      case 'text': {
        // Exactly-once file output: publish what the restored checkpoint covers, drop the
        // rest of the failed attempt, and go on from the restored part number.
        const state = this.restored(node.uid) as TextSinkState | undefined;
        TwoPhaseCommitTextSinkWriter.recover(spec.dir, this.d.subtaskIndex, state);
        const writer = new TwoPhaseCommitTextSinkWriter(spec.dir, this.d.subtaskIndex, state);
        return {
          write: (record) => writer.write(record),
          snapshot: (checkpointId) => writer.preCommit(checkpointId),
          notifyComplete: (checkpointId) => writer.commitUpTo(checkpointId),
          finish: () => writer.finishPending(),
        };
      }
    }
  }

  /** Runs to end of input. @throws TaskFailure, CancelledError, or engine errors. */
  async run(): Promise<void> {
    for (const op of this.operators) await op.open();
    let sourceLive = this.source !== undefined;
    let liveInputs = this.inputs.length;
    const timeoutMs = this.d.options.bufferTimeoutMs;
    while ((sourceLive || liveInputs > 0 || this.stopping !== undefined || this.checkpointing?.hasPending() === true) && !this.stopped) {
      if (this.cancelled) throw new CancelledError();
      const seen = this.doorbell.sequence();
      let moved = await this.runMailbox(sourceLive);
      if (this.stopped) break;
      if (sourceLive && this.stopping === undefined) {
        const { reader, head } = this.source!;
        try {
          sourceLive = reader.emitBatch(head.emit, this.d.options.batchSize, this.outputBlocked);
        } catch (thrown) {
          throw this.attribute(thrown, head);
        }
        moved = true;
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
      this.checkpointing?.step();
      if (this.backlog.queuedFrames > 0) for (const w of this.writers) await w.flushReady();
      await this.flushTimedOut(timeoutMs);
      this.publishMetrics();
      // State maintenance (LSM flush and compaction) in bounded steps: one every turn, so
      // a subtask that never idles still compacts, and an idle turn does a step before it
      // sleeps (the loop comes straight back while steps remain).
      const maintenancePending = this.backend.maintenanceStep?.() ?? false;
      const waiting = liveInputs > 0 || this.stopping !== undefined;
      if (!moved && waiting && !maintenancePending) await this.idle(seen, timeoutMs);
    }
    this.declineTriggers(this.stopped ? 'the job is stopping with a savepoint' : 'its input has ended');
    // Stopped with a savepoint: the state is in the savepoint and nothing followed its
    // barrier, so operators are not told that input ended (no final emissions, no final
    // sink parts): a restore from the savepoint continues exactly there.
    if (!this.stopped) {
      for (const op of this.operators) {
        try {
          op.endInput();
        } catch (thrown) {
          throw op.failure(thrown, undefined);
        }
      }
      for (const sink of this.sinks) this.pendingFiles.push(...sink.pendingFiles);
    }
    for (const w of this.writers) {
      await w.flushAll();
      await w.endOfInput();
    }
    for (const op of this.operators) await op.close();
    if (this.source !== undefined) this.source.reader.close();
    this.checkpointing?.close();
    this.publishMetrics();
    this.metrics[metricsSlot.finished] = 1;
  }

  /**
   * Runs the control mails: a trigger (sources) takes checkpoint n, `complete` publishes
   * what it covers, `abort` drops it. Returns true when something ran.
   */
  private async runMailbox(sourceLive: boolean): Promise<boolean> {
    // Take control mails synchronously: a subtask that never waits (a source whose outputs
    // never fill, a CPU-bound chain) would otherwise never yield to the event loop, and a
    // port listener would never see a trigger or a cancel.
    for (let m = receiveMessageOnPort(this.d.port); m !== undefined; m = receiveMessageOnPort(this.d.port)) {
      this.control(m.message as MasterMessage);
    }
    if (this.cancelled) throw new CancelledError();
    if (this.mailbox.length === 0) return false;
    for (const mail of this.mailbox.splice(0)) {
      switch (mail.type) {
        case 'trigger':
          if (this.checkpointing === undefined || !sourceLive) {
            this.post({ type: 'decline', checkpointId: mail.checkpointId, reason: 'the source has finished' });
          } else if (this.stopping !== undefined) {
            this.post({ type: 'decline', checkpointId: mail.checkpointId, reason: `the source is stopping with savepoint ${this.stopping}` });
          } else {
            if (mail.stop === true) this.stopBarriers.add(mail.checkpointId);
            await this.checkpoint(mail.checkpointId, mail.timestamp, undefined);
          }
          break;
        case 'complete':
          for (const sink of this.sinks) sink.notifyComplete(mail.checkpointId);
          if (mail.checkpointId === this.stopping) this.stopped = true;
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
        case 'cancel':
          this.cancel();
          break;
      }
    }
    return true;
  }

  private declineTriggers(reason: string): void {
    for (const mail of this.mailbox) {
      if (mail.type === 'trigger') this.post({ type: 'decline', checkpointId: mail.checkpointId, reason });
    }
  }

  /**
   * Takes checkpoint n at its barrier: the synchronous phase (operator state, keyed state
   * snapshot started), then the barrier goes downstream behind every record emitted so far.
   */
  private async checkpoint(checkpointId: number, timestamp: number, alignedSince: number | undefined): Promise<void> {
    const checkpointing = this.checkpointing;
    assert(checkpointing !== undefined);
    const startedAt = performance.now();
    const operatorState: Record<string, unknown> = {};
    for (const op of this.operators) {
      const lists = op.snapshotOperatorState(checkpointId);
      if (lists !== undefined) operatorState[op.node.uid] = lists;
    }
    if (this.source !== undefined) operatorState[this.source.head.node.uid] = { splits: this.source.reader.snapshotSplits() };
    for (const sink of this.sinks) {
      const state = sink.snapshot(checkpointId);
      if (state !== undefined) operatorState[sink.node.uid] = state;
    }
    checkpointing.begin(checkpointId, operatorState, startedAt, alignedSince === undefined ? 0 : startedAt - alignedSince);
    const stop = this.stopBarriers.delete(checkpointId);
    if (stop) this.stopping = checkpointId;
    for (const w of this.writers) {
      await w.flushAll();
      await w.barrier(checkpointId, timestamp, stop);
    }
  }

  /** Reads and processes one frame; false when the input has none now. */
  private readFrame(input: Input): boolean {
    const read = input.ring.tryReadWith((kind, view) =>
      kind === FrameKind.RECORDS ? (this.decoder.decode(view) as unknown[]) : kind === FrameKind.BARRIER ? view.slice() : kind,
    );
    if (read === undefined) return false;
    const value = read.value;
    if (value === FrameKind.END_OF_INPUT) {
      input.ended = true;
      if (this.barriers !== undefined) this.onBarrierActions(this.barriers.endOfInput(input.index), 0);
      return true;
    }
    if (value instanceof Uint8Array) {
      // A BARRIER frame (the decoder copied its payload out of the ring).
      const barrier = decodeBarrier(value);
      if (barrier.stop && !this.abortedIds.has(barrier.checkpointId)) this.stopBarriers.add(barrier.checkpointId);
      if (this.barriers !== undefined) this.onBarrierActions(this.barriers.barrier(input.index, barrier.checkpointId, performance.now()), barrier.timestamp);
      return true;
    }
    assert(Array.isArray(value), `unexpected frame kind ${String(value)} on ${input.label}`);
    try {
      this.processBatch(input, value);
    } catch (thrown) {
      throw this.attribute(thrown, input.node);
    }
    return true;
  }

  private onBarrierActions(actions: import('./barrier-handler.js').BarrierActions, timestamp: number): void {
    for (const id of actions.aborted ?? []) this.checkpointing?.abort(id);
    if (actions.trigger !== undefined) {
      this.triggered = { checkpointId: actions.trigger, timestamp, alignedSince: actions.alignedSince };
    }
  }

  private processBatch(input: Input, records: unknown[]): void {
    this.currentInput = input;
    this.currentBatchLength = records.length;
    input.recordsRead += records.length;
    const { node, keySelector, maxParallelism } = input;
    const failure = this.failure;
    for (let i = 0; i < records.length; i++) {
      this.currentIndexInBatch = i;
      const record = records[i];
      if (keySelector === undefined) {
        node.collect(record);
        continue;
      }
      failure.operator = node; // a throwing key selector is blamed on the keyed operator
      failure.record = record;
      const key: StateKey = keySelector(record);
      node.collectKeyed(record, key, assignToKeyGroup(key, maxParallelism));
    }
    this.currentInput = undefined;
  }

  private async flushTimedOut(timeoutMs: number): Promise<void> {
    const now = performance.now();
    for (const w of this.writers) if (now - w.oldestPending() >= timeoutMs) await w.flushAll();
  }

  /** Sleeps until a producer rings, a batch times out, or a slice passes (to see cancels). */
  private async idle(seen: number, timeoutMs: number): Promise<void> {
    let oldest = Infinity;
    for (const w of this.writers) oldest = Math.min(oldest, w.oldestPending());
    const untilTimeout = oldest === Infinity ? idleWaitSliceMs : Math.max(0, oldest + timeoutMs - performance.now());
    const waitMs = Math.min(idleWaitSliceMs, untilTimeout);
    if (waitMs <= 0) return;
    const start = performance.now();
    await this.doorbell.wait(seen, waitMs);
    this.idleMs += performance.now() - start;
  }

  private publishMetrics(): void {
    const m = this.metrics;
    let backpressured = 0;
    for (const w of this.writers) backpressured += w.backpressuredMs;
    m[metricsSlot.backpressuredMs] = backpressured;
    m[metricsSlot.idleMs] = this.idleMs;
    const state = this.backend.stats?.();
    if (state !== undefined) {
      m[metricsSlot.stateSegments] = state.segmentCount;
      m[metricsSlot.stateFlushes] = state.flushCount;
      m[metricsSlot.stateCompactions] = state.compactionCount;
      m[metricsSlot.stateCacheHits] = state.blockCacheHits;
      m[metricsSlot.stateCacheMisses] = state.blockCacheMisses;
    }
    this.operators.forEach((op, k) => {
      m[metricsSlot.firstNode + 2 * k] = op.recordsIn;
      m[metricsSlot.firstNode + 2 * k + 1] = op.recordsOut;
    });
  }
}

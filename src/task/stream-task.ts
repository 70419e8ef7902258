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
import { Doorbell, FrameKind, Ring } from '../channel/index.js';
import {
  CollectSinkWriter,
  IndexedSourceReader,
  PrintSinkWriter,
  TextFileReader,
  TextFileSinkWriter,
  splitRange,
} from '../connectors/index.js';
import type { SinkWriter, SourceReader } from '../connectors/index.js';
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

/** Frames read from one input before the loop turns to the next input. */
export const framesPerInputTurn = 4;
/** Longest single sleep on the doorbell, ms: bounds how late a cancel is seen. */
export const idleWaitSliceMs = 100;

interface Input {
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

  constructor(
    private readonly graph: JobGraph,
    private readonly d: SubtaskDeployment,
    private readonly backend: KeyedStateBackend,
    private readonly post: (message: SubtaskMessage) => void,
  ) {
    this.doorbell = new Doorbell(d.doorbell);
    this.metrics = new Float64Array(d.metrics);
    this.buildChain();
  }

  cancel(): void {
    this.cancelled = true;
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
      case 'sink':
        return new SinkOperator(node, env, this.createSinkWriter(node));
    }
  }

  private createReader(node: GraphNode): SourceReader {
    const op = node.plan.op;
    assert(op.kind === 'source');
    const spec = op.source;
    const i = this.d.subtaskIndex;
    switch (spec.kind) {
      case 'collection':
        return new IndexedSourceReader(0, spec.items.length, (k) => spec.items[k], 'collection');
      case 'sequence': {
        const [start, end] = splitRange(spec.from, spec.to - spec.from + 1, node.parallelism, i);
        return new IndexedSourceReader(start, end, (k) => k, 'sequence');
      }
      case 'generator': {
        const [start, end] = splitRange(0, spec.count, node.parallelism, i);
        return new IndexedSourceReader(start, end, spec.fn, 'generator');
      }
      case 'textFile':
        return new TextFileReader(this.d.splits ?? []);
    }
  }

  private createSinkWriter(node: GraphNode): SinkWriter {
    const op = node.plan.op;
    assert(op.kind === 'sink');
    const spec = op.sink;
    switch (spec.kind) {
      case 'collect':
        return new CollectSinkWriter(spec.name, (m) => this.post(m));
      case 'print':
        return new PrintSinkWriter(this.d.subtaskIndex, node.parallelism, (text) => process.stdout.write(text));
      case 'text':
        return new TextFileSinkWriter(spec.dir, this.d.subtaskIndex);
    }
  }

  /** Runs to end of input. @throws TaskFailure, CancelledError, or engine errors. */
  async run(): Promise<void> {
    for (const op of this.operators) await op.open();
    let sourceLive = this.source !== undefined;
    let liveInputs = this.inputs.length;
    const timeoutMs = this.d.options.bufferTimeoutMs;
    while (sourceLive || liveInputs > 0) {
      if (this.cancelled) throw new CancelledError();
      const seen = this.doorbell.sequence();
      let moved = false;
      if (sourceLive) {
        const { reader, head } = this.source!;
        try {
          sourceLive = reader.emitBatch(head.emit, this.d.options.batchSize, this.outputBlocked);
        } catch (thrown) {
          throw this.attribute(thrown, head);
        }
        moved = true;
      }
      for (const input of this.inputs) {
        if (input.ended) continue;
        for (let f = 0; f < framesPerInputTurn && !input.ended && this.backlog.queuedFrames === 0; f++) {
          if (!this.readFrame(input)) break;
          moved = true;
          if (input.ended) liveInputs--;
        }
      }
      if (this.backlog.queuedFrames > 0) for (const w of this.writers) await w.flushReady();
      await this.flushTimedOut(timeoutMs);
      this.publishMetrics();
      // State maintenance (LSM flush and compaction) in bounded steps: one every turn, so
      // a subtask that never idles still compacts, and an idle turn does a step before it
      // sleeps (the loop comes straight back while steps remain).
      const maintenancePending = this.backend.maintenanceStep?.() ?? false;
      if (!moved && liveInputs > 0 && !maintenancePending) await this.idle(seen, timeoutMs);
    }
    for (const op of this.operators) {
      try {
        op.endInput();
      } catch (thrown) {
        throw op.failure(thrown, undefined);
      }
    }
    for (const w of this.writers) {
      await w.flushAll();
      await w.endOfInput();
    }
    for (const op of this.operators) await op.close();
    if (this.source !== undefined) this.source.reader.close();
    this.publishMetrics();
    this.metrics[metricsSlot.finished] = 1;
  }

  /** Reads and processes one frame; false when the input has none now. */
  private readFrame(input: Input): boolean {
    const read = input.ring.tryReadWith((kind, view) => (kind === FrameKind.RECORDS ? (this.decoder.decode(view) as unknown[]) : kind));
    if (read === undefined) return false;
    const value = read.value;
    if (value === FrameKind.END_OF_INPUT) {
      input.ended = true;
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

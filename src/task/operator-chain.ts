/**
 * Builds one subtask's operator chain from the job graph: an operator per node of its
 * vertex (chained operators call each other directly), a record writer per outgoing edge
 * (task/record-writer.ts), and an input per incoming channel, each with its ring and the
 * edge's key selector. Flink: `OperatorChain` (built by `StreamTask`).
 */
import assert from 'node:assert/strict';
import { Ring } from '../channel/index.js';
import { CollectSinkWriter, PrintSinkWriter } from '../connectors/index.js';
import type { Committer, SinkWriter } from '../connectors/index.js';
import type { GraphNode, JobGraph } from '../graph/index.js';
import type { KeySelector } from '../api/index.js';
import type { SubtaskDeployment, SubtaskMessage } from './deployment.js';
import { ChainOperator, FanOut } from './operators.js';
import { FilterOperator, FlatMapOperator, MapOperator, ReduceOperator, SinkFunctionOperator } from './basic-operators.js';
import type { OperatorEnvironment, Output } from './operators.js';
import { KeyedProcessOperator, ProcessOperator } from './process-operators.js';
import type { ProcessingTimeOperator } from './process-operators.js';
import { createWindowOperator } from './window-factory.js';
import { TimestampsAndWatermarksOperator } from './timestamps-operator.js';
import type { PeriodicWatermarkEmitter } from './timestamps-operator.js';
import { SourceOperator } from './source-operator.js';
import { SinkOperator, sinkWriterStateList } from './sink-operator.js';
import { RecordWriter } from './record-writer.js';

/** One input channel of the chain's head: a ring from one upstream subtask. */
export interface ChainInput {
  /** Position among the subtask's inputs (the barrier handler's input index). */
  index: number;
  ring: Ring;
  node: ChainOperator;
  /** The edge's key selector (a keyed input), else undefined. */
  keySelector: KeySelector<any> | undefined;
  /** Whether each record's key group is computed (the head's `needsKeyGroups()`), else -1 is passed. */
  keyGroups: boolean;
  maxParallelism: number;
  ended: boolean;
  /** `"<upstream name>" subtask <n>`, for failure messages. */
  label: string;
  recordsRead: number;
}

/** The built chain: what the subtask's loop drives. */
export interface OperatorChain {
  /** In the vertex's node order; the head first. */
  operators: ChainOperator[];
  writers: RecordWriter[];
  inputs: ChainInput[];
  /** The chain's source, when its head is one. */
  source: SourceOperator | undefined;
  sinks: SinkOperator[];
  /** Operators with processing-time timers, served every turn. */
  timerOperators: ProcessingTimeOperator[];
  /** Watermark generators emitting every auto-watermark interval (sources with a strategy, assigners). */
  periodicEmitters: PeriodicWatermarkEmitter[];
}

/** What the chain's parts need from their subtask. */
export interface ChainContext {
  graph: JobGraph;
  d: SubtaskDeployment;
  env: OperatorEnvironment;
  post: (message: SubtaskMessage) => void;
  /** The subtask was cancelled: writers waiting for ring space give up. */
  cancelled: () => boolean;
  /** Frames queued behind full output rings, shared by every writer. */
  backlog: { queuedFrames: number };
}

/** Builds the chain of subtask `ctx.d`. Throws what a sink's `createWriter`/`restoreWriter` throws. */
export function buildOperatorChain(ctx: ChainContext): OperatorChain {
  const { graph, d, env } = ctx;
  const chain: OperatorChain = { operators: [], writers: [], inputs: [], source: undefined, sinks: [], timerOperators: [], periodicEmitters: [] };
  const vertex = graph.vertices[d.vertex]!;
  const byNode = new Map<number, ChainOperator>();
  for (const id of vertex.nodes) {
    const op = createOperator(ctx, chain, graph.nodes[id]!);
    byNode.set(id, op);
    chain.operators.push(op);
  }
  for (const id of vertex.nodes) {
    // Targets by the output they read: main (undefined) or a side output's tag id.
    const targets = new Map<string | undefined, Output[]>();
    const add = (tag: string | undefined, output: Output): void => void (targets.get(tag) ?? targets.set(tag, []).get(tag)!).push(output);
    for (const next of graph.chainedOutputs.get(id) ?? []) add(next.tag, byNode.get(next.to)!);
    for (const edge of graph.edges) {
      if (edge.from !== id) continue;
      const consumer = graph.nodes[edge.to]!;
      const writer = new RecordWriter(
        edge,
        d.outputs[edge.id] ?? [],
        consumer.parallelism,
        consumer.maxParallelism,
        d.options.batchSize,
        d.subtaskIndex,
        ctx.cancelled,
        ctx.backlog,
        env.timestamp,
        d.options.optionStyle,
      );
      chain.writers.push(writer);
      add(edge.tag, writer);
    }
    const op = byNode.get(id)!;
    for (const [tag, outputs] of targets) {
      const output = outputs.length === 1 ? outputs[0]! : new FanOut(outputs);
      if (tag === undefined) op.connect(output);
      else op.connectSide(tag, output);
    }
  }
  const head = byNode.get(vertex.head)!;
  for (const edge of graph.edges) {
    if (edge.to !== vertex.head) continue;
    const upstream = graph.nodes[edge.from]!;
    for (const input of d.inputs[edge.id] ?? []) {
      chain.inputs.push({
        index: chain.inputs.length,
        ring: new Ring(input.ring),
        node: head,
        keySelector: edge.keySelector,
        keyGroups: edge.keySelector !== undefined && head.needsKeyGroups(),
        maxParallelism: head.node.maxParallelism,
        ended: false,
        label: `"${upstream.name}" subtask ${input.fromSubtask + 1}`,
        recordsRead: 0,
      });
    }
  }
  return chain;
}

function createOperator(ctx: ChainContext, chain: OperatorChain, node: GraphNode): ChainOperator {
  const { env } = ctx;
  const op = node.plan.op;
  switch (op.kind) {
    case 'source': {
      chain.source = new SourceOperator(node, env, op.source.source, ctx.post, op.source.watermarkStrategy);
      if (op.source.watermarkStrategy !== undefined) chain.periodicEmitters.push(chain.source);
      return chain.source;
    }
    case 'map':
      return new MapOperator(node, env, op.fn);
    case 'filter':
      return new FilterOperator(node, env, op.fn);
    case 'flatMap':
      return new FlatMapOperator(node, env, op.fn);
    case 'reduce':
      return new ReduceOperator(node, env, op.fn);
    case 'process': {
      const keyed = new KeyedProcessOperator(node, env, op.fn);
      chain.timerOperators.push(keyed);
      return keyed;
    }
    case 'processFunction':
      return new ProcessOperator(node, env, op.fn);
    case 'window': {
      const window = createWindowOperator(node, env, op.spec);
      chain.timerOperators.push(window);
      return window;
    }
    case 'timestamps': {
      const assigner = new TimestampsAndWatermarksOperator(node, env, op.strategy);
      chain.periodicEmitters.push(assigner);
      return assigner;
    }
    case 'sink': {
      if (op.sink.kind === 'function') return new SinkFunctionOperator(node, env, op.sink.fn);
      const { writer, committer } = createSinkWriter(ctx, node);
      const sink = new SinkOperator(node, env, writer, committer);
      chain.sinks.push(sink);
      return sink;
    }
  }
}

function createSinkWriter(ctx: ChainContext, node: GraphNode): { writer: SinkWriter<unknown>; committer: Committer<unknown> | undefined } {
  const { d } = ctx;
  const op = node.plan.op;
  assert(op.kind === 'sink' && op.sink.kind !== 'function');
  const spec = op.sink;
  switch (spec.kind) {
    case 'collect':
      return { writer: new CollectSinkWriter(spec.name, ctx.post, d.restore?.checkpointId ?? 0), committer: undefined };
    case 'print': {
      // A worker's stdout reaches the main thread asynchronously: close waits until it has.
      const stdoutFlushed = () => new Promise<void>((resolve) => process.stdout.write('', () => resolve()));
      const writer = new PrintSinkWriter(d.subtaskIndex, node.parallelism, (text) => process.stdout.write(text), {
        flushed: stdoutFlushed,
        lingerMs: d.options.bufferTimeoutMs,
      });
      return { writer, committer: undefined };
    }
    case 'sink': {
      const sink = spec.sink;
      const context = {
        subtaskIndex: d.subtaskIndex,
        parallelism: node.parallelism,
        attemptNumber: d.attempt,
        restoredCheckpointId: d.restore?.checkpointId,
      };
      // The job master committed the restored committables before this subtask started.
      const restored = ctx.env.restoredState(node.uid) as { lists?: Record<string, { items: unknown[] }> } | undefined;
      const writerState = restored?.lists?.[sinkWriterStateList]?.items;
      const writer = writerState !== undefined && sink.restoreWriter !== undefined ? sink.restoreWriter(context, writerState) : sink.createWriter(context);
      const committer = sink.createCommitter?.({ subtaskIndex: d.subtaskIndex, parallelism: node.parallelism });
      return { writer, committer };
    }
  }
}

/**
 * The plan: what `defineJob` builds, before any thread runs. A DAG of operator nodes in
 * creation order; edges name their partitioner. Flink: the list of `Transformation`s.
 *
 * A plan is rebuilt in every worker from the same job module and arguments, so it must be
 * deterministic: node ids are creation indexes, and `fingerprint()` lets the runtime check
 * that a worker built the same plan as the main thread.
 */
import type { KeySelector, Normalized, ReduceFunction, Collector, KeyedProcessFunction, ProcessFunction } from './functions.js';
import type { Sink, Source } from '../connectors/index.js';
import type { WatermarkStrategy } from '../time/index.js';
import type { WindowSpec } from '../time/windows/spec.js';

export type Partitioner = 'forward' | 'rebalance' | 'broadcast' | 'hash';

/** An input of a node: which node feeds it and how records are routed. */
export interface PlanEdge {
  from: number;
  /** undefined: forward if parallelisms are equal, else rebalance (Flink's default). */
  partitioner: Partitioner | undefined;
  keySelector?: KeySelector<any>;
  /** The side output (OutputTag id) of `from` this edge reads; undefined: its main output. */
  tag?: string;
}

/** A source node: a FLIP-27 source; `nonParallel` ones run at parallelism 1 only. */
export interface SourceSpec {
  source: Source<any, any, any>;
  /** Collections, sockets and pipes: one reader only (setParallelism(n > 1) is refused). */
  nonParallel: boolean;
  /** For messages: why it is non-parallel, e.g. 'fromCollection()'. */
  what: string;
  /** Timestamps and watermarks generated per split in the reader (`fromSource`); undefined: none. */
  watermarkStrategy?: WatermarkStrategy<any> | undefined;
}

export type SinkSpec =
  | { kind: 'collect'; name: string }
  | { kind: 'print' }
  /** A Sink V2 sink (`sinkTo`, `writeAsText`, ...). */
  | { kind: 'sink'; sink: Sink<any, any, any> }
  /** A plain function (`addSink`): at-least-once. */
  | { kind: 'function'; fn: Normalized<(value: any) => void> };

export type OperatorSpec =
  | { kind: 'source'; source: SourceSpec }
  | { kind: 'map'; fn: Normalized<(value: any) => unknown> }
  | { kind: 'filter'; fn: Normalized<(value: any) => boolean> }
  | { kind: 'flatMap'; fn: Normalized<(value: any, out: Collector<any>) => void> }
  | { kind: 'reduce'; fn: ReduceFunction<any> }
  | { kind: 'process'; fn: KeyedProcessFunction<any, any, any> }
  /** `process` on a non-keyed stream. */
  | { kind: 'processFunction'; fn: ProcessFunction<any, any> }
  /** `assignTimestampsAndWatermarks`. */
  | { kind: 'timestamps'; strategy: WatermarkStrategy<any> }
  /** `window(...)` / `windowAll(...)` and a window function. */
  | { kind: 'window'; spec: WindowSpec }
  | { kind: 'sink'; sink: SinkSpec };

export interface PlanNode {
  readonly id: number;
  name: string;
  uid: string | undefined;
  /** undefined: the job's default parallelism. */
  parallelism: number | undefined;
  maxParallelism: number | undefined;
  /** `slotSharingGroup(name)`; undefined: inherited from the inputs (graph/job-graph.ts). */
  slotSharingGroup: string | undefined;
  /** Whether it may join its input's chain and others its own (`startNewChain()`, `disableChaining()`). */
  chaining: ChainingStrategy;
  readonly op: OperatorSpec;
  readonly inputs: PlanEdge[];
}

/** The operator uid: the user's, or derived from the node's kind and creation index. */
export function nodeUid(node: PlanNode): string {
  return node.uid ?? `${node.op.kind}-${node.id}`;
}

/**
 * How a node chains (graph/job-graph.ts), as Flink's `ChainingStrategy`: `always` joins its
 * input's chain when it can and lets its consumers join its own; `head` starts a chain
 * (`startNewChain()`) that its consumers may join; `never` runs in a chain of its own
 * (`disableChaining()`).
 */
export type ChainingStrategy = 'always' | 'head' | 'never';

/** Job-wide settings of a plan. Flink: `ExecutionConfig`. */
export interface PlanConfig {
  /** How often watermark generators emit (`onPeriodicEmit`), ms. Flink: `pipeline.auto-watermark-interval`, 200 ms. */
  autoWatermarkIntervalMs: number;
  /** False after `env.disableOperatorChaining()`: every operator runs in a chain (subtask) of its own. */
  chaining: boolean;
}

/** Flink's default auto-watermark interval, ms. */
export const defaultAutoWatermarkIntervalMs = 200;

/** The nodes a job defined, in creation order. */
export class Plan {
  readonly nodes: PlanNode[] = [];
  readonly config: PlanConfig = { autoWatermarkIntervalMs: defaultAutoWatermarkIntervalMs, chaining: true };

  add(name: string, op: OperatorSpec, inputs: PlanEdge[]): PlanNode {
    const node: PlanNode = { id: this.nodes.length, name, uid: undefined, parallelism: undefined, maxParallelism: undefined, slotSharingGroup: undefined, chaining: 'always', op, inputs };
    this.nodes.push(node);
    return node;
  }

  /** A string equal for equal plans: ids, kinds, uids, parallelism, slot sharing groups, chaining and edges. */
  fingerprint(): string {
    const nodes = this.nodes
      .map(
        (n) =>
          `${n.id}:${n.op.kind}:${nodeUid(n)}:${n.parallelism ?? '-'}${n.slotSharingGroup === undefined ? '' : `@${JSON.stringify(n.slotSharingGroup)}`}${n.chaining === 'always' ? '' : `!${n.chaining}`}<${n.inputs.map((e) => `${e.from}/${e.partitioner ?? '-'}${e.tag === undefined ? '' : `#${e.tag}`}`).join(',')}`,
      )
      .join(';');
    return this.config.chaining ? nodes : `unchained|${nodes}`;
  }
}

/**
 * Plan -> job graph, as Flink's `StreamingJobGraphGenerator`:
 * - every node gets its parallelism (its own, else the job default; non-parallel sources 1)
 *   and max parallelism (its own, else the job's, else Flink's default rule);
 * - edges without an explicit partitioner become forward (equal parallelism) or rebalance;
 * - chaining: a node with a single forward input of equal parallelism joins its input's
 *   chain, so the two run in one subtask with no serialization between them, when both
 *   are in the same slot sharing group, chaining is on (`env.disableOperatorChaining()`),
 *   the node may join a chain (not after `startNewChain()` or `disableChaining()`) and its
 *   input may be joined (not after `disableChaining()`): Flink's
 *   `StreamingJobGraphGenerator.isChainable` with `ChainingStrategy`;
 * - slot sharing groups: a node's own (`slotSharingGroup(name)`), else its inputs' group
 *   when they all have the same one, else "default" (Flink's
 *   `StreamGraphGenerator.determineSlotSharingGroup`);
 * - one channel (ring) per (producer subtask, consumer subtask) pair of each non-chained
 *   edge: forward edges connect subtask i to subtask i only.
 */
import assert from 'node:assert/strict';
import type { Partitioner, Plan, PlanNode, KeySelector } from '../api/index.js';
import { nodeUid } from '../api/index.js';
import { defaultMaxParallelism } from '../state/key-group.js';

export interface GraphNode {
  readonly plan: PlanNode;
  readonly id: number;
  readonly uid: string;
  readonly name: string;
  readonly parallelism: number;
  readonly maxParallelism: number;
  /** Its slot sharing group: the user's, or inherited (see above). */
  readonly slotSharingGroup: string;
  /** Index of the vertex (chain) this node runs in. */
  vertex: number;
  /** True when records reach it through hash edges: it sees keyed state. */
  readonly keyed: boolean;
}

/** An edge between nodes of different chains: records cross rings. */
export interface JobEdge {
  readonly id: number;
  readonly from: number;
  readonly to: number;
  readonly partitioner: Partitioner;
  readonly keySelector: KeySelector<any> | undefined;
  /** Position of this edge among the target node's inputs. */
  readonly inputIndex: number;
  /** The side output (OutputTag id) of `from` it carries; undefined: the main output. */
  readonly tag: string | undefined;
}

/** A chained successor: the node, and the side output of its predecessor it reads (undefined: main). */
export interface ChainedOutput {
  readonly to: number;
  readonly tag: string | undefined;
}

/** One chain: a tree of nodes run by one subtask per parallel index. */
export interface JobVertex {
  readonly id: number;
  readonly head: number;
  readonly nodes: number[];
  readonly parallelism: number;
  /** The slot sharing group of its nodes (chains never span groups). */
  readonly slotSharingGroup: string;
  name: string;
}

/** One ring: producer subtask `fromSubtask` of edge.from -> consumer subtask `toSubtask`. */
export interface ChannelSpec {
  readonly id: number;
  readonly edge: number;
  readonly fromSubtask: number;
  readonly toSubtask: number;
}

export interface JobGraph {
  readonly nodes: GraphNode[];
  readonly vertices: JobVertex[];
  readonly edges: JobEdge[];
  /** Node id -> chained (direct-call) successor nodes, each with the output it reads. */
  readonly chainedOutputs: Map<number, ChainedOutput[]>;
  readonly channels: ChannelSpec[];
  /** Total subtasks: the sum of the vertices' parallelism. */
  readonly subtaskCount: number;
  /** How often watermark generators emit, ms (`env.getConfig().setAutoWatermarkInterval`). */
  readonly autoWatermarkIntervalMs: number;
}

export interface JobGraphOptions {
  defaultParallelism: number;
  maxParallelism: number | undefined;
  /**
   * Max parallelism by operator uid of the state being restored: an operator whose max
   * parallelism is set neither on it nor on the job takes this one instead of the default
   * rule (as Flink adopts the restored max parallelism), so a restore at another
   * parallelism keeps the key groups.
   */
  restoredMaxParallelism?: Record<string, number> | undefined;
}

/** @throws RangeError / TypeError for plans that cannot run (message names node and fix). */
export function buildJobGraph(plan: Plan, options: JobGraphOptions): JobGraph {
  if (plan.nodes.length === 0) throw new TypeError('The job defines no operators: add a source and a sink');
  const nodes: Array<GraphNode & { vertex: number }> = [];
  for (const p of plan.nodes) nodes.push(resolveNode(p, options, slotSharingGroup(p, nodes)));
  const consumers = new Map<number, number>();
  for (const p of plan.nodes) for (const e of p.inputs) consumers.set(e.from, (consumers.get(e.from) ?? 0) + 1);
  for (const n of nodes) {
    if (n.plan.op.kind !== 'sink' && !consumers.has(n.id)) {
      throw new TypeError(`Operator "${n.name}" (${n.uid}) has no consumer: end it with a sink such as .collect(), .print() or .writeAsText(dir)`);
    }
  }
  checkUids(nodes);

  const vertices: JobVertex[] = [];
  const edges: JobEdge[] = [];
  const chainedOutputs = new Map<number, ChainedOutput[]>();
  for (const n of nodes) {
    const inputs = n.plan.inputs.map((e) => ({ ...e, partitioner: resolvePartitioner(e.partitioner, nodes[e.from]!, n) }));
    const single = inputs.length === 1 ? inputs[0]! : undefined;
    if (single !== undefined && chainable(plan, nodes[single.from]!, n) && single.partitioner === 'forward' && nodes[single.from]!.parallelism === n.parallelism && nodes[single.from]!.slotSharingGroup === n.slotSharingGroup) {
      const up = nodes[single.from]!;
      n.vertex = up.vertex;
      vertices[up.vertex]!.nodes.push(n.id);
      vertices[up.vertex]!.name += ` -> ${n.name}`;
      chainedOutputs.set(up.id, [...(chainedOutputs.get(up.id) ?? []), { to: n.id, tag: single.tag }]);
      continue;
    }
    n.vertex = vertices.length;
    vertices.push({ id: vertices.length, head: n.id, nodes: [n.id], parallelism: n.parallelism, slotSharingGroup: n.slotSharingGroup, name: n.name });
    inputs.forEach((e, inputIndex) => {
      edges.push({ id: edges.length, from: e.from, to: n.id, partitioner: e.partitioner, keySelector: e.keySelector, inputIndex, tag: e.tag });
    });
  }
  const channels = enumerateChannels(nodes, edges);
  return {
    nodes,
    vertices,
    edges,
    chainedOutputs,
    channels,
    subtaskCount: vertices.reduce((sum, v) => sum + v.parallelism, 0),
    autoWatermarkIntervalMs: plan.config.autoWatermarkIntervalMs,
  };
}

/** Flink's default slot sharing group. */
export const defaultSlotSharingGroup = 'default';

/** Whether `node` may join the chain of its input `up` as far as chaining settings go (the edge and groups are checked apart). */
function chainable(plan: Plan, up: GraphNode, node: GraphNode): boolean {
  return plan.config.chaining && node.plan.chaining === 'always' && up.plan.chaining !== 'never';
}

/** The node's own group, else its inputs' common group, else "default" (inputs come before the node in plan order). */
function slotSharingGroup(p: PlanNode, resolved: readonly GraphNode[]): string {
  if (p.slotSharingGroup !== undefined) return p.slotSharingGroup;
  const groups = new Set(p.inputs.map((e) => resolved[e.from]!.slotSharingGroup));
  return groups.size === 1 ? [...groups][0]! : defaultSlotSharingGroup;
}

function resolveNode(p: PlanNode, options: JobGraphOptions, slotSharingGroup: string): GraphNode & { vertex: number } {
  const nonParallel = p.op.kind === 'source' && p.op.source.nonParallel;
  const parallelism = nonParallel ? 1 : (p.parallelism ?? options.defaultParallelism);
  const maxParallelism = p.maxParallelism ?? options.maxParallelism ?? options.restoredMaxParallelism?.[nodeUid(p)] ?? defaultMaxParallelism(parallelism);
  const keyed = p.inputs.length > 0 && p.inputs.every((e) => e.partitioner === 'hash');
  if (p.inputs.some((e) => e.partitioner === 'hash') && !keyed) {
    throw new TypeError(`Operator "${p.name}" unions keyed and non-keyed inputs: keyBy() every input of it, or none`);
  }
  if (keyed && parallelism > maxParallelism) {
    throw new RangeError(`Operator "${p.name}" has parallelism ${parallelism} above its max parallelism ${maxParallelism}: raise setMaxParallelism() or lower the parallelism`);
  }
  return { plan: p, id: p.id, uid: nodeUid(p), name: p.name, parallelism, maxParallelism, slotSharingGroup, vertex: -1, keyed };
}

function resolvePartitioner(explicit: Partitioner | undefined, from: GraphNode, to: GraphNode): Partitioner {
  if (explicit === undefined) return from.parallelism === to.parallelism ? 'forward' : 'rebalance';
  if (explicit === 'forward' && from.parallelism !== to.parallelism) {
    throw new RangeError(
      `Forward partitioning from "${from.name}" (parallelism ${from.parallelism}) to "${to.name}" (parallelism ${to.parallelism}) needs equal parallelism: use rebalance() or set the same parallelism`,
    );
  }
  return explicit;
}

function checkUids(nodes: readonly GraphNode[]): void {
  const seen = new Map<string, GraphNode>();
  const collectNames = new Set<string>();
  for (const n of nodes) {
    const other = seen.get(n.uid);
    if (other !== undefined) throw new TypeError(`Operators "${other.name}" and "${n.name}" share the uid "${n.uid}": uids must be unique`);
    seen.set(n.uid, n);
    const op = n.plan.op;
    if (op.kind === 'sink' && op.sink.kind === 'collect') {
      if (collectNames.has(op.sink.name)) throw new TypeError(`Two collect() sinks are named "${op.sink.name}": pass distinct names to collect(name)`);
      collectNames.add(op.sink.name);
    }
  }
}

function enumerateChannels(nodes: readonly GraphNode[], edges: readonly JobEdge[]): ChannelSpec[] {
  const channels: ChannelSpec[] = [];
  for (const e of edges) {
    const from = nodes[e.from]!;
    const to = nodes[e.to]!;
    for (let i = 0; i < from.parallelism; i++) {
      for (let j = 0; j < to.parallelism; j++) {
        if (e.partitioner === 'forward' && i !== j) continue;
        channels.push({ id: channels.length, edge: e.id, fromSubtask: i, toSubtask: j });
      }
    }
  }
  assert(channels.every((c, i) => c.id === i));
  return channels;
}

/** A readable description of the graph, for logs and `--json` output. */
export function describeJobGraph(graph: JobGraph): string {
  return graph.vertices.map((v) => `${v.name} (parallelism ${v.parallelism})`).join('\n');
}

/**
 * The deployment plan of one attempt (runtime/attempt.ts deploys it): the channels'
 * rings, the consumers' doorbells, and each subtask's `SubtaskDeployment`, the task object
 * its worker thread receives (SharedArrayBuffers travel in it, not in a transfer list).
 */
import { MessageChannel } from 'node:worker_threads';
import type { MessagePort } from 'node:worker_threads';
import { Doorbell, Ring } from '../channel/index.js';
import { metricsBytes } from '../task/index.js';
import type { InputChannel, OutputChannel, SubtaskDeployment } from '../task/index.js';
import type { JobSetup } from './job-setup.js';
import type { RestorePlan } from './restore-plan.js';
import { ringSizesBytes } from './ring-sizing.js';

/** One subtask's deployment and the job master's end of its control port. */
export interface PlannedDeployment {
  deployment: SubtaskDeployment;
  port: MessagePort;
}

/**
 * Rings, doorbells and one deployment (with its master-side port) per subtask of
 * `setup.graph`, for attempt `attempt` (0 first), restoring `restore` when given. One ring
 * per channel (`ringSizeBytes` each, or sized by its consumer's fan-in: ring-sizing.ts),
 * one doorbell per consuming subtask. Flink: the
 * `ExecutionGraph`'s deployment descriptors (`TaskDeploymentDescriptor`).
 */
export function planDeployments(jobId: string, setup: JobSetup, attempt: number, restore: RestorePlan | undefined): PlannedDeployment[] {
  const { moduleUrl, fingerprint, graph, options, stateRoot } = setup;
  const sizes = ringSizesBytes(graph.channels, (c) => `${graph.nodes[graph.edges[c.edge]!.to]!.vertex}/${c.toSubtask}`, options.ringSizeBytes, options.checkpointing !== undefined);
  const rings = graph.channels.map((c) => Ring.allocate(sizes[c.id]!));
  const doorbells = graph.vertices.map((v) => Array.from({ length: v.parallelism }, () => Doorbell.allocate()));
  const deployments: PlannedDeployment[] = [];
  for (const vertex of graph.vertices) {
    for (let i = 0; i < vertex.parallelism; i++) {
      const inputs: Record<number, InputChannel[]> = {};
      const outputs: Record<number, OutputChannel[]> = {};
      for (const c of graph.channels) {
        const edge = graph.edges[c.edge]!;
        const to = graph.nodes[edge.to]!;
        const from = graph.nodes[edge.from]!;
        if (to.vertex === vertex.id && c.toSubtask === i) {
          (inputs[edge.id] ??= []).push({ channel: c.id, ring: rings[c.id]!, fromSubtask: c.fromSubtask });
        }
        if (from.vertex === vertex.id && c.fromSubtask === i) {
          (outputs[edge.id] ??= []).push({ channel: c.id, ring: rings[c.id]!, doorbell: doorbells[to.vertex]![c.toSubtask]!, toSubtask: c.toSubtask });
        }
      }
      for (const list of Object.values(outputs)) list.sort((a, b) => a.toSubtask - b.toSubtask);
      const { port1, port2 } = new MessageChannel();
      const deployment: SubtaskDeployment = {
        jobId,
        moduleUrl: moduleUrl.url,
        importUrl: moduleUrl.importUrl,
        args: options.args,
        jobParameters: options.params,
        jobInfo: setup.info,
        defaultParallelism: options.parallelism,
        maxParallelism: options.maxParallelism,
        restoredMaxParallelism: setup.restoredMaxParallelism,
        planFingerprint: fingerprint,
        vertex: vertex.id,
        subtaskIndex: i,
        inputs,
        outputs,
        doorbell: doorbells[vertex.id]![i]!,
        metrics: new SharedArrayBuffer(metricsBytes(vertex.nodes.length)),
        stateRoot,
        options: {
          bufferTimeoutMs: options.bufferTimeoutMs,
          batchSize: options.batchSize,
          stateBackend: options.stateBackend,
          memtableSizeBytes: options.memtableSizeBytes,
          stateDir: options.stateDir,
          optionStyle: options.optionStyle,
          latencyTrackingIntervalMs: options.latencyTrackingIntervalMs,
        },
        checkpointing:
          options.checkpointing === undefined
            ? undefined
            : { dir: options.checkpointing.dir, mode: options.checkpointing.mode, finalCheckpoint: options.checkpointing.intervalMs !== undefined },
        restore: restore?.bySubtask.get(`${vertex.id}/${i}`),
        attempt,
        sharesThread: false,
        port: port2,
      };
      deployments.push({ deployment, port: port1 });
    }
  }
  return deployments;
}

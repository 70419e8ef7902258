/**
 * The job master's handle on one deployed subtask (`Deployed`): its control port and
 * doorbell, its metrics block, and the watch of its port, which routes what the subtask
 * posts (collected records, checkpoint acks and declines, source split requests, latency
 * markers) and settles on its one final message, or on its thread's death. Flink: the
 * `Execution` of a subtask as its `JobMaster` sees it.
 */
import type { MessagePort } from 'node:worker_threads';
import { Doorbell } from '../channel/index.js';
import { UsageError, UserFunctionError } from '../errors.js';
import { decodeCollectChunk } from '../connectors/index.js';
import type { JobGraph } from '../graph/index.js';
import type { MasterMessage, SubtaskDeployment, SubtaskMessage } from '../task/index.js';
import type { ResolvedOptions } from './options.js';
import type { CheckpointCoordinator } from './checkpoint-coordinator.js';
import type { SourceCoordinator } from './source-coordinator.js';
import type { AttemptRecords } from './collected-records.js';
import type { LatencyRegistry } from '../metrics/latency.js';
import { JobCancelledError, SubtaskError, subtaskFailure } from './job-handle.js';

/** One subtask of an attempt, as the job master tracks it. */
export interface Deployed {
  /** `vertex/subtask`: the coordinator's name for the subtask. */
  key: string;
  /** Rung after each control mail, so an idle subtask sees it at once. */
  doorbell: Doorbell;
  label: string;
  vertex: number;
  subtaskIndex: number;
  metrics: Float64Array;
  /** The job master's end of the control port. */
  port: MessagePort;
  /** Its chain starts with a source: checkpoints are triggered here. */
  source: boolean;
  /** Graph node id of that source (the chain head), for its enumerator. */
  sourceNode: number | undefined;
  /** Index of its slot (slot-sharing.ts): the slot's subtasks share one worker thread. */
  slot: number;
  /** The worker thread running it, once its modules are loaded (`running` message). */
  threadId: number | undefined;
  ended: boolean;
  outcome: Promise<void> | undefined;
}

/** What the watch of a subtask's port reaches in its attempt (attempt.ts `Attempt`). */
export interface WatchedAttempt {
  readonly failure: Error | undefined;
  readonly coordinator: Pick<CheckpointCoordinator, 'onAck' | 'onDecline' | 'onInputEnded' | 'onSubtaskRunning'> | undefined;
  readonly enumerators: ReadonlyMap<number, Pick<SourceCoordinator, 'onMessage'>>;
  readonly finalCommits: Array<{ uid: string; committables: unknown[] }>;
  readonly collected: AttemptRecords;
}

/** The job master's side of a watch: where a failure goes, and the run's facts it names. */
export interface WatchContext {
  readonly jobId: string;
  readonly options: ResolvedOptions;
  readonly latency: LatencyRegistry;
  /** Fails the attempt (the first failure cancels every other subtask). */
  failAttempt(error: Error): void;
}

/** The handle of subtask `d` of `graph`, on control port `port`, in slot `slot`. */
export function deployedSubtask(graph: JobGraph, d: SubtaskDeployment, port: MessagePort, slot: number): Deployed {
  const vertex = graph.vertices[d.vertex]!;
  const head = graph.nodes[vertex.head]!;
  return {
    key: `${d.vertex}/${d.subtaskIndex}`,
    doorbell: new Doorbell(d.doorbell),
    label: `${vertex.name} (${d.subtaskIndex + 1}/${vertex.parallelism})`,
    vertex: d.vertex,
    subtaskIndex: d.subtaskIndex,
    metrics: new Float64Array(d.metrics),
    port,
    source: head.plan.op.kind === 'source',
    sourceNode: head.plan.op.kind === 'source' ? vertex.head : undefined,
    slot,
    threadId: undefined,
    ended: false,
    outcome: undefined,
  };
}

/**
 * Watches `handle`'s port until the subtask's final message arrived (resolves on
 * `finished`), or it failed or its thread died without one (rejects with that failure,
 * after `context.failAttempt`). `ran` is the slot's piscina task. Closes the port when
 * settled.
 */
export function watchSubtask(context: WatchContext, attempt: WatchedAttempt, d: SubtaskDeployment, handle: Deployed, ran: Promise<unknown>): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    let settled = false;
    let fallback: NodeJS.Timeout | undefined;
    const settle = (error: Error | undefined): void => {
      if (settled) return;
      settled = true;
      if (fallback !== undefined) clearTimeout(fallback);
      handle.ended = true;
      if (error === undefined) return resolve();
      context.failAttempt(error);
      reject(error);
    };
    handle.port.on('message', (m: SubtaskMessage) => {
      switch (m.type) {
        case 'collect': {
          const records = decodeCollectChunk(m.batch);
          attempt.collected.add(m.name, m.epoch, records, attempt.coordinator !== undefined);
          return;
        }
        case 'ack':
          attempt.coordinator?.onAck(handle.key, m.checkpointId, m.state, m.stats);
          return;
        case 'decline':
          attempt.coordinator?.onDecline(m.checkpointId, m.reason, m.failed === true);
          return;
        case 'running':
          handle.threadId = m.threadId;
          attempt.coordinator?.onSubtaskRunning(handle.key);
          return;
        case 'readerRegistered':
        case 'splitRequest':
          if (handle.sourceNode !== undefined) attempt.enumerators.get(handle.sourceNode)?.onMessage(handle.subtaskIndex, m);
          return;
        case 'inputEnded':
          attempt.coordinator?.onInputEnded(handle.key);
          return;
        case 'latency':
          context.latency.update(handle.key, d.attempt, m);
          return;
        case 'finished':
          attempt.finalCommits.push(...m.committables);
          return settle(undefined);
        case 'failed':
          return settle(new UserFunctionError(m.failure));
        case 'error':
          if (m.name === 'CancelledError') return settle(attempt.failure ?? new JobCancelledError(context.jobId));
          if (m.userError) return settle(new UsageError(m.message));
          return settle(new SubtaskError(handle.label, m.name, m.message, m.stack));
      }
    });
    // A thread that crashes or is terminated sends no final message: piscina's
    // rejection is the only news, after the port has delivered whatever it had.
    // These timers stay referenced: when the only worker died, they are all that keeps the
    // event loop (and so the job's promise) alive.
    // The port closes once the thread is gone, after delivering every message it had:
    // a dead thread is noticed then, not after the fallback timer.
    let portClosed = false;
    let onPortClosed: (() => void) | undefined;
    handle.port.once('close', () => {
      portClosed = true;
      onPortClosed?.();
    });
    ran.then(
      () => {
        if (!settled) fallback = setTimeout(() => settle(new SubtaskError(handle.label, 'Error', 'ended without a final message', undefined)), 1000);
      },
      (error: Error) => {
        if (settled) return;
        const failed = (): void => settle(subtaskFailure(handle.label, error, context.options));
        if (portClosed) return failed();
        onPortClosed = failed;
        fallback = setTimeout(failed, 200);
      },
    );
  }).finally(() => handle.port.close());
}

/** Posts a control mail and rings the subtask's doorbell, so an idle subtask runs it at once. */
export function mail(d: Deployed, message: MasterMessage): void {
  d.port.postMessage(message);
  d.doorbell.ring();
}

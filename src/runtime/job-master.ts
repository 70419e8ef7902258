/**
 * The job master, in the main thread: loads the job module, builds the job graph, plans
 * source splits, allocates one ring per channel and one doorbell per subtask, and deploys
 * every subtask as a long-running piscina task (`minThreads = maxThreads = subtasks`). It
 * never touches records. Flink: `JobMaster` + `Execution` deployment.
 *
 * A subtask ends with exactly one final message on its port (see task/worker.ts). The
 * first failure cancels every other subtask; the job's promise rejects with that failure.
 */
import { randomUUID } from 'node:crypto';
import { mkdirSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { MessageChannel } from 'node:worker_threads';
import type { MessagePort } from 'node:worker_threads';
import { Piscina } from 'piscina';
import { Doorbell, Ring } from '../channel/index.js';
import { planTextFileSplits } from '../connectors/index.js';
import type { FileSplit } from '../connectors/index.js';
import { UsageError, UserFunctionError } from '../errors.js';
import { loadJob, resolveJobModule } from '../graph/index.js';
import type { JobGraph } from '../graph/index.js';
import { metricsBytes, metricsSlot } from '../task/index.js';
import type { InputChannel, OutputChannel, SubtaskDeployment, SubtaskMessage } from '../task/index.js';
import { resolveOptions } from './options.js';
import type { ResolvedOptions, RunJobOptions } from './options.js';

/** Records in and out of one operator, summed over its subtasks. */
export interface OperatorStats {
  uid: string;
  name: string;
  /** Sources read records, sinks write them; the rest transform. */
  role: 'source' | 'transform' | 'sink';
  parallelism: number;
  recordsIn: number;
  recordsOut: number;
}

/** Per-subtask time split, ms: blocked on full outputs, and waiting for input. */
export interface SubtaskStats {
  vertex: string;
  subtaskIndex: number;
  backpressuredMs: number;
  idleMs: number;
  finished: boolean;
  /** LSM state figures (zeros for heap state): live segments, flushes, compactions, block cache. */
  state: { segments: number; flushes: number; compactions: number; cacheHits: number; cacheMisses: number };
}

/** A point-in-time view of a running job, read from the subtasks' metrics blocks. */
export interface JobMetrics {
  elapsedMs: number;
  operators: OperatorStats[];
  subtasks: SubtaskStats[];
}

export interface JobResult extends JobMetrics {
  jobId: string;
  status: 'FINISHED';
  /** Wall time from `runJob` to the last subtask's end, ms. */
  wallTimeMs: number;
  /** Records of each `collect(name)` sink, in arrival order. */
  collected: Record<string, unknown[]>;
}

export interface JobHandle {
  readonly jobId: string;
  /** Resolves when every subtask finished; rejects with the first failure. */
  readonly result: Promise<JobResult>;
  /** Current figures (zeros until the subtasks are deployed). */
  metrics(): JobMetrics;
  /** Cancels the job; `result` rejects with a JobCancelledError. */
  cancel(): void;
}

export class JobCancelledError extends Error {
  constructor(jobId: string) {
    super(`Job ${jobId} was cancelled`);
    this.name = 'JobCancelledError';
  }
}

/** A subtask failed without a user-function failure (crash, out of memory, engine error). */
export class SubtaskError extends Error {
  constructor(subtask: string, name: string, message: string, stack: string | undefined) {
    super(`Subtask ${subtask} failed: ${name}: ${message}`);
    this.name = 'SubtaskError';
    if (stack !== undefined) this.stack = `${this.name}: ${this.message}\nCaused by: ${stack}`;
  }
}

/** How long cancelled subtasks get to end on their own before their threads are terminated, ms. */
export const cancelGraceMs = 3000;

interface Deployed {
  label: string;
  vertex: number;
  subtaskIndex: number;
  metrics: Float64Array;
  port: MessagePort;
}

/**
 * Runs the job module at `moduleUrl` (path or file URL; .ts or .js; default export made
 * with `defineJob`). Returns at once; the handle's `result` settles when the job ends.
 * Rejections: UsageError (bad path, module or option; `userError: true`),
 * UserFunctionError (a user function threw), SubtaskError, JobCancelledError.
 */
export function runJob(moduleUrl: string | URL, options: RunJobOptions = {}): JobHandle {
  const jobId = randomUUID();
  const start = performance.now();
  const run = new JobRun(jobId, start);
  const result = (async () => {
    const resolved = resolveOptions(options);
    const url = resolveJobModule(moduleUrl);
    const { plan, graph } = await loadJob(url, resolved.args, {
      defaultParallelism: resolved.parallelism,
      maxParallelism: resolved.maxParallelism,
    });
    return run.execute(url, plan.fingerprint(), graph, resolved);
  })();
  return {
    jobId,
    result,
    metrics: () => run.metrics(),
    cancel: () => run.cancel(),
  };
}

class JobRun {
  private graph: JobGraph | undefined;
  private deployed: Deployed[] = [];
  private cancelled = false;
  private firstFailure: Error | undefined;
  private readonly collected: Record<string, unknown[]> = {};

  constructor(
    readonly jobId: string,
    private readonly start: number,
  ) {}

  cancel(): void {
    if (this.cancelled) return;
    this.cancelled = true;
    this.firstFailure ??= new JobCancelledError(this.jobId);
    for (const d of this.deployed) d.port.postMessage({ type: 'cancel' });
  }

  private fail(error: Error): void {
    if (this.firstFailure !== undefined) return;
    this.firstFailure = error;
    this.cancelled = true;
    for (const d of this.deployed) d.port.postMessage({ type: 'cancel' });
  }

  async execute(moduleUrl: string, fingerprint: string, graph: JobGraph, options: ResolvedOptions): Promise<JobResult> {
    this.graph = graph;
    const splits = planSplits(graph);
    prepareSinks(graph);
    const stateRoot = this.stateRoot(options);
    const deployments = this.plan(moduleUrl, fingerprint, graph, options, splits, stateRoot?.path);
    const pool = new Piscina({
      filename: new URL('../task/worker.js', import.meta.url).href,
      minThreads: deployments.length,
      maxThreads: deployments.length,
      idleTimeout: Number.MAX_SAFE_INTEGER,
      concurrentTasksPerWorker: 1,
    });
    try {
      if (this.cancelled) throw this.firstFailure;
      const outcomes = deployments.map((d, i) => this.watch(pool, d, this.deployed[i]!));
      const ended = Promise.allSettled(outcomes);
      await Promise.race([ended, this.failed()]);
      if (this.firstFailure !== undefined) {
        const grace = new Promise((resolve) => setTimeout(resolve, cancelGraceMs).unref());
        await Promise.race([ended, grace]);
        throw this.firstFailure;
      }
    } finally {
      await pool.destroy();
      if (stateRoot?.temporary === true) rmSync(stateRoot.path, { recursive: true, force: true });
    }
    const metrics = this.metrics();
    return { jobId: this.jobId, status: 'FINISHED', wallTimeMs: metrics.elapsedMs, collected: this.collected, ...metrics };
  }

  private failureWaiters: Array<() => void> = [];
  private failed(): Promise<void> {
    if (this.firstFailure !== undefined) return Promise.resolve();
    return new Promise((resolve) => this.failureWaiters.push(resolve));
  }

  /** The lsm backend's folder: `<stateDir>/<jobId>`, or a temporary one removed at the end. */
  private stateRoot(options: ResolvedOptions): { path: string; temporary: boolean } | undefined {
    if (options.stateBackend !== 'lsm') return undefined;
    if (options.stateDir === undefined) return { path: mkdtempSync(join(tmpdir(), `sluicegate-${this.jobId}-`)), temporary: true };
    const path = join(options.stateDir, this.jobId);
    try {
      mkdirSync(path, { recursive: true });
    } catch (error) {
      throw new UsageError(`State directory ${options.stateDir} cannot be created (${(error as NodeJS.ErrnoException).code}): choose another --state-dir`);
    }
    return { path, temporary: false };
  }

  private plan(
    moduleUrl: string,
    fingerprint: string,
    graph: JobGraph,
    options: ResolvedOptions,
    splits: Map<number, FileSplit[][]>,
    stateRoot: string | undefined,
  ): SubtaskDeployment[] {
    const rings = graph.channels.map(() => Ring.allocate(options.ringSizeBytes));
    const doorbells = graph.vertices.map((v) => Array.from({ length: v.parallelism }, () => Doorbell.allocate()));
    const deployments: SubtaskDeployment[] = [];
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
        const metrics = new SharedArrayBuffer(metricsBytes(vertex.nodes.length));
        deployments.push({
          jobId: this.jobId,
          moduleUrl,
          args: options.args,
          defaultParallelism: options.parallelism,
          maxParallelism: options.maxParallelism,
          planFingerprint: fingerprint,
          vertex: vertex.id,
          subtaskIndex: i,
          inputs,
          outputs,
          doorbell: doorbells[vertex.id]![i]!,
          metrics,
          splits: splits.get(vertex.head)?.[i],
          stateRoot,
          options: {
            bufferTimeoutMs: options.bufferTimeoutMs,
            batchSize: options.batchSize,
            ringSizeBytes: options.ringSizeBytes,
            stateBackend: options.stateBackend,
            memtableSizeBytes: options.memtableSizeBytes,
            stateDir: options.stateDir,
          },
          port: port2,
        });
        this.deployed.push({
          label: `${vertex.name} (${i + 1}/${vertex.parallelism})`,
          vertex: vertex.id,
          subtaskIndex: i,
          metrics: new Float64Array(metrics),
          port: port1,
        });
      }
    }
    return deployments;
  }

  /** Settles when the subtask's final message arrived, or its thread died without one. */
  private watch(pool: Piscina, d: SubtaskDeployment, handle: Deployed): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      let settled = false;
      const settle = (error: Error | undefined): void => {
        if (settled) return;
        settled = true;
        if (error === undefined) return resolve();
        this.fail(error);
        for (const w of this.failureWaiters.splice(0)) w();
        reject(error);
      };
      handle.port.on('message', (m: SubtaskMessage) => {
        switch (m.type) {
          case 'collect':
            (this.collected[m.name] ??= []).push(...m.records);
            return;
          case 'finished':
            return settle(undefined);
          case 'failed':
            return settle(new UserFunctionError(m.failure));
          case 'error':
            if (m.name === 'CancelledError') return settle(this.firstFailure ?? new JobCancelledError(this.jobId));
            if (m.userError) return settle(new UsageError(m.message));
            return settle(new SubtaskError(handle.label, m.name, m.message, m.stack));
        }
      });
      // A thread that crashes or is terminated sends no final message: piscina's
      // rejection is the only news, after the port has delivered whatever it had.
      pool.run(d, { transferList: [d.port] as never }).then(
        () => setTimeout(() => settle(new SubtaskError(handle.label, 'Error', 'ended without a final message', undefined)), 1000).unref(),
        (error: Error) => setTimeout(() => settle(new SubtaskError(handle.label, error.name, error.message, error.stack)), 200).unref(),
      );
    }).finally(() => handle.port.close());
  }

  metrics(): JobMetrics {
    const elapsedMs = performance.now() - this.start;
    const graph = this.graph;
    if (graph === undefined) return { elapsedMs, operators: [], subtasks: [] };
    const operators: OperatorStats[] = graph.nodes.map((n) => ({
      uid: n.uid,
      name: n.name,
      role: n.plan.op.kind === 'source' || n.plan.op.kind === 'sink' ? n.plan.op.kind : 'transform',
      parallelism: n.parallelism,
      recordsIn: 0,
      recordsOut: 0,
    }));
    const subtasks: SubtaskStats[] = [];
    for (const d of this.deployed) {
      const vertex = graph.vertices[d.vertex]!;
      vertex.nodes.forEach((id, k) => {
        operators[id]!.recordsIn += d.metrics[metricsSlot.firstNode + 2 * k]!;
        operators[id]!.recordsOut += d.metrics[metricsSlot.firstNode + 2 * k + 1]!;
      });
      subtasks.push({
        vertex: vertex.name,
        subtaskIndex: d.subtaskIndex,
        backpressuredMs: d.metrics[metricsSlot.backpressuredMs]!,
        idleMs: d.metrics[metricsSlot.idleMs]!,
        finished: d.metrics[metricsSlot.finished] === 1,
        state: {
          segments: d.metrics[metricsSlot.stateSegments]!,
          flushes: d.metrics[metricsSlot.stateFlushes]!,
          compactions: d.metrics[metricsSlot.stateCompactions]!,
          cacheHits: d.metrics[metricsSlot.stateCacheHits]!,
          cacheMisses: d.metrics[metricsSlot.stateCacheMisses]!,
        },
      });
    }
    return { elapsedMs, operators, subtasks };
  }
}

/** Text file splits of every text source, planned once here: checks the input early. */
function planSplits(graph: JobGraph): Map<number, FileSplit[][]> {
  const splits = new Map<number, FileSplit[][]>();
  for (const n of graph.nodes) {
    const op = n.plan.op;
    if (op.kind === 'source' && op.source.kind === 'textFile') {
      splits.set(n.id, planTextFileSplits(op.source.path, op.source.suffix, n.parallelism));
    }
  }
  return splits;
}

/** Text sinks overwrite: part files of an earlier run are removed first. */
function prepareSinks(graph: JobGraph): void {
  for (const n of graph.nodes) {
    const op = n.plan.op;
    if (op.kind !== 'sink' || op.sink.kind !== 'text') continue;
    let names: string[];
    try {
      names = readdirSync(op.sink.dir);
    } catch {
      continue;
    }
    for (const name of names) if (/^part-\d+-\d+$/.test(name)) rmSync(join(op.sink.dir, name), { force: true });
  }
}

/**
 * The read-only routes of the REST API (Flink's paths and shapes, see flink-json.ts), the
 * server-sent events stream and the Prometheus endpoint. A wrong job or vertex id answers
 * 404 with Flink's error body `{"errors":["..."]}`.
 */
import type { FastifyInstance, FastifyReply } from 'fastify';
import type { JobGraph } from '../graph/index.js';
import { checkpointHistoryDefault } from '../runtime/checkpoint-stats.js';
import type { JobMonitor, ObservedJob } from '../metrics/index.js';
import type { Registry } from 'prom-client';
import { checkpointDetailsJson, checkpointsJson, checkpointSubtasksJson } from './checkpoint-json.js';
import { clusterOverview, exceptionsJson, jobDetails, jobsOverview, planJson, vertexBackpressure, vertexDetails } from './flink-json.js';
import { streamIntervalMaxMs } from './sse.js';
import type { EventStreams } from './sse.js';
import { vertexIndexOf } from './vertex-ids.js';

export interface RouteContext {
  job: ObservedJob;
  monitor: JobMonitor;
  streams: EventStreams;
  registry: Registry;
  version: string;
}

type JobParams = { jobId: string };
type VertexParams = { jobId: string; vertexId: string };

/** Answers 404 unless `jobId` is the job's; true when it did. */
export function unknownJob(job: ObservedJob, jobId: string, reply: FastifyReply): boolean {
  if (jobId === job.jobId) return false;
  void reply.code(404).send({ errors: [`Job ${jobId} is not known here; this server runs job ${job.jobId} (GET /jobs)`] });
  return true;
}

/** The job's graph and the vertex index of `vertexId`, or undefined after answering 404. */
function vertexOf(job: ObservedJob, vertexId: string, reply: FastifyReply): { graph: JobGraph; vertex: number } | undefined {
  const graph = job.graph();
  const vertex = graph === undefined ? undefined : vertexIndexOf(graph, vertexId);
  if (graph === undefined || vertex === undefined) {
    void reply.code(404).send({ errors: [`Vertex ${vertexId} is not a vertex of job ${job.jobId} (the ids are in GET /jobs/${job.jobId})`] });
    return undefined;
  }
  return { graph, vertex };
}

/** The graph and the checkpoint id `text` (a positive integer), or undefined after answering 404 (or 503 while loading). */
function checkpointOf(job: ObservedJob, text: string, reply: FastifyReply): { graph: JobGraph; checkpointId: number } | undefined {
  const checkpointId = Number(text);
  if (!/^[1-9]\d{0,15}$/.test(text) || !Number.isSafeInteger(checkpointId)) {
    void reply.code(404).send({ errors: [`Checkpoint id ${JSON.stringify(text)} is not a checkpoint id: use a positive integer from GET /jobs/${job.jobId}/checkpoints`] });
    return undefined;
  }
  const graph = job.graph();
  if (graph === undefined) {
    void reply.code(503).send({ errors: [`Job ${job.jobId} is still loading its module; it has no checkpoint yet`] });
    return undefined;
  }
  return { graph, checkpointId };
}

/** 404 for a checkpoint the tracker does not keep (never taken, or older than the latest ten). */
function notKept(job: ObservedJob, checkpointId: number, reply: FastifyReply): FastifyReply {
  return reply
    .code(404)
    .send({ errors: [`Checkpoint ${checkpointId} of job ${job.jobId} is not in flight nor among the latest ${checkpointHistoryDefault} ended checkpoints whose details are kept (GET /jobs/${job.jobId}/checkpoints lists them)`] });
}

export function registerReadRoutes(app: FastifyInstance, ctx: RouteContext): void {
  const { job, monitor } = ctx;
  /** The latest rates with fresh totals. */
  const now = (): { metrics: ReturnType<ObservedJob['metrics']>; rates: ReturnType<JobMonitor['latest']>['rates'] } => ({ metrics: job.metrics(), rates: monitor.latest().rates });
  app.get('/overview', async () => clusterOverview(job, ctx.version));
  app.get('/jobs', async () => jobsOverview(job));
  app.get('/jobs/overview', async () => {
    const d = jobDetails(job, job.metrics(), monitor.latest().rates, Date.now());
    return { jobs: [{ jid: d.jid, name: d.name, state: d.state, 'start-time': d['start-time'], 'end-time': d['end-time'], duration: d.duration, 'last-modification': Date.now() }] };
  });
  app.get<{ Params: JobParams }>('/jobs/:jobId', async (request, reply) => {
    if (unknownJob(job, request.params.jobId, reply)) return reply;
    const { metrics, rates } = now();
    return jobDetails(job, metrics, rates, Date.now());
  });
  app.get<{ Params: VertexParams }>('/jobs/:jobId/vertices/:vertexId', async (request, reply) => {
    if (unknownJob(job, request.params.jobId, reply)) return reply;
    const found = vertexOf(job, request.params.vertexId, reply);
    if (found === undefined) return reply;
    const { metrics, rates } = now();
    return vertexDetails(job, found.graph, found.vertex, metrics, rates, Date.now());
  });
  app.get<{ Params: VertexParams }>('/jobs/:jobId/vertices/:vertexId/backpressure', async (request, reply) => {
    if (unknownJob(job, request.params.jobId, reply)) return reply;
    const found = vertexOf(job, request.params.vertexId, reply);
    if (found === undefined) return reply;
    const { metrics, rates } = now();
    return vertexBackpressure(metrics, rates, found.vertex, Date.now());
  });
  app.get<{ Params: JobParams }>('/jobs/:jobId/checkpoints', async (request, reply) => {
    if (unknownJob(job, request.params.jobId, reply)) return reply;
    return checkpointsJson(job, job.metrics());
  });
  app.get<{ Params: JobParams & { checkpointId: string } }>('/jobs/:jobId/checkpoints/details/:checkpointId', async (request, reply) => {
    if (unknownJob(job, request.params.jobId, reply)) return reply;
    const found = checkpointOf(job, request.params.checkpointId, reply);
    if (found === undefined) return reply;
    return checkpointDetailsJson(job, found.graph, found.checkpointId) ?? notKept(job, found.checkpointId, reply);
  });
  app.get<{ Params: VertexParams & { checkpointId: string } }>('/jobs/:jobId/checkpoints/details/:checkpointId/subtasks/:vertexId', async (request, reply) => {
    if (unknownJob(job, request.params.jobId, reply)) return reply;
    const found = checkpointOf(job, request.params.checkpointId, reply);
    if (found === undefined) return reply;
    const v = vertexOf(job, request.params.vertexId, reply);
    if (v === undefined) return reply;
    return checkpointSubtasksJson(job, v.graph, found.checkpointId, v.vertex) ?? notKept(job, found.checkpointId, reply);
  });
  app.get<{ Params: JobParams }>('/jobs/:jobId/exceptions', async (request, reply) => {
    if (unknownJob(job, request.params.jobId, reply)) return reply;
    return exceptionsJson(job);
  });
  app.get<{ Params: JobParams }>('/jobs/:jobId/plan', async (request, reply) => {
    if (unknownJob(job, request.params.jobId, reply)) return reply;
    const graph = job.graph();
    if (graph === undefined) return reply.code(503).send({ errors: [`Job ${job.jobId} is still loading its module; its plan comes once it runs`] });
    return planJson(job, graph);
  });
  app.get<{ Params: JobParams; Querystring: { interval?: string } }>('/jobs/:jobId/events', async (request, reply) => {
    if (unknownJob(job, request.params.jobId, reply)) return reply;
    const interval = request.query.interval;
    if (interval !== undefined && (!/^\d{1,7}$/.test(interval) || Number(interval) > streamIntervalMaxMs)) {
      return reply.code(400).send({ errors: [`interval must be an integer number of ms from 0 to ${streamIntervalMaxMs}, got ${JSON.stringify(interval)}`] });
    }
    reply.hijack();
    const { metrics, rates } = now();
    ctx.streams.open(reply.raw, jobDetails(job, metrics, rates, Date.now()), interval === undefined ? 0 : Number(interval));
    return reply;
  });
  app.get('/metrics', async (_request, reply) => {
    const text = await ctx.registry.metrics();
    return reply.type(ctx.registry.contentType).send(text);
  });
}

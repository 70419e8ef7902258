/**
 * The REST API's actions, Flink's paths and asynchronous-operation shapes, through the
 * same job functions as the control socket's handlers (`savepoint`, `stop`), plus cancel:
 *
 *   POST  /jobs/:jobId/savepoints  {"target-directory"?: "/abs/dir"}    -> 202 {"request-id": "<id>"}
 *   POST  /jobs/:jobId/stop        {"targetDirectory"?: "/abs/dir"}     -> 202 {"request-id": "<id>"}
 *   GET   /jobs/:jobId/savepoints/:requestId
 *         -> {"status":{"id":"IN_PROGRESS"|"COMPLETED"},"operation"?:{"location":"/abs/dir/savepoint-..."}
 *                                                          | {"failure-cause":{"class":"...","stack-trace":"..."}}}
 *   POST  /jobs/:jobId/cancel, PATCH /jobs/:jobId?mode=cancel      -> 202 {}
 *
 * Every POST and PATCH goes through the origin and permission guards (server.ts); the
 * status GET is read-only. A target must be an absolute path (the server's cwd is not the
 * caller's). Trigger results are kept for the life of the job (bounded).
 */
import { randomUUID } from 'node:crypto';
import path from 'node:path';
import type { FastifyInstance } from 'fastify';
import type { ObservedJob } from '../metrics/index.js';
import { unknownJob } from './routes.js';

type Operation = { status: 'IN_PROGRESS' } | { status: 'COMPLETED'; location: string } | { status: 'COMPLETED'; failure: Error };

/** Trigger results kept; the oldest is dropped beyond this. */
const operationsMax = 100;

/** The target folder of a request body field, or a phrase saying what is wrong. */
function targetOf(body: unknown, field: string): { target: string | undefined } | string {
  if (body === undefined || body === null) return { target: undefined };
  if (typeof body !== 'object' || Array.isArray(body)) return 'the request body must be a JSON object';
  const value = (body as Record<string, unknown>)[field];
  if (value === undefined || value === null) return { target: undefined };
  if (typeof value !== 'string' || !path.isAbsolute(value)) return `${field} must be an absolute folder path, got ${JSON.stringify(value)}`;
  return { target: value };
}

export function registerActionRoutes(app: FastifyInstance, job: ObservedJob): void {
  const operations = new Map<string, Operation>();
  const trigger = (run: () => Promise<string>): string => {
    const id = randomUUID();
    operations.set(id, { status: 'IN_PROGRESS' });
    if (operations.size > operationsMax) operations.delete(operations.keys().next().value!);
    run().then(
      (location) => operations.set(id, { status: 'COMPLETED', location }),
      (failure: unknown) => operations.set(id, { status: 'COMPLETED', failure: failure instanceof Error ? failure : new Error(String(failure)) }),
    );
    return id;
  };
  for (const [route, field, stop] of [
    ['/jobs/:jobId/savepoints', 'target-directory', false],
    ['/jobs/:jobId/stop', 'targetDirectory', true],
  ] as const) {
    app.post<{ Params: { jobId: string } }>(route, async (request, reply) => {
      if (unknownJob(job, request.params.jobId, reply)) return reply;
      const parsed = targetOf(request.body, field);
      if (typeof parsed === 'string') return reply.code(400).send({ errors: [parsed] });
      const id = trigger(() => (stop ? job.stop(parsed.target) : job.savepoint(parsed.target)));
      return reply.code(202).send({ 'request-id': id });
    });
  }
  app.get<{ Params: { jobId: string; requestId: string } }>('/jobs/:jobId/savepoints/:requestId', async (request, reply) => {
    if (unknownJob(job, request.params.jobId, reply)) return reply;
    const op = operations.get(request.params.requestId);
    if (op === undefined) return reply.code(404).send({ errors: [`No savepoint or stop request ${request.params.requestId} for job ${job.jobId}`] });
    if (op.status === 'IN_PROGRESS') return { status: { id: 'IN_PROGRESS' } };
    if ('location' in op) return { status: { id: 'COMPLETED' }, operation: { location: op.location } };
    return { status: { id: 'COMPLETED' }, operation: { 'failure-cause': { class: op.failure.name, 'stack-trace': op.failure.message } } };
  });
  const cancel = (jobId: string, reply: import('fastify').FastifyReply): import('fastify').FastifyReply => {
    if (unknownJob(job, jobId, reply)) return reply;
    job.cancel();
    return reply.code(202).send({});
  };
  app.post<{ Params: { jobId: string } }>('/jobs/:jobId/cancel', async (request, reply) => cancel(request.params.jobId, reply));
  app.patch<{ Params: { jobId: string }; Querystring: { mode?: string } }>('/jobs/:jobId', async (request, reply) => {
    if (request.query.mode !== 'cancel' && request.query.mode !== undefined) {
      return reply.code(400).send({ errors: [`mode must be "cancel", got ${JSON.stringify(request.query.mode)}`] });
    }
    return cancel(request.params.jobId, reply);
  });
}

/**
 * The web server of a running job (`sluice run --web-port`, `runJob(url, { webPort })`):
 * Flink's REST API (routes.ts, actions.ts), server-sent events (sse.ts) and `/metrics`
 * (Prometheus), on fastify, bound to 127.0.0.1 unless told otherwise. Every request
 * passes the Host guard; POST/PATCH pass the Origin guard and need permission (guards.ts).
 * Errors answer Flink's `{"errors":["..."]}` with a status code; nothing a request does
 * can throw into the job.
 *
 * With `staticDir` (a job's server gets `builtDashboardDir()`: src/web/dashboard/, bundled
 * by scripts/build.mjs into dist/src/web/dashboard/) `/` serves the dashboard: a GET of a
 * path no route serves is looked up as a file under that folder (`/` is `index.html`),
 * never outside it. Without it `/` answers a small JSON pointer to the API. Every answer
 * carries a Content-Security-Policy that allows only this origin (no inline script or
 * style, no other host). `GET /config` is Flink's `DashboardConfiguration`, whose
 * `features.web-cancel` tells the dashboard whether its buttons may act.
 * Idea: Flink's `WebMonitorEndpoint` (REST handlers and the web UI on one port).
 */
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import Fastify from 'fastify';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { UsageError } from '../errors.js';
import { JobMonitor, createPrometheusRegistry } from '../metrics/index.js';
import type { ObservedJob } from '../metrics/index.js';
import { actionProblem, hostProblem, originProblem, servedHosts } from './guards.js';
import type { GuardConfig } from './guards.js';
import { registerActionRoutes } from './actions.js';
import { registerReadRoutes } from './routes.js';
import { jobDetails } from './flink-json.js';
import { EventStreams } from './sse.js';
import { removeWebToken, writeWebToken } from './token.js';
import { vertexIdOf } from './vertex-ids.js';

export interface WebServerOptions {
  /** TCP port; 0 picks a free one (see `WebServer.port`). */
  port: number;
  /** Address to bind, an IP literal or `localhost`; default 127.0.0.1. */
  host?: string;
  /** Let any local client act (savepoint, stop, cancel) without the token. */
  allowActions?: boolean;
  /** Folder of the dashboard's files, served at `/` (`builtDashboardDir()`); none: `/` points to the API. */
  staticDir?: string;
  /** Period of the metric readings behind rates and events, ms; default 1000. */
  sampleIntervalMs?: number;
  /** The dashboard's refresh interval, ms (Flink's `web.refresh-interval`), in `GET /config`; default 3000. */
  refreshIntervalMs?: number;
  /** How messages name the options (`--web-port` or `webPort`). */
  names?: { port: string; host: string };
}

export interface WebServer {
  /** `http://127.0.0.1:<port>` (the bound address and port). */
  readonly url: string;
  readonly port: number;
  /** The bearer token of the actions; undefined without a checkpoint folder. */
  readonly token: string | undefined;
  /** Ends the event streams (an `end` event with the job's state), stops listening, removes the token file. Idempotent. */
  close(): Promise<void>;
}

const mimeTypes: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.map': 'application/json',
};

/** Only this origin: the dashboard's script, style, images and event stream (and nothing inline). */
export const contentSecurityPolicy =
  "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; font-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

/** The dashboard bundled by scripts/build.mjs (dist/src/web/dashboard/), or undefined when not built (running from source). */
export function builtDashboardDir(): string | undefined {
  const dir = fileURLToPath(new URL('./dashboard/', import.meta.url));
  return fs.existsSync(path.join(dir, 'index.html')) ? dir : undefined;
}

/** The version in the package's package.json (for `/overview`). */
function packageVersion(): string {
  for (const up of ['../../package.json', '../../../package.json']) {
    try {
      const pkg = JSON.parse(fs.readFileSync(new URL(up, import.meta.url), 'utf8')) as { name?: string; version?: string };
      if (pkg.name === 'sluicegate' && typeof pkg.version === 'string') return pkg.version;
    } catch {
      // try the next
    }
  }
  return 'unknown';
}

/**
 * Starts the server. @throws UsageError when the port is in use or the address cannot be
 * bound (one line naming them); the file system's error when the token cannot be written.
 */
export async function startWebServer(job: ObservedJob, options: WebServerOptions): Promise<WebServer> {
  const host = options.host ?? '127.0.0.1';
  const names = options.names ?? { port: 'webPort', host: 'webHost' };
  const token = job.jobDir === undefined ? undefined : writeWebToken(job.jobDir);
  const guard: GuardConfig = { hosts: servedHosts(host), port: options.port, allowActions: options.allowActions === true, token };
  const staticDir = options.staticDir;
  const monitor = new JobMonitor(job, options.sampleIntervalMs);
  const streams = new EventStreams(options.sampleIntervalMs ?? 1000);
  const app: FastifyInstance = Fastify({ logger: false, bodyLimit: 64 * 1024 });
  app.addHook('onRequest', async (request: FastifyRequest, reply: FastifyReply) => {
    void reply.header('content-security-policy', contentSecurityPolicy).header('x-content-type-options', 'nosniff');
    const hostRefused = hostProblem(guard, request.headers.host);
    if (hostRefused !== undefined) return reply.code(403).send({ errors: [hostRefused] });
    if (request.method === 'GET' || request.method === 'HEAD' || request.method === 'OPTIONS') return;
    const sec = request.headers['sec-fetch-site'];
    const crossSite = originProblem(guard, request.headers.origin, typeof sec === 'string' ? sec : undefined);
    if (crossSite !== undefined) return reply.code(403).send({ errors: [crossSite] });
    const denied = actionProblem(guard, request.headers.authorization);
    if (denied !== undefined) return reply.code(401).header('www-authenticate', 'Bearer').send({ errors: [denied] });
  });
  app.setErrorHandler((error: { statusCode?: number; message: string }, _request, reply) => {
    const status = error.statusCode !== undefined && error.statusCode >= 400 && error.statusCode < 600 ? error.statusCode : 500;
    void reply.code(status).send({ errors: [error.message] });
  });
  app.setNotFoundHandler((request, reply) => {
    const file = staticDir === undefined || request.method !== 'GET' ? undefined : staticFile(staticDir, request.url);
    if (file !== undefined) return reply.type(mimeTypes[path.extname(file)] ?? 'application/octet-stream').send(fs.createReadStream(file));
    if (request.method === 'GET' && request.url === '/') {
      return reply.send({ dashboard: null, jobId: job.jobId, api: ['/overview', '/jobs', `/jobs/${job.jobId}`, `/jobs/${job.jobId}/events`, '/metrics'] });
    }
    return reply.code(404).send({ errors: [`No ${request.method} ${request.url.split('?')[0]} here; the REST API starts at /jobs and /overview`] });
  });
  const registry = createPrometheusRegistry(job, monitor, vertexIdOf);
  const version = packageVersion();
  registerReadRoutes(app, { job, monitor, streams, registry, version });
  registerActionRoutes(app, job);
  // Flink's DashboardConfiguration; `actions` (sluicegate's) says how the buttons may act.
  app.get('/config', async () => ({
    'refresh-interval': options.refreshIntervalMs ?? 3000,
    'timezone-name': Intl.DateTimeFormat().resolvedOptions().timeZone,
    'timezone-offset': -new Date().getTimezoneOffset() * 60_000,
    'flink-version': `sluicegate ${version}`,
    'flink-revision': '',
    features: { 'web-submit': false, 'web-cancel': guard.allowActions || token !== undefined, 'web-rescale': false, 'web-history': false },
    actions: guard.allowActions ? 'allowed' : token === undefined ? 'none' : 'token',
  }));
  // Each event carries the same JSON as GET /jobs/:jobId at that reading.
  const detailsNow = (): unknown => jobDetails(job, job.metrics(), monitor.latest().rates, Date.now());
  monitor.subscribe(() => {
    streams.reading(detailsNow);
  });
  try {
    await app.listen({ port: options.port, host });
  } catch (error) {
    if (job.jobDir !== undefined) removeWebToken(job.jobDir);
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'EADDRINUSE') throw new UsageError(`Web port ${options.port} is in use on ${host}: choose another ${names.port} (0 picks a free one)`);
    if (code === 'EADDRNOTAVAIL' || code === 'EACCES' || code === 'ENOTFOUND') {
      throw new UsageError(`Cannot serve on ${host}:${options.port} (${code}): choose a local address for ${names.host} (default 127.0.0.1) and a port above 1023 for ${names.port}`);
    }
    throw error;
  }
  const address = app.server.address();
  const port = typeof address === 'object' && address !== null ? address.port : options.port;
  guard.port = port;
  monitor.start();
  let closing: Promise<void> | undefined;
  return {
    url: `http://${host.includes(':') ? `[${host}]` : host}:${port}`,
    port,
    token,
    close: () =>
      (closing ??= (async () => {
        monitor.stop();
        streams.broadcast(detailsNow());
        streams.end(job.state());
        await app.close();
        if (job.jobDir !== undefined) removeWebToken(job.jobDir);
      })()),
  };
}

/** The file under `root` for the URL path `url` (`/` is index.html); undefined when none or outside `root`. */
function staticFile(root: string, url: string): string | undefined {
  let pathname: string;
  try {
    pathname = decodeURIComponent(url.split('?')[0]!);
  } catch {
    return undefined;
  }
  const base = path.resolve(root);
  const file = path.resolve(base, `.${pathname.endsWith('/') ? `${pathname}index.html` : pathname}`);
  if (file !== base && !file.startsWith(`${base}${path.sep}`)) return undefined;
  return fs.statSync(file, { throwIfNoEntry: false })?.isFile() === true ? file : undefined;
}

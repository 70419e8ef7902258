/**
 * Who the REST API answers, and who may act through it.
 *
 * - Host guard (against DNS rebinding): a request is answered only when its `Host` header
 *   names a host the server serves (`127.0.0.1`, `localhost`, `[::1]`, or the bound
 *   address) on the server's port. A page on `evil.example` that rebinds its name to
 *   127.0.0.1 sends `Host: evil.example` and is refused.
 * - Origin guard (against cross-site requests): a state-changing request (not GET, HEAD or
 *   OPTIONS) carrying an `Origin` header must come from one of those hosts on that port,
 *   and one marked `Sec-Fetch-Site: cross-site` is refused. Clients without an Origin
 *   (curl, scripts) pass on to the permission check.
 * - Permission: the actions (savepoint, stop, cancel) need `webAllowActions`, or the bearer
 *   token of the job's `web-token` file (mode 0600 in its checkpoint folder: only the
 *   owner can read it). Compared in constant time.
 * Idea: the guards of Jupyter's and webpack-dev-server's local servers; Flink's own REST
 * endpoint has none (it relies on the network), which a browser on the same machine defeats.
 */
import { timingSafeEqual } from 'node:crypto';
import os from 'node:os';

export interface GuardConfig {
  /** Host names served, lower case, IPv6 in brackets (`[::1]`). */
  hosts: ReadonlySet<string>;
  port: number;
  allowActions: boolean;
  /** The bearer token; undefined without a checkpoint folder to keep it in. */
  token: string | undefined;
}

/**
 * The host names a server bound to `bindHost` answers to: the loopback names and the bound
 * address; bound to every interface (`0.0.0.0`, `::`), the address of each interface too
 * (`interfaces` defaults to this machine's). Never a DNS name other than localhost: a name
 * is what a rebinding attack controls.
 */
export function servedHosts(bindHost: string, interfaces: NodeJS.Dict<os.NetworkInterfaceInfo[]> = os.networkInterfaces()): Set<string> {
  const bracket = (address: string): string => (address.includes(':') ? `[${address.toLowerCase()}]` : address.toLowerCase());
  const hosts = new Set(['127.0.0.1', 'localhost', '[::1]', bracket(bindHost)]);
  if (bindHost === '0.0.0.0' || bindHost === '::') {
    for (const list of Object.values(interfaces)) for (const i of list ?? []) hosts.add(bracket(i.address));
  }
  return hosts;
}

/** Splits a Host header `name[:port]` (IPv6 in brackets); undefined when malformed. */
function parseHost(value: string): { name: string; port: number | undefined } | undefined {
  const m = /^(\[[0-9a-f:.]+\]|[^:[\]]+)(?::(\d{1,5}))?$/i.exec(value.trim());
  if (m === null) return undefined;
  return { name: m[1]!.toLowerCase(), port: m[2] === undefined ? undefined : Number(m[2]) };
}

/** Why a Host header is refused, or undefined when it is served. */
export function hostProblem(config: GuardConfig, host: string | undefined): string | undefined {
  if (host === undefined || host === '') return 'the request has no Host header';
  const parsed = parseHost(host);
  const portOk = parsed !== undefined && (parsed.port ?? 80) === config.port;
  if (parsed === undefined || !config.hosts.has(parsed.name) || !portOk) {
    return `Host ${JSON.stringify(host.slice(0, 100))} is not served here (a guard against DNS rebinding): use http://127.0.0.1:${config.port}`;
  }
  return undefined;
}

/** Why a state-changing request is refused as cross-site, or undefined. */
export function originProblem(config: GuardConfig, origin: string | undefined, fetchSite: string | undefined): string | undefined {
  if (fetchSite === 'cross-site') return 'cross-site requests may not act on the job (Sec-Fetch-Site: cross-site)';
  if (origin === undefined) return undefined;
  let url: URL;
  try {
    url = new URL(origin);
  } catch {
    return `Origin ${JSON.stringify(origin.slice(0, 100))} is not a URL; cross-site requests may not act on the job`;
  }
  const port = url.port === '' ? (url.protocol === 'https:' ? 443 : 80) : Number(url.port);
  if (url.protocol !== 'http:' || !config.hosts.has(url.hostname.toLowerCase()) || port !== config.port) {
    return `Origin ${JSON.stringify(origin.slice(0, 100))} is another site; cross-site requests may not act on the job`;
  }
  return undefined;
}

/** Why an action is not permitted, or undefined when it is. */
export function actionProblem(config: GuardConfig, authorization: string | undefined): string | undefined {
  if (config.allowActions) return undefined;
  const how = config.token === undefined ? 'start the job with --web-allow-actions (webAllowActions)' : "send the job's token (the web-token file in its checkpoint folder) as 'Authorization: Bearer <token>', or start the job with --web-allow-actions";
  const m = authorization === undefined ? null : /^Bearer\s+(\S+)$/i.exec(authorization);
  if (m === null || config.token === undefined) return `actions need permission: ${how}`;
  const given = Buffer.from(m[1]!);
  const expected = Buffer.from(config.token);
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) return `the bearer token is wrong: ${how}`;
  return undefined;
}

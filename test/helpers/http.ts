// Shared by the web tests: plain HTTP requests (any Host or Origin header, which fetch
// would not let us set), JSON bodies, and a server-sent events reader.
import http from 'node:http';
import type { Test } from 'tap';
import type { JobHandle } from '../../src/index.js';
import { waitFor } from './checkpoints.js';

/** Cancels `handle`'s job when `t` ends; asserts its web server listens (30 s) and returns its URL. */
export async function servedUrl(t: Test, handle: JobHandle): Promise<string> {
  handle.result.catch(() => {});
  t.teardown(async () => {
    handle.cancel();
    await handle.result.catch(() => {});
  });
  t.ok(await waitFor(() => handle.webUrl() !== undefined, 30_000), 'the server listens');
  return handle.webUrl()!;
}

export interface HttpAnswer {
  status: number;
  headers: http.IncomingHttpHeaders;
  text: string;
  /** The body parsed as JSON (undefined when it is not JSON). */
  json: any;
}

/** Sends one request to `url`; `headers` may override Host; `rawPath` is sent as is (`..` kept), instead of the URL's path. */
export function request(url: string, options: { method?: string; headers?: Record<string, string>; body?: unknown; rawPath?: string } = {}): Promise<HttpAnswer> {
  return new Promise((resolve, reject) => {
    const body = options.body === undefined ? undefined : JSON.stringify(options.body);
    const target = new URL(url);
    const req = http.request(
      {
        host: target.hostname,
        port: target.port,
        path: options.rawPath ?? `${target.pathname}${target.search}`,
        method: options.method ?? 'GET',
        headers: { ...(body === undefined ? {} : { 'content-type': 'application/json' }), ...options.headers },
      },
      (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (d: string) => (text += d));
        res.on('end', () => {
          let json: unknown;
          try {
            json = JSON.parse(text);
          } catch {
            json = undefined;
          }
          resolve({ status: res.statusCode ?? 0, headers: res.headers, text, json });
        });
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

/** A server-sent events stream: the events so far, and a wait for the n-th. */
export interface EventReader {
  events: Array<{ event: string; id: string; data: any }>;
  /** Resolves once `n` events came (or the stream ended: then with fewer); rejects after `timeoutMs`. */
  waitFor(n: number, timeoutMs: number): Promise<EventReader['events']>;
  ended: Promise<void>;
  headers: Promise<http.IncomingHttpHeaders>;
  close(): void;
}

/** Opens `url` as an event stream and parses events (`event:`, `id:`, `data:` lines, blank line ends one). */
export function readEvents(url: string): EventReader {
  const events: EventReader['events'] = [];
  const waiters: Array<() => void> = [];
  let endedResolve!: () => void;
  const ended = new Promise<void>((resolve) => (endedResolve = resolve));
  let headersResolve!: (h: http.IncomingHttpHeaders) => void;
  const headers = new Promise<http.IncomingHttpHeaders>((resolve) => (headersResolve = resolve));
  let done = false;
  const req = http.get(url, (res) => {
    headersResolve(res.headers);
    let buffer = '';
    res.setEncoding('utf8');
    res.on('data', (chunk: string) => {
      buffer += chunk;
      let at: number;
      while ((at = buffer.indexOf('\n\n')) >= 0) {
        const block = buffer.slice(0, at);
        buffer = buffer.slice(at + 2);
        const fields: Record<string, string> = {};
        for (const line of block.split('\n')) {
          const colon = line.indexOf(':');
          if (colon > 0) fields[line.slice(0, colon)] = line.slice(colon + 1).trimStart();
        }
        events.push({ event: fields.event ?? 'message', id: fields.id ?? '', data: JSON.parse(fields.data ?? 'null') });
        for (const w of waiters.splice(0)) w();
      }
    });
    res.on('end', () => {
      done = true;
      endedResolve();
      for (const w of waiters.splice(0)) w();
    });
  });
  req.on('error', () => {
    done = true;
    endedResolve();
  });
  return {
    events,
    ended,
    headers,
    close: () => req.destroy(),
    async waitFor(n, timeoutMs) {
      const deadline = Date.now() + timeoutMs;
      while (events.length < n && !done) {
        const left = deadline - Date.now();
        if (left <= 0) throw new Error(`only ${events.length} of ${n} events within ${timeoutMs} ms`);
        await new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, left);
          waiters.push(() => {
            clearTimeout(timer);
            resolve();
          });
        });
      }
      return events;
    },
  };
}

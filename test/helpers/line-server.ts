// A real TCP server for the socket source tests: every connection goes to `serve`, which
// writes lines (in pieces, as packets would cut them) and ends it or keeps it open.
import { createServer } from 'node:net';
import type { Server, Socket } from 'node:net';

export class LineServer {
  /** Every connection accepted, in order. */
  readonly sockets: Socket[] = [];
  private readonly waiters: Array<{ index: number; resolve: (socket: Socket) => void }> = [];

  private constructor(
    private readonly server: Server,
    readonly port: number,
  ) {}

  /** Listens on `host` (default 127.0.0.1) and `port` (default: a free one). */
  static async listen(serve: (socket: Socket, index: number) => void | Promise<void>, options: { host?: string; port?: number } = {}): Promise<LineServer> {
    const server = createServer();
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(options.port ?? 0, options.host ?? '127.0.0.1', () => resolve());
    });
    const self = new LineServer(server, (server.address() as { port: number }).port);
    server.on('connection', (socket) => {
      const index = self.sockets.length;
      self.sockets.push(socket);
      socket.setNoDelay(true);
      socket.on('error', () => {}); // the source going away mid-write is part of the tests
      for (const w of self.waiters.filter((w) => w.index === index)) w.resolve(socket);
      void serve(socket, index);
    });
    return self;
  }

  get connections(): number {
    return this.sockets.length;
  }

  /** Resolves with connection `index` (0-based) once it has arrived. */
  connection(index: number): Promise<Socket> {
    const socket = this.sockets[index];
    if (socket !== undefined) return Promise.resolve(socket);
    return new Promise((resolve) => this.waiters.push({ index, resolve }));
  }

  /** Stops listening and destroys every connection. */
  async close(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}

/** `LineServer.listen` closed by `t.teardown`. */
export async function serveFor(t: { teardown(fn: () => Promise<void>): void }, serve: Parameters<typeof LineServer.listen>[0], port?: number): Promise<LineServer> {
  const server = await LineServer.listen(serve, port === undefined ? {} : { port });
  t.teardown(() => server.close());
  return server;
}

/**
 * A server (closed by `t.teardown`) that writes `first` to its first connection, then
 * holds it open until `release()`, then ends it with `last`.
 */
export async function holdingServer(t: { teardown(fn: () => Promise<void>): void }, first: string, last: string): Promise<{ server: LineServer; release: () => void }> {
  let release: (() => void) | undefined;
  const held = new Promise<void>((resolve) => (release = resolve));
  const server = await serveFor(t, async (socket) => {
    socket.write(first);
    await held;
    await endWith(socket, last);
  });
  return { server, release: release! };
}

/** A port nothing listens on (it was free a moment ago). */
export async function unusedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/**
 * Writes `bytes` as separate writes of 1..maxPiece bytes (`random` picks), each after a
 * turn of the event loop, so lines and characters arrive cut anywhere.
 */
export async function writeInPieces(socket: Socket, bytes: Buffer, random: () => number, maxPiece: number): Promise<void> {
  for (let at = 0; at < bytes.length && !socket.destroyed; ) {
    const n = 1 + Math.floor(random() * maxPiece);
    if (!socket.write(bytes.subarray(at, at + n))) await new Promise((resolve) => socket.once('drain', resolve));
    else await new Promise((resolve) => setImmediate(resolve));
    at += n;
  }
}

/** Writes `text` at once and ends the connection (after it is flushed). */
export function endWith(socket: Socket, text: string): Promise<void> {
  return new Promise((resolve) => socket.end(text, () => resolve()));
}

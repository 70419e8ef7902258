/**
 * The control socket of a running job: a Unix domain socket at
 * `<checkpointDir>/<jobId>/control.sock` through which another process (`sluice
 * savepoint`, `sluice stop`) asks the job for a savepoint, or to stop with one.
 *
 * Protocol: newline-delimited JSON, one request and one response per connection.
 *
 *   request   {"command":"savepoint"|"stop","target":"/absolute/dir"}\n   (target optional)
 *   response  {"ok":true,"savepoint":"/absolute/dir/savepoint-..."}\n
 *          or {"ok":false,"error":"what went wrong"}\n
 *   request   {"command":"info"}\n     (`sluice list`)
 *   response  {"ok":true,"info":{"jobId","name","state","startTime","parallelism","webUrl"?}}\n
 *   request   {"command":"cancel"}\n   (`sluice cancel`: the job starts cancelling at once)
 *   response  {"ok":true,"state":"CANCELLING"}\n
 *
 * then the server closes the connection. A request line longer than
 * `controlRequestBytesMax` gets an error response and the connection is closed. A client
 * may half-close its side after the request (`nc -U` does): the response still comes.
 *
 * Design: the server lives only as long as the job; its file is removed on `close()`. A
 * socket file left by a process killed with -9 answers no connection: the next `listen`
 * replaces it, while one that answers means a second process runs the same job and is
 * refused. A job is "running" for clients exactly when its socket accepts a connection,
 * so leftover files never count. The socket is made owner-only (0600): whoever connects
 * can make the job write into any folder it may write.
 * Idea: Flink's REST endpoints `POST /jobs/:jobid/savepoints` and `POST /jobs/:jobid/stop`
 * (CLI: `flink savepoint <jobId> [targetDir]`, `flink stop --savepointPath <dir> <jobId>`),
 * on a local socket instead of an HTTP port.
 */
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { UsageError } from '../errors.js';

/** File name of the control socket inside a job's checkpoint folder. */
export const controlSocketName = 'control.sock';
/**
 * When `<jobDir>/control.sock` would be too long to bind, the socket is bound at a short
 * path in the temp folder instead (`controlSocketBindPath`), and this file in the job
 * folder names it (one line): clients follow it.
 */
export const controlSocketLinkName = 'control.sock.link';
/**
 * Longest socket path in bytes: Linux's `sun_path` holds 108 bytes including the
 * terminating NUL. A longer path cannot be bound at all.
 */
export const controlSocketPathBytesMax = 107;
/**
 * Longest request or response line in bytes (without the newline). A request is a command
 * and a path, far below this; the limit only bounds what a broken client makes us buffer.
 */
export const controlRequestBytesMax = 64 * 1024;
/** Stale-file replacements `listen` tries before giving up (another process racing us). */
const listenAttemptsMax = 3;

export type ControlCommand = 'savepoint' | 'stop' | 'info' | 'cancel';
const controlCommands: readonly ControlCommand[] = ['savepoint', 'stop', 'info', 'cancel'];

/** What `info` answers (`sluice list`): Flink's `flink list` columns, and the web URL when served. */
export interface JobListing {
  jobId: string;
  name: string;
  /** Flink's JobStatus name (RUNNING, RESTARTING, ...). */
  state: string;
  /** Epoch ms the job was submitted. */
  startTime: number;
  /** The largest parallelism of the job's vertices (0 while loading). */
  parallelism: number;
  /** The REST API's URL (`--web-port`), when served. */
  webUrl?: string;
}

/** `target`: an absolute folder, resolved by the client against its own cwd before sending. */
export type ControlRequest = { command: ControlCommand; target?: string };

/** `userError`: the job refused a mistaken request (no target, no checkpoint dir): the client reports it as a UsageError. */
export type ControlResponse =
  | { ok: true; savepoint: string }
  | { ok: true; info: JobListing }
  /** `cancel`: the job's state after the request (CANCELLING; the job ends CANCELED). */
  | { ok: true; state: string }
  | { ok: false; error: string; userError?: boolean };

/**
 * What the job does on a request. Each resolves with the savepoint folder's absolute path
 * (`stop` once the job has finished) or rejects with an Error whose message is sent back
 * to the client. `target` undefined means the job's default savepoint folder.
 */
export interface ControlHandlers {
  savepoint(target: string | undefined): Promise<string>;
  stop(target: string | undefined): Promise<string>;
  /** `sluice list`; without it the command is refused. */
  info?(): JobListing;
  /** `sluice cancel`: starts cancelling, answers the state; without it the command is refused. */
  cancel?(): string;
}

/** `<checkpointDir>/<jobId>/control.sock`, absolute (resolved against the cwd). */
export function controlSocketPath(checkpointDir: string, jobId: string): string {
  return path.resolve(checkpointDir, jobId, controlSocketName);
}

function errnoOf(e: unknown): string | undefined {
  return (e as NodeJS.ErrnoException | undefined)?.code;
}

/** Parses one request line: the request, or what is wrong with it (a phrase). */
export function parseControlRequest(line: string): ControlRequest | string {
  let value: unknown;
  try {
    value = JSON.parse(line);
  } catch (e) {
    return `the request is not JSON (${(e as Error).message}); send one line like {"command":"savepoint","target":"/abs/dir"}`;
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return `the request must be a JSON object, got ${line.slice(0, 80)}`;
  const { command, target } = value as Record<string, unknown>;
  if (typeof command !== 'string' || !(controlCommands as readonly string[]).includes(command)) {
    return `unknown command ${JSON.stringify(command) ?? 'undefined'}; known commands: ${controlCommands.join(', ')}`;
  }
  if (target === undefined) return { command: command as ControlCommand };
  if (typeof target !== 'string' || !path.isAbsolute(target)) {
    return `target must be an absolute folder path string, got ${JSON.stringify(target)}; the client resolves it against its working directory`;
  }
  return { command: command as ControlCommand, target };
}

/**
 * Collects bytes of one connection until the first newline. `push` returns the line (without
 * the newline), `undefined` while incomplete, or `tooLong` once more than
 * `controlRequestBytesMax` bytes came without a newline.
 */
class LineReader {
  static readonly tooLong = Symbol('tooLong');
  private chunks: Buffer[] = [];
  private bytes = 0;

  push(chunk: Buffer): string | undefined | typeof LineReader.tooLong {
    const newline = chunk.indexOf(0x0a);
    const part = newline < 0 ? chunk : chunk.subarray(0, newline);
    this.chunks.push(part);
    this.bytes += part.length;
    if (this.bytes > controlRequestBytesMax) return LineReader.tooLong;
    return newline < 0 ? undefined : this.rest();
  }

  /** Whatever came so far, as a line (for a peer that half-closed without a newline). */
  rest(): string {
    return Buffer.concat(this.chunks).toString('utf8');
  }

  get empty(): boolean {
    return this.bytes === 0;
  }
}

/**
 * Where the socket for `socketPath` is bound: `socketPath` itself when it fits in
 * `controlSocketPathBytesMax` bytes, else `<os.tmpdir()>/sluicegate-<24 hex of
 * sha256(socketPath)>.sock` (stable, so a stale one is found again after kill -9).
 */
export function controlSocketBindPath(socketPath: string): string {
  const absolute = path.resolve(socketPath);
  if (Buffer.byteLength(absolute) <= controlSocketPathBytesMax) return absolute;
  return path.join(os.tmpdir(), `sluicegate-${createHash('sha256').update(absolute).digest('hex').slice(0, 24)}.sock`);
}

/**
 * Checks the socket path's length (`UsageError` above `controlSocketPathBytesMax` bytes:
 * bind would fail with a cryptic EINVAL, or silently truncate the name elsewhere).
 */
function checkSocketPath(socketPath: string): void {
  const bytes = Buffer.byteLength(socketPath);
  if (bytes > controlSocketPathBytesMax) {
    throw new UsageError(
      `The control socket path ${socketPath} is ${bytes} bytes, longer than a Unix socket path may be; ` +
        `choose a shorter checkpoint directory path (max ${controlSocketPathBytesMax} bytes for the socket path)`,
    );
  }
}

/** Opens a connection to `socketPath`; `undefined` if nothing listens there (stale or no file). */
function connectIfLive(socketPath: string): Promise<net.Socket | undefined> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(socketPath);
    socket.once('connect', () => {
      socket.off('error', onError);
      socket.on('error', () => socket.destroy()); // until the caller listens: a dropped peer shows as 'close'
      resolve(socket);
    });
    const onError = (e: Error): void => {
      socket.destroy();
      const code = errnoOf(e);
      if (code === 'ECONNREFUSED' || code === 'ENOENT' || code === 'ENOTSOCK') resolve(undefined);
      else reject(e);
    };
    socket.once('error', onError);
  });
}

/** `server.listen(socketPath)`: resolves once listening, rejects with the listen error. */
function listenOnce(server: net.Server, socketPath: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const onError = (e: Error): void => reject(e);
    server.once('error', onError);
    server.listen(socketPath, () => {
      server.off('error', onError);
      resolve();
    });
  });
}

/**
 * The server side of the control socket. One per running job with checkpointing; the job
 * master opens it with handlers that call `JobHandle.savepoint` / `stop`.
 */
export class ControlServer {
  /** Open connections; `busy` while their handler runs (those are ended after responding). */
  private readonly connections = new Map<net.Socket, { busy: boolean }>();
  private closing: Promise<void> | undefined;

  private constructor(
    readonly path: string,
    /** Where the socket is bound: `path`, or a short temp path named by a link file. */
    readonly bindPath: string,
    private readonly server: net.Server,
    private readonly handlers: ControlHandlers,
  ) {
    server.on('connection', (socket) => this.accept(socket));
    // After listening, a server error has nobody to report to; connections report their own.
    server.on('error', () => {});
  }

  /**
   * Listens at `socketPath` (made absolute; mkdir -p of its folder). A path longer than
   * `controlSocketPathBytesMax` bytes is bound at `controlSocketBindPath` instead, and
   * `control.sock.link` next to `socketPath` names it. Replaces a stale socket file that no
   * process answers on (left by kill -9). Rejects with `UsageError` if a live server
   * answers there (the same job runs in another process), if a non-socket file is in the
   * way, or if even the temp path is too long; with the system error otherwise (EACCES ...).
   */
  static async listen(socketPath: string, handlers: ControlHandlers): Promise<ControlServer> {
    if (typeof socketPath !== 'string' || socketPath.length === 0) throw new TypeError(`socketPath must be a non-empty path string, got ${JSON.stringify(socketPath)}`);
    if (typeof handlers?.savepoint !== 'function' || typeof handlers.stop !== 'function') throw new TypeError('handlers must have savepoint and stop functions');
    const absolute = path.resolve(socketPath);
    const bindPath = controlSocketBindPath(absolute);
    checkSocketPath(bindPath);
    fs.mkdirSync(path.dirname(absolute), { recursive: true });
    const server = net.createServer({ allowHalfOpen: true });
    for (let attempt = 1; ; attempt++) {
      try {
        await listenOnce(server, bindPath);
        break;
      } catch (e) {
        if (errnoOf(e) !== 'EADDRINUSE' || attempt >= listenAttemptsMax) throw e;
        await replaceStaleSocket(bindPath, path.basename(path.dirname(absolute)));
      }
    }
    try {
      fs.chmodSync(bindPath, 0o600);
    } catch (e) {
      server.close();
      throw e;
    }
    if (bindPath !== absolute) {
      try {
        const link = path.join(path.dirname(absolute), controlSocketLinkName);
        fs.writeFileSync(`${link}.tmp`, `${bindPath}\n`, { mode: 0o600 });
        fs.renameSync(`${link}.tmp`, link);
      } catch (e) {
        server.close();
        throw e;
      }
    }
    return new ControlServer(absolute, bindPath, server, handlers);
  }

  /**
   * Stops listening and removes the socket file (a missing file is fine). Connections
   * still waiting for their request are destroyed; those whose handler runs get their
   * response and are ended then, without `close` waiting for them: a `stop` handler
   * resolves only when the job has finished, and the job may close this server on its way
   * there. Idempotent: later calls return the first call's promise.
   */
  close(): Promise<void> {
    this.closing ??= this.shutDown();
    return this.closing;
  }

  private async shutDown(): Promise<void> {
    this.server.close();
    for (const [socket, state] of this.connections) if (!state.busy) socket.destroy();
    const files = this.bindPath === this.path ? [this.path] : [this.bindPath, path.join(path.dirname(this.path), controlSocketLinkName)];
    for (const file of files) {
      try {
        fs.unlinkSync(file);
      } catch (e) {
        if (errnoOf(e) !== 'ENOENT') throw e;
      }
    }
  }

  private accept(socket: net.Socket): void {
    const state = { busy: false };
    this.connections.set(socket, state);
    const reader = new LineReader();
    let answered = false;
    const answer = (line: string): void => {
      if (answered) return;
      answered = true;
      socket.removeAllListeners('data');
      socket.resume();
      void this.respond(socket, state, line);
    };
    socket.on('data', (chunk: Buffer) => {
      const line = reader.push(chunk);
      if (line === LineReader.tooLong) {
        answered = true;
        socket.removeAllListeners('data');
        socket.resume(); // drain and drop the rest
        this.send(socket, { ok: false, error: `the request line is longer than ${controlRequestBytesMax} bytes; send one JSON object on one line` });
      } else if (line !== undefined) answer(line);
    });
    socket.on('end', () => {
      if (answered) return;
      if (reader.empty) socket.end();
      else answer(reader.rest());
    });
    socket.on('error', () => socket.destroy()); // the client went away; nothing to tell it
    socket.on('close', () => this.connections.delete(socket));
  }

  private async respond(socket: net.Socket, state: { busy: boolean }, line: string): Promise<void> {
    const request = parseControlRequest(line);
    if (typeof request === 'string') {
      this.send(socket, { ok: false, error: `Bad control request: ${request}` });
      return;
    }
    state.busy = true;
    let response: ControlResponse;
    try {
      if (request.command === 'info' || request.command === 'cancel') {
        this.send(socket, this.answerSync(request.command));
        return;
      }
      const savepoint = await this.handlers[request.command](request.target);
      response = typeof savepoint === 'string' ? { ok: true, savepoint } : { ok: false, error: `the ${request.command} handler returned no savepoint path` };
    } catch (e) {
      response = { ok: false, error: e instanceof Error ? e.message : String(e), ...(e instanceof UsageError ? { userError: true } : {}) };
    }
    this.send(socket, response);
  }

  /** The response to `info` or `cancel` (refused when the job has no handler for it). */
  private answerSync(command: 'info' | 'cancel'): ControlResponse {
    const info = this.handlers.info;
    const cancel = this.handlers.cancel;
    if (command === 'info') return info === undefined ? { ok: false, error: 'this job does not answer info' } : { ok: true, info: info() };
    return cancel === undefined ? { ok: false, error: 'this job cannot be cancelled through its control socket' } : { ok: true, state: cancel() };
  }

  /** Writes the response line, then closes the connection once it is flushed. */
  private send(socket: net.Socket, response: ControlResponse): void {
    if (socket.destroyed) return;
    // Data written to a Unix socket sits in the peer's queue: destroying after the flush loses none.
    socket.end(`${JSON.stringify(response)}\n`, () => socket.destroy());
  }
}

/**
 * On EADDRINUSE: unlinks the socket file if nothing answers on it (stale: its process was
 * killed). Throws `UsageError` if a server answers (the job runs in another process) or
 * the path holds something other than a socket.
 */
async function replaceStaleSocket(socketPath: string, jobId: string): Promise<void> {
  const stat = fs.lstatSync(socketPath, { throwIfNoEntry: false });
  if (stat !== undefined && !stat.isSocket()) {
    throw new UsageError(`Cannot open the control socket of job ${jobId}: ${socketPath} exists and is not a socket; remove it or use another checkpoint directory`);
  }
  const live = await connectIfLive(socketPath);
  if (live !== undefined) {
    live.destroy();
    throw new UsageError(
      `Job ${jobId} is already running in another process (its control socket ${socketPath} answers); stop that process or use another checkpoint directory`,
    );
  }
  try {
    fs.unlinkSync(socketPath);
  } catch (e) {
    if (errnoOf(e) !== 'ENOENT') throw e;
  }
}

/** A control socket candidate: the job id (its folder name) and the socket path. */
export interface Candidate {
  jobId: string;
  socketPath: string;
}

/** The socket of the job folder `jobDir`: its control.sock, or the path its control.sock.link names. */
function socketOf(jobDir: string): string | undefined {
  const own = path.join(jobDir, controlSocketName);
  if (fs.existsSync(own)) return own;
  try {
    const linked = fs.readFileSync(path.join(jobDir, controlSocketLinkName), 'utf8').trim();
    return path.isAbsolute(linked) ? linked : undefined;
  } catch {
    return undefined;
  }
}

/** `dir` itself if it holds a control socket, else each direct sub-folder that does. */
function findSockets(dir: string): Candidate[] {
  const own = socketOf(dir);
  if (own !== undefined) return [{ jobId: path.basename(dir), socketPath: own }];
  const found: Candidate[] = [];
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    const socketPath = entry.isDirectory() ? socketOf(path.join(dir, entry.name)) : undefined;
    if (socketPath !== undefined) found.push({ jobId: entry.name, socketPath });
  }
  return found.sort((a, b) => (a.jobId < b.jobId ? -1 : 1));
}

/** Options of `requestControl`. */
export interface ControlRequestOptions {
  command: ControlCommand;
  /** Savepoint folder; resolved against this process's cwd. Default: the job's own. */
  target?: string;
  /** Which job, when several run with the same checkpoint directory. */
  jobId?: string;
  /** Give up after this long without a response (ms). Default: wait as long as it takes. */
  timeoutMs?: number;
}

/** The running jobs under `dir` with an open connection to each (none: `[]`). */
export async function connectRunning(dir: string, jobId: string | undefined): Promise<{ candidate: Candidate; socket: net.Socket }[]> {
  const candidates = findSockets(dir).filter((c) => jobId === undefined || c.jobId === jobId);
  const running: { candidate: Candidate; socket: net.Socket }[] = [];
  for (const candidate of candidates) {
    const socket = await connectIfLive(candidate.socketPath);
    if (socket !== undefined) running.push({ candidate, socket });
  }
  return running;
}

/**
 * Asks the running job whose checkpoints go to `checkpointDir` for a savepoint
 * (`savepoint`), or to stop with one (`stop`: resolves once the job has finished), as
 * `flink savepoint` / `flink stop` do. A job runs when its `<checkpointDir>/<jobId>/control.sock`
 * (or `<checkpointDir>/control.sock`, when a job folder is passed) accepts a connection.
 * Resolves with the job id and the savepoint folder's absolute path. Rejects with
 * `UsageError` if `checkpointDir` is not a directory, if no job answers there, or if
 * several do and `jobId` is not given; with a plain `Error` carrying the job's message if
 * the job could not take the savepoint, or if the connection dropped (the job ended)
 * before a response, or no response came within `timeoutMs`.
 */
export async function requestControl(checkpointDir: string, request: ControlRequestOptions): Promise<{ jobId: string; savepoint: string }> {
  if (typeof checkpointDir !== 'string' || checkpointDir.length === 0) throw new TypeError(`checkpointDir must be a non-empty path string, got ${JSON.stringify(checkpointDir)}`);
  if (!controlCommands.includes(request.command)) throw new TypeError(`command must be one of ${controlCommands.join(', ')}, got ${JSON.stringify(request.command)}`);
  const dir = path.resolve(checkpointDir);
  if (fs.statSync(dir, { throwIfNoEntry: false })?.isDirectory() !== true) {
    throw new UsageError(`Checkpoint directory ${dir} does not exist or is not a directory; pass the --checkpoint-dir of a running \`sluice run\``);
  }
  const running = await connectRunning(dir, request.jobId);
  if (running.length === 0) {
    const which = request.jobId === undefined ? 'job' : `job ${request.jobId}`;
    throw new UsageError(`No running ${which} in ${dir}: no control socket answers (is \`sluice run\` running with --checkpoint-dir ${dir}?)`);
  }
  if (running.length > 1) {
    for (const r of running) r.socket.destroy();
    throw new UsageError(`Several jobs are running in ${dir}: ${running.map((r) => r.candidate.jobId).join(', ')}; pass --job <id> to choose one`);
  }
  const [{ candidate, socket }] = running as [(typeof running)[number]];
  const message: ControlRequest = { command: request.command, ...(request.target === undefined ? {} : { target: path.resolve(request.target) }) };
  const response = await exchange(socket, message, candidate.jobId, request.timeoutMs);
  if (!response.ok) throw response.userError === true ? new UsageError(response.error) : new Error(response.error);
  if (!('savepoint' in response)) throw new Error(`Job ${candidate.jobId} answered the ${request.command} request without a savepoint path`);
  return { jobId: candidate.jobId, savepoint: response.savepoint };
}

/** Sends `request` on `socket` and reads the one response line. Always destroys the socket. */
export function exchange(socket: net.Socket, request: ControlRequest, jobId: string, timeoutMs: number | undefined): Promise<ControlResponse> {
  return new Promise<ControlResponse>((resolve, reject) => {
    const reader = new LineReader();
    let timer: NodeJS.Timeout | undefined;
    let settled = false;
    const finish = (outcome: ControlResponse | Error): void => {
      if (settled) return;
      settled = true;
      if (timer !== undefined) clearTimeout(timer);
      socket.removeAllListeners('data');
      socket.destroy();
      if (outcome instanceof Error) reject(outcome);
      else resolve(outcome);
    };
    if (timeoutMs !== undefined) timer = setTimeout(() => finish(new Error(`Job ${jobId} did not answer the ${request.command} request within ${timeoutMs} ms`)), timeoutMs);
    socket.on('data', (chunk: Buffer) => {
      const line = reader.push(chunk);
      if (line === LineReader.tooLong) finish(new Error(`Job ${jobId} sent a response longer than ${controlRequestBytesMax} bytes`));
      else if (line !== undefined) finish(parseResponse(line, jobId));
    });
    socket.on('error', (e) => finish(new Error(`The control connection to job ${jobId} failed: ${e.message}`)));
    socket.on('close', () => finish(new Error(`Job ${jobId} ended before answering the ${request.command} request (its process exited or it closed its control socket)`)));
    if (socket.destroyed) finish(new Error(`Job ${jobId} ended before answering the ${request.command} request (its control socket closed)`));
    else socket.write(`${JSON.stringify(request)}\n`);
  });
}

function parseResponse(line: string, jobId: string): ControlResponse | Error {
  try {
    const value = JSON.parse(line) as Partial<{ ok: unknown; savepoint: unknown; info: unknown; state: unknown; error: unknown; userError: unknown }>;
    if (value.ok === true && typeof value.savepoint === 'string') return { ok: true, savepoint: value.savepoint };
    if (value.ok === true && typeof value.info === 'object' && value.info !== null && typeof (value.info as JobListing).jobId === 'string') return { ok: true, info: value.info as JobListing };
    if (value.ok === true && typeof value.state === 'string') return { ok: true, state: value.state };
    if (value.ok === false && typeof value.error === 'string') return { ok: false, error: value.error, ...(value.userError === true ? { userError: true } : {}) };
  } catch {
    // reported below
  }
  return new Error(`Job ${jobId} sent a malformed control response: ${line.slice(0, 200)}`);
}

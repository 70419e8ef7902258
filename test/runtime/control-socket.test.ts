/**
 * The control socket of a running job: savepoint and stop round trips through
 * requestControl with fake handlers, handler errors sent back, stale socket files (left by
 * kill -9) replaced, a live one refused, too long paths bound in the temp folder, bad request lines
 * answered with what was wrong, job discovery (none, several, --job), and close().
 */
import t, { type Test } from 'tap';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { UsageError } from '../../src/errors.js';
import {
  ControlServer,
  controlRequestBytesMax,
  controlSocketBindPath,
  controlSocketLinkName,
  controlSocketName,
  controlSocketPath,
  requestControl,
  type ControlHandlers,
} from '../../src/runtime/control-socket.js';
import { tempDir } from '../helpers/checkpoints.js';

/** Handlers that answer `<target or /default>/savepoint-<command>` and record their calls. */
function fakeHandlers(): ControlHandlers & { calls: [string, string | undefined][] } {
  const calls: [string, string | undefined][] = [];
  return {
    calls,
    savepoint: async (target) => {
      calls.push(['savepoint', target]);
      return path.join(target ?? '/default', 'savepoint-1');
    },
    stop: async (target) => {
      calls.push(['stop', target]);
      return path.join(target ?? '/default', 'savepoint-stop');
    },
  };
}

async function listenFor(t: Test, dir: string, jobId: string, handlers: ControlHandlers = fakeHandlers()): Promise<ControlServer> {
  const server = await ControlServer.listen(controlSocketPath(dir, jobId), handlers);
  t.teardown(() => server.close());
  return server;
}

/** Whatever rejection `promise` gives (fails the test if it resolves). */
async function rejection(t: Test, promise: Promise<unknown>): Promise<Error> {
  try {
    await promise;
  } catch (e) {
    return e as Error;
  }
  t.fail('expected a rejection');
  return new Error('resolved');
}

/** Sends raw bytes, optionally half-closes, and collects everything until the server closes. */
function rawExchange(socketPath: string, bytes: string, halfClose = false): Promise<string> {
  return new Promise((resolve, reject) => {
    let text = '';
    const socket = net.connect(socketPath, () => {
      socket.write(bytes);
      if (halfClose) socket.end();
    });
    socket.on('data', (chunk) => (text += chunk.toString('utf8')));
    // EPIPE/ECONNRESET: the server dropped an oversized request; what it sent is in `text`.
    socket.on('error', (e: NodeJS.ErrnoException) => (e.code === 'EPIPE' || e.code === 'ECONNRESET' ? undefined : reject(e)));
    socket.on('close', () => resolve(text));
  });
}

/** A socket file nobody listens on, as a process killed with -9 leaves it. */
function staleSocket(socketPath: string): void {
  fs.mkdirSync(path.dirname(socketPath), { recursive: true });
  const script = `require('node:net').createServer().listen(${JSON.stringify(socketPath)}, () => process.kill(process.pid, 'SIGKILL'))`;
  const child = spawnSync(process.execPath, ['-e', script]);
  if (child.signal !== 'SIGKILL' || !fs.lstatSync(socketPath).isSocket()) throw new Error(`could not leave a stale socket: ${child.stderr}`);
}

t.test('controlSocketPath is <checkpointDir>/<jobId>/control.sock, absolute', async (t) => {
  t.equal(controlSocketPath('ck', 'job-1'), path.resolve('ck', 'job-1', controlSocketName));
  t.equal(controlSocketName, 'control.sock');
});

t.test('savepoint and stop round trip; a relative target is resolved against the client cwd', async (t) => {
  const dir = tempDir(t, 'control');
  const handlers = fakeHandlers();
  const server = await listenFor(t, dir, 'job-a', handlers);
  t.equal(server.path, path.join(dir, 'job-a', controlSocketName));
  t.ok(fs.lstatSync(server.path).isSocket());
  t.equal(fs.statSync(server.path).mode & 0o777, 0o600, 'owner-only socket');

  t.same(await requestControl(dir, { command: 'savepoint' }), { jobId: 'job-a', savepoint: '/default/savepoint-1' });
  t.same(await requestControl(dir, { command: 'savepoint', target: '/sp' }), { jobId: 'job-a', savepoint: '/sp/savepoint-1' });
  t.same(await requestControl(dir, { command: 'stop', target: 'relative/sp' }), { jobId: 'job-a', savepoint: path.resolve('relative/sp', 'savepoint-stop') });
  t.same(handlers.calls, [
    ['savepoint', undefined],
    ['savepoint', '/sp'],
    ['stop', path.resolve('relative/sp')],
  ]);
});

t.test('a job folder itself may be passed as the checkpoint directory', async (t) => {
  const dir = tempDir(t, 'control');
  await listenFor(t, dir, 'job-a');
  t.same(await requestControl(path.join(dir, 'job-a'), { command: 'savepoint' }), { jobId: 'job-a', savepoint: '/default/savepoint-1' });
});

t.test("a handler's rejection reaches the client with its message; the job's usage errors stay usage errors", async (t) => {
  const dir = tempDir(t, 'control');
  await listenFor(t, dir, 'job-a', {
    savepoint: async () => {
      throw new UsageError('No savepoint target: pass --target or start the job with --savepoint-dir');
    },
    stop: () => Promise.reject(new Error('checkpoint 7 failed: timeout')),
  });
  const e1 = await rejection(t, requestControl(dir, { command: 'savepoint' }));
  t.equal(e1.message, 'No savepoint target: pass --target or start the job with --savepoint-dir');
  t.ok(e1 instanceof UsageError, 'a UsageError of the job is one for the client too (sluice exits 2)');
  const e2 = await rejection(t, requestControl(dir, { command: 'stop' }));
  t.equal(e2.message, 'checkpoint 7 failed: timeout');
  t.notOk(e2 instanceof UsageError, 'any other failure is a plain Error');
});

t.test('a stale socket file (process killed with -9) is replaced; requests then reach the new server', async (t) => {
  const dir = tempDir(t, 'control');
  const socketPath = controlSocketPath(dir, 'job-a');
  staleSocket(socketPath);
  const none = await rejection(t, requestControl(dir, { command: 'savepoint' }));
  t.ok(none instanceof UsageError, 'a stale file is not a running job');
  await listenFor(t, dir, 'job-a');
  t.same(await requestControl(dir, { command: 'savepoint' }), { jobId: 'job-a', savepoint: '/default/savepoint-1' });
});

t.test('a live socket (the same job in another process) is refused with a UsageError', async (t) => {
  const dir = tempDir(t, 'control');
  const first = await listenFor(t, dir, 'job-a');
  const e = await rejection(t, ControlServer.listen(first.path, fakeHandlers()));
  t.ok(e instanceof UsageError);
  t.equal(e.message, `Job job-a is already running in another process (its control socket ${first.path} answers); stop that process or use another checkpoint directory`);
  t.same(await requestControl(dir, { command: 'savepoint' }), { jobId: 'job-a', savepoint: '/default/savepoint-1' }, 'the first server still serves');
});

t.test('a file that is not a socket is not replaced', async (t) => {
  const dir = tempDir(t, 'control');
  const socketPath = controlSocketPath(dir, 'job-a');
  fs.mkdirSync(path.dirname(socketPath));
  fs.writeFileSync(socketPath, 'mine');
  const e = await rejection(t, ControlServer.listen(socketPath, fakeHandlers()));
  t.ok(e instanceof UsageError);
  t.match(e.message, /control\.sock exists and is not a socket; remove it or use another checkpoint directory$/);
  t.equal(fs.readFileSync(socketPath, 'utf8'), 'mine');
});

t.test('a socket path over 107 bytes is bound in the temp folder and named by control.sock.link; clients follow it', async (t) => {
  const dir = tempDir(t, 'control');
  const jobDir = path.join(dir, 'j'.repeat(120 - dir.length));
  const socketPath = path.join(jobDir, controlSocketName);
  t.ok(Buffer.byteLength(socketPath) > 107);
  const server = await ControlServer.listen(socketPath, fakeHandlers());
  t.equal(server.bindPath, controlSocketBindPath(socketPath));
  t.ok(Buffer.byteLength(server.bindPath) <= 107 && server.bindPath.startsWith(os.tmpdir()), `bound at ${server.bindPath}`);
  t.equal(fs.readFileSync(path.join(jobDir, controlSocketLinkName), 'utf8'), `${server.bindPath}\n`);
  t.notOk(fs.existsSync(socketPath), 'no file at the long path');
  t.same(await requestControl(dir, { command: 'savepoint' }), { jobId: path.basename(jobDir), savepoint: '/default/savepoint-1' }, 'found through the link');
  t.same(await requestControl(jobDir, { command: 'stop' }), { jobId: path.basename(jobDir), savepoint: '/default/savepoint-stop' }, 'also when the job folder is passed');
  const again = await rejection(t, ControlServer.listen(socketPath, fakeHandlers()));
  t.match(again, { name: 'UsageError', message: new RegExp(`^Job ${path.basename(jobDir)} is already running in another process`) });
  await server.close();
  t.notOk(fs.existsSync(server.bindPath), 'close removes the socket');
  t.notOk(fs.existsSync(path.join(jobDir, controlSocketLinkName)), 'and the link');
  // Exactly 107 bytes is bound in place; multi-byte characters count as bytes.
  const fits = path.join(dir, 'k'.repeat(107 - dir.length - 1 - controlSocketName.length - 1), controlSocketName);
  t.equal(Buffer.byteLength(fits), 107);
  t.equal(controlSocketBindPath(fits), fits);
  const wide = path.join(dir, 'é'.repeat(Math.ceil((108 - dir.length - 2 - controlSocketName.length) / 2)), controlSocketName);
  t.ok(wide.length <= 107 && Buffer.byteLength(wide) > 107, 'shorter in characters than in bytes');
  t.not(controlSocketBindPath(wide), wide, 'counted in bytes');
});

t.test('bad request lines get an error response naming what was wrong; handlers are not called', async (t) => {
  const dir = tempDir(t, 'control');
  const handlers = fakeHandlers();
  const server = await listenFor(t, dir, 'job-a', handlers);
  const cases: [string, RegExp][] = [
    ['not json\n', /^Bad control request: the request is not JSON \(.*\); send one line like \{"command":"savepoint","target":"\/abs\/dir"\}$/],
    ['\n', /^Bad control request: the request is not JSON/],
    ['[1,2]\n', /^Bad control request: the request must be a JSON object, got \[1,2\]$/],
    ['{"command":"pause"}\n', /^Bad control request: unknown command "pause"; known commands: savepoint, stop, info, cancel$/],
    ['{"target":"/x"}\n', /^Bad control request: unknown command undefined; known commands: savepoint, stop, info, cancel$/],
    ['{"command":"savepoint","target":"rel/dir"}\n', /^Bad control request: target must be an absolute folder path string, got "rel\/dir"/],
    ['{"command":"stop","target":5}\n', /^Bad control request: target must be an absolute folder path string, got 5/],
  ];
  for (const [line, error] of cases) {
    const text = await rawExchange(server.path, line);
    t.ok(text.endsWith('\n'), `one line for ${JSON.stringify(line)}`);
    const response = JSON.parse(text) as { ok: boolean; error: string };
    t.equal(response.ok, false);
    t.match(response.error, error);
  }
  t.same(handlers.calls, []);
});

t.test('a request line over 64 KiB gets an error response and the connection is closed', async (t) => {
  const dir = tempDir(t, 'control');
  const handlers = fakeHandlers();
  const server = await listenFor(t, dir, 'job-a', handlers);
  const text = await rawExchange(server.path, 'x'.repeat(controlRequestBytesMax + 1));
  t.same(JSON.parse(text), { ok: false, error: `the request line is longer than ${controlRequestBytesMax} bytes; send one JSON object on one line` });
  t.same(handlers.calls, []);
  t.same(await requestControl(dir, { command: 'savepoint' }), { jobId: 'job-a', savepoint: '/default/savepoint-1' }, 'later connections are served');
});

t.test('a client that half-closes after its request (nc -U) still gets the response; a newline is optional then', async (t) => {
  const dir = tempDir(t, 'control');
  const server = await listenFor(t, dir, 'job-a');
  t.same(JSON.parse(await rawExchange(server.path, '{"command":"stop","target":"/t"}\n', true)), { ok: true, savepoint: '/t/savepoint-stop' });
  t.same(JSON.parse(await rawExchange(server.path, '{"command":"savepoint"}', true)), { ok: true, savepoint: '/default/savepoint-1' });
  t.equal(await rawExchange(server.path, '', true), '', 'an empty connection is just closed');
});

t.test('connections are independent: a slow handler does not hold up another request', async (t) => {
  const dir = tempDir(t, 'control');
  let release: (v: string) => void = () => {};
  let started: () => void = () => {};
  const slowStarted = new Promise<void>((resolve) => (started = resolve));
  await listenFor(t, dir, 'job-a', {
    savepoint: () => {
      started();
      return new Promise<string>((resolve) => (release = resolve));
    },
    stop: async () => '/fast',
  });
  const slow = requestControl(dir, { command: 'savepoint' });
  await slowStarted;
  t.same(await requestControl(dir, { command: 'stop' }), { jobId: 'job-a', savepoint: '/fast' });
  release('/slow');
  t.same(await slow, { jobId: 'job-a', savepoint: '/slow' });
});

t.test('no running job, a missing directory, several jobs, and --job selection', async (t) => {
  const dir = tempDir(t, 'control');
  const none = await rejection(t, requestControl(dir, { command: 'savepoint' }));
  t.ok(none instanceof UsageError);
  t.equal(none.message, `No running job in ${dir}: no control socket answers (is \`sluice run\` running with --checkpoint-dir ${dir}?)`);

  const missing = await rejection(t, requestControl(path.join(dir, 'nope'), { command: 'stop' }));
  t.ok(missing instanceof UsageError);
  t.match(missing.message, /nope does not exist or is not a directory; pass the --checkpoint-dir of a running `sluice run`/);

  fs.mkdirSync(path.join(dir, 'finished-job')); // a job folder without a socket
  staleSocket(controlSocketPath(dir, 'killed-job'));
  await listenFor(t, dir, 'job-b');
  await listenFor(t, dir, 'job-a', {
    savepoint: async (target) => `${target}/from-a`,
    stop: async () => '/a-stopped',
  });
  const several = await rejection(t, requestControl(dir, { command: 'savepoint' }));
  t.ok(several instanceof UsageError);
  t.equal(several.message, `Several jobs are running in ${dir}: job-a, job-b; pass --job <id> to choose one`);

  t.same(await requestControl(dir, { command: 'savepoint', jobId: 'job-a', target: '/t' }), { jobId: 'job-a', savepoint: '/t/from-a' });
  t.same(await requestControl(dir, { command: 'savepoint', jobId: 'job-b' }), { jobId: 'job-b', savepoint: '/default/savepoint-1' });
  const killed = await rejection(t, requestControl(dir, { command: 'stop', jobId: 'killed-job' }));
  t.ok(killed instanceof UsageError);
  t.match(killed.message, /^No running job killed-job in /);
});

t.test('a connection dropped before the response: the job ended before answering', async (t) => {
  const dir = tempDir(t, 'control');
  const socketPath = controlSocketPath(dir, 'job-a');
  fs.mkdirSync(path.dirname(socketPath));
  const dropping = net.createServer((socket) => socket.once('data', () => socket.destroy()));
  await new Promise<void>((resolve) => dropping.listen(socketPath, resolve));
  t.teardown(() => void dropping.close());
  const e = await rejection(t, requestControl(dir, { command: 'stop' }));
  t.notOk(e instanceof UsageError);
  t.match(e.message, /^Job job-a ended before answering the stop request/);
});

t.test('timeoutMs bounds the wait for a job that never answers', async (t) => {
  const dir = tempDir(t, 'control');
  const socketPath = controlSocketPath(dir, 'job-a');
  fs.mkdirSync(path.dirname(socketPath));
  const silent = net.createServer(() => {});
  await new Promise<void>((resolve) => silent.listen(socketPath, resolve));
  t.teardown(() => {
    silent.close();
    for (const s of open) s.destroy();
  });
  const open: net.Socket[] = [];
  silent.on('connection', (s) => open.push(s));
  const e = await rejection(t, requestControl(dir, { command: 'savepoint', timeoutMs: 20 }));
  t.equal(e.message, 'Job job-a did not answer the savepoint request within 20 ms');
});

t.test('close() removes the socket file, is idempotent, and in-flight requests still get their response', async (t) => {
  const dir = tempDir(t, 'control');
  let release: (v: string) => void = () => {};
  let started: () => void = () => {};
  const handlerStarted = new Promise<void>((resolve) => (started = resolve));
  const server = await ControlServer.listen(controlSocketPath(dir, 'job-a'), {
    savepoint: async () => '/unused',
    stop: () => {
      started();
      return new Promise<string>((resolve) => (release = resolve));
    },
  });
  const idle = net.connect(server.path);
  await new Promise((resolve) => idle.once('connect', resolve));
  const idleClosed = new Promise((resolve) => idle.once('close', resolve));
  const stopping = requestControl(dir, { command: 'stop' });
  await handlerStarted;
  await server.close();
  t.notOk(fs.existsSync(server.path), 'socket file removed');
  await server.close();
  await idleClosed;
  t.pass('a connection without a request is closed');
  const none = await rejection(t, requestControl(dir, { command: 'savepoint' }));
  t.ok(none instanceof UsageError, 'no job answers after close');
  release('/final');
  t.same(await stopping, { jobId: 'job-a', savepoint: '/final' });
});

/**
 * A TCP line server for bench/sources.bench.ts, run as a child process (`fork`), so that
 * writing the data costs the measured process nothing and no reader shares a thread with
 * its writer. It listens on 127.0.0.1 (a free port) and tells the parent over IPC.
 *
 * Protocol (IPC messages, parent -> server):
 *   { type: 'serve', lines: n }  the next connection gets n lines (~60 bytes each, from a
 *                                fixed pseudo-random block), written as fast as the socket
 *                                takes them (a write that returns false waits for 'drain'),
 *                                then the server ends the connection.
 *   { type: 'hold' }             the next connection gets nothing until { type: 'release' }
 *                                (an idle source), then it is ended.
 * Server -> parent:
 *   { type: 'listening', port }
 *   { type: 'queued' }           a 'serve' or 'hold' is queued: connect now (not before, or
 *                                the connection may be accepted first and get nothing)
 *   { type: 'accepted', atMs }   a connection came (atMs: epoch ms, µs precision, see `nowMs`)
 *   { type: 'written', atMs, bytes, lines }  the last byte was handed to the kernel
 *
 *   node dist/bench/line-server.js   (started by sources.bench.ts, not by hand)
 */
import assert from 'node:assert/strict';
import { createServer } from 'node:net';
import type { Socket } from 'node:net';
import { performance } from 'node:perf_hooks';

/** Lines in the repeated block: about 1 MiB. */
const blockLines = 16_384;

/** Epoch ms with sub-ms precision, comparable between processes of one machine. */
function nowMs(): number {
  return performance.timeOrigin + performance.now();
}

/**
 * `blockLines` lines of 35-86 bytes (mean ~60, "\n" included), like a log: a timestamp, a
 * sensor, a value. Deterministic (a fixed LCG). Returns the bytes and each line's end offset.
 */
function lineBlock(): { bytes: Buffer; ends: Uint32Array } {
  let seed = 0x2545f491;
  const next = (n: number): number => {
    seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
    return (seed >>> 8) % n;
  };
  const parts: string[] = [];
  const ends = new Uint32Array(blockLines);
  let offset = 0;
  for (let i = 0; i < blockLines; i++) {
    const head = `${1_700_000_000_000 + i * 7} sensor-${String(next(10_000)).padStart(4, '0')} t=${(next(4000) / 100).toFixed(2)}`;
    const line = `${head} ${'x'.repeat(next(52))}\n`;
    parts.push(line);
    offset += Buffer.byteLength(line);
    ends[i] = offset;
  }
  const bytes = Buffer.from(parts.join(''));
  assert.equal(bytes.length, offset);
  return { bytes, ends };
}

type Next = { type: 'serve'; lines: number } | { type: 'hold' };

/** Writes `lines` lines to `socket`, respecting backpressure, then ends it. */
async function serve(socket: Socket, block: { bytes: Buffer; ends: Uint32Array }, lines: number): Promise<void> {
  let left = lines;
  let bytes = 0;
  while (left > 0 && !socket.destroyed) {
    const n = Math.min(left, blockLines);
    const chunk = n === blockLines ? block.bytes : block.bytes.subarray(0, block.ends[n - 1]);
    left -= n;
    bytes += chunk.length;
    if (!socket.write(chunk)) await new Promise((resolve) => socket.once('drain', resolve));
  }
  socket.end(() => process.send!({ type: 'written', atMs: nowMs(), bytes, lines: lines - left }));
}

function main(): void {
  assert.ok(process.send !== undefined, 'line-server runs as a forked child process (IPC)');
  const block = lineBlock();
  const queue: Next[] = [];
  const held: Socket[] = [];
  const server = createServer({ noDelay: true }, (socket) => {
    process.send!({ type: 'accepted', atMs: nowMs() });
    socket.on('error', () => undefined); // a reader that goes away early is not our failure
    const next = queue.shift() ?? { type: 'serve', lines: 0 };
    if (next.type === 'hold') held.push(socket);
    else void serve(socket, block, next.lines);
  });
  process.on('message', (m: { type: string; lines?: number }) => {
    if (m.type === 'serve' || m.type === 'hold') {
      queue.push(m.type === 'serve' ? { type: 'serve', lines: m.lines! } : { type: 'hold' });
      process.send!({ type: 'queued' });
    }
    else if (m.type === 'release') for (const s of held.splice(0)) s.end();
    else if (m.type === 'exit') server.close(() => process.exit(0));
  });
  server.listen(0, '127.0.0.1', () => {
    const address = server.address();
    assert.ok(address !== null && typeof address === 'object');
    process.send!({ type: 'listening', port: address.port });
  });
}

main();

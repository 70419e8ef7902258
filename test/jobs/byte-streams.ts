// Job modules for the socket and pipe source tests: a socket text stream collected or
// written, standard input or a FIFO printed or written. args[0] names the scenario,
// args[1] holds JSON parameters. `exitAt` ends the worker thread (as a kill would) at
// that record, once: a marker file says it happened.
import { existsSync, writeFileSync } from 'node:fs';
import { defineJob } from '../../src/index.js';
import type { SingleOutputStream } from '../../src/index.js';

interface Params {
  host: string;
  port: number;
  delimiter?: string;
  maxRetry?: number;
  retryDelayMs?: number;
  /** Input path for the pipe scenarios: '-' (standard input) or a FIFO. */
  path?: string;
  output?: string;
  /** The record (a line holding this number) at which the worker thread exits, once. */
  exitAt?: number;
  /** Exists once the worker has exited at `exitAt`. */
  marker?: string;
}

/** Ends the worker thread at record `exitAt` the first time: the subtask dies mid-read, as under `--kill-worker-every`. */
function dieOnceAt<T>(stream: SingleOutputStream<T>, p: Params): SingleOutputStream<T> {
  if (p.exitAt === undefined) return stream;
  const { exitAt, marker } = p;
  return stream
    .map((record: T) => {
      if (Number(record) === exitAt && !existsSync(marker!)) {
        writeFileSync(marker!, '');
        process.exit(1); // in a worker thread: ends this thread only
      }
      return record;
    })
    .name('Die once');
}

export default defineJob((env, args) => {
  const scenario = args[0];
  const p = JSON.parse(args[1] ?? '{}') as Params;
  switch (scenario) {
    case 'socket-collect': {
      env.socketTextStream(p.host, p.port, p.delimiter, p.maxRetry, p.retryDelayMs === undefined ? {} : { retryDelayMs: p.retryDelayMs }).uid('socket').collect();
      return;
    }
    case 'socket-to-file': {
      dieOnceAt(env.socketTextStream(p.host, p.port, p.delimiter, p.maxRetry).uid('socket'), p).writeAsText(p.output!).uid('sink');
      return;
    }
    case 'pipe-print': {
      env.readTextFile(p.path ?? '-').uid('pipe').print();
      return;
    }
    case 'pipe-json-print': {
      env
        .readJsonLines<{ id: number; text: string }>(p.path ?? '-')
        .uid('pipe')
        .map((r) => `${r.id}:${r.text}`)
        .print();
      return;
    }
    case 'pipe-to-file': {
      dieOnceAt(env.readTextFile(p.path ?? '-').uid('pipe'), p).writeAsText(p.output!).uid('sink');
      return;
    }
    default:
      throw new Error(`unknown scenario ${String(scenario)}`);
  }
});

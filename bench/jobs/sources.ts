/**
 * Benchmark job for bench/sources.bench.ts: a source, a trivial map, a sink that drops
 * everything, so the figures are the source's and the engine's.
 *
 *   args: socket --port <n> [--report <channel>]
 *         generator [--rate <records/s>]
 *
 * `socket`: `socketTextStream('127.0.0.1', port, '\n', 0)` -> `map(line.length)` ->
 * `addSink`. The source has parallelism 1 (as Flink's); at job parallelism 1 the whole
 * pipeline is one chain, at 2 the lines cross a ring to two map subtasks. The job ends
 * when the server closes the connection (no retry). With `--report`, each sink subtask
 * posts `{ count, atMs }` on the BroadcastChannel of that name when it closes: the lines it
 * received and when (epoch ms, µs precision), so the caller can time the last line without
 * the job's teardown.
 *
 * `generator`: `fromGenerator(i => i, Infinity, { recordsPerSecond: rate })` (no limit
 * without `--rate`) -> `map(x + 1)` -> `addSink`; unbounded, one chain per subtask: the
 * caller reads the source's records out from `handle.metrics()` and cancels the job.
 */
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { defineJob } from '../../src/index.js';
import type { SinkFunction } from '../../src/index.js';

function positiveNumber(name: string, text: string | undefined): number {
  const value = Number(text);
  if (text === undefined || !Number.isFinite(value) || value <= 0) throw new RangeError(`sources job needs --${name} <number > 0>, got ${String(text)}`);
  return value;
}

/** Drops records; with a channel name, reports how many it saw and when it closed. */
function countingSink<T>(report: string | undefined): SinkFunction<T> {
  if (report === undefined) return () => undefined;
  let count = 0;
  return {
    invoke: () => {
      count++;
    },
    close: () => {
      const channel = new BroadcastChannel(report);
      channel.postMessage({ count, atMs: performance.timeOrigin + performance.now() });
      channel.close();
    },
  };
}

export default defineJob((env, args) => {
  const [scenario, ...rest] = args;
  const { values } = parseArgs({
    args: rest,
    options: { port: { type: 'string' }, report: { type: 'string' }, rate: { type: 'string' } },
    strict: true,
  });
  switch (scenario) {
    case 'socket': {
      const port = positiveNumber('port', values.port);
      env
        .socketTextStream('127.0.0.1', port, '\n', 0)
        .name('Socket')
        .map((line) => line.length)
        .name('Length')
        .addSink(countingSink<number>(values.report))
        .name('Drop');
      return;
    }
    case 'generator': {
      const rate = values.rate === undefined ? {} : { recordsPerSecond: positiveNumber('rate', values.rate) };
      env
        .fromGenerator((i) => i, Infinity, rate)
        .name('Generator')
        .map((x) => x + 1)
        .name('Plus one')
        .addSink(countingSink<number>(undefined))
        .name('Drop');
      return;
    }
    default:
      throw new RangeError(`sources job: the first argument is socket or generator, got ${JSON.stringify(scenario)}`);
  }
});

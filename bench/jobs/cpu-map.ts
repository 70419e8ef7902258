/**
 * Benchmark job: a CPU-heavy map and nothing else worth measuring.
 * `fromSequence(1, count)` -> `map(heavy)` -> `filter(isSampled)` -> collect('sampled'):
 * about 1 result in 1024 reaches the sink, so the figures are the map's and the engine's,
 * and the sampled results prove that every record was hashed (the benchmark compares
 * them with its baselines').
 *
 *   args: --count <records> --iterations <hash rounds per record> [--rebalance] [--stages <n> [--cut]]
 *
 * `--stages n` splits the map into n maps in a row of iterations / n rounds each (the
 * same hash, resumed: the results are those of one map); `--cut` starts a new chain at
 * each of them after the first (`startNewChain()`): a pipeline of n subtasks at
 * parallelism 1, where one chain runs the n maps in one thread.
 *
 * Without `--rebalance` the whole pipeline is one chain: at parallelism p there are p
 * subtasks and no record crosses a channel. With it, a round-robin exchange sits between
 * the source and the map: 2p subtasks, and every record crosses a ring.
 *
 * The iteration count is calibrated by the caller (bench/engine.bench.ts) and passed as
 * an argument, so the plan is the same in the main thread and in every worker.
 */
import { parseArgs } from 'node:util';
import { defineJob } from '../../src/index.js';
import { heavy, isSampled } from './heavy.js';

function positiveInteger(name: string, text: string | undefined, min: number): number {
  const value = Number(text);
  if (text === undefined || !Number.isSafeInteger(value) || value < min) {
    throw new RangeError(`cpu-map needs --${name} <integer >= ${min}>, got ${String(text)}`);
  }
  return value;
}

export default defineJob((env, args) => {
  const { values } = parseArgs({
    args: [...args],
    options: {
      count: { type: 'string' },
      iterations: { type: 'string' },
      rebalance: { type: 'boolean', default: false },
      stages: { type: 'string', default: '1' },
      cut: { type: 'boolean', default: false },
    },
    strict: true,
  });
  const count = positiveInteger('count', values.count, 1);
  const iterations = positiveInteger('iterations', values.iterations, 0);
  const source = env.fromSequence(1, count).name('Sequence');
  const stages = positiveInteger('stages', values.stages, 1);
  if (iterations % stages !== 0) throw new RangeError(`cpu-map needs --iterations (${iterations}) to be a multiple of --stages (${stages})`);
  const input = values.rebalance === true ? source.rebalance() : source;
  if (stages === 1) {
    input
      .map((x) => heavy(x, iterations))
      .name('Heavy map')
      .filter(isSampled)
      .name('Sample')
      .collect('sampled');
    return;
  }
  // Stage k resumes the hash where stage k - 1 left it (its rounds' salts go on).
  const per = iterations / stages;
  let mapped = input.map((x) => heavy(x, per)).name('Heavy map 1');
  for (let k = 1; k < stages; k++) {
    const first = k * per;
    mapped = mapped.map((h) => heavy(h, per, first)).name(`Heavy map ${k + 1}`);
    if (values.cut === true) mapped.startNewChain();
  }
  mapped
    .filter(isSampled)
    .name('Sample')
    .collect('sampled');
});

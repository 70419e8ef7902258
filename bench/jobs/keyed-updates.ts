/**
 * Benchmark job: keyed ValueState updates over a key space that first grows, then stays.
 * Record i (of `count`, from one source subtask, so in index order):
 *
 *   i < keys:   writes key i          (a new key: the state grows)
 *   i >= keys:  writes key (i - keys) % hot   (updates a hot set of existing keys)
 *
 * The value is i. The keyed operator emits nothing; its state is all there is to see,
 * which is what bench/checkpoint.bench.ts wants: checkpoint sizes against what changed.
 *
 *   args: --keys <n> --hot <n> --count <n> [--tail-delay-us <us>] [--marker <channel>]
 *
 * `--tail-delay-us` makes the keyed operator spend that many microseconds (a busy wait) on
 * every hot update, so the job crawls once the keys are written and the source is held
 * back by backpressure: checkpoints go on while little input is read. (Slowing the
 * source itself would stop checkpoints: a source subtask that never blocks on its
 * output does not read its trigger messages, see bench/checkpoint.bench.ts.)
 * `--marker` posts `{ index: keys }` on the BroadcastChannel of that name when the source
 * emits the first hot update: the caller then knows that every checkpoint triggered
 * afterwards holds all `keys` keys.
 *
 * The plan does not depend on the arguments (same operators, uids and parallelism), so a
 * run may resume another run's checkpoint (or savepoint) without the delay. Not with
 * another count: the restored source keeps its remaining splits, `[next, old count)`, as a
 * Flink source keeps its splits; a new `--count` only applies to a fresh start.
 */
import { parseArgs } from 'node:util';
import { performance } from 'node:perf_hooks';
import { defineJob } from '../../src/index.js';
import type { Collector, KeyedContext, KeyedProcessFunction, RuntimeContext, ValueState } from '../../src/index.js';

/** Keeps the latest record index per key; emits nothing. Busy-waits `tailDelayUs` per hot update. */
class LatestIndex implements KeyedProcessFunction<number, number, never> {
  private latest!: ValueState<number>;

  constructor(
    private readonly keys: number,
    private readonly tailDelayUs: number,
  ) {}

  open(ctx: RuntimeContext): void {
    this.latest = ctx.getState<number>({ name: 'latest' });
  }

  processElement(index: number, _ctx: KeyedContext<number>, _out: Collector<never>): void {
    this.latest.update(index);
    if (this.tailDelayUs > 0 && index >= this.keys) {
      const until = performance.now() + this.tailDelayUs / 1000;
      while (performance.now() < until);
    }
  }
}

function integerArg(name: string, text: string | undefined, min: number): number {
  const value = Number(text);
  if (text === undefined || !Number.isSafeInteger(value) || value < min) {
    throw new RangeError(`keyed-updates needs --${name} <integer >= ${min}>, got ${String(text)}`);
  }
  return value;
}

/** The record at `index` (itself), posting the marker at the first hot update. */
function recordAt(keys: number, marker: string | undefined): (index: number) => number {
  if (marker === undefined) return (index) => index;
  return (index) => {
    if (index === keys) {
      const channel = new BroadcastChannel(marker);
      channel.postMessage({ index });
      channel.close();
    }
    return index;
  };
}

export default defineJob((env, args) => {
  const { values } = parseArgs({
    args: [...args],
    options: {
      keys: { type: 'string' },
      hot: { type: 'string' },
      count: { type: 'string' },
      'tail-delay-us': { type: 'string', default: '0' },
      marker: { type: 'string' },
    },
    strict: true,
  });
  const keys = integerArg('keys', values.keys, 0);
  const hot = integerArg('hot', values.hot, 1);
  const count = integerArg('count', values.count, 1);
  const tailDelayUs = integerArg('tail-delay-us', values['tail-delay-us'], 0);
  if (keys > 0 && hot > keys) throw new RangeError(`keyed-updates: --hot ${hot} must not exceed --keys ${keys} (the hot set is keys 0..hot-1)`);
  const record = recordAt(keys, values.marker);
  env
    .fromGenerator((i) => record(i), count)
    .setParallelism(1)
    .name('Updates')
    .keyBy((i) => (i < keys ? i : (i - keys) % hot))
    .process(new LatestIndex(keys, tailDelayUs))
    .name('Latest index')
    .uid('latest')
    .collect('nothing');
});

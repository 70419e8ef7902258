// Job module of test/engine/chaining.test.ts: numbers 1..n, doubled, kept when not a
// multiple of 3, plus one, summed per key (x % 5) and formatted `key sum` (a running sum
// per record); args[0] chooses how the chains are cut: as the engine chains by default,
// `startNewChain()` on the filter, `disableChaining()` on the filter, `disableChaining()`
// on the sink, or `env.disableOperatorChaining()`.
//   args: <chained | new-chain | disabled | sink-apart | env-off> <n>
import { defineJob } from '../../src/index.js';

export default defineJob((env, args) => {
  const [mode, count] = args;
  if (mode === 'env-off') env.disableOperatorChaining();
  const kept = env
    .fromSequence(1, Number(count))
    .name('Numbers')
    .map((x: number) => x * 2)
    .name('Double')
    .filter((x: number) => x % 3 !== 0)
    .name('Not a multiple of 3');
  if (mode === 'new-chain') kept.startNewChain();
  if (mode === 'disabled') kept.disableChaining();
  const sink = kept
    .map((x: number): [number, number] => [(x + 1) % 5, x + 1])
    .name('Plus one')
    .keyBy((t) => t[0])
    .reduce((a, b) => [a[0], a[1] + b[1]])
    .name('Sum per key')
    .map((t) => `${t[0]} ${t[1]}`)
    .name('Format')
    .collect('out');
  if (mode === 'sink-apart') sink.disableChaining();
});

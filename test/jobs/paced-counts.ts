// Job module of the resume tests (test/engine/cli-resume.test.ts, test/e2e/resume-loop.test.ts):
// the numbers 0..count-1 from a paced generator, keyed by number % keys, a running count
// per key in keyed state (a rolling sum), written exactly once to part files as `key<TAB>count`.
//   sluice run [engine options] paced-counts.js --count <n> --keys <k> --output <dir> [--rate <records/s>]
// The output of a run without failures: for every key k, the lines `k\t1` .. `k\tn_k` once
// each, where n_k counts the numbers below `count` that are k modulo `keys`.
import { parseArgs } from 'node:util';
import { defineJob } from '../../src/index.js';

export default defineJob((env, args) => {
  const { values } = parseArgs({
    args: [...args],
    options: { count: { type: 'string' }, keys: { type: 'string' }, output: { type: 'string' }, rate: { type: 'string' } },
    strict: true,
  });
  if (values.count === undefined || values.keys === undefined || values.output === undefined) {
    throw new Error('paced-counts needs --count <n> --keys <k> --output <dir>');
  }
  const keys = Number(values.keys);
  env
    .fromGenerator((i) => i, Number(values.count), values.rate === undefined ? {} : { recordsPerSecond: Number(values.rate) })
    .uid('numbers')
    .map((n: number): [number, number] => [n % keys, 1])
    .keyBy((pair) => pair[0])
    .sum(1)
    .uid('count')
    .map(([key, count]) => `${key}\t${count}`)
    .writeAsText(values.output)
    .uid('sink');
});

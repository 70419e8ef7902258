// Job module of test/runtime/slot-sharing.test.ts: the numbers 0..count-1 from a paced
// generator, tagged with the worker thread of their source subtask, keyed by number % keys,
// counted per key (a rolling reduce in keyed state), and collected as
// `key<TAB>count<TAB>source thread<TAB>keyed thread`: the threads each record went through.
// (or written as text files to --output, for the CLI).
//   args: --count <n> --keys <k> [--rate <records/s>] [--group <slot sharing group of the keyed part>] [--output <dir>]
import { parseArgs } from 'node:util';
import { threadId } from 'node:worker_threads';
import { defineJob } from '../../src/index.js';

interface Tagged {
  key: number;
  count: number;
  source: number;
}

export default defineJob((env, args) => {
  const { values } = parseArgs({
    args: [...args],
    options: { count: { type: 'string' }, keys: { type: 'string' }, rate: { type: 'string' }, group: { type: 'string' }, output: { type: 'string' } },
    strict: true,
  });
  if (values.count === undefined || values.keys === undefined) throw new Error('thread-tags needs --count <n> --keys <k>');
  const keys = Number(values.keys);
  const counted = env
    .fromGenerator((i) => i, Number(values.count), values.rate === undefined ? {} : { recordsPerSecond: Number(values.rate) })
    .uid('numbers')
    .map((n: number): Tagged => ({ key: n % keys, count: 1, source: threadId }))
    .keyBy((r) => r.key)
    .reduce((acc, r) => ({ key: r.key, count: acc.count + 1, source: r.source }))
    .uid('count');
  if (values.group !== undefined) counted.slotSharingGroup(values.group);
  const lines = counted.map((r) => `${r.key}\t${r.count}\t${r.source}\t${threadId}`);
  if (values.output === undefined) lines.collect('tagged');
  else lines.writeAsText(values.output);
});

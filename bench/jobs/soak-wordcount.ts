/**
 * Job of bench/restart-soak.ts: the running word count of examples/wordcount.ts (a count
 * per word in keyed state, `word<TAB>count` through the two-phase file sink), written with
 * `sum` and importing the engine from this checkout's source instead of the `sluicegate`
 * package, so that the soak exercises the engine it was built with.
 *
 *   args: --input <file or directory of *.txt> --output <directory>
 */
import { parseArgs } from 'node:util';
import { defineJob } from '../../src/index.js';

export default defineJob((env, args) => {
  const { values } = parseArgs({ args: [...args], options: { input: { type: 'string' }, output: { type: 'string' } }, strict: true });
  if (values.input === undefined || values.output === undefined) throw new Error('soak-wordcount needs --input <file or directory> and --output <directory>');
  env
    .readTextFile(values.input, { suffix: '.txt' })
    .name('Read lines')
    .flatMap<[string, number]>((line, out) => {
      for (const token of line.split(/[^A-Za-z]+/)) if (token !== '') out.collect([token.toLowerCase(), 1]);
    })
    .name('Tokenize')
    .keyBy((pair) => pair[0])
    .sum(1)
    .uid('count')
    .map(([word, count]) => `${word}\t${count}`)
    .name('Format')
    .writeAsText(values.output)
    .name('Write counts');
});

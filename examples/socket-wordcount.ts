/**
 * Flink's first tutorial program, SocketWindowWordCount, without the window: words from
 * the lines a TCP server sends, and for every word its running count, as `word<TAB>count`
 * (the word's count so far). Words are cut as examples/wordcount.ts cuts them: runs of
 * ASCII letters, lowercased.
 *
 *   nc -lk 9999                                      # in one terminal: type lines here
 *   npx sluice run examples/socket-wordcount.ts      # in another: counts on stdout
 *
 * Options: --host (default localhost), --port (default 9999), --output <dir> to write the
 * counts as part files (exactly once with checkpoints) instead of printing them,
 * --max-retry <n> to connect again after the server closes (-1: forever; default 0: the
 * job ends when the connection closes, as in Flink).
 */
import { parseArgs } from 'node:util';
import { defineJob } from 'sluicegate';

function integerArg(name: string, value: string, min: number, max: number): number {
  const n = Number(value);
  if (!/^-?\d+$/.test(value) || n < min || n > max) throw new Error(`socket-wordcount: --${name} must be an integer from ${min} to ${max}, got "${value}"`);
  return n;
}

export default defineJob((env, args) => {
  const { values } = parseArgs({
    args: [...args],
    options: {
      host: { type: 'string', default: 'localhost' },
      port: { type: 'string', default: '9999' },
      output: { type: 'string' },
      'max-retry': { type: 'string', default: '0' },
    },
    strict: true,
  });
  const port = integerArg('port', values.port, 1, 65535);
  const maxRetry = integerArg('max-retry', values['max-retry'], -1, Number.MAX_SAFE_INTEGER);
  const counts = env
    .socketTextStream(values.host, port, '\n', maxRetry)
    .name('Read lines')
    .flatMap<[string, number]>((line, out) => {
      for (const token of line.split(/[^A-Za-z]+/)) if (token !== '') out.collect([token.toLowerCase(), 1]);
    })
    .name('Tokenize')
    .keyBy(([word]) => word)
    .sum(1)
    .name('Count')
    .uid('count')
    .map(([word, count]) => `${word}\t${count}`)
    .name('Format');
  if (values.output === undefined) counts.print().name('Print counts');
  else counts.writeAsText(values.output).name('Write counts');
});

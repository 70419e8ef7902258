/**
 * Flink's SocketWindowWordCount: words from the lines a TCP server sends, counted per
 * tumbling processing-time window (5 s by default). At the end of each window, every word
 * seen in it is printed once as `word<TAB>count` (its count in that window). Words are cut
 * at whitespace, as Flink's example cuts them (`split("\\s")`), without empty words.
 *
 *   nc -lk 9999                                             # in one terminal: type lines here
 *   npx sluice run examples/socket-window-wordcount.ts      # in another: counts every 5 s
 *
 * Options: --host (default localhost), --port (default 9999), --window-ms (window size,
 * ms, default 5000). The job runs until the server closes the connection (as in Flink),
 * Ctrl-C, or `sluice stop`; a window still open then is not printed.
 */
import { parseArgs } from 'node:util';
import { Time, TumblingProcessingTimeWindows, defineJob } from 'sluicegate';

function integerArg(name: string, value: string, min: number, max: number): number {
  const n = Number(value);
  if (!/^\d+$/.test(value) || n < min || n > max) throw new Error(`socket-window-wordcount: --${name} must be an integer from ${min} to ${max}, got "${value}"`);
  return n;
}

export default defineJob((env, args) => {
  const { values } = parseArgs({
    args: [...args],
    options: {
      host: { type: 'string', default: 'localhost' },
      port: { type: 'string', default: '9999' },
      'window-ms': { type: 'string', default: String(Time.seconds(5)) },
    },
    strict: true,
  });
  const port = integerArg('port', values.port, 1, 65535);
  const windowMs = integerArg('window-ms', values['window-ms'], 1, Time.days(1));
  env
    .socketTextStream(values.host, port, '\n')
    .name('Read lines')
    .flatMap<[string, number]>((line, out) => {
      for (const word of line.split(/\s+/)) if (word !== '') out.collect([word, 1]);
    })
    .name('Split')
    .keyBy(([word]) => word)
    .window(TumblingProcessingTimeWindows.of(windowMs))
    .sum(1)
    .name('Count per window')
    .uid('window-count')
    .map(([word, count]) => `${word}\t${count}`)
    .name('Format')
    .print()
    .name('Print counts')
    .setParallelism(1);
});

// The word count of examples/wordcount.ts (running counts, `word<TAB>count` per word), built
// on this worktree's engine (src/, not the installed package) for the fallback-restore
// tests, with a keyed reduce for the count, into the sinks `--sink` lists (comma-separated):
// `text` part files (writeAsText, which takes back what it published), `ledger` a user
// two-phase sink whose committer has no rollback(), `collect` collect('counts'). `--fail-once-when <file>`:
// a subtask fails once when that file appears (it deletes it), for restarts in a process.
//   --input <dir> --output <dir> [--sink text,ledger,collect] [--fail-once-when <file>]
import { existsSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { defineJob } from '../../src/index.js';
import { LedgerSink, claim } from './streams.js';

export default defineJob((env, args) => {
  const { values } = parseArgs({
    args: [...args],
    options: { input: { type: 'string' }, output: { type: 'string' }, sink: { type: 'string', default: 'text' }, 'fail-once-when': { type: 'string' } },
    strict: true,
  });
  if (values.input === undefined || values.output === undefined) throw new Error('fallback-wordcount needs --input <dir> and --output <dir>');
  const marker = values['fail-once-when'];
  let records = 0;
  const counts = env
    .readTextFile(values.input, { suffix: '.txt' })
    .flatMap<[string, number]>((line, out) => {
      for (const token of line.split(/[^A-Za-z]+/)) if (token !== '') out.collect([token.toLowerCase(), 1]);
    })
    .keyBy(([word]) => word)
    .reduce(([word, a], [, b]) => [word, a + b])
    .uid('count')
    .map(([word, n]) => {
      if (marker !== undefined && ++records % 1024 === 0 && existsSync(marker) && claim(marker)) {
        throw new Error('injected failure (--fail-once-when)');
      }
      return `${word}\t${n}`;
    });
  const sinks = new Set(values.sink.split(','));
  if (sinks.has('collect')) counts.collect('counts');
  // The ledger keeps to staging/ and committed/ in the output folder, the part files to its top.
  if (sinks.has('ledger')) counts.sinkTo(new LedgerSink(values.output), 'Ledger').uid('ledger');
  if (sinks.has('text')) counts.writeAsText(values.output).name('Write counts').uid('sink');
});

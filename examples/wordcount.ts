/**
 * Word count with running counts: for every word of the input, one line `word<TAB>count`
 * with the word's count so far. Lowercases ASCII letters and splits on every run of
 * characters outside a-z, as `tr 'A-Z' 'a-z' | tr -cs 'a-z' '\n'` does.
 *
 *   npx sluice run --parallelism 2 examples/wordcount.ts --input <file or dir> --output <dir>
 *
 * A directory input reads its *.txt files (the State of the Union corpus also ships .json
 * copies of every speech, which would count each word twice).
 */
import { parseArgs } from 'node:util';
import { defineJob } from 'sluicegate';
import type { Collector, KeyedContext, KeyedProcessFunction, RuntimeContext, SingleOutputStream, StreamExecutionEnvironment, ValueState } from 'sluicegate';

/** Keeps each word's count in keyed state and emits `word<TAB>count` on every occurrence. */
class RunningCount implements KeyedProcessFunction<string, string, string> {
  private count!: ValueState<number>;

  open(ctx: RuntimeContext): void {
    this.count = ctx.getState<number>({ name: 'count', defaultValue: 0 });
  }

  processElement(word: string, _ctx: KeyedContext<string>, out: Collector<string>): void {
    const next = this.count.value()! + 1;
    this.count.update(next);
    out.collect(`${word}\t${next}`);
  }
}

/** The words of a line, lowercased: every run of ASCII letters. */
function tokenize(line: string, out: Collector<string>): void {
  for (const token of line.split(/[^A-Za-z]+/)) if (token !== '') out.collect(token.toLowerCase());
}

/** The running counts of the words of `input`'s *.txt files: `word<TAB>count`, one per word. */
export function runningWordCounts(env: StreamExecutionEnvironment, input: string): SingleOutputStream<string> {
  return env
    .readTextFile(input, { suffix: '.txt' })
    .name('Read lines')
    .flatMap<string>(tokenize)
    .name('Tokenize')
    .keyBy((word) => word)
    .process(new RunningCount())
    .name('Count')
    .uid('count');
}

export default defineJob((env, args) => {
  const { values } = parseArgs({
    args: [...args],
    options: { input: { type: 'string' }, output: { type: 'string' } },
    strict: true,
  });
  if (values.input === undefined || values.output === undefined) {
    throw new Error('wordcount needs --input <file or directory> and --output <directory>');
  }
  runningWordCounts(env, values.input)
    .writeAsText(values.output)
    .name('Write counts');
});

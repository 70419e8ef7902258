// The source of the README's "Writing a source", as it is printed there (kept in step by
// test/engine/readme-source.test.ts, which also runs it).
import { defineJob } from '../../src/index.js';
import { Boundedness, SplitRequests, WatermarkStrategy } from '../../src/index.js';
import type { Source, SourceReader, SourceReaderContext, SourceSplit, SplitEnumerator, SplitEnumeratorContext } from '../../src/index.js';

interface RangeSplit extends SourceSplit { next: number; end: number }

class RangeSource implements Source<number, RangeSplit, RangeSplit[]> {
  readonly boundedness = Boundedness.BOUNDED;
  constructor(private readonly n: number) {}
  createEnumerator(ctx: SplitEnumeratorContext<RangeSplit>) {      // main thread: ten splits
    const tenth = Math.ceil(this.n / 10);
    const pending = Array.from({ length: 10 }, (_, k) => ({ splitId: `r${k}`, next: k * tenth, end: Math.min(this.n, (k + 1) * tenth) }));
    return this.restoreEnumerator(ctx, pending);
  }
  restoreEnumerator(ctx: SplitEnumeratorContext<RangeSplit>, pending: RangeSplit[]): SplitEnumerator<RangeSplit, RangeSplit[]> {
    return {
      start() {}, addReader() {}, close() {},
      handleSplitRequest: (reader) => {                             // one split per request
        const split = pending.shift();
        if (split === undefined) ctx.signalNoMoreSplits(reader);
        else ctx.assignSplit(split, reader);
      },
      snapshotState: () => pending.map((s) => ({ ...s })),          // what is not assigned yet
    };
  }
  createReader(ctx: SourceReaderContext): SourceReader<number, RangeSplit> {  // worker: reads its splits
    const splits: RangeSplit[] = [];
    const requests = new SplitRequests(ctx);                        // asks when dry; availability
    return {
      start() {}, close() {},
      addSplits(s) { splits.push(...s); requests.splitsAdded(); },
      notifyNoMoreSplits() { requests.noMore(); },
      pollNext(out) {
        const split = splits[0];
        if (split === undefined) return requests.noSplit();         // 'nothing' (asks) or 'end'
        out.collect(split.next++);
        if (split.next >= split.end) splits.shift();
        return 'more';
      },
      isAvailable: () => requests.available.promise(),
      snapshotState: () => splits.map((s) => ({ ...s })),           // with their positions
    };
  }
}


export default defineJob((env, args) => {
  const n = Number(args[0] ?? 1000);
  env.fromSource(new RangeSource(n), WatermarkStrategy.noWatermarks(), 'Ranges').uid('ranges').collect();
});

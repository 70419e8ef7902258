// Job module of the configuration-mistake tests (test/e2e/config-mistakes.test.ts): jobs
// that fail in a way no restart can fix. args[0] names the scenario.
import { Boundedness, UsageError, defineJob } from '../../src/index.js';
import type { Sink, SinkWriter, Source, SourceReader, SourceSplit, SplitEnumerator, SplitEnumeratorContext } from '../../src/index.js';

/** A user's own non-recoverable error class: marked, not derived from UsageError. */
class LedgerConfigError extends Error {
  readonly userError = true;
}

/** A source whose reader refuses to start: its configuration names a missing topic. */
class MissingTopicSource implements Source<number, SourceSplit, null> {
  readonly boundedness = Boundedness.BOUNDED;
  createEnumerator(context: SplitEnumeratorContext<SourceSplit>): SplitEnumerator<SourceSplit, null> {
    return this.restoreEnumerator(context);
  }
  restoreEnumerator(context: SplitEnumeratorContext<SourceSplit>): SplitEnumerator<SourceSplit, null> {
    return {
      start() {},
      addReader() {},
      handleSplitRequest: (reader) => context.signalNoMoreSplits(reader),
      snapshotState: () => null,
      close() {},
    };
  }
  createReader(): SourceReader<number, SourceSplit> {
    return {
      start() {
        throw new UsageError('Topic "orders" does not exist: create it or fix the source configuration');
      },
      pollNext: () => 'end',
      isAvailable: () => Promise.resolve(),
      addSplits() {},
      notifyNoMoreSplits() {},
      snapshotState: () => [],
      close() {},
    };
  }
}

/** A sink whose writer cannot be created; the library it uses wraps the UsageError. */
class MissingTableSink implements Sink<unknown> {
  createWriter(): SinkWriter<unknown> {
    const refused = new UsageError('Table "ledger" does not exist: create it before running the job');
    throw new Error('Cannot open the ledger', { cause: refused });
  }
}

export default defineJob((env, args) => {
  switch (args[0]) {
    case 'copy':
      // args: input path, output directory, 'monitor' for a monitored directory.
      env.readTextFile(args[1]!, args[3] === 'monitor' ? { monitorIntervalMs: 20 } : {}).writeAsText(args[2]!);
      return;
    case 'source-start':
      env.fromSource(new MissingTopicSource(), undefined, 'Orders').print();
      return;
    case 'sink-writer':
      env.fromSequence(0, 99).sinkTo(new MissingTableSink(), 'Ledger');
      return;
    case 'map-marked':
      env
        .fromSequence(0, 99)
        .map((x: number) => {
          if (x === 42) throw new LedgerConfigError('Account 42 has no currency: fix the accounts table');
          return x;
        })
        .print();
      return;
    default:
      throw new Error(`unknown scenario ${args[0]}`);
  }
});

/**
 * The Nexmark event generator as a FLIP-27 source: `env.fromSource(new NexmarkSource({
 * events: 1e6 }), WatermarkStrategy.forBoundedOutOfOrderness(4000), 'Nexmark')`.
 * nexmark/nexmark: `source/NexmarkSource` and `NexmarkSourceReader` (emitting at full
 * speed, as its default `maxEmitSpeed`; `eventsPerSecond` limits it as Flink's
 * `RateLimiterStrategy` would).
 *
 * Splits: one per reader of the first run, each an interleaved share of the stream's
 * positions (reader i of p: i, i + p, ...), bounded by `events` or unbounded. A split's
 * state is its next position, so a checkpoint holds exactly where each split is and a
 * restore, also at another parallelism, resumes every split there: nothing is emitted
 * twice or skipped. Since an event is a function of (seed, position) only, the stream is
 * the same whatever the parallelism. (Flink's `GeneratorConfig.split` instead gives each
 * reader its own range of event ids on its own timeline; see config.ts.) The record
 * timestamp is the event's `dateTime`. The machinery is the indexed sources' (IndexedSource
 * with interleaved splits).
 */
import { IndexedSource } from '../indexed-source.js';
import type { IndexSplit } from '../indexed-source.js';
import type { MonotonicClock } from '../rate-limiter.js';
import type { Boundedness, Source, SourceReader, SourceReaderContext, SplitEnumerator, SplitEnumeratorContext } from '../source.js';
import type { NexmarkOptions } from './config.js';
import { NexmarkGenerator } from './generator.js';
import type { NexmarkEvent } from './model.js';

export interface NexmarkSourceOptions extends NexmarkOptions {
  /** Events to generate over all readers, or Infinity (unbounded, the default). */
  events?: number;
  /** Wall-clock limit over all readers, events/s (each reader gets its share); none by default. */
  eventsPerSecond?: number;
  /** Clock of the rate limiter; tests inject one. */
  clock?: MonotonicClock;
  /** Events per `pollNext` at most (tests use small values). */
  pollRecords?: number;
}

export class NexmarkSource implements Source<NexmarkEvent, IndexSplit, IndexSplit[]> {
  readonly boundedness: Boundedness;
  /** The generator this thread's readers use (also handy to compute the expected stream). */
  readonly generator: NexmarkGenerator;
  private readonly indexed: IndexedSource<NexmarkEvent>;

  /**
   * @throws RangeError for a bad Nexmark option, an `events` that is not a safe integer
   *   >= 0 or Infinity, or an `eventsPerSecond` that is not a finite number > 0.
   */
  constructor(options: NexmarkSourceOptions = {}) {
    const { events = Infinity, eventsPerSecond, clock, pollRecords, ...nexmark } = options;
    if (events !== Infinity && !(Number.isSafeInteger(events) && events >= 0)) {
      throw new RangeError(`NexmarkSource events must be an integer >= 0 or Infinity, got ${String(events)}`);
    }
    if (eventsPerSecond !== undefined && !(Number.isFinite(eventsPerSecond) && eventsPerSecond > 0)) {
      throw new RangeError(`NexmarkSource eventsPerSecond must be a finite number > 0, got ${String(eventsPerSecond)}`);
    }
    const generator = new NexmarkGenerator(nexmark);
    this.generator = generator;
    this.indexed = new IndexedSource<NexmarkEvent>(events, (index) => generator.event(index), {
      label: 'nexmark',
      interleaved: true,
      timestampOf: (event) => event.dateTime,
      ...(eventsPerSecond === undefined ? {} : { recordsPerSecond: eventsPerSecond }),
      ...(clock === undefined ? {} : { clock }),
      ...(pollRecords === undefined ? {} : { pollRecords }),
    });
    this.boundedness = this.indexed.boundedness;
  }

  createEnumerator(context: SplitEnumeratorContext<IndexSplit>): SplitEnumerator<IndexSplit, IndexSplit[]> {
    return this.indexed.createEnumerator(context);
  }

  restoreEnumerator(context: SplitEnumeratorContext<IndexSplit>, state: IndexSplit[]): SplitEnumerator<IndexSplit, IndexSplit[]> {
    return this.indexed.restoreEnumerator(context, state);
  }

  createReader(context: SourceReaderContext): SourceReader<NexmarkEvent, IndexSplit> {
    return this.indexed.createReader(context);
  }
}

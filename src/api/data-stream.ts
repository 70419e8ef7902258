/**
 * DataStream and KeyedStream: a typed, fluent way to add nodes to a plan, as Flink's
 * `DataStream` API. Nothing runs here; `runJob` deploys the plan.
 */
import type { StateKey } from '../state/api.js';
import type {
  FilterFunction,
  FlatMapFunction,
  KeyedProcessFunction,
  KeySelector,
  MapFunction,
  ReduceFunction,
} from './functions.js';
import { normalizeFunction } from './functions.js';
import type { ProcessFunction, SinkFunction } from './functions.js';
import { OutputTag } from './output-tag.js';
import { WatermarkStrategy } from '../time/index.js';
import { FileSink, csvEncoder, isSink, jsonLinesEncoder, textRowEncoder } from '../connectors/index.js';
import type { CsvWriteOptions, Sink } from '../connectors/index.js';
import type { OperatorSpec, Partitioner, Plan, PlanEdge, PlanNode } from './plan.js';
import { checkParallelism } from './validate.js';
import { sumReducer } from './field-aggregations.js';
import { AllWindowedStream, WindowedStream } from './windowed-stream.js';
import {
  CountEvictor,
  CountTrigger,
  GlobalWindow,
  GlobalWindows,
  PurgingTrigger,
  SlidingEventTimeWindows,
  TimeWindow,
  TumblingEventTimeWindows,
} from '../time/windows/index.js';
import type { Window, WindowAssigner } from '../time/windows/api.js';

/** Where a stream's records come from: one or more nodes (several after `union`). */
interface Upstream {
  node: PlanNode;
  partitioner: Partitioner | undefined;
  keySelector: KeySelector<any> | undefined;
  /** A side output of `node` (OutputTag id) rather than its main output. */
  tag?: string | undefined;
}

/** A stream of records of type T. Flink: `DataStream<T>`. */
export class DataStream<T> {
  /** @internal */
  constructor(
    protected readonly plan: Plan,
    protected readonly upstreams: readonly Upstream[],
  ) {}

  /** @internal Adds an operator fed by this stream. */
  protected addOperator<OUT>(name: string, op: OperatorSpec): SingleOutputStream<OUT> {
    const inputs: PlanEdge[] = this.upstreams.map((u) => ({
      from: u.node.id,
      partitioner: u.partitioner,
      ...(u.keySelector === undefined ? {} : { keySelector: u.keySelector }),
      ...(u.tag === undefined ? {} : { tag: u.tag }),
    }));
    const node = this.plan.add(name, op, inputs);
    return new SingleOutputStream<OUT>(this.plan, node);
  }

  private repartition(partitioner: Partitioner, keySelector?: KeySelector<T>): Upstream[] {
    return this.upstreams.map((u) => ({ node: u.node, partitioner, keySelector, tag: u.tag }));
  }

  /** One output record per input record. */
  map<OUT>(fn: MapFunction<T, OUT>): SingleOutputStream<OUT> {
    return this.addOperator('Map', { kind: 'map', fn: normalizeFunction(fn, 'map', 'map()') });
  }

  /** Keeps the records for which `fn` returns true. */
  filter(fn: FilterFunction<T>): SingleOutputStream<T> {
    return this.addOperator('Filter', { kind: 'filter', fn: normalizeFunction(fn, 'filter', 'filter()') });
  }

  /** Zero or more output records per input record, emitted with `out.collect(record)`. */
  flatMap<OUT>(fn: FlatMapFunction<T, OUT>): SingleOutputStream<OUT> {
    return this.addOperator('FlatMap', { kind: 'flatMap', fn: normalizeFunction(fn, 'flatMap', 'flatMap()') });
  }

  /**
   * Partitions by key: records with equal keys go to the same subtask, by key group
   * (murmur hash of the key's Java hashCode, modulo max parallelism). Flink: `keyBy`.
   */
  keyBy<K extends StateKey>(keySelector: KeySelector<T, K>): KeyedStream<T, K> {
    if (typeof keySelector !== 'function') {
      throw new TypeError(`keyBy() expects a key selector function (record) => key, got ${typeof keySelector}`);
    }
    return new KeyedStream<T, K>(this.plan, this.repartition('hash', keySelector));
  }

  /**
   * Per-record logic with the record's timestamp and side outputs (`ctx.output(tag, v)`);
   * no keyed state or timers (keyBy() first for those). Flink: `ProcessFunction`.
   */
  process<OUT>(fn: ProcessFunction<T, OUT>): SingleOutputStream<OUT> {
    if (fn === null || typeof fn !== 'object' || typeof fn.processElement !== 'function') {
      throw new TypeError('process() expects an object with processElement(value, ctx, out)');
    }
    return this.addOperator('Process', { kind: 'processFunction', fn });
  }

  /**
   * Assigns event timestamps and generates watermarks with `strategy`, here in the stream
   * (one generator per subtask). Watermarks from upstream are dropped, except the final one
   * at the end of input. Flink: `assignTimestampsAndWatermarks(WatermarkStrategy)`.
   * @throws TypeError for anything but a WatermarkStrategy.
   */
  assignTimestampsAndWatermarks(strategy: WatermarkStrategy<T>): SingleOutputStream<T> {
    if (!(strategy instanceof WatermarkStrategy)) throw new TypeError('assignTimestampsAndWatermarks() expects a WatermarkStrategy, e.g. WatermarkStrategy.forBoundedOutOfOrderness(5000)');
    return this.addOperator('Timestamps/Watermarks', { kind: 'timestamps', strategy });
  }

  /**
   * Cuts the whole stream into windows, in one subtask (parallelism 1; keyBy() and
   * window() to run in parallel). Flink: `windowAll`.
   */
  windowAll<W extends Window>(assigner: WindowAssigner<T, W>): AllWindowedStream<T, W> {
    return new AllWindowedStream<T, W>(assigner, <OUT>(name: string, op: OperatorSpec) => {
      const keyed = new KeyedStream<T, number>(this.plan, this.repartition('hash', () => 0));
      const stream = keyed.addOperator<OUT>(name, op);
      stream.node.parallelism = 1;
      return stream;
    });
  }

  /** Windows of `size` elements (every `slide` elements when given) over the whole stream. Flink: `countWindowAll`. */
  countWindowAll(size: number, slide?: number): AllWindowedStream<T, GlobalWindow> {
    return countWindowOf(this.windowAll(GlobalWindows.create()), size, slide, 'countWindowAll()');
  }

  /**
   * Event-time tumbling (or sliding, with `slideMs`) windows over the whole stream.
   * Flink's deprecated `timeWindowAll` (event time since Flink 1.12).
   */
  timeWindowAll(sizeMs: number, slideMs?: number): AllWindowedStream<T, TimeWindow> {
    return this.windowAll(slideMs === undefined ? TumblingEventTimeWindows.of(sizeMs) : SlidingEventTimeWindows.of(sizeMs, slideMs));
  }

  /** Round-robin to all downstream subtasks. */
  rebalance(): DataStream<T> {
    return new DataStream<T>(this.plan, this.repartition('rebalance'));
  }

  /** Every record to every downstream subtask. */
  broadcast(): DataStream<T> {
    return new DataStream<T>(this.plan, this.repartition('broadcast'));
  }

  /** Forward to the subtask of the same index (requires equal parallelism). */
  forward(): DataStream<T> {
    return new DataStream<T>(this.plan, this.repartition('forward'));
  }

  /** Merges streams of the same type into one. Flink: `union`. */
  union(...others: DataStream<T>[]): DataStream<T> {
    for (const other of others) {
      if (!(other instanceof DataStream) || other.plan !== this.plan) {
        throw new TypeError('union() expects DataStreams of the same job');
      }
    }
    return new DataStream<T>(this.plan, [...this.upstreams, ...others.flatMap((o) => o.upstreams)]);
  }

  /** Sends the records back to the caller of `runJob`, in `result.collected[name]`. */
  collect(name = 'collect'): DataStreamSink {
    return new DataStreamSink(this.addOperator('Collect', { kind: 'sink', sink: { kind: 'collect', name } }));
  }

  /** Prints each record to standard output, prefixed with `<subtask+1>> ` when parallel. */
  print(): DataStreamSink {
    return new DataStreamSink(this.addOperator('Print', { kind: 'sink', sink: { kind: 'print' } }));
  }

  /**
   * Writes to a Sink V2 sink of one's own (connectors/sink.ts: writer, committer):
   * exactly-once with checkpoints when the sink is two-phase. Flink: `sinkTo`.
   * @throws TypeError for an object without `createWriter`.
   */
  sinkTo(sink: Sink<T, any, any>, name = 'Sink'): DataStreamSink {
    if (!isSink(sink)) throw new TypeError('sinkTo() expects a Sink: { createWriter(ctx), createCommitter?(ctx), restoreWriter?(ctx, state) }');
    return new DataStreamSink(this.addOperator(name, { kind: 'sink', sink: { kind: 'sink', sink } }));
  }

  /**
   * Calls `fn(record)` (or `fn.invoke(record)`, a rich function with open/close) for every
   * record: at-least-once (records after the last checkpoint are replayed after a
   * failure). Flink: `addSink(SinkFunction)`.
   */
  addSink(fn: SinkFunction<T>): DataStreamSink {
    return new DataStreamSink(this.addOperator('Sink', { kind: 'sink', sink: { kind: 'function', fn: normalizeFunction(fn, 'invoke', 'addSink()') } }));
  }

  /**
   * Writes records as lines (strings as they are, other values as JSON) to `dir`, one part
   * file per sink subtask: `part-<subtask>-<n>`, exactly once with checkpoints. The
   * directory is created if missing; part files of an earlier run are replaced.
   * Flink: `FileSink.forRowFormat(dir, new SimpleStringEncoder())`.
   */
  writeAsText(dir: string): DataStreamSink {
    if (typeof dir !== 'string' || dir === '') throw new TypeError('writeAsText() expects a directory path');
    return this.sinkTo(FileSink.forRowFormat(dir, textRowEncoder), 'TextFileSink');
  }

  /** As `writeAsText`, one JSON value per line; NaN, ±Infinity and bigint are refused (JSON cannot hold them). */
  writeAsJsonLines(dir: string): DataStreamSink {
    if (typeof dir !== 'string' || dir === '') throw new TypeError('writeAsJsonLines() expects a directory path');
    return this.sinkTo(FileSink.forRowFormat(dir, jsonLinesEncoder), 'JsonLinesFileSink');
  }

  /**
   * As `writeAsText`, one CSV row per record (csv-stringify): arrays as they are, objects
   * by `columns`; with `header`, the column names start every part file.
   */
  writeAsCsv(dir: string, options: CsvWriteOptions = {}): DataStreamSink {
    if (typeof dir !== 'string' || dir === '') throw new TypeError('writeAsCsv() expects a directory path');
    return this.sinkTo(FileSink.forRowFormat(dir, csvEncoder(options)), 'CsvFileSink');
  }
}

/** A stream produced by one operator, whose properties can still be set. */
export class SingleOutputStream<T> extends DataStream<T> {
  /** @internal */
  constructor(plan: Plan, readonly node: PlanNode) {
    super(plan, [{ node, partitioner: undefined, keySelector: undefined }]);
  }

  /** The number of parallel subtasks of this operator (>= 1). */
  setParallelism(parallelism: number): this {
    checkParallelism(parallelism, `setParallelism() of ${this.node.name}`);
    if (this.node.op.kind === 'window' && this.node.op.spec.all && parallelism !== 1) {
      throw new RangeError(`setParallelism(${parallelism}) of ${this.node.name}: a windowAll() operator runs in one subtask, its parallelism must be 1 (keyBy() and window() to run windows in parallel)`);
    }
    if (this.node.op.kind === 'source' && this.node.op.source.nonParallel && parallelism !== 1) {
      throw new RangeError(`${this.node.op.source.what} is a non-parallel source: its parallelism must be 1`);
    }
    this.node.parallelism = parallelism;
    return this;
  }

  /** The number of key groups of this operator's keyed state (1..32768). */
  setMaxParallelism(maxParallelism: number): this {
    checkParallelism(maxParallelism, `setMaxParallelism() of ${this.node.name}`, 32768);
    this.node.maxParallelism = maxParallelism;
    return this;
  }

  /**
   * Puts this operator in slot sharing group `name` (default: its inputs' group when they
   * all have one, else "default"). Subtask i of every operator of a group runs in slot i of
   * the group, one worker thread; operators of different groups never share a thread, nor
   * a chain. Flink: `SingleOutputStreamOperator.slotSharingGroup(String)`.
   * @throws TypeError for an empty or non-string name.
   */
  slotSharingGroup(name: string): this {
    if (typeof name !== 'string' || name === '') throw new TypeError('slotSharingGroup() expects a non-empty string, such as "default" or "sinks"');
    this.node.slotSharingGroup = name;
    return this;
  }

  /**
   * Starts a new chain at this operator: it does not join its input's chain (its records
   * cross a ring into a subtask of its own), but operators after it may join its chain.
   * Flink: `SingleOutputStreamOperator.startNewChain()`.
   */
  startNewChain(): this {
    this.node.chaining = 'head';
    return this;
  }

  /**
   * Runs this operator in a chain of its own: it joins no chain and no operator joins
   * its. Flink: `SingleOutputStreamOperator.disableChaining()`.
   */
  disableChaining(): this {
    this.node.chaining = 'never';
    return this;
  }

  /** A display name for progress, metrics and errors. */
  name(name: string): this {
    if (typeof name !== 'string' || name === '') throw new TypeError('name() expects a non-empty string');
    this.node.name = name;
    return this;
  }

  /**
   * The records this operator sent to side output `tag` (`ctx.output(tag, value)`), as a
   * stream. Flink: `SingleOutputStreamOperator.getSideOutput(OutputTag)`.
   */
  getSideOutput<X>(tag: OutputTag<X>): DataStream<X> {
    if (!(tag instanceof OutputTag)) throw new TypeError('getSideOutput() expects an OutputTag');
    return new DataStream<X>(this.plan, [{ node: this.node, partitioner: undefined, keySelector: undefined, tag: tag.id }]);
  }

  /** A stable operator id: state is matched to operators by uid across restores. */
  uid(uid: string): this {
    if (typeof uid !== 'string' || !/^[A-Za-z0-9._-]+$/.test(uid)) {
      throw new TypeError(`uid() expects letters, digits, '.', '_' or '-', got ${JSON.stringify(uid)}`);
    }
    this.node.uid = uid;
    return this;
  }
}

/** A sink; its name, uid, parallelism, slot sharing group and chaining can be set. Flink: `DataStreamSink`. */
export class DataStreamSink {
  /** @internal */
  constructor(private readonly stream: SingleOutputStream<unknown>) {}
  setParallelism(parallelism: number): this {
    this.stream.setParallelism(parallelism);
    return this;
  }
  name(name: string): this {
    this.stream.name(name);
    return this;
  }
  uid(uid: string): this {
    this.stream.uid(uid);
    return this;
  }
  /** The sink's slot sharing group (see SingleOutputStream.slotSharingGroup). Flink: `DataStreamSink.slotSharingGroup`. */
  slotSharingGroup(name: string): this {
    this.stream.slotSharingGroup(name);
    return this;
  }
  /** Runs the sink in a subtask of its own, not chained to its input. Flink: `DataStreamSink.disableChaining()`. */
  disableChaining(): this {
    this.stream.disableChaining();
    return this;
  }
}

/** A stream partitioned by key; operators on it see keyed state. Flink: `KeyedStream`. */
export class KeyedStream<T, K extends StateKey> extends DataStream<T> {
  /** Rolling reduce: emits the updated value for the record's key on every record. */
  reduce(fn: ReduceFunction<T>): SingleOutputStream<T> {
    if (typeof fn !== 'function') throw new TypeError('reduce() expects a function (accumulated, value) => value');
    return this.addOperator('Reduce', { kind: 'reduce', fn });
  }

  /**
   * Rolling sum of a field: a number record itself (no argument), an array position, or an
   * object property. Other fields are those of the key's first record, as in Flink.
   */
  sum(field?: number | string): SingleOutputStream<T> {
    return this.addOperator('Sum', { kind: 'reduce', fn: sumReducer(field) });
  }

  /**
   * Cuts each key's records into windows by `assigner` (e.g.
   * `TumblingEventTimeWindows.of(Time.seconds(5))`). Flink: `KeyedStream.window`.
   * @throws TypeError for anything but a WindowAssigner.
   */
  window<W extends Window>(assigner: WindowAssigner<T, W>): WindowedStream<T, K, W> {
    return new WindowedStream<T, K, W>(assigner, <OUT>(name: string, op: OperatorSpec) => this.addOperator<OUT>(name, op));
  }

  /**
   * Windows of `size` elements per key; with `slide`, a window of the last `size`
   * elements every `slide` elements. Flink: `countWindow` (GlobalWindows with a count
   * trigger, and a count evictor when sliding).
   * @throws RangeError for a size or slide that is not an integer >= 1.
   */
  countWindow(size: number, slide?: number): WindowedStream<T, K, GlobalWindow> {
    return countWindowOf(this.window(GlobalWindows.create()), size, slide, 'countWindow()');
  }

  /**
   * Event-time tumbling (or sliding, with `slideMs`) windows per key. Flink's deprecated
   * `timeWindow` (event time since Flink 1.12): prefer `window(TumblingEventTimeWindows.of(...))`.
   */
  timeWindow(sizeMs: number, slideMs?: number): WindowedStream<T, K, TimeWindow> {
    return this.window(slideMs === undefined ? TumblingEventTimeWindows.of(sizeMs) : SlidingEventTimeWindows.of(sizeMs, slideMs));
  }

  /**
   * Per-record logic with keyed state, timers (`ctx.timerService()`, `onTimer`), side
   * outputs and `endInput`. Flink: `KeyedProcessFunction`.
   */
  override process<OUT>(fn: KeyedProcessFunction<K, T, OUT>): SingleOutputStream<OUT> {
    if (fn === null || typeof fn !== 'object' || typeof fn.processElement !== 'function') {
      throw new TypeError('process() expects an object with processElement(value, ctx, out)');
    }
    for (const method of ['endInput', 'onTimer'] as const) {
      if (fn[method] !== undefined && typeof fn[method] !== 'function') throw new TypeError(`process(): ${method} must be a method`);
    }
    return this.addOperator('KeyedProcess', { kind: 'process', fn });
  }
}

/** `countWindow(size, slide?)` on a GlobalWindows stream, as Flink builds it. */
function countWindowOf<S extends { trigger(t: any): S; evictor(e: any): S }>(stream: S, size: number, slide: number | undefined, what: string): S {
  for (const [name, v] of [['size', size], ['slide', slide]] as const) {
    if (v !== undefined && (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 1)) {
      throw new RangeError(`${what} ${name} must be an integer >= 1 (a number of elements), got ${String(v)}`);
    }
  }
  if (slide === undefined) return stream.trigger(PurgingTrigger.of(CountTrigger.of(size)));
  return stream.evictor(CountEvictor.of(size)).trigger(CountTrigger.of(slide));
}

/**
 * What every operator of a chain is (`ChainOperator`) and how a failure is attributed to
 * one. Records pass between chained operators as direct calls (`collect`), with no
 * serialization. Each operator counts its records in and out, and turns a user function's
 * throw into a `TaskFailure` naming itself and the record.
 *
 * Flink: `AbstractStreamOperator`, `Output`. The operators themselves: basic-operators.ts
 * (map, filter, flatMap, reduce, addSink), process-operators.ts, the window operators,
 * source-operator.ts, sink-operator.ts.
 */
import type { Collector, FunctionSnapshotContext, JobScope, RuntimeContext } from '../api/index.js';
import { describeThrown, findUserError, previewRecord } from '../errors.js';
import type { UserFunctionFailure } from '../errors.js';
import type { GraphNode } from '../graph/index.js';
import type { KeyedStateBackend, StateKey } from '../state/api.js';
import { OperatorStateStore as OperatorListStore } from '../state/operator-state.js';
import type { OperatorStateSnapshot } from '../state/operator-state.js';
import type { ProcessingClock } from '../time/index.js';
import type { OperatorLatency } from '../metrics/latency-recorder.js';
import type { LatencyMarker } from './latency-marker.js';

/**
 * Where records go: the next operator, a fan-out, or a record writer. Records carry the
 * subtask's current event timestamp (`OperatorEnvironment.timestamp`) implicitly;
 * watermarks and idleness follow records in order.
 */
export interface Output {
  collect(record: unknown): void;
  /** Event time has progressed to `timestampMs` (ms; +Infinity at the end of input). */
  emitWatermark(timestampMs: number): void;
  /** This output became idle (true) or active again (false). Flink: `WatermarkStatus`. */
  emitIdle(idle: boolean): void;
  /**
   * A latency marker, behind the records emitted before it; never counted as a record.
   * Flink: `Output.emitLatencyMarker`.
   */
  emitLatencyMarker(marker: LatencyMarker): void;
}

/** An output that drops everything (an operator not connected yet, a side output nobody reads). */
export const nullOutput: Output = { collect: () => {}, emitWatermark: () => {}, emitIdle: () => {}, emitLatencyMarker: () => {} };

/** One of `outputs` chosen at random (a latency marker's way, as Flink's `BroadcastingOutputCollector`). */
function randomOf(outputs: readonly Output[]): Output {
  return outputs[outputs.length === 1 ? 0 : Math.floor(Math.random() * outputs.length)]!;
}

/** A failure already attributed to an operator; passes through outer operators as is. */
export class TaskFailure extends Error {
  constructor(readonly failure: UserFunctionFailure) {
    super(`${failure.operatorName}: ${failure.causeMessage}`);
    this.name = 'TaskFailure';
  }
}

/**
 * Who is blamed for the throw in flight: set on the way out of a throw by the innermost
 * operator it passed (`ChainOperator.blame`: operators further out find the entry current
 * and leave it), read and cleared by the task when it attributes that throw
 * (`attributeFailure`). Nothing is written here while nothing throws (a save-and-restore
 * around every `process` cost the word count about 10 % of its throughput). The entry is
 * current while it names the same thrown value (`Object.is`) and its operator has taken
 * no record since (`seq`); the task also clears it at every input batch. So a throw some
 * user function caught and swallowed does not name a later one, except a throw of the
 * very same value before that operator's next record (an outer function that swallows,
 * then throws the same object itself).
 */
export interface FailureContext {
  operator: ChainOperator | undefined;
  record: unknown;
  /** The value the entry blames for, compared with `Object.is`. */
  thrown: unknown;
  /** `operator.recordsIn` when it was blamed: a record since makes the entry stale. */
  seq: number;
}

/** Whether `f` blames for `thrown` still (see FailureContext). */
export function blamesFor(f: FailureContext, thrown: unknown): boolean {
  return f.operator !== undefined && f.operator.recordsIn === f.seq && Object.is(f.thrown, thrown);
}

/**
 * Attributes a throw out of a batch, a timer or an end of input to the operator that was
 * running: the one `f` blames (then cleared), else `fallback`. A non-recoverable error (a
 * UsageError: bad input data, a bad timestamp, an async user function; see
 * findUserError) passes as it is: no restart can fix it.
 */
export function attributeFailure(f: FailureContext, thrown: unknown, fallback: ChainOperator): TaskFailure | Error {
  const userError = findUserError(thrown);
  if (userError !== undefined) return userError;
  const blamed = blamesFor(f, thrown);
  const op = blamed ? f.operator! : fallback;
  const record = blamed ? f.record : undefined;
  f.operator = undefined;
  f.record = undefined;
  f.thrown = undefined;
  return op.failure(thrown, record);
}

/** What an operator knows of its subtask. */
export interface OperatorEnvironment {
  subtaskIndex: number;
  backend: KeyedStateBackend;
  failure: FailureContext;
  /** Where the current record came from, computed only on failure. */
  position(): string | undefined;
  /** The operator state restored for `uid` (already redistributed for this subtask), if any. */
  restoredState(uid: string): unknown;
  /**
   * The event timestamp of the record being processed, ms, or NaN for none: one mutable
   * cell per subtask, set where a record enters the chain (source, input frame, timestamp
   * assigner, timer) and read where it leaves (record writer, process functions).
   */
  timestamp: { value: number };
  /** Processing time (tests inject one). */
  clock: ProcessingClock;
  /** The job parameters and info, for runtime contexts. */
  job: JobScope;
}

export class FanOut implements Output {
  constructor(private readonly targets: readonly Output[]) {}
  collect(record: unknown): void {
    for (const t of this.targets) t.collect(record);
  }
  emitWatermark(timestampMs: number): void {
    for (const t of this.targets) t.emitWatermark(timestampMs);
  }
  emitIdle(idle: boolean): void {
    for (const t of this.targets) t.emitIdle(idle);
  }
  /** To one target chosen at random: a marker measures one path, it is not copied. */
  emitLatencyMarker(marker: LatencyMarker): void {
    randomOf(this.targets).emitLatencyMarker(marker);
  }
}

export abstract class ChainOperator implements Output, Collector<unknown> {
  recordsIn = 0;
  recordsOut = 0;
  /** Elements dropped as later than the allowed lateness (window operators). */
  numLateRecordsDropped = 0;
  private downstream: Output = nullOutput;
  /** Side outputs by tag id: where `emitSide` sends (tags nobody reads are dropped, as in Flink). */
  private readonly sideOutputs = new Map<string, Output>();
  /** Emits to the downstream and counts. Bound once; user functions may keep it. */
  readonly emit = (record: unknown): void => {
    this.recordsOut++;
    this.downstream.collect(record);
  };
  protected readonly out: Collector<unknown> = { collect: this.emit };
  /** Where this operator records latency markers; undefined with latency tracking off and for sources. */
  latency: OperatorLatency | undefined;

  constructor(
    readonly node: GraphNode,
    protected readonly env: OperatorEnvironment,
  ) {}

  connect(downstream: Output): void {
    this.downstream = downstream;
  }

  /** Connects the consumers of side output `tagId`. */
  connectSide(tagId: string, output: Output): void {
    this.sideOutputs.set(tagId, output);
  }

  /** Emits `record` to side output `tagId` (with the current timestamp). Flink: `Context.output(OutputTag, value)`. */
  emitSide(tagId: string, record: unknown): void {
    this.recordsOut++;
    this.sideOutputs.get(tagId)?.collect(record);
  }

  /** As an Output (the chained operator before it emits): process the watermark. */
  emitWatermark(timestampMs: number): void {
    this.processWatermark(timestampMs);
  }

  emitIdle(idle: boolean): void {
    this.processIdle(idle);
  }

  emitLatencyMarker(marker: LatencyMarker): void {
    this.processLatencyMarker(marker);
  }

  /**
   * A latency marker reached this operator: record its latency, then forward it at once,
   * to one output (main or side) chosen at random; a sink's output drops it. Flink:
   * `AbstractStreamOperator.reportOrForwardLatencyMarker`.
   */
  processLatencyMarker(marker: LatencyMarker): void {
    this.latency?.report(marker.markedTime);
    this.forwardLatencyMarker(marker);
  }

  /** Sends a latency marker to one output, main or side, chosen at random (sources start markers here). */
  forwardLatencyMarker(marker: LatencyMarker): void {
    if (this.sideOutputs.size === 0) return this.downstream.emitLatencyMarker(marker);
    // Only connected outputs: a main output nobody reads must not swallow half the markers.
    const outputs = [...this.sideOutputs.values()];
    if (this.downstream !== nullOutput) outputs.push(this.downstream);
    randomOf(outputs).emitLatencyMarker(marker);
  }

  /** Sends a watermark to every output, main and side (Flink broadcasts them). */
  protected forwardWatermark(timestampMs: number): void {
    this.downstream.emitWatermark(timestampMs);
    for (const side of this.sideOutputs.values()) side.emitWatermark(timestampMs);
  }

  protected forwardIdle(idle: boolean): void {
    this.downstream.emitIdle(idle);
    for (const side of this.sideOutputs.values()) side.emitIdle(idle);
  }

  /**
   * The operator's input watermark advanced (from its input channels, or from the chained
   * operator before it). Operators with event-time timers fire them first; then it goes on.
   */
  processWatermark(timestampMs: number): void {
    this.forwardWatermark(timestampMs);
  }

  /** The operator's input became idle or active. */
  processIdle(idle: boolean): void {
    this.forwardIdle(idle);
  }

  /**
   * Processes one record. A throw out of it is blamed on this operator and record unless an
   * operator it emitted to took the blame first (`blame`), so the innermost running call is
   * the one named. A try/catch costs nothing while nothing throws.
   */
  collect(record: unknown): void {
    this.recordsIn++;
    try {
      this.process(record);
    } catch (thrown) {
      this.blame(thrown, record);
      throw thrown;
    }
  }

  /**
   * Names this operator (and `record`, or undefined outside a record: a timer, a window
   * firing) in `env.failure` for `thrown`, unless an operator further in already took the
   * blame for it (`blamesFor`). Call it in a catch, then rethrow `thrown`.
   */
  blame(thrown: unknown, record: unknown): void {
    const f = this.env.failure;
    if (blamesFor(f, thrown)) return;
    f.operator = this;
    f.record = record;
    f.thrown = thrown;
    f.seq = this.recordsIn;
  }

  /** `fn` with a throw out of it blamed on this operator, no record (a timer's or window's firing). */
  protected blamingThrows<A>(fn: (arg: A) => void): (arg: A) => void {
    return (arg) => {
      try {
        fn(arg);
      } catch (thrown) {
        this.blame(thrown, undefined);
        throw thrown;
      }
    };
  }

  /**
   * Whether `collectKeyed` needs each record's key group: when the state backend reads it.
   * The window operators always do (timers and window state keep it).
   */
  needsKeyGroups(): boolean {
    return this.env.backend.readsKeyGroup;
  }

  /** Sets the key of a record arriving on a keyed input (`keyGroup` -1 unless `needsKeyGroups()`), then processes it. */
  collectKeyed(record: unknown, key: StateKey, keyGroup: number): void {
    this.env.backend.setCurrentKey(key, keyGroup);
    this.collect(record);
  }

  /** Wraps a throw from this operator (or passes on one from a later operator). */
  failure(thrown: unknown, record: unknown): TaskFailure {
    if (thrown instanceof TaskFailure) return thrown;
    const cause = describeThrown(thrown);
    return new TaskFailure({
      operatorName: this.node.name,
      operatorUid: this.node.uid,
      subtaskIndex: this.env.subtaskIndex,
      parallelism: this.node.parallelism,
      position: this.env.position(),
      record: record === undefined ? undefined : previewRecord(record),
      causeName: cause.name,
      causeMessage: cause.message,
      causeStack: cause.stack,
    });
  }

  protected abstract process(record: unknown): void;
  /** Operator list state, made on first use (restored lists wait in it until asked for). */
  private operatorStore: OperatorListStore | undefined;

  private operatorStateStore(): OperatorListStore {
    if (this.operatorStore === undefined) {
      const restored = this.env.restoredState(this.node.uid) as { lists?: OperatorStateSnapshot } | undefined;
      this.operatorStore = new OperatorListStore(restored?.lists ?? {});
    }
    return this.operatorStore;
  }

  /** The user function's `snapshotState` hook, if it has one. */
  protected snapshotHook(): ((context: FunctionSnapshotContext) => void) | undefined {
    return undefined;
  }

  /**
   * Checkpoint n's synchronous phase for user operator state: runs the function's
   * `snapshotState`, then returns `{ lists }` when the operator has list state (restored
   * or used), else undefined. @throws TaskFailure when `snapshotState` throws.
   */
  snapshotOperatorState(checkpointId: number): { lists: OperatorStateSnapshot } | undefined {
    const hook = this.snapshotHook();
    if (hook !== undefined) {
      try {
        hook({ checkpointId });
      } catch (thrown) {
        throw this.failure(thrown, undefined);
      }
    }
    if (this.operatorStore === undefined && this.env.restoredState(this.node.uid) === undefined) return undefined;
    const lists = this.operatorStateStore().snapshot();
    return Object.keys(lists).length === 0 ? undefined : { lists };
  }

  async open(): Promise<void> {}
  /** End of input: flush what the operator holds. */
  endInput(): void {}
  async close(): Promise<void> {}

  /** The runtime context handed to rich functions. */
  runtimeContext(): RuntimeContext {
    const { node, env } = this;
    const keyed = <T>(get: () => T): T => {
      if (!node.keyed) {
        throw new TypeError(`Keyed state is only available on a keyed stream: "${node.name}" must follow keyBy()`);
      }
      return get();
    };
    return {
      operatorName: node.name,
      operatorUid: node.uid,
      subtaskIndex: env.subtaskIndex,
      parallelism: node.parallelism,
      maxParallelism: node.maxParallelism,
      getState: (d) => keyed(() => env.backend.getValueState(node.uid, { ...d, kind: 'value' })),
      getListState: (d) => keyed(() => env.backend.getListState(node.uid, { ...d, kind: 'list' })),
      getMapState: (d) => keyed(() => env.backend.getMapState(node.uid, { ...d, kind: 'map' })),
      getReducingState: (d) => keyed(() => env.backend.getReducingState(node.uid, { ...d, kind: 'reducing' })),
      getAggregatingState: (d) => keyed(() => env.backend.getAggregatingState(node.uid, { ...d, kind: 'aggregating' })),
      getJobParameters: () => env.job.parameters,
      getJobInfo: () => env.job.info,
      getOperatorStateStore: () => {
        const store = this.operatorStateStore();
        return {
          getListState: <T>(d: { name: string }) => store.getListState<T>(d.name),
          getUnionListState: <T>(d: { name: string }) => store.getUnionListState<T>(d.name),
        };
      },
    };
  }
}

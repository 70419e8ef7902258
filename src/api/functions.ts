/**
 * User function shapes, after Flink's `MapFunction`, `FlatMapFunction`, `ReduceFunction`,
 * `KeyedProcessFunction` and `RichFunction`. Each may be a plain function or an object with
 * the method and optional `open(context)` / `close()` lifecycle hooks (a rich function).
 */
import type {
  AggregatingState,
  AggregatingStateDescriptor,
  ListState,
  ListStateDescriptor,
  MapState,
  MapStateDescriptor,
  ReducingState,
  ReducingStateDescriptor,
  StateKey,
  ValueState,
  ValueStateDescriptor,
} from '../state/api.js';
import type { TimeDomain, TimerService } from '../time/index.js';
import type { OutputTag } from './output-tag.js';
import type { JobInfo, ParameterTool } from './job-parameters.js';

/** Receives the records a function emits. Flink: `Collector`. */
export interface Collector<T> {
  collect(record: T): void;
}

/**
 * Operator (non-keyed) state of one subtask: named lists that a checkpoint stores and a
 * restore at another parallelism redistributes. Flink: `OperatorStateStore`.
 * - `getListState({ name })`: even split: on restore the items of all old subtasks are
 *   concatenated in subtask order and cut into near-equal contiguous parts.
 * - `getUnionListState({ name })`: union: every new subtask gets all items.
 * Items must be structured-cloneable plain data. A name is one mode for its whole life:
 * asking for it in the other mode throws `TypeError`.
 */
export interface OperatorStateStore {
  getListState<T>(descriptor: { name: string }): ListState<T>;
  getUnionListState<T>(descriptor: { name: string }): ListState<T>;
}

/** What `snapshotState` is told. Flink: `FunctionSnapshotContext`. */
export interface FunctionSnapshotContext {
  readonly checkpointId: number;
}

/**
 * Keyed state of the current key (and, for a window's `windowState()`, the current
 * window). Flink: `KeyedStateStore`.
 */
export interface KeyedStateStore {
  getState<T>(descriptor: Omit<ValueStateDescriptor<T>, 'kind'>): ValueState<T>;
  getListState<T>(descriptor: Omit<ListStateDescriptor<T>, 'kind'>): ListState<T>;
  getMapState<K, V>(descriptor: Omit<MapStateDescriptor<K, V>, 'kind'>): MapState<K, V>;
  getReducingState<T>(descriptor: Omit<ReducingStateDescriptor<T>, 'kind'>): ReducingState<T>;
  getAggregatingState<IN, ACC, OUT>(
    descriptor: Omit<AggregatingStateDescriptor<IN, ACC, OUT>, 'kind'>,
  ): AggregatingState<IN, OUT>;
}

/**
 * What a rich function can see of its subtask. Flink: `RuntimeContext`.
 * Keyed state getters throw unless the operator runs on a keyed stream.
 */
export interface RuntimeContext extends KeyedStateStore {
  /** Operator name, as set with `.name()`. */
  readonly operatorName: string;
  readonly operatorUid: string;
  /** 0-based index of this subtask, and the operator's parallelism. */
  readonly subtaskIndex: number;
  readonly parallelism: number;
  readonly maxParallelism: number;
  /** This subtask's operator list state (restored, redistributed, by the time `open` runs). */
  getOperatorStateStore(): OperatorStateStore;
  /**
   * The job parameters of this run (`--param key=value`, `runJob(url, { params })`), the
   * same in every subtask: `get`, `getRequired`, `getNumber`, `getInt`, `getBoolean`,
   * `toMap()`. Flink: `getGlobalJobParameters()` (a `ParameterTool`).
   */
  getJobParameters(): ParameterTool;
  /** The job's id, seed and start time (epoch ms), the same in every subtask and across restarts. Flink: `getJobInfo()`. */
  getJobInfo(): JobInfo;
}

/** Lifecycle hooks of a rich function. */
export interface RichFunction {
  open?(context: RuntimeContext): void | Promise<void>;
  close?(): void | Promise<void>;
  /**
   * Called at every checkpoint barrier, before operator state is snapshotted: write what
   * must survive into operator list state here. Flink: `CheckpointedFunction.snapshotState`.
   * A throw fails the checkpoint's subtask like a throw from `map`.
   */
  snapshotState?(context: FunctionSnapshotContext): void;
}

export type MapFunction<IN, OUT> =
  | ((value: IN) => OUT)
  | (RichFunction & { map(value: IN): OUT });
export type FilterFunction<T> =
  | ((value: T) => boolean)
  | (RichFunction & { filter(value: T): boolean });
export type FlatMapFunction<IN, OUT> =
  | ((value: IN, out: Collector<OUT>) => void)
  | (RichFunction & { flatMap(value: IN, out: Collector<OUT>): void });
export type ReduceFunction<T> = (accumulated: T, value: T) => T;
/** Extracts the key of a record; the key must hash stably (see state/key-group.ts). */
export type KeySelector<T, K extends StateKey = StateKey> = (value: T) => K;

/** Per-record context of a process function. Flink: `ProcessFunction.Context`. */
export interface ProcessContext {
  /** The record's event timestamp (ms since the epoch), or undefined when it has none. */
  timestamp(): number | undefined;
  /**
   * The timer service. Timers belong to keys: on a non-keyed stream every call throws a
   * TypeError (keyBy() first), as Flink's "Setting timers is only supported on a keyed streams".
   */
  timerService(): TimerService;
  /** Emits `value` to the side output `tag` (with the current timestamp). */
  output<X>(tag: OutputTag<X>, value: X): void;
}

/** Per-record context of a keyed process function. Flink: `KeyedProcessFunction.Context`. */
export interface KeyedContext<K> extends ProcessContext {
  getCurrentKey(): K;
}

/** Context of `onTimer`. Flink: `KeyedProcessFunction.OnTimerContext`. */
export interface OnTimerContext<K> extends KeyedContext<K> {
  /** Which kind of timer fired. */
  timeDomain(): TimeDomain;
}

/** What `endInput` of a keyed process function can do with keyed state. */
export interface KeyedEndInputContext<K> {
  /**
   * Calls `fn(key)` once for every key that has a value in the state named `stateName`
   * (registered in `open`), with that key current: state getters read and write its
   * values. Flink: `KeyedStateBackend.applyToAllKeys`.
   * @throws TypeError when no state of that name is registered.
   */
  applyToAllKeys(stateName: string, fn: (key: K) => void): void;
}

/** Flink's `KeyedProcessFunction`: per-record logic with keyed state from `open`'s context. */
export interface KeyedProcessFunction<K, IN, OUT> extends RichFunction {
  processElement(value: IN, ctx: KeyedContext<K>, out: Collector<OUT>): void;
  /**
   * A timer registered through `ctx.timerService()` fired: `timestamp` is its time, the
   * key is current (state reads that key's), output records carry the timer's time (event
   * time) or none (processing time). Never runs at the same time as `processElement`.
   */
  onTimer?(timestamp: number, ctx: OnTimerContext<K>, out: Collector<OUT>): void;
  /**
   * The input has ended (a bounded job): emit final results, e.g. one line per key with
   * `ctx.applyToAllKeys`. Runs once, before the job's final checkpoint; not when the job
   * stops with a savepoint, and not again after a restore of a finished subtask.
   * Flink: `BoundedOneInput.endInput`.
   */
  endInput?(out: Collector<OUT>, ctx: KeyedEndInputContext<K>): void;
}

/**
 * Per-record logic on a non-keyed stream, with timestamps and side outputs (no timers, no
 * keyed state). Flink: `ProcessFunction`.
 */
export interface ProcessFunction<IN, OUT> extends RichFunction {
  processElement(value: IN, ctx: ProcessContext, out: Collector<OUT>): void;
  /** The input has ended (a bounded job): emit final results. Flink: `BoundedOneInput.endInput`. */
  endInput?(out: Collector<OUT>): void;
}

/** A plain sink: at-least-once, one call per record. Flink: `SinkFunction` / `RichSinkFunction`. */
export type SinkFunction<IN> = ((value: IN) => void) | (RichFunction & { invoke(value: IN): void });

/** Normalized form used by the runtime: every function as a method plus hooks. */
export interface Normalized<F> extends RichFunction {
  call: F;
}

type Callable = (...args: any[]) => unknown;

/**
 * Turns `fn` or `{ [method]: fn, open?, close? }` into `{ call, open, close }`.
 * @throws TypeError naming `what` when neither shape fits.
 */
export function normalizeFunction<F extends Callable>(fn: unknown, method: string, what: string): Normalized<F> {
  if (typeof fn === 'function') return { call: fn as F };
  if (fn !== null && typeof fn === 'object') {
    const candidate = (fn as Record<string, unknown>)[method];
    if (typeof candidate === 'function') {
      const rich = fn as RichFunction;
      return {
        call: candidate.bind(fn) as F,
        open: rich.open?.bind(fn),
        close: rich.close?.bind(fn),
        snapshotState: rich.snapshotState?.bind(fn),
      };
    }
  }
  throw new TypeError(`${what} expects a function or an object with a ${method}() method, got ${typeof fn}`);
}

/**
 * Process functions: `KeyedProcessOperator` (Flink's, with keyed state, event-time and
 * processing-time timers, side outputs and `endInput`) and `ProcessOperator` (Flink's, on a
 * non-keyed stream: timestamps and side outputs, no timers).
 *
 * Timers fire inside the mailbox thread: event-time ones when the operator's watermark
 * advances (before the watermark goes on downstream, as Flink's `InternalTimeServiceManager`
 * does), processing-time ones when the task loop finds them due. Output records of an
 * event-time timer carry the timer's time; those of a processing-time timer none.
 */
import { refuseAsyncResult } from '../errors.js';
import type {
  Collector,
  FunctionSnapshotContext,
  KeyedContext,
  KeyedEndInputContext,
  KeyedProcessFunction,
  OnTimerContext,
  OutputTag,
  ProcessContext,
  ProcessFunction,
} from '../api/index.js';
import type { GraphNode } from '../graph/index.js';
import type { StateKey } from '../state/api.js';
import { assignToKeyGroup } from '../state/key-group.js';
import { InternalTimerService } from '../time/index.js';
import type { FiredTimer, TimeDomain, TimerService } from '../time/index.js';
import { ChainOperator } from './operators.js';
import type { OperatorEnvironment } from './operators.js';

/** The timer service of a non-keyed stream: every call says why it cannot be. */
function noTimers(operatorName: string): TimerService {
  const refuse = (): never => {
    throw new TypeError(`Timers of "${operatorName}" need a keyed stream: a timer belongs to a key, so call keyBy() before process()`);
  };
  return {
    currentProcessingTime: () => Date.now(),
    currentWatermark: () => -Infinity,
    registerEventTimeTimer: refuse,
    registerProcessingTimeTimer: refuse,
    deleteEventTimeTimer: refuse,
    deleteProcessingTimeTimer: refuse,
  };
}

/** Processing-time timers the task loop must serve. */
export interface ProcessingTimeOperator {
  /** When the next processing-time timer is due (ms), or undefined. */
  nextProcessingTimer(): number | undefined;
  /** Fires those due now. */
  fireProcessingTimers(): void;
}

export class KeyedProcessOperator extends ChainOperator implements ProcessingTimeOperator {
  private timers!: InternalTimerService;
  private domain: TimeDomain = 'EVENT_TIME';
  private readonly context: OnTimerContext<unknown>;
  private readonly endContext: KeyedEndInputContext<unknown> = {
    applyToAllKeys: (stateName, fn) => this.env.backend.applyToAllKeys(this.node.uid, stateName, fn as (key: unknown) => void),
  };

  constructor(node: GraphNode, env: OperatorEnvironment, private readonly fn: KeyedProcessFunction<unknown, unknown, unknown>) {
    super(node, env);
    const ts = env.timestamp;
    this.context = {
      getCurrentKey: () => this.env.backend.getCurrentKey(),
      timestamp: () => (Number.isNaN(ts.value) ? undefined : ts.value),
      timerService: () => this.timers,
      output: <X>(tag: OutputTag<X>, value: X) => this.emitSide(tag.id, value),
      timeDomain: () => this.domain,
    };
  }

  override async open(): Promise<void> {
    const backend = this.env.backend;
    this.timers = new InternalTimerService(
      this.node.name,
      {
        currentKey: () => {
          const key = backend.getCurrentKey();
          return key === undefined ? undefined : { key, keyGroup: assignToKeyGroup(key, this.node.maxParallelism) };
        },
        setCurrentKey: (key: StateKey, keyGroup: number) => backend.setCurrentKey(key, keyGroup),
      },
      backend.timers(this.node.uid, 'event'),
      backend.timers(this.node.uid, 'processing'),
      this.env.clock,
    );
    await this.fn.open?.(this.runtimeContext());
  }

  protected process(record: unknown): void {
    refuseAsyncResult(this.fn.processElement(record, this.context, this.out), this.node.name, 'processElement()');
  }

  /** Fires one timer through `onTimer`; a throw out of it is blamed on this operator (see `blame`). */
  private readonly fire = this.blamingThrows((timer: FiredTimer): void => {
    if (this.fn.onTimer === undefined) return;
    this.domain = timer.domain;
    this.env.timestamp.value = timer.domain === 'EVENT_TIME' ? timer.timestampMs : NaN;
    refuseAsyncResult(this.fn.onTimer(timer.timestampMs, this.context, this.out), this.node.name, 'onTimer()');
    this.domain = 'EVENT_TIME';
  });

  /** Fires the event-time timers the watermark reached, then forwards the watermark. */
  override processWatermark(timestampMs: number): void {
    this.timers.advanceWatermark(timestampMs, this.fire);
    this.forwardWatermark(timestampMs);
  }

  nextProcessingTimer(): number | undefined {
    return this.timers.nextProcessingTimer();
  }

  fireProcessingTimers(): void {
    this.timers.fireProcessingTimers(this.fire);
  }

  override endInput(): void {
    this.fn.endInput?.(this.out, this.endContext);
  }

  override async close(): Promise<void> {
    await this.fn.close?.();
  }

  protected override snapshotHook(): ((context: FunctionSnapshotContext) => void) | undefined {
    return this.fn.snapshotState?.bind(this.fn);
  }
}

export class ProcessOperator extends ChainOperator {
  private readonly context: ProcessContext;

  constructor(node: GraphNode, env: OperatorEnvironment, private readonly fn: ProcessFunction<unknown, unknown>) {
    super(node, env);
    const ts = env.timestamp;
    const timers = noTimers(node.name);
    this.context = {
      timestamp: () => (Number.isNaN(ts.value) ? undefined : ts.value),
      timerService: () => timers,
      output: <X>(tag: OutputTag<X>, value: X) => this.emitSide(tag.id, value),
    };
  }

  override async open(): Promise<void> {
    await this.fn.open?.(this.runtimeContext());
  }

  protected process(record: unknown): void {
    refuseAsyncResult(this.fn.processElement(record, this.context, this.out as Collector<unknown>), this.node.name, 'processElement()');
  }

  override endInput(): void {
    this.fn.endInput?.(this.out);
  }

  override async close(): Promise<void> {
    await this.fn.close?.();
  }

  protected override snapshotHook(): ((context: FunctionSnapshotContext) => void) | undefined {
    return this.fn.snapshotState?.bind(this.fn);
  }
}

/** @internal For KeyedContext typing in tests. */
export type { KeyedContext };

/**
 * What the two window operators share (WindowOperator, Flink's method, and
 * SlicedWindowOperator): the current key and window, the timer service whose key is the
 * window's backend key `[key, window namespace]` in the key group of `key`, the
 * ProcessWindowFunction's context with its per-window and global state, the late-data
 * tag, and the lifecycle of the window function. Flink: the parts of `WindowOperator`
 * that `EvictingWindowOperator` inherits.
 */
import type { FunctionSnapshotContext } from '../api/index.js';
import { OutputTag } from '../api/output-tag.js';
import type { GraphNode } from '../graph/index.js';
import type { StateKey } from '../state/api.js';
import { InternalTimerService } from '../time/index.js';
import type { FiredTimer } from '../time/index.js';
import type { PartitionedStateStore, ProcessWindowContext, Window } from '../time/windows/api.js';
import type { WindowSpec } from '../time/windows/spec.js';
import { ChainOperator } from './operators.js';
import type { OperatorEnvironment } from './operators.js';
import type { ProcessingTimeOperator } from './process-operators.js';
import { scopedStore } from './window-state.js';

export abstract class WindowOperatorBase extends ChainOperator implements ProcessingTimeOperator {
  protected timers!: InternalTimerService;
  /** The record's (or timer's) key and its key group. */
  protected key: StateKey = 0;
  protected keyGroup = 0;
  /** The window the window function (and trigger) sees now, and its backend key. */
  protected window!: Window;
  protected windowKey: StateKey = 0;
  protected windowStore!: PartitionedStateStore;
  protected globalStore!: PartitionedStateStore;
  protected readonly processContext: ProcessWindowContext<Window>;
  /** Where elements later than the allowed lateness go; undefined: dropped and counted. */
  protected readonly lateTag: OutputTag<unknown> | undefined;

  constructor(
    node: GraphNode,
    env: OperatorEnvironment,
    protected readonly spec: WindowSpec,
  ) {
    super(node, env);
    this.lateTag = spec.lateDataTag === undefined ? undefined : new OutputTag(spec.lateDataTag);
    const clock = env.clock;
    const self = this;
    this.processContext = {
      get window() {
        return self.window;
      },
      currentProcessingTime: () => clock.now(),
      currentWatermark: () => self.timers.currentWatermark(),
      windowState: () => self.windowStore,
      globalState: () => self.globalStore,
      output: (tag, value) => self.emitSide(tag.id, value),
    };
  }

  /** Runs one fired timer (the key is `[key, window namespace]`). */
  protected abstract readonly fire: (timer: FiredTimer) => void;

  /** Makes the timer service and the function's state stores, then opens the function. */
  override async open(): Promise<void> {
    const backend = this.env.backend;
    const uid = this.node.uid;
    this.timers = new InternalTimerService(
      this.node.name,
      {
        currentKey: () => ({ key: this.windowKey, keyGroup: this.keyGroup }),
        setCurrentKey: (key, keyGroup) => backend.setCurrentKey(key, keyGroup),
      },
      backend.timers(uid, 'event'),
      backend.timers(uid, 'processing'),
      this.env.clock,
    );
    this.windowStore = scopedStore(backend, uid, () => ({ key: this.windowKey, keyGroup: this.keyGroup }), true);
    this.globalStore = scopedStore(backend, uid, () => ({ key: this.key, keyGroup: this.keyGroup }), false);
    await this.spec.fn.process?.open?.(this.runtimeContext());
  }

  /** Timers and window state keep each record's key group. */
  override needsKeyGroups(): boolean {
    return true;
  }

  override collectKeyed(record: unknown, key: StateKey, keyGroup: number): void {
    this.key = key;
    this.keyGroup = keyGroup;
    this.collect(record);
  }

  /** Fires the event-time timers the watermark reached (windows, cleanup), then forwards it. */
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

  override async close(): Promise<void> {
    await this.spec.fn.process?.close?.();
  }

  protected override snapshotHook(): ((context: FunctionSnapshotContext) => void) | undefined {
    const process = this.spec.fn.process;
    return process?.snapshotState?.bind(process);
  }
}

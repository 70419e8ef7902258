/**
 * The basic operators around one user function: map, filter, flatMap, the rolling reduce
 * on keyed state and `addSink(fn)`. Each calls its function out of line (user-call.ts) and
 * refuses an asynchronous result.
 *
 * Flink: `StreamMap`, `StreamFilter`, `StreamFlatMap`, `StreamGroupedReduceOperator`,
 * `StreamSink` of a `SinkFunction`.
 */
import type { Collector, FunctionSnapshotContext, Normalized, ReduceFunction } from '../api/index.js';
import { refuseAsyncResult } from '../errors.js';
import type { GraphNode } from '../graph/index.js';
import type { ValueState } from '../state/api.js';
import { ChainOperator } from './operators.js';
import type { OperatorEnvironment } from './operators.js';
import { callUser1, callUser2, keepUserCallsOutOfLine } from './user-call.js';

/** An operator around a rich function: opens and closes it with the runtime context. */
export abstract class RichOperator<F> extends ChainOperator {
  constructor(node: GraphNode, env: OperatorEnvironment, protected readonly fn: Normalized<F>) {
    super(node, env);
    keepUserCallsOutOfLine();
  }
  override async open(): Promise<void> {
    await this.fn.open?.(this.runtimeContext());
  }
  override async close(): Promise<void> {
    await this.fn.close?.();
  }
  protected override snapshotHook(): ((context: FunctionSnapshotContext) => void) | undefined {
    return this.fn.snapshotState;
  }
}

export class MapOperator extends RichOperator<(value: unknown) => unknown> {
  protected process(record: unknown): void {
    const out = callUser1(this.fn.call, record);
    refuseAsyncResult(out, this.node.name, 'map()');
    this.emit(out);
  }
}

export class FilterOperator extends RichOperator<(value: unknown) => boolean> {
  protected process(record: unknown): void {
    const keep = callUser1(this.fn.call, record);
    if (keep === true) this.emit(record);
    else if (keep !== false) {
      refuseAsyncResult(keep, this.node.name, 'filter()');
      if (keep) this.emit(record);
    }
  }
}

export class FlatMapOperator extends RichOperator<(value: unknown, out: Collector<unknown>) => void> {
  protected process(record: unknown): void {
    refuseAsyncResult(callUser2(this.fn.call, record, this.out), this.node.name, 'flatMap()');
  }
}

/** Rolling reduce on keyed state: emits the new accumulated value for every record. */
export class ReduceOperator extends ChainOperator {
  private state!: ValueState<unknown>;
  constructor(node: GraphNode, env: OperatorEnvironment, private readonly reduce: ReduceFunction<unknown>) {
    super(node, env);
    keepUserCallsOutOfLine();
  }
  override async open(): Promise<void> {
    this.state = this.env.backend.getValueState(this.node.uid, { kind: 'value', name: '_op_state' });
  }
  protected process(record: unknown): void {
    const current = this.state.value();
    const next = current === undefined ? record : callUser2(this.reduce, current, record);
    refuseAsyncResult(next, this.node.name, 'reduce()');
    this.state.update(next);
    this.emit(next);
  }
}

/** `addSink(fn)`: a plain function per record, at-least-once. Flink: `StreamSink` of a `SinkFunction`. */
export class SinkFunctionOperator extends RichOperator<(value: unknown) => void> {
  protected process(record: unknown): void {
    refuseAsyncResult(callUser1(this.fn.call, record), this.node.name, 'the sink function');
  }
}

// An in-process harness for the window operator (Flink's KeyedOneInputStreamOperatorTestHarness):
// one WindowOperator on a heap or LSM backend with a manual processing clock; records go
// in with a key and an event timestamp, watermarks and clock advances fire timers, and
// every main and late-side output is kept with its timestamp.
import type { Test } from 'tap';
import { StreamExecutionEnvironment } from '../../../src/api/index.js';
import type { GraphNode } from '../../../src/graph/index.js';
import { HeapKeyedStateBackend } from '../../../src/state/heap-backend.js';
import { LsmKeyedStateBackend } from '../../../src/state/lsm-backend.js';
import { assignToKeyGroup } from '../../../src/state/key-group.js';
import type { KeyedStateBackend, StateKey } from '../../../src/state/api.js';
import type { OperatorEnvironment, Output } from '../../../src/task/operators.js';
import { WindowOperator } from '../../../src/task/window-operator.js';
import type { WindowSpec } from '../../../src/time/windows/spec.js';
import { tempDir } from '../../state/helpers.js';

export const harnessMaxParallelism = 32;

export type BackendKind = 'heap' | 'lsm';

export function makeBackend(t: Test, kind: BackendKind): KeyedStateBackend {
  return kind === 'heap'
    ? new HeapKeyedStateBackend({ fsync: false })
    : new LsmKeyedStateBackend({ dir: tempDir(t, 'window-harness'), maxParallelism: harnessMaxParallelism, store: { memtableSizeBytes: 16384, fsync: false } });
}

/** A graph node for a window operator run alone (one subtask, keyed). */
export function windowGraphNode(uid = 'window', maxParallelism = harnessMaxParallelism): GraphNode {
  return { plan: undefined as never, id: 0, uid, name: 'Window', parallelism: 1, maxParallelism, slotSharingGroup: 'default', vertex: 0, keyed: true };
}

/** The environment of an operator run alone, on `backend`, with processing time `clock`. */
export function operatorEnvironment(backend: KeyedStateBackend, clock: { now(): number } = { now: () => 0 }): OperatorEnvironment {
  return {
    subtaskIndex: 0,
    backend,
    failure: { operator: undefined, record: undefined, thrown: undefined, seq: 0 },
    position: () => undefined,
    restoredState: () => undefined,
    timestamp: { value: NaN },
    clock,
    job: new StreamExecutionEnvironment(1).jobScope(),
  };
}

/** An output of the operator: the record and its timestamp (ms; NaN for none). */
export interface Emitted {
  value: unknown;
  timestamp: number;
}

export class WindowHarness {
  /** Processing time, ms: set it, then `fireProcessingTimers()`. */
  now = 0;
  readonly main: Emitted[] = [];
  readonly late: Emitted[] = [];
  readonly operator: WindowOperator;
  private readonly env: OperatorEnvironment;

  constructor(
    readonly backend: KeyedStateBackend,
    spec: WindowSpec,
  ) {
    this.env = operatorEnvironment(backend, { now: () => this.now });
    this.operator = new WindowOperator(windowGraphNode(), this.env, spec);
    this.operator.connect(this.sink(this.main));
    if (spec.lateDataTag !== undefined) this.operator.connectSide(spec.lateDataTag, this.sink(this.late));
  }

  private sink(into: Emitted[]): Output {
    return {
      collect: (value) => into.push({ value, timestamp: this.env.timestamp.value }),
      emitWatermark: () => {},
      emitIdle: () => {},
      emitLatencyMarker: () => {},
    };
  }

  async open(): Promise<this> {
    await this.operator.open();
    return this;
  }

  /** One record of `key` with event timestamp `timestamp` (NaN: none). */
  element(key: StateKey, value: unknown, timestamp: number): void {
    this.env.timestamp.value = timestamp;
    this.operator.collectKeyed(value, key, assignToKeyGroup(key, harnessMaxParallelism));
  }

  watermark(timestampMs: number): void {
    this.operator.processWatermark(timestampMs);
  }

  /** Sets the clock and fires the processing-time timers due. */
  advanceClock(nowMs: number): void {
    this.now = nowMs;
    this.operator.fireProcessingTimers();
  }

  /** Takes (and forgets) the main outputs so far. */
  takeMain(): Emitted[] {
    return this.main.splice(0);
  }

  takeLate(): Emitted[] {
    return this.late.splice(0);
  }
}

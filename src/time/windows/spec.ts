/**
 * What `window(...)` builds in a plan: the assigner, trigger, evictor, lateness and the
 * window function, as the window operator (task/window-operator.ts) runs them. Flink: the
 * arguments of `WindowOperatorBuilder`.
 */
import type { ReduceFunction } from '../../api/functions.js';
import type { AggregateFunction } from '../../state/api.js';
import type { Evictor, ProcessWindowFunction, Trigger, Window, WindowAssigner } from './api.js';

/** How a window's contents are kept and turned into output. */
export type WindowFunctionSpec =
  /**
   * One accumulated value per window; `process` (optional) gets it as its only element.
   * `orderSensitive`: the result depends on the order elements arrive in, beyond what
   * associativity and commutativity allow (`sum`/`min`/`max` of a field keep the first
   * element's other fields, `minBy`/`maxBy` the first of equals); such a reduce is never
   * sliced (task/sliced-window-operator.ts), which combines partial results in time order.
   */
  | { kind: 'reduce'; reduce: ReduceFunction<any>; process?: ProcessWindowFunction<any, any, any, any> | undefined; orderSensitive?: boolean }
  /** One accumulator per window; output `getResult(acc)`, through `process` when given. */
  | { kind: 'aggregate'; aggregate: AggregateFunction<any, any, any>; process?: ProcessWindowFunction<any, any, any, any> | undefined }
  /** Every element of the window, in arrival order. */
  | { kind: 'process'; process: ProcessWindowFunction<any, any, any, any> };

export interface WindowSpec {
  assigner: WindowAssigner<any, Window>;
  /** undefined: the assigner's default trigger. */
  trigger: Trigger<any, Window> | undefined;
  evictor: Evictor<any, Window> | undefined;
  /** ms, >= 0 (event-time windows only). */
  allowedLatenessMs: number;
  /** OutputTag id for elements later than the allowed lateness; undefined: drop and count. */
  lateDataTag: string | undefined;
  fn: WindowFunctionSpec;
  /** `windowAll`: one window operator subtask for the whole stream. */
  all: boolean;
}

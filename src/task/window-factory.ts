/**
 * Which operator runs a `window(...)`: the sliced window operator when the spec allows it
 * (sliced-window-operator.ts, `slicingOf`), else Flink's WindowOperator. Both behave the
 * same; the sliced one costs less per element on sliding windows.
 *
 * `SLUICEGATE_WINDOW_SLICING=off` in the environment of the process that runs the job
 * (worker threads inherit it) forces WindowOperator for every window. It exists for
 * benchmarks (bench/windows.bench.ts compares the two paths on one input) and for
 * bisecting a suspected slicing bug; it is not a tuning knob. The two operators keep
 * different state (`window-slices` against `window-contents`): do not flip the switch
 * between a checkpoint or savepoint and its restore, or the open windows are lost.
 */
import type { GraphNode } from '../graph/index.js';
import type { WindowSpec } from '../time/windows/spec.js';
import type { ChainOperator, OperatorEnvironment } from './operators.js';
import type { ProcessingTimeOperator } from './process-operators.js';
import { SlicedWindowOperator, slicingOf } from './sliced-window-operator.js';
import { WindowOperator } from './window-operator.js';

/** The environment variable that switches slicing off (bench only): value `off`. */
export const windowSlicingEnv = 'SLUICEGATE_WINDOW_SLICING';

/** True unless `SLUICEGATE_WINDOW_SLICING=off`. @throws RangeError for another value than on/off. */
export function windowSlicingEnabled(env: NodeJS.ProcessEnv = process.env): boolean {
  const v = env[windowSlicingEnv];
  if (v === undefined || v === '' || v === 'on') return true;
  if (v === 'off') return false;
  throw new RangeError(`${windowSlicingEnv} must be "on" or "off" (bench only), got ${JSON.stringify(v)}`);
}

/** The window operator for `spec`: sliced when it qualifies and slicing is on. */
export function createWindowOperator(node: GraphNode, env: OperatorEnvironment, spec: WindowSpec): ChainOperator & ProcessingTimeOperator {
  const slicing = windowSlicingEnabled() ? slicingOf(spec) : 'slicing is off';
  return typeof slicing === 'string' ? new WindowOperator(node, env, spec) : new SlicedWindowOperator(node, env, spec, slicing);
}

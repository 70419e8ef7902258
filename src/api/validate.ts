/** Argument checks shared by the API and the runtime options. */

/**
 * @throws RangeError naming `what` unless `value` is an integer in [1, max].
 */
export function checkParallelism(value: unknown, what: string, max = 32768): asserts value is number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 1 || value > max) {
    throw new RangeError(`${what} must be an integer from 1 to ${max}, got ${String(value)}`);
  }
}

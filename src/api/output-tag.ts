/**
 * A named side output of a process function. Flink: `OutputTag<T>`.
 *
 * `ctx.output(tag, value)` in a process function sends `value` to the side output `tag`;
 * `stream.getSideOutput(tag)` is a stream of those values like any other (chained,
 * shuffled, checkpointed, exactly once into a two-phase sink). The id names the tag: two
 * tags with the same id are the same side output. Records routed to a tag that no
 * `getSideOutput` reads are dropped.
 */
const outputTagBrand = Symbol.for('sluicegate.OutputTag');

export class OutputTag<T> {
  /**
   * Marks tags; `Symbol.for`, so that `instanceof OutputTag` holds for a tag of another
   * copy of the library: tsx gives a TypeScript job module its own copy of `sluicegate`.
   */
  private readonly [outputTagBrand] = true;

  static [Symbol.hasInstance](value: unknown): boolean {
    return typeof value === 'object' && value !== null && (value as { [outputTagBrand]?: unknown })[outputTagBrand] === true;
  }

  /** @throws TypeError for an id that is not a non-empty string. */
  constructor(readonly id: string) {
    if (typeof id !== 'string' || id === '') throw new TypeError(`new OutputTag(id) expects a non-empty string id, got ${JSON.stringify(id)}`);
  }

  /** @internal Keeps T in the type. */
  protected readonly valueType?: (value: T) => void;
}

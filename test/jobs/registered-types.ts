// Job modules for test/engine/registered-types.test.ts: records and keyed state that are
// instances of classes of the job's own. args[0] names the scenario.
import { defineJob } from '../../src/index.js';
import type { Collector, KeyedContext, KeyedProcessFunction, RuntimeContext, ValueState } from '../../src/index.js';

/** A record class: carried with its prototype once registered. */
export class Reading {
  constructor(
    readonly sensor: string,
    readonly value: number,
    readonly at: Date,
  ) {}
  doubled(): number {
    return this.value * 2;
  }
}

/** Kept in keyed state: the running total of a sensor, with a method. */
export class Total {
  count = 0;
  sum = 0;
  add(r: Reading): Total {
    const next = new Total();
    next.count = this.count + 1;
    next.sum = this.sum + r.value;
    return next;
  }
}

/** A class with a serializer of its own (private fields cannot be copied as fields). */
export class Celsius {
  #degrees: number;
  constructor(degrees: number) {
    this.#degrees = degrees;
  }
  get degrees(): number {
    return this.#degrees;
  }
}

/** Never registered. */
export class Unregistered {
  constructor(readonly n: number) {}
}

class Totals implements KeyedProcessFunction<string, Reading, string> {
  private total!: ValueState<Total>;
  open(ctx: RuntimeContext): void {
    this.total = ctx.getState<Total>({ name: 'total' });
  }
  processElement(r: Reading, _ctx: KeyedContext<string>, out: Collector<string>): void {
    const before = this.total.value();
    if (!(r instanceof Reading) || !(r.at instanceof Date)) throw new Error(`lost its class on the way: ${JSON.stringify(r)}`);
    if (before !== undefined && !(before instanceof Total)) throw new Error(`state lost its class: ${JSON.stringify(before)}`);
    const next = (before ?? new Total()).add(r);
    this.total.update(next);
    out.collect(`${r.sensor}\t${next.count}\t${next.sum}\t${r.doubled()}`);
  }
}

class KeepsUnregistered implements KeyedProcessFunction<number, number, number> {
  private last!: ValueState<Unregistered>;
  open(ctx: RuntimeContext): void {
    this.last = ctx.getState<Unregistered>({ name: 'last' });
  }
  processElement(n: number, _ctx: KeyedContext<number>, out: Collector<number>): void {
    this.last.update(new Unregistered(n));
    out.collect(n);
  }
}

export const sensors = 7;
export const readingOf = (i: number): Reading => new Reading(`s${i % sensors}`, i % 100, new Date(1_700_000_000_000 + i));

export default defineJob((env, args) => {
  const n = Number(args[1] ?? 2000);
  switch (args[0]) {
    case 'registered': {
      env.registerType(Reading).registerType(Total);
      env.registerType(Celsius, { serializer: { serialize: (c) => c.degrees, deserialize: (d) => new Celsius(d as number) } });
      const readings = env.fromSequence(0, n - 1).uid('numbers').map(readingOf).uid('readings').rebalance();
      readings.keyBy((r: Reading) => r.sensor).process(new Totals()).uid('totals').collect('totals');
      readings.map((r: Reading) => new Celsius(r.value)).uid('celsius').rebalance().collect('celsius');
      return;
    }
    case 'unregistered-record':
      env.fromSequence(0, n - 1).uid('numbers').map((i: number) => new Unregistered(i)).name('Wrap').rebalance().collect();
      return;
    case 'unregistered-state':
      env.fromSequence(0, n - 1).uid('numbers').keyBy((i: number) => i % 5).process(new KeepsUnregistered()).name('Keeps').collect();
      return;
    default:
      throw new Error(`unknown scenario ${args[0]}`);
  }
});

// Job modules for the engine tests. args[0] names the scenario, args[1] holds JSON
// parameters; every scenario is deterministic given its arguments, as jobs must be.
import { SlidingEventTimeWindows, TumblingEventTimeWindows, WatermarkStrategy, defineJob } from '../../src/index.js';
import type { OnTimerContext, ProcessWindowContext, ProcessWindowFunction, TimeWindow } from '../../src/index.js';
import type { Collector, KeyedContext, KeyedProcessFunction, RichFunction, RuntimeContext, ValueState, ListState, MapState, ReducingState, AggregatingState } from '../../src/index.js';

export interface StatefulRecord {
  key: string;
  value: number;
}

/** Uses every keyed state type; emits a digest of the key's state after each record. */
export class AllStates implements KeyedProcessFunction<string, StatefulRecord, unknown[]> {
  private count!: ValueState<number>;
  private list!: ListState<number>;
  private distinct!: MapState<number, number>;
  private sum!: ReducingState<number>;
  private mean!: AggregatingState<number, number>;

  open(ctx: RuntimeContext): void {
    this.count = ctx.getState({ name: 'count', defaultValue: 0 });
    this.list = ctx.getListState({ name: 'recent' });
    this.distinct = ctx.getMapState({ name: 'distinct' });
    this.sum = ctx.getReducingState({ name: 'sum', reduce: (a: number, b: number) => a + b });
    this.mean = ctx.getAggregatingState({
      name: 'mean',
      aggregate: {
        createAccumulator: () => [0, 0] as [number, number],
        add: (v: number, acc: [number, number]) => [acc[0] + v, acc[1] + 1] as [number, number],
        getResult: (acc: [number, number]) => acc[0] / acc[1],
      },
    });
  }

  processElement(r: StatefulRecord, ctx: KeyedContext<string>, out: Collector<unknown[]>): void {
    this.count.update(this.count.value()! + 1);
    const recent = [...this.list.get(), r.value].slice(-3);
    this.list.update(recent);
    this.distinct.put(r.value % 5, (this.distinct.get(r.value % 5) ?? 0) + 1);
    this.sum.add(r.value);
    this.mean.add(r.value);
    out.collect([ctx.getCurrentKey(), this.count.value(), recent, [...this.distinct.keys()].length, this.sum.get(), this.mean.get()]);
  }
}

/**
 * Operator list state (Flink's CheckpointedFunction): each subtask snapshots one token
 * (its subtask index, plus the tokens it restored) into even-split and union lists, and
 * emits what it restored on its first record.
 */
export class Tally implements RichFunction {
  private split!: ListState<string>;
  private union!: ListState<string>;
  private restored: { split: string[]; union: string[] } | undefined;
  private subtask = -1;
  private announced = false;

  /** `failOnClose`: close() throws (a failure while the job shuts down). */
  constructor(private readonly failOnClose = false) {}

  close(): void {
    if (this.failOnClose) throw new Error('Tally.close failed');
  }

  open(ctx: RuntimeContext): void {
    const store = ctx.getOperatorStateStore();
    this.split = store.getListState<string>({ name: 'split' });
    this.union = store.getUnionListState<string>({ name: 'union' });
    this.subtask = ctx.subtaskIndex;
    this.restored = { split: this.split.get(), union: this.union.get() };
  }

  flatMap(x: number, out: Collector<unknown>): void {
    if (!this.announced) {
      this.announced = true;
      out.collect({ restoredBy: this.subtask, ...this.restored });
    }
    // Slow enough that a stop request lands in the middle of the input.
    if (x % 100 === 0) Atomics.wait(pause, 0, 0, 5);
    out.collect(x);
  }

  snapshotState(): void {
    const mine = this.restored!.split.length > 0 ? this.restored!.split : [`t${this.subtask}`];
    this.split.update(mine);
    this.union.update(mine);
  }
}
const pause = new Int32Array(new SharedArrayBuffer(4));
/** Emits a window's first element; throws for the windows ending after `failAfter` ms. */
class RefusingWindow implements ProcessWindowFunction<number, number, number, TimeWindow> {
  constructor(private readonly failAfter: number) {}
  process(_key: number, ctx: ProcessWindowContext<TimeWindow>, elements: number[], out: Collector<number>): void {
    if (ctx.window.getEnd() > this.failAfter) throw new RangeError(`the window ending ${ctx.window.getEnd()} refuses`);
    out.collect(elements[0]!);
  }
}
/** Records the `blame` scenario's key selector has seen in this thread. */
const keyCalls = new Set<number>();
/**
 * For the failure attribution scenarios (`blame`): emits every record it gets, throws at
 * `throwAt` (what `thrown` says), swallows a throw of its downstream when `swallow`,
 * registers an event-time timer at `timerAt` whose firing throws (`timer: 'throw'`) or
 * emits -1 (`timer: 'emit'`), and emits -2 at the end of input when `endInput`.
 */
class Blamed implements KeyedProcessFunction<number, number, number> {
  constructor(private readonly p: { throwAt?: number; thrown?: Thrown; swallow?: boolean; timerAt?: number; timer?: 'throw' | 'emit'; endInput?: boolean }) {}

  processElement(x: number, ctx: KeyedContext<number>, out: Collector<number>): void {
    if (x === this.p.throwAt) throw thrownValue(this.p.thrown, `Counting refuses ${x}`);
    if (x === this.p.timerAt) ctx.timerService().registerEventTimeTimer(1000);
    if (this.p.swallow !== true) {
      out.collect(x);
      return;
    }
    try {
      out.collect(x);
    } catch {
      // swallowed on purpose: a later throw must not be blamed on the operator that threw here
    }
  }

  onTimer(_timestamp: number, _ctx: OnTimerContext<number>, out: Collector<number>): void {
    if (this.p.timer === 'throw') throw new RangeError('the timer refuses');
    out.collect(-1);
  }

  endInput(out: Collector<number>): void {
    if (this.p.endInput === true) out.collect(-2);
  }
}

/** What the `blame` scenario's functions throw: a new RangeError (default), one shared error object, or NaN. */
type Thrown = 'new' | 'shared' | 'nan';
const sharedError = new RangeError('the shared error');
function thrownValue(kind: Thrown | undefined, message: string): unknown {
  return kind === 'shared' ? sharedError : kind === 'nan' ? Number.NaN : new RangeError(message);
}


export default defineJob((env, args) => {
  const scenario = args[0];
  const p = JSON.parse(args[1] ?? '{}') as Record<string, any>;
  switch (scenario) {
    case 'map-filter': {
      env
        .fromCollection(p.items as number[])
        .map((x: number) => x * 3)
        .filter((x: number) => x % 2 === 0)
        .rebalance()
        .map((x: number) => x + 1)
        .setParallelism(p.parallelism)
        .collect();
      return;
    }
    case 'keyed-sum': {
      env
        .fromSequence(1, p.n)
        .setParallelism(p.sources)
        .keyBy((x: number) => x % p.keys)
        .sum()
        .setParallelism(p.parallelism)
        .map((total: number) => total)
        .collect();
      return;
    }
    case 'big-records': {
      // p.n strings of p.chars characters each (the record's index, padded), keyed by
      // index into p.parallelism subtasks: each crosses one ring as a frame of its own.
      env
        .fromGenerator((i: number) => String(i).padStart(p.chars, '.'), p.n)
        .setParallelism(p.sources)
        .keyBy((record: string) => record)
        .map((record: string) => record.length)
        .setParallelism(p.parallelism)
        .collect();
      return;
    }
    case 'blame': {
      // fromSequence(1, n) -> keyBy (throws at p.keyThrowAt) -> 'Counting' (Blamed) -> 'Picky map' (throws at p.mapThrowAt)
      env
        .fromSequence(1, p.n)
        .setParallelism(1)
        .keyBy((x: number) => {
          // The sending subtask's record writer calls the selector first (to route x), the
          // keyed subtask again: with p.keyThrowsTwice only the second call in one thread throws.
          if (x === p.keyThrowAt && (p.keyThrowsTwice !== true || keyCalls.has(x))) throw new RangeError(`the key selector refuses ${x}`);
          keyCalls.add(x);
          return x % 3;
        })
        .process(new Blamed(p))
        .name('Counting')
        .setParallelism(1)
        .map((x: number) => {
          if (x === p.mapThrowAt) throw thrownValue(p.mapThrown, `Picky map refuses ${x}`);
          return x;
        })
        .name('Picky map')
        .collect();
      return;
    }
    case 'blame-watermarks': {
      // A watermark generator whose periodic emit throws, in a timestamp assigner chained
      // after the source and a map: the failure names the assigner, not the source.
      env.getConfig().setAutoWatermarkInterval(1);
      env
        .fromSequence(1, p.n)
        .setParallelism(1)
        .map((x: number) => x)
        .name('Plain map')
        .assignTimestampsAndWatermarks(
          WatermarkStrategy.forGenerator<number>(() => ({
            onEvent: () => {},
            onPeriodicEmit: () => {
              throw new RangeError('the watermark generator refuses');
            },
          })).withTimestampAssigner((x) => x),
        )
        .name('Stamping')
        .collect();
      return;
    }
    case 'blame-window': {
      // Record x at event time x ms, keyed by x mod 3, into 'Windowing': sliding windows
      // with a reduce (the sliced window operator) when p.sliced, else tumbling windows with
      // process() (WindowOperator); the window function throws past p.failAfter ms.
      const keyed = env
        .fromSequence(1, p.n)
        .setParallelism(1)
        .assignTimestampsAndWatermarks(WatermarkStrategy.forMonotonousTimestamps<number>().withTimestampAssigner((x) => x))
        .keyBy((x: number) => x % 3);
      const windowed = p.sliced
        ? keyed.window(SlidingEventTimeWindows.of(20, 10)).reduce((a: number, b: number) => a + b, new RefusingWindow(p.failAfter))
        : keyed.window(TumblingEventTimeWindows.of(10)).process(new RefusingWindow(p.failAfter));
      windowed.name('Windowing').setParallelism(1).collect();
      return;
    }
    case 'keyed-sum-field': {
      env
        .fromGenerator((i: number): [string, number] => [`k${i % p.keys}`, i], p.n)
        .keyBy((t: [string, number]) => t[0])
        .sum(1)
        .collect();
      return;
    }
    case 'all-states': {
      env
        .fromGenerator((i: number): StatefulRecord => ({ key: `key-${(i * 7919) % p.keys}`, value: (i * 31) % 97 }), p.n)
        .setParallelism(1) // one source keeps each key's records in order: the digest depends on order
        .keyBy((r: StatefulRecord) => r.key)
        .process(new AllStates())
        .uid('all-states')
        .collect();
      return;
    }
    case 'union-broadcast': {
      const a = env.fromSequence(1, p.n);
      const b = env.fromGenerator((i: number) => -(i + 1), p.n);
      a.union(b).broadcast().map((x: number) => x).setParallelism(2).collect('both');
      env.fromCollection(['x', 'yy']).flatMap<string>((s, out) => { for (const c of s) out.collect(c); }).collect('chars');
      return;
    }
    case 'reduce': {
      env
        .fromCollection(p.words as string[])
        .map((w: string) => ({ word: w, n: 1 }))
        .keyBy((r: { word: string }) => r.word)
        .reduce((a, b) => ({ word: a.word, n: a.n + b.n }))
        .collect();
      return;
    }
    case 'backpressure': {
      // A slow consumer behind a tiny ring: the source must block, not drop or buffer without bound.
      env
        .fromSequence(1, p.n)
        .setParallelism(1)
        .rebalance()
        .map((x: number) => {
          let h = x;
          for (let i = 0; i < p.spin; i++) h = Math.imul(h ^ (h >>> 13), 0x5bd1e995);
          return h === 0.5 ? -1 : x;
        })
        .setParallelism(1)
        .collect();
      return;
    }
    case 'fail-map': {
      env.fromSequence(1, p.n).setParallelism(2).map((x: number) => {
        if (x === p.failAt) throw new RangeError(`boom at ${x}`);
        return x;
      }).name('Exploding map').collect();
      return;
    }
    case 'fail-key': {
      env.fromCollection([{ a: 1 }]).keyBy((r) => r as never).sum().collect();
      return;
    }
    case 'text': {
      env.readTextFile(p.input).flatMap<string>((line, out) => { for (const w of line.split(' ')) if (w) out.collect(w); }).collect();
      return;
    }
    case 'oom': {
      // Holds on to every record's 1 MiB string: the worker's heap grows without bound.
      const hoard: string[] = [];
      env.fromSequence(1, 1_000_000).setParallelism(1).map((x: number) => {
        hoard.push('x'.repeat(1 << 20) + x);
        return hoard.length;
      }).name('Hoarding map').collect();
      return;
    }
    case 'savepoint': {
      // Source splits, operator list state and keyed state through a savepoint.
      const tallied = env.fromSequence(0, p.n - 1).uid('numbers').flatMap<unknown>(new Tally(p.failOnClose === true)).uid('tally');
      tallied.filter((x) => typeof x !== 'number').collect('restored');
      tallied
        .filter((x) => typeof x === 'number')
        .keyBy((x) => (x as number) % 97)
        .process<[number, number]>({
          open(ctx: RuntimeContext) {
            (this as any).count = ctx.getState<number>({ name: 'count', defaultValue: 0 });
          },
          processElement(_x: unknown, ctx: KeyedContext<number>, out: Collector<[number, number]>) {
            const count = (this as any).count as ValueState<number>;
            count.update(count.value()! + 1);
            out.collect([ctx.getCurrentKey(), count.value()!]);
          },
        })
        .uid(p.countUid ?? 'count')
        .collect('counts');
      return;
    }
    case 'nondeterministic': {
      const n = Math.floor(Math.random() * 1e9);
      for (let i = 0; i < 1 + (n % 3) + (n % 5); i++) env.fromSequence(1, 2).collect(`c${i}`);
      return;
    }
    default:
      throw new Error(`unknown scenario ${String(scenario)}`);
  }
});

// Watermarks as pure logic, against simple references:
// - the valve (min over active, aligned, live inputs; idleness; only advances) against a
//   reference that recomputes from the whole event history, seeded;
// - the output multiplexer (min over non-idle split outputs);
// - the strategies: bounded out-of-orderness (max - bound - 1), monotonous, idleness with
//   a manual clock, ingestion time, and their bad arguments.
import t from 'tap';
import { OutputWatermarks, WatermarkStrategy, WatermarkValve } from '../../src/time/index.js';
import type { WatermarkOutput } from '../../src/time/index.js';
import { seededRandom, testSeed } from '../helpers/random.js';

type Event = { kind: 'wm'; input: number; value: number } | { kind: 'idle' | 'active' | 'record' | 'end'; input: number };

/**
 * The reference: replays the history and computes what the combined watermark and status
 * must be after each event, from scratch (no incremental state but the last output).
 */
function reference(n: number, history: readonly Event[]): { watermarks: number[]; idles: boolean[] } {
  const watermarks: number[] = [];
  const idles: boolean[] = [];
  let output = -Infinity;
  let outIdle = false;
  const w = new Array<number>(n).fill(-Infinity);
  const active = new Array<boolean>(n).fill(true);
  const ended = new Array<boolean>(n).fill(false);
  for (const e of history) {
    if (ended[e.input]) continue;
    if (e.kind === 'wm') {
      if (e.value > w[e.input]!) {
        w[e.input] = e.value;
        active[e.input] = true;
      }
    } else if (e.kind === 'record' || e.kind === 'active') active[e.input] = true;
    else if (e.kind === 'idle') active[e.input] = false;
    else ended[e.input] = true;
    const live = [...Array(n).keys()].filter((i) => !ended[i]);
    const act = live.filter((i) => active[i]);
    const idle = live.length > 0 && act.length === 0;
    if (idle !== outIdle) {
      outIdle = idle;
      idles.push(idle);
    }
    const aligned = act.filter((i) => w[i]! >= output);
    if (aligned.length > 0) {
      const min = Math.min(...aligned.map((i) => w[i]!));
      if (min > output) {
        output = min;
        watermarks.push(min);
      }
    }
  }
  return { watermarks, idles };
}

t.test('the valve equals a from-scratch reference over random histories (seeded)', async (t) => {
  const seed = testSeed(11);
  const random = seededRandom(seed);
  let cases = 0;
  for (; cases < 2000; cases++) {
    const n = 1 + Math.floor(random() * 5);
    const history: Event[] = [];
    const next = new Array<number>(n).fill(0);
    for (let k = 0; k < 40; k++) {
      const input = Math.floor(random() * n);
      const r = random();
      if (r < 0.55) history.push({ kind: 'wm', input, value: (next[input]! += Math.floor(random() * 20) - 4) });
      else if (r < 0.7) history.push({ kind: 'idle', input });
      else if (r < 0.8) history.push({ kind: 'active', input });
      else if (r < 0.95) history.push({ kind: 'record', input });
      else history.push({ kind: 'end', input });
    }
    const valve = new WatermarkValve(n);
    const got = { watermarks: [] as number[], idles: [] as boolean[] };
    for (const e of history) {
      const out =
        e.kind === 'wm' ? valve.watermark(e.input, e.value) : e.kind === 'end' ? valve.end(e.input) : e.kind === 'record' ? valve.record(e.input) : valve.status(e.input, e.kind === 'idle');
      if (out.idle !== undefined) got.idles.push(out.idle);
      if (out.watermark !== undefined) got.watermarks.push(out.watermark);
    }
    const want = reference(n, history);
    if (JSON.stringify(got) !== JSON.stringify(want)) {
      t.same(got, want, `seed ${seed} case ${cases}: ${n} inputs, history ${JSON.stringify(history)}`);
      break;
    }
    for (let i = 1; i < got.watermarks.length; i++) if (!(got.watermarks[i]! > got.watermarks[i - 1]!)) t.fail('the output watermark only advances');
  }
  t.equal(cases, 2000, `2000 random histories (seed ${seed})`);
});

t.test('the valve: examples named', async (t) => {
  const v = new WatermarkValve(2);
  t.same(v.watermark(0, 10), {}, 'one input reported: the other still holds it back');
  t.same(v.watermark(1, 5), { watermark: 5 });
  t.same(v.status(1, true), { watermark: 10 }, 'an idle input stops holding it back');
  t.same(v.status(0, true), { idle: true }, 'all idle: the output is idle');
  t.same(v.record(1), { idle: false }, 'a record makes its input active again');
  t.same(v.watermark(1, 7), {}, 'behind the output: not aligned, ignored');
  t.same(v.watermark(1, 12), { watermark: 12 }, 'caught up: aligned again');
  t.same(v.end(1), { idle: true }, 'an ended input leaves: the one left is idle');
  t.same(v.watermark(0, Infinity), { idle: false, watermark: Infinity }, 'the end-of-input watermark');
});

t.test('split outputs: the source watermark is the minimum over non-idle splits', async (t) => {
  const emitted: Array<number | string> = [];
  let now = 0;
  const strategy = WatermarkStrategy.forBoundedOutOfOrderness<number>(10).withIdleness(100);
  const m = new OutputWatermarks(strategy, { currentProcessingTime: () => now }, { emitWatermark: (w) => emitted.push(w), emitIdle: (i) => emitted.push(i ? 'idle' : 'active') });
  const a = m.output('a');
  const b = m.output('b');
  a.onEvent(1, 100);
  b.onEvent(2, 50);
  m.periodicEmit();
  t.same(emitted, [39], 'min(100-10-1, 50-10-1)');
  b.onEvent(3, 80);
  m.periodicEmit();
  t.same(emitted, [39, 69]);
  now = 150; // b idle for 150 ms (a too): both idle
  a.onEvent(4, 130);
  m.periodicEmit();
  t.same(emitted, [39, 69, 119], 'b idle (no event for 150 ms): only a counts, 130 - 10 - 1');
  m.release('a');
  t.same(emitted.at(-1), 'idle', 'a released, b idle: the source is idle');
});

t.test('strategies: Flink\'s watermark rules and bad arguments', async (t) => {
  const collect = (): { out: WatermarkOutput; seen: Array<number | string> } => {
    const seen: Array<number | string> = [];
    return { seen, out: { emitWatermark: (w) => seen.push(w), markIdle: () => seen.push('idle'), markActive: () => seen.push('active') } };
  };
  const ctx = { currentProcessingTime: () => 0 };
  const bounded = WatermarkStrategy.forBoundedOutOfOrderness<number>(5).createWatermarkGenerator(ctx);
  const b = collect();
  bounded.onPeriodicEmit(b.out);
  t.same(b.seen, [], 'nothing before the first event');
  bounded.onEvent(0, 100, b.out);
  bounded.onEvent(0, 90, b.out);
  bounded.onPeriodicEmit(b.out);
  t.same(b.seen, [94], 'max 100 - 5 - 1');
  const mono = WatermarkStrategy.forMonotonousTimestamps<number>().createWatermarkGenerator(ctx);
  const m = collect();
  mono.onEvent(0, 7, m.out);
  mono.onPeriodicEmit(m.out);
  t.same(m.seen, [6]);
  t.equal(WatermarkStrategy.noWatermarks().generatesWatermarks, false);
  let now = 1000;
  const ingestion = WatermarkStrategy.forIngestionTime<string>();
  const assign = ingestion.createTimestampAssigner({ currentProcessingTime: () => now })!;
  t.equal(assign('x', undefined), 1000, 'ingestion time stamps processing time');
  now = 0;
  const idle = WatermarkStrategy.forMonotonousTimestamps<number>().withIdleness(50).createWatermarkGenerator({ currentProcessingTime: () => now });
  const i = collect();
  idle.onEvent(0, 10, i.out);
  now = 49;
  idle.onPeriodicEmit(i.out);
  now = 50;
  idle.onPeriodicEmit(i.out);
  idle.onEvent(0, 20, i.out);
  idle.onPeriodicEmit(i.out);
  t.same(i.seen, [9, 'idle', 'active', 19], 'idle after 50 ms without events, active with the next');
  t.throws(() => WatermarkStrategy.forBoundedOutOfOrderness(-1), /forBoundedOutOfOrderness\(maxOutOfOrdernessMs\) must be a duration in ms, a finite number >= 0, got -1/);
  t.throws(() => WatermarkStrategy.forBoundedOutOfOrderness(NaN), /got NaN/);
  t.throws(() => WatermarkStrategy.noWatermarks().withIdleness(0), /must be > 0 ms/);
  t.throws(() => WatermarkStrategy.noWatermarks().withTimestampAssigner(5 as never), /expects a function/);
});

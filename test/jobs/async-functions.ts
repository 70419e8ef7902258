// Job modules for test/engine/async-functions.test.ts: user functions written `async`,
// which a synchronous operator must refuse. args[0] names the function.
import { defineJob } from '../../src/index.js';
import type { Collector, KeyedContext, KeyedProcessFunction } from '../../src/index.js';

class AsyncProcess implements KeyedProcessFunction<number, number, number> {
  async processElement(value: number, _ctx: KeyedContext<number>, out: Collector<number>): Promise<void> {
    await Promise.resolve();
    out.collect(value);
  }
}

export default defineJob((env, args) => {
  const numbers = env.fromSequence(1, 100).uid('numbers');
  switch (args[0]) {
    case 'map':
      numbers.map(async (x: number) => x * 2).name('Double').collect();
      return;
    case 'flatMap':
      numbers.flatMap(async (x: number, out: Collector<number>) => out.collect(x)).name('Split').collect();
      return;
    case 'filter':
      // TypeScript refuses an async filter (a Promise is not a boolean); a JavaScript job can pass one.
      numbers.filter((async (x: number) => x % 2 === 0) as unknown as (x: number) => boolean).name('Evens').collect();
      return;
    case 'process':
      numbers.keyBy((x: number) => x % 3).process(new AsyncProcess()).name('Async process').collect();
      return;
    case 'rejecting-map':
      numbers.map(async (): Promise<number> => Promise.reject(new Error('boom'))).name('Rejects').collect();
      return;
    default:
      throw new Error(`unknown scenario ${args[0]}`);
  }
});

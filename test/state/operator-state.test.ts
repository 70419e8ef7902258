/** Operator list state: snapshot contents and even-split / union redistribution. */
import t from 'tap';
import { OperatorStateStore, redistributeOperatorState, type OperatorStateSnapshot } from '../../src/state/operator-state.js';
import { randomInt, seededRandom } from './helpers.js';

t.test('list and union list state snapshot as plain data', (t) => {
  const store = new OperatorStateStore();
  const offsets = store.getListState<{ partition: number; offset: number }>('offsets');
  offsets.add({ partition: 0, offset: 10 });
  offsets.addAll([{ partition: 1, offset: 20 }]);
  store.getUnionListState<string>('txns').update(['t1', 't2']);
  const got = offsets.get();
  got[0]!.offset = 999; // mutating a returned list changes nothing
  t.same(store.snapshot(), {
    offsets: { mode: 'split', items: [{ partition: 0, offset: 10 }, { partition: 1, offset: 20 }] },
    txns: { mode: 'union', items: ['t1', 't2'] },
  });
  t.throws(() => store.getUnionListState('offsets'), /split list state, not union/);
  t.same(JSON.parse(JSON.stringify(store.snapshot())), store.snapshot(), 'JSON-safe plain data');
  t.end();
});

t.test('even split: concatenated in subtask order, contiguous near-equal parts', (t) => {
  const old: OperatorStateSnapshot[] = [
    { s: { mode: 'split', items: [1, 2, 3] } },
    { s: { mode: 'split', items: [4] } },
    { s: { mode: 'split', items: [5, 6, 7] } },
  ];
  t.same(redistributeOperatorState(old, 2).map((p) => p['s']!.items), [[1, 2, 3, 4], [5, 6, 7]]);
  t.same(redistributeOperatorState(old, 3).map((p) => p['s']!.items), [[1, 2, 3], [4, 5], [6, 7]]);
  t.same(redistributeOperatorState(old, 9).map((p) => p['s']!.items.length), [1, 1, 1, 1, 1, 1, 1, 0, 0]);
  t.end();
});

t.test('union: every new subtask gets all items', (t) => {
  const old: OperatorStateSnapshot[] = [{ u: { mode: 'union', items: ['a'] } }, { u: { mode: 'union', items: ['b', 'c'] } }];
  const parts = redistributeOperatorState(old, 3);
  for (const p of parts) t.same(p['u'], { mode: 'union', items: ['a', 'b', 'c'] });
  t.end();
});

t.test('random redistribution keeps every split item exactly once, in order', (t) => {
  const rand = seededRandom(5);
  for (let round = 0; round < 200; round++) {
    const oldP = randomInt(rand, 1, 8);
    let next = 0;
    const old: OperatorStateSnapshot[] = Array.from({ length: oldP }, () => ({
      s: { mode: 'split', items: Array.from({ length: randomInt(rand, 0, 6) }, () => next++) },
    }));
    const newP = randomInt(rand, 1, 10);
    const parts = redistributeOperatorState(old, newP).map((p) => p['s']?.items ?? []);
    const sizes = parts.map((p) => p.length);
    if (parts.flat().join() !== Array.from({ length: next }, (_, i) => i).join() || Math.max(...sizes) - Math.min(...sizes) > 1) {
      t.fail(`round ${round}: ${JSON.stringify(old)} -> ${JSON.stringify(parts)}`);
      break;
    }
  }
  t.pass('200 random rescalings');
  t.end();
});

t.test('restored state is readable and re-snapshotted even if untouched', (t) => {
  const [part] = redistributeOperatorState([{ s: { mode: 'split', items: [1, 2] }, u: { mode: 'union', items: ['x'] } }], 1);
  const store = new OperatorStateStore(part);
  t.same(store.getListState<number>('s').get(), [1, 2]);
  t.same(store.snapshot(), { s: { mode: 'split', items: [1, 2] }, u: { mode: 'union', items: ['x'] } });
  t.throws(() => redistributeOperatorState([], 0), /newParallelism must be an integer >= 1, got 0/);
  t.throws(() => redistributeOperatorState([{ a: { mode: 'split', items: [] } }, { a: { mode: 'union', items: [] } }], 2), /both split and union/);
  t.end();
});

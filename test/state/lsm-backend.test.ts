/**
 * Model-based tests of the keyed state backends: seeded random operations on all five
 * state types, for several keys and key groups, with and without TTL (fake clock),
 * checked against in-memory references. For the LSM backend also with flushes,
 * compaction and restore from segments; the heap backend runs the same operations.
 */
import t, { type Test } from 'tap';
import { Encoder } from 'cbor-x';
import type { Clock, KeyedStateBackend, StateKey, StateTtlConfig } from '../../src/state/api.js';
import { HeapKeyedStateBackend } from '../../src/state/heap-backend.js';
import { LsmKeyedStateBackend } from '../../src/state/lsm-backend.js';
import { randomInt, seededRandom, tempDir } from './helpers.js';

class FakeClock implements Clock {
  now = 1_000_000;
  nowMs(): number {
    return this.now;
  }
}

/** Reference TTL semantics: expired when now - refreshed >= ttl; reads may refresh. */
class RefCells<V> {
  private readonly cells = new Map<string, { v: V; at: number }>();
  constructor(
    private readonly clock: FakeClock,
    private readonly ttl: StateTtlConfig | undefined,
  ) {}
  get(id: string): V | undefined {
    const c = this.cells.get(id);
    if (c === undefined) return undefined;
    if (this.ttl !== undefined && this.clock.now - c.at >= this.ttl.ttlMs) {
      this.cells.delete(id);
      return undefined;
    }
    if (this.ttl?.updateType === 'OnReadAndWrite') c.at = this.clock.now;
    return c.v;
  }
  set(id: string, v: V): void {
    this.cells.set(id, { v, at: this.clock.now });
  }
  delete(id: string): void {
    this.cells.delete(id);
  }
  /** Live ids with `prefix`, refreshed as reads. */
  liveWithPrefix(prefix: string): string[] {
    return [...this.cells.keys()].filter((id) => id.startsWith(prefix) && this.get(id) !== undefined);
  }
}

const keys: StateKey[] = [
  ...[1, 2, 'a', 'b\u0000c', 'b', 0n, [1, 'x'], [1], true, Uint8Array.of(0, 0, 1), Uint8Array.of(0)],
  ...Array.from({ length: 40 }, (_, i) => (i % 2 === 0 ? i * 1000 : `user-${i}`)),
];
const keyGroupOf = (i: number) => (i * 37) % 128;
const cbor = new Encoder({ useRecords: false });
const avg = {
  createAccumulator: () => ({ sum: 0, count: 0 }),
  add: (v: number, a: { sum: number; count: number }) => ({ sum: a.sum + v, count: a.count + 1 }),
  getResult: (a: { sum: number; count: number }) => a.sum / a.count,
};

function openStates(b: KeyedStateBackend, ttl: StateTtlConfig | undefined) {
  const with_ = ttl === undefined ? {} : { ttl };
  return {
    value: b.getValueState<{ n: number }>('op1', { kind: 'value', name: 'v', ...with_ }),
    withDefault: b.getValueState<number>('op1', { kind: 'value', name: 'd', defaultValue: -1, ...with_ }),
    list: b.getListState<string>('op1', { kind: 'list', name: 'l', ...with_ }),
    map: b.getMapState<number | string, number>('op2', { kind: 'map', name: 'm', ...with_ }),
    reducing: b.getReducingState<number>('op2', { kind: 'reducing', name: 'r', reduce: (x, y) => x + y, ...with_ }),
    aggregating: b.getAggregatingState('op2', { kind: 'aggregating', name: 'a', aggregate: avg, ...with_ }),
  };
}

const opCount = 4000;

const byCbor = (a: unknown, b: unknown) => Buffer.compare(cbor.encode(a), cbor.encode(b));

function runModel(t: Test, seed: number, ttl: StateTtlConfig | undefined, kind: 'lsm' | 'heap' = 'lsm'): void {
  const dir = tempDir(t, 'lsm-backend');
  const clock = new FakeClock();
  const rand = seededRandom(seed);
  const storeOptions = { memtableSizeBytes: 4096, blockSizeBytes: 512, fsync: false };
  let backend: KeyedStateBackend =
    kind === 'lsm' ? new LsmKeyedStateBackend({ dir, clock, maxParallelism: 128, store: storeOptions }) : new HeapKeyedStateBackend({ clock });
  const lsm = (): LsmKeyedStateBackend | undefined => (backend instanceof LsmKeyedStateBackend ? backend : undefined);
  let s = openStates(backend, ttl);
  const ref = {
    value: new RefCells<{ n: number }>(clock, ttl),
    withDefault: new RefCells<number>(clock, ttl),
    list: new RefCells<string[]>(clock, ttl),
    map: new RefCells<number>(clock, ttl),
    reducing: new RefCells<number>(clock, ttl),
    aggregating: new RefCells<{ sum: number; count: number }>(clock, ttl),
  };
  const check = (what: string, got: unknown, want: unknown) => {
    if (JSON.stringify(got) !== JSON.stringify(want)) {
      throw new Error(`${what}: got ${JSON.stringify(got)}, want ${JSON.stringify(want)}`);
    }
  };
  const mapKeys: (number | string)[] = [1, 2, 300, 'k', 'kk', -5];
  const mapId = (id: string, mk: number | string) => `${id}|${JSON.stringify(mk)}`;
  let flushes = 0;
  for (let i = 0; i < opCount; i++) {
    const k = randomInt(rand, 0, keys.length);
    const id = String(k);
    backend.setCurrentKey(keys[k]!, keyGroupOf(k));
    const r = rand();
    const n = randomInt(rand, -50, 50);
    try {
      if (r < 0.06) check('value', s.value.value(), ref.value.get(id));
      else if (r < 0.1) (s.value.update({ n }), ref.value.set(id, { n }));
      else if (r < 0.12) (s.value.clear(), ref.value.delete(id));
      else if (r < 0.15) check('default', s.withDefault.value(), ref.withDefault.get(id) ?? -1);
      else if (r < 0.17) (s.withDefault.update(n), ref.withDefault.set(id, n));
      else if (r < 0.22) check('list', s.list.get(), ref.list.get(id) ?? []);
      else if (r < 0.27) {
        const next = [...(ref.list.get(id) ?? []), `e${n}`];
        s.list.add(`e${n}`);
        ref.list.set(id, next);
      } else if (r < 0.29) {
        const vals = n > 0 ? [`u${n}`, `w${n}`] : [];
        s.list.update(vals);
        if (vals.length === 0) ref.list.delete(id);
        else ref.list.set(id, vals);
      } else if (r < 0.3) (s.list.clear(), ref.list.delete(id));
      else if (r < 0.4) {
        const mk = mapKeys[randomInt(rand, 0, mapKeys.length)]!;
        const op = rand();
        if (op < 0.4) (s.map.put(mk, n), ref.map.set(mapId(id, mk), n));
        else if (op < 0.6) check('map.get', s.map.get(mk), ref.map.get(mapId(id, mk)));
        else if (op < 0.7) check('map.contains', s.map.contains(mk), ref.map.get(mapId(id, mk)) !== undefined);
        else if (op < 0.8) (s.map.remove(mk), ref.map.delete(mapId(id, mk)));
        else if (op < 0.97) {
          const want = mapKeys
            .filter((m) => ref.map.get(mapId(id, m)) !== undefined)
            .sort((a, b) => Buffer.compare(cbor.encode(a), cbor.encode(b)))
            .map((m) => [m, ref.map.get(mapId(id, m))]);
          // The LSM backend iterates in serialized-key order; the heap backend in insertion order.
          const got = [...s.map.entries()];
          check('map.entries', kind === 'lsm' ? got : got.sort((a, b) => byCbor(a[0], b[0])), want);
          check('map.isEmpty', s.map.isEmpty(), want.length === 0);
        } else {
          s.map.clear();
          for (const m of mapKeys) ref.map.delete(mapId(id, m));
        }
      } else if (r < 0.45) check('reducing', s.reducing.get(), ref.reducing.get(id));
      else if (r < 0.52) {
        const cur = ref.reducing.get(id);
        s.reducing.add(n);
        ref.reducing.set(id, cur === undefined ? n : cur + n);
      } else if (r < 0.53) (s.reducing.clear(), ref.reducing.delete(id));
      else if (r < 0.58) {
        const acc = ref.aggregating.get(id);
        check('aggregating', s.aggregating.get(), acc === undefined ? undefined : avg.getResult(acc));
      } else if (r < 0.65) {
        const acc = ref.aggregating.get(id) ?? avg.createAccumulator();
        s.aggregating.add(n);
        ref.aggregating.set(id, avg.add(n, acc));
      } else if (r < 0.66) (s.aggregating.clear(), ref.aggregating.delete(id));
      else if (r < 0.85) clock.now += randomInt(rand, 0, 12);
      else if (r < 0.97) backend.maintenanceStep?.();
      else if (r < 0.99) (lsm()?.store.freeze(), lsm()?.store.flushAll());
      else if (lsm() !== undefined) {
        const store = lsm()!.store;
        store.freeze();
        store.flushAll();
        const segments = store.liveSegments();
        flushes += store.stats().flushCount;
        void backend.close();
        backend = new LsmKeyedStateBackend({ dir, clock, maxParallelism: 128, store: { ...storeOptions, segments } });
        s = openStates(backend, ttl);
      }
    } catch (e) {
      t.fail(`seed ${seed}, ttl ${JSON.stringify(ttl)}, op ${i}: ${(e as Error).message}`);
      break;
    }
  }
  if (lsm() !== undefined) {
    flushes += lsm()!.store.stats().flushCount;
    t.ok(flushes >= 5, `seed ${seed}: ${opCount} ops used segments (${flushes} flushes)`);
  } else {
    t.pass(`seed ${seed}: ${opCount} ops on the heap backend match the references`);
  }
  void backend.close();
}

const ttls: (StateTtlConfig | undefined)[] = [
  undefined,
  { ttlMs: 40, updateType: 'OnCreateAndWrite' },
  { ttlMs: 40, updateType: 'OnReadAndWrite' },
];
for (const ttl of ttls) {
  for (const seed of [7, 8, 9]) {
    t.test(`all state types match references (ttl ${ttl?.updateType ?? 'none'}, seed ${seed})`, (t) => {
      runModel(t, seed, ttl);
      t.end();
    });
  }
  t.test(`heap backend: all state types match the same references (ttl ${ttl?.updateType ?? 'none'})`, (t) => {
    for (const seed of [7, 8, 9]) runModel(t, seed, ttl, 'heap');
    t.end();
  });
}

t.test('compaction drops expired TTL entries; live ones survive', (t) => {
  const dir = tempDir(t, 'lsm-ttl');
  const clock = new FakeClock();
  // 8 KiB memtables: 9 segments, which the policy merges whole (<= compactionMaxWidth).
  const b = new LsmKeyedStateBackend({ dir, clock, store: { memtableSizeBytes: 8192, fsync: false } });
  const ttl: StateTtlConfig = { ttlMs: 100, updateType: 'OnCreateAndWrite' };
  const expiring = b.getValueState<string>('op', { kind: 'value', name: 'x', ttl });
  const durable = b.getValueState<string>('op', { kind: 'value', name: 'y' });
  for (let batch = 0; batch < 3; batch++) {
    for (let i = 0; i < 100; i++) {
      b.setCurrentKey(batch * 1000 + i, i % 16);
      expiring.update('short-lived value');
      durable.update('kept');
    }
    b.store.freeze();
    b.store.flushAll();
  }
  clock.now += 100;
  while (b.maintenanceStep());
  t.ok(b.store.stats().compactionCount > 0, 'compaction ran');
  const raw = [...b.store.scan()];
  t.equal(raw.length, 300, 'only the 300 entries without TTL remain on disk');
  b.setCurrentKey(5, 5);
  t.equal(expiring.value(), undefined);
  t.equal(durable.value(), 'kept');
  void b.close();
  t.end();
});

t.test('a key-group range is one contiguous key range', (t) => {
  const dir = tempDir(t, 'lsm-kg');
  const b = new LsmKeyedStateBackend({ dir, maxParallelism: 8, store: { fsync: false } });
  const v = b.getValueState<number>('op', { kind: 'value', name: 'v' });
  for (let i = 0; i < 64; i++) {
    b.setCurrentKey(`key-${i}`, i % 8);
    v.update(i);
  }
  const groups = [...b.store.scan()].map(([k]) => (k[0]! << 8) | k[1]!);
  t.same(groups, [...groups].sort((x, y) => x - y), 'entries sorted by key group');
  t.equal(new Set(groups).size, 8);
  void b.close();
  t.end();
});

t.test('options and misuse are rejected with clear errors', (t) => {
  const dir = tempDir(t, 'lsm-bopts');
  t.throws(() => new LsmKeyedStateBackend({ dir, maxParallelism: 0 }), /maxParallelism.*got 0/);
  t.throws(() => new LsmKeyedStateBackend({ dir: '' }), /dir/);
  t.throws(() => new LsmKeyedStateBackend({ dir, store: { memtableSizeBytes: -1 } }), /memtableSizeBytes.*got -1/);
  const b = new LsmKeyedStateBackend({ dir, maxParallelism: 4, store: { fsync: false } });
  const v = b.getValueState<number>('op', { kind: 'value', name: 'v' });
  t.throws(() => v.value(), /outside a keyed context/);
  t.throws(() => b.setCurrentKey('k', 4), /Key group 4 is outside \[0, 4\)/);
  t.throws(() => b.getListState('op', { kind: 'list', name: 'v' }), /registered as value state/);
  t.throws(() => b.getValueState('op', { kind: 'value', name: 't', ttl: { ttlMs: 0, updateType: 'OnReadAndWrite' } }), /ttlMs/);
  t.equal(b.getValueState<number>('op', { kind: 'value', name: 'v' }), v, 'same handle for the same descriptor');
  void b.close();
  t.end();
});

t.test('custom serializers are used for values and map keys', (t) => {
  const dir = tempDir(t, 'lsm-ser');
  const b = new LsmKeyedStateBackend({ dir, store: { fsync: false } });
  const text = { serialize: (s: string) => Buffer.from(s.toUpperCase()), deserialize: (u: Uint8Array) => Buffer.from(u).toString() };
  const v = b.getValueState<string>('op', { kind: 'value', name: 'v', serializer: text });
  const m = b.getMapState<string, string>('op', { kind: 'map', name: 'm', keySerializer: text, serializer: text });
  b.setCurrentKey('k', 0);
  v.update('hello');
  m.put('b', 'x');
  m.put('a', 'y');
  t.equal(v.value(), 'HELLO');
  t.same([...m.entries()], [['A', 'Y'], ['B', 'X']]);
  void b.close();
  t.end();
});

t.test('TTL boundary: visible until ttlMs after the refresh, expired at exactly ttlMs', (t) => {
  for (const updateType of ['OnCreateAndWrite', 'OnReadAndWrite'] as const) {
    const dir = tempDir(t, 'lsm-ttl-edge');
    const clock = new FakeClock();
    const b = new LsmKeyedStateBackend({ dir, clock, store: { fsync: false } });
    const v = b.getValueState<number>('op', { kind: 'value', name: 'v', ttl: { ttlMs: 100, updateType } });
    b.setCurrentKey('k', 1);
    v.update(1);
    clock.now += 99;
    t.equal(v.value(), 1, `${updateType}: alive at 99 ms`);
    clock.now += 1;
    // OnReadAndWrite refreshed at 99 ms, so it lives until 199 ms.
    t.equal(v.value(), updateType === 'OnReadAndWrite' ? 1 : undefined, `${updateType}: at 100 ms`);
    clock.now += 100;
    t.equal(v.value(), undefined, `${updateType}: expired 100 ms after the last refresh`);
    void b.close();
  }
  t.end();
});

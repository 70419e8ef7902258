/**
 * Model-based test of the timer queues (`KeyedStateBackend.timers`) of both backends:
 * seeded random add / delete (present and absent) / pollDue / peekTimestamp sequences on
 * three queues of one backend at once (two operators, both domains) next to user state,
 * with duplicates, negative and extreme timestamps, and ties across keys and key groups,
 * checked after every step against a sorted array per queue. The reference sorts by the
 * documented tie order (timestamp, key group, key identity on the heap or escaped CBOR on
 * the LSM), so every poll must return exactly its first timer. The LSM runs with a 4 KiB
 * memtable, flushes, compaction steps and reopens from its segments (index rebuilt).
 * Also: the ordered timestamp encoding, bad input, reserved state names.
 * Replay one seed: SLUICE_SEED=<seed> npx tap dist/test/state/timers-model.test.js
 */
import path from 'node:path';
import t, { type Test } from 'tap';
import { Encoder } from 'cbor-x';
import type { KeyedStateBackend, StateKey, TimeDomain, TimerQueue, ValueState } from '../../src/state/api.js';
import { HeapKeyedStateBackend } from '../../src/state/heap-backend.js';
import { composeTimerKey, escapeKey, stateIdOf, timerTimestampOfKey } from '../../src/state/key-encoding.js';
import { assignToKeyGroup } from '../../src/state/key-group.js';
import { LsmKeyedStateBackend } from '../../src/state/lsm-backend.js';
import { compareBytes } from '../../src/state/lsm/index.js';
import { testSeed } from '../helpers/random.js';
import { randomInt, seededRandom, tempDir } from './helpers.js';
import { TimerKeys, TimerReference, type BackendKind } from './timer-reference.js';

type Kind = BackendKind;
const maxParallelism = 16;
const keys: StateKey[] = [
  ...[1, 2, 0, -7, 1.5, 'a', '', 'b\u0000c', 0n, -(2n ** 70n), true, false, [1, 'x'], [], Uint8Array.of(0, 0, 1), Uint8Array.of()],
  ...Array.from({ length: 30 }, (_, j) => j + 1).map((i) => (i % 3 === 0 ? i * 1000 : i % 3 === 1 ? `user-${i}` : [i, `k${i}`])),
];
const keyGroups = keys.map((k) => assignToKeyGroup(k, maxParallelism));
const timerKeys = new TimerKeys(keys, keyGroups);
const extremes = [Number.MAX_SAFE_INTEGER, -Number.MAX_SAFE_INTEGER, 2 ** 32, 2 ** 32 - 1, -(2 ** 32), -(2 ** 32) - 1, 2 ** 31, -(2 ** 31), -1, 0];
const lsmStore = { memtableSizeBytes: 4096, blockSizeBytes: 512, fsync: false, compactionStepBytes: 2048 };

const queueIds: [string, TimeDomain][] = [
  ['op1', 'event'],
  ['op1', 'processing'],
  ['op2', 'event'],
];

interface Opened {
  backend: KeyedStateBackend;
  queues: TimerQueue[];
  value: ValueState<number>;
}

function randomTimestamp(rand: () => number): number {
  const r = rand();
  if (r < 0.05) return extremes[randomInt(rand, 0, extremes.length)]!;
  if (r < 0.1) return randomInt(rand, -1e6, 1e6) * 1e6;
  return randomInt(rand, -20, 20);
}

interface RunStats {
  polled: number;
  duplicates: number;
  absentDeletes: number;
  reopens: number;
  flushes: number;
  compactions: number;
  /** Polls whose next timer had the same timestamp in another key group. */
  groupTies: number;
}

function run(t: Test, kind: Kind, seed: number, opCount: number, timerCache?: number): RunStats {
  const root = tempDir(t, `timers-${kind}`);
  const rand = seededRandom(seed);
  let segments: string[] | undefined;
  const open = (): Opened => {
    const backend: KeyedStateBackend =
      kind === 'heap'
        ? new HeapKeyedStateBackend({ scratchDir: root, fsync: false })
        : new LsmKeyedStateBackend({ dir: path.join(root, 'lsm'), maxParallelism, timerCacheEntriesPerKeyGroup: timerCache, store: { ...lsmStore, ...(segments === undefined ? {} : { segments }) } });
    return { backend, queues: queueIds.map(([uid, domain]) => backend.timers(uid, domain)), value: backend.getValueState<number>('op1', { kind: 'value', name: 'v' }) };
  };
  let o = open();
  const refs = queueIds.map(() => new TimerReference(kind, timerKeys));
  const values = new Map<number, number>();
  const stats: RunStats = { polled: 0, duplicates: 0, absentDeletes: 0, reopens: 0, flushes: 0, compactions: 0, groupTies: 0 };
  const lsm = (): LsmKeyedStateBackend | undefined => (o.backend instanceof LsmKeyedStateBackend ? o.backend : undefined);

  const checkPoll = (q: TimerQueue, ref: TimerReference, bound: number, what: string): boolean => {
    const want = ref.poll(q, bound, what);
    if (want === undefined) return false;
    stats.polled++;
    const next = ref.timers[0];
    if (next?.ts === want.ts && keyGroups[next.k] !== keyGroups[want.k]) stats.groupTies++;
    return true;
  };

  for (let i = 0; i < opCount; i++) {
    const qi = randomInt(rand, 0, queueIds.length);
    const q = o.queues[qi]!;
    const ref = refs[qi]!;
    const what = `op ${i} on queue ${queueIds[qi]!.join('/')}`;
    const r = rand();
    const k = randomInt(rand, 0, keys.length);
    if (r < 0.38) {
      const again = rand() < 0.15 ? ref.timers[randomInt(rand, 0, ref.timers.length)] : undefined;
      const x = again ?? { k, ts: randomTimestamp(rand) };
      if (ref.has(x)) stats.duplicates++;
      q.add(keys[x.k]!, keyGroups[x.k]!, x.ts);
      ref.add({ ...x });
    } else if (r < 0.46 && ref.timers.length > 0) {
      const x = ref.timers[randomInt(rand, 0, ref.timers.length)]!;
      q.delete(keys[x.k]!, keyGroups[x.k]!, x.ts);
      ref.delete(x);
    } else if (r < 0.52) {
      const ts = randomTimestamp(rand);
      if (!ref.has({ k, ts })) stats.absentDeletes++;
      q.delete(keys[k]!, keyGroups[k]!, ts);
      ref.delete({ k, ts });
    } else if (r < 0.64) {
      const first = ref.timers[0]?.ts ?? 0;
      const bound = rand() < 0.5 ? first + randomInt(rand, -3, 3) : randomTimestamp(rand);
      if (rand() < 0.3) while (checkPoll(q, ref, bound, what));
      else checkPoll(q, ref, bound, what);
    } else if (r < 0.7) {
      o.backend.setCurrentKey(keys[k]!, keyGroups[k]!);
      const got = o.value.value();
      if (got !== values.get(k)) throw new Error(`${what}: value state of key ${k} is ${got}, want ${values.get(k)}`);
      o.value.update(i);
      values.set(k, i);
    } else if (r < 0.86) o.backend.maintenanceStep?.();
    else if (r < 0.9) {
      lsm()?.store.freeze();
      lsm()?.store.flushAll();
    } else if (r < 0.91 && lsm() !== undefined) {
      const store = lsm()!.store;
      store.freeze();
      store.flushAll();
      segments = store.liveSegments();
      stats.flushes += store.stats().flushCount;
      stats.compactions += store.stats().compactionCount;
      void o.backend.close();
      o = open();
      stats.reopens++;
    }
    for (const [j, qj] of o.queues.entries()) refs[j]!.check(qj, `${what}, queue ${j}`);
  }
  for (const [j, q] of o.queues.entries()) while (checkPoll(q, refs[j]!, Infinity, `final drain of queue ${j}`));
  if (lsm() !== undefined) {
    stats.flushes += lsm()!.store.stats().flushCount;
    stats.compactions += lsm()!.store.stats().compactionCount;
  }
  void o.backend.close();
  return stats;
}

const baseSeed = testSeed(4200);
for (const [ki, kind] of (['heap', 'lsm'] as const).entries()) {
  t.test(`${kind}: timer queues match a sorted-array reference, ties in the documented order`, (t) => {
    const seeds = process.env.SLUICE_SEED === undefined ? [baseSeed + ki * 10, baseSeed + ki * 10 + 1, baseSeed + ki * 10 + 2] : [baseSeed];
    for (const [si, seed] of seeds.entries()) {
      // LSM: caches of 1 and 3 entries per key group overflow all the time; 32 (the default) rarely.
      const timerCache = kind === 'lsm' ? [1, 3, 32][si] : undefined;
      try {
        const s = run(t, kind, seed, 6000, timerCache);
        t.ok(
          s.polled > 300 && s.duplicates > 50 && s.absentDeletes > 50 && s.groupTies > 50,
          `seed ${seed}${timerCache === undefined ? '' : `, timer cache ${timerCache}`}: ${s.polled} polled (${s.groupTies} with the next tied in another key group), ${s.duplicates} duplicate adds, ${s.absentDeletes} deletes of absent timers`,
        );
        if (kind === 'lsm') t.ok(s.flushes >= 10 && s.compactions >= 10 && s.reopens >= 10, `seed ${seed}: ${s.flushes} flushes, ${s.compactions} compactions, ${s.reopens} reopens from segments`);
      } catch (e) {
        t.fail(`seed ${seed} (replay: SLUICE_SEED=${seed}): ${(e as Error).stack}`);
      }
    }
    t.end();
  });
}

t.test('the timer timestamp encoding preserves numeric order as unsigned bytes, negatives included', (t) => {
  const seed = testSeed(4300);
  const rand = seededRandom(seed);
  const values = [...extremes, 1, -2, 2 ** 53 - 2, -(2 ** 53) + 2, 2 ** 32 + 1, -(2 ** 32) + 1];
  for (let i = 0; i < 2000; i++) {
    const scale = [1, 1e3, 1e9, 1e12, 2 ** 52][randomInt(rand, 0, 5)]!;
    values.push(Math.trunc((rand() * 2 - 1) * scale));
  }
  const escaped = escapeKey(Uint8Array.of(1));
  const encoded = values.map((v) => composeTimerKey(3, 0xabcd, v, escaped));
  let bad = 0;
  for (let i = 0; i < values.length; i++) {
    if (timerTimestampOfKey(encoded[i]!) !== values[i]) bad++;
    const j = randomInt(rand, 0, values.length);
    const numeric = Math.sign(values[i]! - values[j]!);
    if (Math.sign(compareBytes(encoded[i]!, encoded[j]!)) !== numeric) bad++;
  }
  t.equal(bad, 0, `seed ${seed}: ${values.length} timestamps round-trip and compare as numbers`);
  t.same([...composeTimerKey(0x0102, 0x0304, -1, escaped).subarray(0, 12)], [1, 2, 3, 4, 0x7f, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff], 'documented bytes of -1');
  t.same([...composeTimerKey(0, 0, 0, escaped).subarray(4, 12)], [0x80, 0, 0, 0, 0, 0, 0, 0], 'documented bytes of 0');
  const example = composeTimerKey(5, 0xa1b2, -1, escapeKey(new Encoder({ useRecords: false }).encode('k')));
  t.equal(Buffer.from(example).toString('hex'), '0005a1b27fffffffffffffff616b0001', 'the example of native-notes.md §3 Timers');
  t.equal(Buffer.from(composeTimerKey(0, 0, 2 ** 32, escaped).subarray(4, 12)).toString('hex'), '8000000100000000', 'documented bytes of 2^32');
  t.end();
});

function eachBackend(t: Test, name: string, fn: (b: KeyedStateBackend, kind: Kind) => void): void {
  const root = tempDir(t, name);
  fn(new HeapKeyedStateBackend({ scratchDir: root, fsync: false }), 'heap');
  fn(new LsmKeyedStateBackend({ dir: path.join(root, 'lsm'), maxParallelism: 128, store: lsmStore }), 'lsm');
}

t.test('bad timestamps, key groups, bounds and domains are refused with a RangeError naming the value', (t) => {
  eachBackend(t, 'timers-bad', (b, kind) => {
    const q = b.timers('op', 'event');
    for (const bad of [NaN, 1.5, Infinity, -Infinity, 2 ** 60, -(2 ** 53), Number.MAX_SAFE_INTEGER + 2]) {
      t.throws(() => q.add('k', 1, bad), { name: 'RangeError', message: new RegExp(`^Timer timestamp ${String(bad).replace('+', '\\+')} is not an integer`) }, `${kind}: add ${bad}`);
      t.throws(() => q.delete('k', 1, bad), RangeError, `${kind}: delete ${bad}`);
    }
    t.throws(() => q.add('k', 1, '5' as unknown as number), /Timer timestamp "5" \(a string\)/, `${kind}: a string timestamp`);
    t.throws(() => q.add('k', -1, 5), /Timer key group -1 is outside/, `${kind}: negative key group`);
    t.throws(() => q.add('k', 1.5, 5), /key group 1\.5/, `${kind}: fractional key group`);
    if (kind === 'lsm') t.throws(() => q.add('k', 128, 5), /key group 128 is outside \[0, 128\)/, 'lsm: key group >= max parallelism');
    t.throws(() => q.pollDue(NaN), /pollDue bound must be a number.*NaN/, `${kind}: NaN bound`);
    if (kind === 'lsm') {
      for (const bad of [0, 4097, 1.5]) {
        t.throws(() => new LsmKeyedStateBackend({ dir: path.join(tempDir(t, 'timers-opt'), 'x'), timerCacheEntriesPerKeyGroup: bad }), new RegExp(`timerCacheEntriesPerKeyGroup must be an integer in \\[1, 4096\\], got ${bad}`));
      }
    }
    t.throws(() => b.timers('op', 'wall' as TimeDomain), /Timer domain must be 'event' or 'processing', got "wall"/, `${kind}: bad domain`);
    t.equal(q.size(), 0, `${kind}: nothing was added by refused calls`);
    q.add('k', 1, -0);
    t.ok(Object.is(q.peekTimestamp(), 0), `${kind}: -0 is taken as 0`);
    q.add('k', 1, 0);
    t.equal(q.size(), 1, `${kind}: -0 and 0 are one timer`);
    t.same(q.pollDue(-Infinity), undefined, `${kind}: -Infinity bound: nothing due`);
    t.same(q.pollDue(Infinity), { key: 'k', keyGroup: 1, timestampMs: 0 }, `${kind}: Infinity bound drains`);
    void b.close();
  });
  t.end();
});

t.test('timers() returns one queue per operator and domain, and user state cannot take a timer name', (t) => {
  eachBackend(t, 'timers-names', (b, kind) => {
    const q = b.timers('op', 'event');
    t.equal(b.timers('op', 'event'), q, `${kind}: the same object for the same arguments`);
    t.not(b.timers('op', 'processing'), q, `${kind}: another object for the other domain`);
    t.not(b.timers('op2', 'event'), q, `${kind}: another object for another operator`);
    q.add('k', 3, 10);
    t.equal(b.timers('op', 'processing').size(), 0, `${kind}: domains are independent`);
    t.equal(b.timers('op2', 'event').size(), 0, `${kind}: operators are independent`);
    for (const name of ['_timers/event', '_timers/processing', '_timers/x']) {
      t.throws(() => b.getValueState('op', { kind: 'value', name }), { name: 'RangeError', message: /reserved for timers: rename the state/ }, `${kind}: value state ${name}`);
      t.throws(() => b.getMapState('op', { kind: 'map', name }), /reserved for timers/, `${kind}: map state ${name}`);
    }
    t.throws(() => b.applyToAllKeys('op', '_timers/event', () => {}), /is not registered/, `${kind}: applyToAllKeys does not walk timers`);
    b.getValueState('op', { kind: 'value', name: 'timers/event' });
    t.pass(`${kind}: other names are fine`);
    void b.close();
  });
  t.end();
});

t.test('lsm: a timer state id that collides with a user state id is refused', (t) => {
  const b = new LsmKeyedStateBackend({ dir: tempDir(t, 'timers-collide'), maxParallelism: 128, store: lsmStore });
  const target = stateIdOf('op', '_timers/event');
  let name: string | undefined;
  for (let i = 0; name === undefined; i++) if (stateIdOf('op', `s${i}`) === target) name = `s${i}`;
  b.getValueState('op', { kind: 'value', name });
  t.throws(() => b.timers('op', 'event'), new RegExp(`State "_timers/event" of operator op hashes to the same id \\(${target}\\) as "${name}"`));
  void b.close();
  t.end();
});

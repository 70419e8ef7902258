/**
 * Heap keyed state restored at another parallelism (restore kind 'heap-rescale'):
 * (a) `keyIdentity` / `keyFromIdentity` round trip over seeded random keys of every kind
 *     (strings with ',', ']', ':', digits, empty, unicode; numbers incl. -0, NaN,
 *     Infinity; bigints; booleans; random bytes; nested and empty arrays), no two unequal
 *     keys sharing an identity, the key group surviving the round trip, malformed
 *     identities refused;
 * (b) model-based rescale: seeded random writes on value, list, map, reducing,
 *     aggregating, TTL value and TTL map state, each key written into the old subtask that
 *     owns its key group (pOld, pNew in 1..5, max parallelism max(pOld, pNew), 7 or 128),
 *     every old backend snapshotted to a file, then every new subtask restored from those
 *     files: its snapshot holds exactly the old cells of its key groups (stored bytes and
 *     TTL stamps unchanged), every state of its keys equals the reference, other keys are
 *     empty, the old files are not changed, and a plain restore of its new snapshot agrees;
 * (c) version-1 files, overlapping files, disagreeing states, bad identities and bad
 *     options are refused with errors naming the file or option.
 * Replay one seed: SLUICE_SEED=<seed> npx tap dist/test/state/heap-rescale.test.js
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { inspect, isDeepStrictEqual } from 'node:util';
import t, { type Test } from 'tap';
import { Encoder } from 'cbor-x';
import type { SnapshotFiles, StateKey, StateRestore, StateSnapshotJob, StateTtlConfig } from '../../src/state/api.js';
import { HeapKeyedStateBackend } from '../../src/state/heap-backend.js';
import { keyFromIdentity, keyIdentity } from '../../src/state/key-identity.js';
import { assignToKeyGroup, keyGroupRangeForSubtask, operatorIndexForKeyGroup, type KeyGroupRange } from '../../src/state/key-group.js';
import { LsmKeyedStateBackend } from '../../src/state/lsm-backend.js';
import { CorruptSnapshotError, decodeHeapSnapshotFile, encodeHeapSnapshotHeader } from '../../src/state/snapshot.js';
import { testSeed } from '../helpers/random.js';
import { randomInt, seededRandom, tempDir, toHex } from './helpers.js';

const pick = <T>(rand: () => number, xs: readonly T[]): T => xs[randomInt(rand, 0, xs.length)]!;

const stringParts = [',', ']', '[', ':', '0', '1', '9', '12:', 'a', 'sx', 'n1', 'a1:', ' ', 'é', '😀', '\u0000', 'ß'];
/** A string of 0..5 tricky parts; `lone` adds unpaired surrogates (cbor-x cannot store those). */
function randomString(rand: () => number, lone = false): string {
  const parts = lone ? [...stringParts, '\uD800', '\uDFFF'] : stringParts;
  let s = '';
  for (let n = randomInt(rand, 0, 6); n > 0; n--) s += pick(rand, parts);
  return s;
}

const specialNumbers = [0, -0, 1, -1, 0.5, -3.25, 1e21, -1e-7, 2 ** 53, Number.MAX_VALUE, Number.MIN_VALUE, Infinity, -Infinity, NaN];
const specialBigints = [0n, -1n, 7n, 2n ** 64n, -(2n ** 70n)];

/** A random key of any supported kind, arrays nested up to `depth` levels. */
function randomKey(rand: () => number, depth = 2, lone = false): StateKey {
  const r = rand();
  if (r < 0.25) return randomString(rand, lone);
  if (r < 0.4) return rand() < 0.5 ? pick(rand, specialNumbers) : rand() < 0.5 ? randomInt(rand, -1000, 1000) : (rand() - 0.5) * 1e6;
  if (r < 0.5) return rand() < 0.5 ? pick(rand, specialBigints) : BigInt(randomInt(rand, -1e9, 1e9));
  if (r < 0.56) return rand() < 0.5;
  if (r < 0.68) return Uint8Array.from({ length: randomInt(rand, 0, 7) }, () => randomInt(rand, 0, 256));
  if (depth === 0) return randomString(rand, lone);
  return Array.from({ length: randomInt(rand, 0, 4) }, () => randomKey(rand, depth - 1, lone));
}

/** Key equality as state keys mean it: -0 is not 0, NaN is NaN, bytes by content. */
function sameKey(a: unknown, b: unknown): boolean {
  if (a instanceof Uint8Array || b instanceof Uint8Array) {
    return a instanceof Uint8Array && b instanceof Uint8Array && Buffer.from(a).equals(Buffer.from(b));
  }
  if (Array.isArray(a) || Array.isArray(b)) {
    return Array.isArray(a) && Array.isArray(b) && a.length === b.length && a.every((x, i) => sameKey(x, b[i]));
  }
  return Object.is(a, b);
}

t.test('keyIdentity and keyFromIdentity are inverse, and unequal keys never share an identity', (t) => {
  const seed = testSeed(9100);
  const rand = seededRandom(seed);
  const byIdentity = new Map<string, unknown>();
  let collisionsChecked = 0;
  const keys: unknown[] = [
    ['a,sb'], ['a', 'b'], ['a[sx]'], [['x']], ['2:sx'], [''], [[]], [], '', 0, -0, NaN, Uint8Array.of(), [Uint8Array.of()], [[], []], [[[]]],
  ];
  for (let i = 0; i < 20_000; i++) keys.push(randomKey(rand, 3, true));
  for (const key of keys) {
    const id = keyIdentity(key);
    const back = keyFromIdentity(id);
    if (!sameKey(back, key)) t.fail(`seed ${seed}: ${id} came back as ${inspect(back)}`);
    if (keyIdentity(back) !== id) t.fail(`seed ${seed}: identity of the restored key differs for ${id}`);
    for (const maxP of [7, 128]) {
      if (assignToKeyGroup(back, maxP) !== assignToKeyGroup(key, maxP)) t.fail(`seed ${seed}: key group of ${id} changed at max parallelism ${maxP}`);
    }
    if (key instanceof Uint8Array && Object.getPrototypeOf(back) !== Uint8Array.prototype) t.fail(`seed ${seed}: ${id} is not a plain Uint8Array`);
    const seen = byIdentity.get(id);
    if (seen === undefined) byIdentity.set(id, key);
    else if (!sameKey(seen, key)) t.fail(`seed ${seed}: unequal keys share the identity ${id}`);
    else collisionsChecked++;
  }
  t.ok(byIdentity.size > 10_000, `seed ${seed}: ${keys.length} keys, ${byIdentity.size} distinct identities, ${collisionsChecked} equal pairs agreed`);
  t.equal(keyIdentity([1, 'x,]']), 'a2:2:n14:sx,]', 'the documented example');
  t.equal(keyIdentity(-0), 'n-0', '-0 is a key of its own');
  t.ok(Object.is(keyFromIdentity('n-0'), -0));
  t.not(assignToKeyGroup(-0, 128), assignToKeyGroup(0, 128), '-0 and 0 hash to different key groups (Java Double.hashCode)');
  t.throws(() => keyIdentity([1, { x: 1 }]), TypeError);
  t.end();
});

t.test('malformed identities are refused with a RangeError naming them', (t) => {
  const bad = [
    '', 'x1', 'n', 'n01', 'n1e3', 'n+1', 'n 1', 'n-0.0', 'nnan', 'b', 'b01', 'b-0', 'b1.5', 'b 1', 'tx', 'f0', 'u@@', 'uAA', 'uA',
    'a', 'a1', 'a1:', 'a01:1:t', 'a1:2:t', 'a1:1:tX', 'a0:x', 'a[sx]', 'a[]', 'a1:0:', 'a1:01:t', 'a2:1:t', 'a1:4:a1:t', `a${'9'.repeat(20)}:`,
  ];
  for (const id of bad) {
    try {
      keyFromIdentity(id);
      t.fail(`${JSON.stringify(id)} was accepted`);
    } catch (e) {
      t.ok(e instanceof RangeError && e.message.startsWith(`Malformed state key identity ${JSON.stringify(id)}: `), `${JSON.stringify(id)}: ${(e as Error).message}`);
    }
  }
  t.throws(() => keyFromIdentity(7 as unknown as string), TypeError);
  t.end();
});

// ---------------------------------------------------------------------------------------
// (b) model-based rescale

const ttl: StateTtlConfig = { ttlMs: 200, updateType: 'OnCreateAndWrite' };
type Avg = { sum: number; count: number };
const avg = {
  createAccumulator: (): Avg => ({ sum: 0, count: 0 }),
  add: (v: number, a: Avg): Avg => ({ sum: a.sum + v, count: a.count + 1 }),
  getResult: (a: Avg) => a.sum / a.count,
};
const mapKeys: StateKey[] = [1, 0, -0, 'k', 'k,]', '', [1, 'x'], [], Uint8Array.of(1, 2), 5n, true];
/** A map key's name in the model: its identity, -0 being 0 (one map entry, file comment of heap-backend.ts). */
const mapKeyName = (mk: unknown): string => (Object.is(mk, -0) ? 'n0' : keyIdentity(mk));
const mapKeyNames = [...new Set(mapKeys.map(mapKeyName))].sort();
const codec = new Encoder({ useRecords: false, copyBuffers: true });
type Clock = { now: number; nowMs(): number };
const newClock = (now: number): Clock => ({ now, nowMs() { return this.now; } });

function openStates(b: HeapKeyedStateBackend) {
  return {
    value: b.getValueState<{ n: number; s: string }>('op1', { kind: 'value', name: 'v' }),
    list: b.getListState<string>('op1', { kind: 'list', name: 'l' }),
    map: b.getMapState<StateKey, number>('op2', { kind: 'map', name: 'm' }),
    reducing: b.getReducingState<number>('op2', { kind: 'reducing', name: 'r', reduce: (x, y) => x + y }),
    aggregating: b.getAggregatingState('op2', { kind: 'aggregating', name: 'a', aggregate: avg }),
    ttlValue: b.getValueState<number>('op3', { kind: 'value', name: 't', ttl }),
    ttlMap: b.getMapState<StateKey, string>('op3', { kind: 'map', name: 'tm', ttl }),
  };
}
type States = ReturnType<typeof openStates>;

/** Reference cells: `<state>|<key index>[|<map key name>]` -> value and write time; 't' and 'tm' expire. */
class Model {
  readonly cells = new Map<string, { v: unknown; at: number }>();
  /** The live value of cell `id`; TTL cells ('t…') expire `ttl.ttlMs` after their write, and are then dropped. */
  get(id: string, now: number): unknown {
    const c = this.cells.get(id);
    const expired = c !== undefined && id.startsWith('t') && now - c.at >= ttl.ttlMs;
    if (expired) this.cells.delete(id);
    return expired ? undefined : c?.v;
  }
  set = (id: string, v: unknown, now: number): void => void this.cells.set(id, { v, at: now });
  delete = (id: string): void => void this.cells.delete(id);
  /** The live map entries of `state` for key `k`, as [map key name, value], sorted. */
  mapEntries(state: string, k: number, now: number): [string, unknown][] {
    const out: [string, unknown][] = [];
    for (const name of mapKeyNames) {
      const v = this.get(`${state}|${k}|${name}`, now);
      if (v !== undefined) out.push([name, v]);
    }
    return out;
  }
}

function liveMap(m: States['map'] | States['ttlMap']): [string, unknown][] {
  return [...m.entries()].map(([k, v]): [string, unknown] => [mapKeyName(k), v]).sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
}

/** One random write (or clear) of key `k` to `s` and the model. */
function randomWrite(rand: () => number, s: States, m: Model, k: number, now: number): void {
  const n = randomInt(rand, -50, 50);
  const mk = randomInt(rand, 0, mapKeys.length);
  const mkName = mapKeyName(mapKeys[mk]);
  const r = rand();
  if (r < 0.12) {
    const v = { n, s: randomString(rand) };
    s.value.update(v);
    m.set(`v|${k}`, v, now);
  } else if (r < 0.15) (s.value.clear(), m.delete(`v|${k}`));
  else if (r < 0.3) {
    const e = randomString(rand);
    s.list.add(e);
    m.set(`l|${k}`, [...((m.get(`l|${k}`, now) as string[] | undefined) ?? []), e], now);
  } else if (r < 0.32) (s.list.clear(), m.delete(`l|${k}`));
  else if (r < 0.45) (s.map.put(mapKeys[mk]!, n), m.set(`m|${k}|${mkName}`, n, now));
  else if (r < 0.49) (s.map.remove(mapKeys[mk]!), m.delete(`m|${k}|${mkName}`));
  else if (r < 0.6) (s.reducing.add(n), m.set(`r|${k}`, ((m.get(`r|${k}`, now) as number | undefined) ?? 0) + n, now));
  else if (r < 0.7) (s.aggregating.add(n), m.set(`a|${k}`, avg.add(n, (m.get(`a|${k}`, now) as Avg | undefined) ?? avg.createAccumulator()), now));
  else if (r < 0.72) (s.aggregating.clear(), m.delete(`a|${k}`));
  else if (r < 0.84) (s.ttlValue.update(n), m.set(`t|${k}`, n, now));
  else if (r < 0.86) (s.ttlValue.clear(), m.delete(`t|${k}`));
  else if (r < 0.97) (s.ttlMap.put(mapKeys[mk]!, `x${n}`), m.set(`tm|${k}|${mkName}`, `x${n}`, now));
  else (s.ttlMap.remove(mapKeys[mk]!), m.delete(`tm|${k}|${mkName}`));
}

/** Every state of key `k` in `s` equals the model (owned) or is empty (not owned). */
function checkKey(s: States, m: Model, k: number, owned: boolean, now: number): void {
  const want = owned
    ? {
        v: m.get(`v|${k}`, now),
        l: m.get(`l|${k}`, now) ?? [],
        m: m.mapEntries('m', k, now),
        r: m.get(`r|${k}`, now),
        a: ((acc) => (acc === undefined ? undefined : avg.getResult(acc)))(m.get(`a|${k}`, now) as Avg | undefined),
        t: m.get(`t|${k}`, now),
        tm: m.mapEntries('tm', k, now),
      }
    : { v: undefined, l: [], m: [], r: undefined, a: undefined, t: undefined, tm: [] };
  const got = {
    v: s.value.value(),
    l: s.list.get(),
    m: liveMap(s.map),
    r: s.reducing.get(),
    a: s.aggregating.get(),
    t: s.ttlValue.value(),
    tm: liveMap(s.ttlMap),
  };
  for (const name of Object.keys(want) as (keyof typeof want)[]) {
    if (!isDeepStrictEqual(got[name], want[name])) {
      throw new Error(`state ${name} of key #${k} (${owned ? 'owned' : 'not owned'}): got ${inspect(got[name], { depth: 5 })}, want ${inspect(want[name], { depth: 5 })}`);
    }
  }
}

function complete(job: StateSnapshotJob): string {
  let files: SnapshotFiles | undefined;
  for (let guard = 0; (files = job.step()) === undefined; guard++) if (guard > 100_000) throw new Error('snapshot never completes');
  if (files.kind !== 'heap') throw new Error(`expected a heap snapshot, got ${files.kind}`);
  return files.localPath;
}

/** Snapshots `b` and copies the file to `file` (as checkpoint storage would), then releases the job. */
function snapshotTo(b: HeapKeyedStateBackend, chk: number, file: string): string {
  const job = b.snapshot(chk);
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.copyFileSync(complete(job), file);
  job.release();
  return file;
}

interface FileState {
  kind: string;
  ttl: boolean;
  /** Cell identity -> hex of the stored value's encoding. */
  cells: Map<string, string>;
}

/** The states of a heap snapshot file, decoded with the test's own codec. */
function readStates(file: string): Map<string, FileState> {
  const payload = codec.decode(decodeHeapSnapshotFile(fs.readFileSync(file), file)) as { states: Array<{ id: string; kind: string; ttl: boolean; cells: Map<string, unknown> }> };
  return new Map(payload.states.map((st) => [st.id, { kind: st.kind, ttl: st.ttl, cells: new Map([...st.cells].map(([id, v]) => [id, toHex(codec.encode(v))])) }]));
}

function fingerprint(files: string[]): string[] {
  return files.map((f) => crypto.createHash('sha1').update(fs.readFileSync(f)).digest('hex'));
}

interface RunStats {
  keys: number;
  cells: number;
  files: number;
}

function runRescale(t: Test, seed: number, pOld: number, pNew: number, maxP: number): RunStats {
  const root = tempDir(t, 'heap-rescale');
  const rand = seededRandom(seed);
  const clock = newClock(1_000_000);
  const model = new Model();

  // Keys: fixed edge cases and random ones, one per identity.
  const byId = new Map<string, StateKey>();
  for (const k of [0, -0, NaN, '', [], ['a,sb'], ['a', 'b'], Uint8Array.of(), true, false] as StateKey[]) byId.set(keyIdentity(k), k);
  while (byId.size < 160) {
    const k = randomKey(rand);
    byId.set(keyIdentity(k), k);
  }
  const keys = [...byId.values()];
  const keyIndexOf = new Map([...byId.keys()].map((id, i) => [id, i]));
  const groups = keys.map((k) => assignToKeyGroup(k, maxP));
  const inRange = (g: number, r: KeyGroupRange) => g >= r.start && g <= r.end;

  // Old job: each key written into the subtask owning its key group.
  const oldRanges = Array.from({ length: pOld }, (_, i) => keyGroupRangeForSubtask(maxP, pOld, i));
  const old = oldRanges.map((_, i) => new HeapKeyedStateBackend({ clock, scratchDir: path.join(root, `old-${i}`), fsync: false }));
  const oldStates = old.map(openStates);
  for (let op = 0; op < 3000; op++) {
    if (rand() < 0.08) {
      clock.now += randomInt(rand, 0, 16);
      continue;
    }
    const k = randomInt(rand, 0, keys.length);
    const owner = operatorIndexForKeyGroup(groups[k]!, pOld, maxP);
    if (!inRange(groups[k]!, oldRanges[owner]!)) throw new Error(`key #${k}: operatorIndexForKeyGroup disagrees with the ranges`);
    old[owner]!.setCurrentKey(keys[k]!, groups[k]!);
    randomWrite(rand, oldStates[owner]!, model, k, clock.now);
  }
  const files = old.map((b, i) => snapshotTo(b, 1, path.join(root, 'storage', `old-${i}.snap`)));
  for (const b of old) void b.close();
  const before = fingerprint(files);
  const oldContents = files.map(readStates);

  const stats: RunStats = { keys: 0, cells: 0, files: files.length };
  for (let j = 0; j < pNew; j++) {
    const range = keyGroupRangeForSubtask(maxP, pNew, j);
    const intersecting = files.filter((_, i) => oldRanges[i]!.start <= range.end && range.start <= oldRanges[i]!.end);
    const paths = (rand() < 0.5 ? files.slice() : intersecting).sort(() => rand() - 0.5);
    const restore: StateRestore = { kind: 'heap-rescale', keyGroups: range, maxParallelism: maxP, paths };
    const fresh = new HeapKeyedStateBackend({ clock, scratchDir: path.join(root, `new-${j}`), fsync: false, restore });

    // Raw: before any registration, its snapshot holds exactly the old cells of its key groups.
    const rescaledFile = snapshotTo(fresh, 2, path.join(root, 'storage2', `new-${j}.snap`));
    const got = readStates(rescaledFile);
    const want = new Map<string, FileState>();
    for (const content of oldContents) {
      for (const [sid, st] of content) {
        const into = want.get(sid) ?? { kind: st.kind, ttl: st.ttl, cells: new Map<string, string>() };
        want.set(sid, into);
        for (const [id, hex] of st.cells) {
          const k = keyIndexOf.get(id);
          if (k === undefined) throw new Error(`old file holds an unknown key identity ${JSON.stringify(id)}`);
          if (inRange(groups[k]!, range)) into.cells.set(id, hex);
        }
      }
    }
    if (!isDeepStrictEqual([...got.keys()].sort(), [...want.keys()].sort())) throw new Error(`subtask ${j}: states ${[...got.keys()]} differ from ${[...want.keys()]}`);
    for (const [sid, w] of want) {
      const g = got.get(sid)!;
      if (g.kind !== w.kind || g.ttl !== w.ttl) throw new Error(`subtask ${j}: state ${sid} is ${g.kind}/${g.ttl}, want ${w.kind}/${w.ttl}`);
      for (const [id, hex] of w.cells) if (g.cells.get(id) !== hex) throw new Error(`subtask ${j}: state ${sid} cell ${JSON.stringify(id)} lost or changed`);
      for (const id of g.cells.keys()) if (!w.cells.has(id)) throw new Error(`subtask ${j}: state ${sid} holds cell ${JSON.stringify(id)} outside its key groups`);
      stats.cells += g.cells.size;
    }

    // Through the API: its keys equal the reference, every other key is empty; a plain
    // restore of its own snapshot agrees.
    const again = new HeapKeyedStateBackend({ clock, scratchDir: path.join(root, `again-${j}`), fsync: false, restore: { kind: 'heap', path: rescaledFile } });
    for (const b of [fresh, again]) {
      const st = openStates(b);
      for (const [k, key] of keys.entries()) {
        b.setCurrentKey(key, groups[k]!);
        checkKey(st, model, k, inRange(groups[k]!, range), clock.now);
      }
      void b.close();
    }
    stats.keys += keys.filter((_, k) => inRange(groups[k]!, range)).length;
  }
  const oldCells = oldContents.reduce((n, c) => n + [...c.values()].reduce((m, st) => m + st.cells.size, 0), 0);
  if (stats.cells !== oldCells) throw new Error(`new subtasks hold ${stats.cells} cells, the old ones ${oldCells}`);
  if (!isDeepStrictEqual(fingerprint(files), before)) throw new Error('the old snapshot files changed during the rescale');
  return stats;
}

const baseSeed = testSeed(9200);
/** The parallelisms of a run, from its seed alone (so SLUICE_SEED replays it). */
function shapeOf(seed: number): { pOld: number; pNew: number; maxP: number } {
  const rand = seededRandom(seed ^ 0x5eed);
  const pOld = randomInt(rand, 1, 6);
  const pNew = randomInt(rand, 1, 6);
  return { pOld, pNew, maxP: pick(rand, [Math.max(pOld, pNew), 7, 128]) };
}
t.test('heap-rescale: every new subtask holds exactly the reference state of its key groups', (t) => {
  const seeds = process.env.SLUICE_SEED === undefined ? Array.from({ length: 20 }, (_, i) => baseSeed + i) : [baseSeed];
  for (const seed of seeds) {
    const { pOld, pNew, maxP } = shapeOf(seed);
    try {
      const s = runRescale(t, seed, pOld, pNew, maxP);
      t.ok(s.keys === 160 && s.cells > 0, `seed ${seed}: ${pOld} -> ${pNew} at max parallelism ${maxP}: ${s.keys} keys and ${s.cells} cells from ${s.files} files`);
    } catch (e) {
      t.fail(`seed ${seed} (${pOld} -> ${pNew}, max parallelism ${maxP}; replay: SLUICE_SEED=${seed}): ${(e as Error).stack}`);
    }
  }
  t.end();
});

// ---------------------------------------------------------------------------------------
// (c) refusals

/** A heap snapshot file of one subtask holding `value` for each of `keys` in state op/v. */
function oneValueFile(root: string, name: string, keys: StateKey[], kind: 'value' | 'list' = 'value', withTtl = false): string {
  const b = new HeapKeyedStateBackend({ scratchDir: path.join(root, name), fsync: false });
  for (const key of keys) {
    b.setCurrentKey(key, 0);
    const w = withTtl ? { ttl } : {};
    if (kind === 'value') b.getValueState<string>('op', { kind: 'value', name: 'v', ...w }).update(`${name}-${String(key)}`);
    else b.getListState<string>('op', { kind: 'list', name: 'v', ...w }).add(name);
  }
  const file = snapshotTo(b, 1, path.join(root, 'storage', `${name}.snap`));
  void b.close();
  return file;
}

t.test('heap-rescale refuses version-1 files, overlaps, disagreeing states and bad identities', (t) => {
  const root = tempDir(t, 'heap-rescale-errors');
  const all = { start: 0, end: 127 };
  const open = (paths: string[], keyGroups = all) => new HeapKeyedStateBackend({ scratchDir: path.join(root, 'x'), restore: { kind: 'heap-rescale', keyGroups, maxParallelism: 128, paths } });
  const a = oneValueFile(root, 'a', ['k', 1, [2, 'x']]);
  const b = oneValueFile(root, 'b', ['k', 3]);
  const c = oneValueFile(root, 'c', [4, 5]);

  const v1 = path.join(root, 'v1.snap');
  fs.writeFileSync(v1, Buffer.from(fs.readFileSync(c).map((byte, i) => (i === 8 ? 1 : byte))));
  t.throws(() => open([a, v1]), CorruptSnapshotError);
  t.throws(() => open([a, v1]), { message: /v1\.snap: format version 1 is not supported \(this build reads 2\)/ });

  t.throws(() => open([a, b]), { message: /files .*a\.snap \(paths\[0\]\) and .*b\.snap \(paths\[1\]\) both hold key group \d+ \(state "op\/v", key "sk"\)/ });
  t.throws(() => open([c, c]), { message: /c\.snap \(paths\[0\]\) and .*c\.snap \(paths\[1\]\) both hold key group/ }, 'one file twice');
  const g3 = assignToKeyGroup(3, 128);
  t.notOk(['k', 1, [2, 'x']].some((k) => assignToKeyGroup(k, 128) === g3), 'the test keys: 3 has a key group of its own');
  t.doesNotThrow(() => void open([a, b], { start: g3, end: g3 }).close(), 'a key in both files but outside the kept range is no overlap');

  const list = oneValueFile(root, 'list', [6], 'list');
  t.throws(() => open([c, list]), CorruptSnapshotError);
  t.throws(() => open([c, list]), { message: /list\.snap: state "op\/v" is list state without TTL here but value state without TTL in .*c\.snap/ });
  const stamped = oneValueFile(root, 'stamped', [6], 'value', true);
  t.throws(() => open([c, stamped]), { message: /state "op\/v" is value state with TTL here but value state without TTL in .*c\.snap/ });

  const payload = codec.encode({ checkpointId: 1, states: [{ id: 'op/v', kind: 'value', ttl: false, cells: new Map([['x1', 5]]) }] });
  const crafted = path.join(root, 'crafted.snap');
  fs.writeFileSync(crafted, Buffer.concat([encodeHeapSnapshotHeader(payload), payload]));
  t.throws(() => open([crafted]), CorruptSnapshotError);
  t.throws(() => open([crafted]), { message: /crafted\.snap: state "op\/v" has a cell whose key cannot be recovered \(Malformed state key identity "x1"/ });
  t.throws(() => open([path.join(root, 'gone.snap')]), { code: 'ENOENT' });

  // Each file alone restores its own keys; no files at all is an empty state.
  const whole = open([c, a]);
  const v = whole.getValueState<string>('op', { kind: 'value', name: 'v' });
  for (const [key, want] of [[4, 'c-4'], ['k', 'a-k'], [[2, 'x'], 'a-2,x']] as [StateKey, string][]) {
    whole.setCurrentKey(key, assignToKeyGroup(key, 128));
    t.equal(v.value(), want, `key ${keyIdentity(key)} restored`);
  }
  void whole.close();
  const empty = open([]);
  empty.setCurrentKey(4, 0);
  t.equal(empty.getValueState<string>('op', { kind: 'value', name: 'v' }).value(), undefined, 'no files: empty state');
  void empty.close();
  t.end();
});

t.test('heap-rescale options are validated, naming the option', (t) => {
  const root = tempDir(t, 'heap-rescale-options');
  const file = oneValueFile(root, 'a', [1]);
  const open = (r: Record<string, unknown>) => () =>
    new HeapKeyedStateBackend({ restore: { kind: 'heap-rescale', keyGroups: { start: 0, end: 127 }, maxParallelism: 128, paths: [file], ...r } as StateRestore });
  const cases: [string, Record<string, unknown>, ErrorConstructor, RegExp][] = [
    ['max parallelism 0', { maxParallelism: 0 }, RangeError, /restore\.maxParallelism must be an integer in \[1, 32768\], got 0/],
    ['max parallelism 32769', { maxParallelism: 32769, keyGroups: { start: 0, end: 0 } }, RangeError, /restore\.maxParallelism/],
    ['max parallelism 1.5', { maxParallelism: 1.5 }, RangeError, /restore\.maxParallelism/],
    ['end = max parallelism', { keyGroups: { start: 0, end: 128 } }, RangeError, /restore\.keyGroups must satisfy 0 <= start <= end < maxParallelism \(128\)/],
    ['start > end', { keyGroups: { start: 5, end: 4 } }, RangeError, /restore\.keyGroups/],
    ['negative start', { keyGroups: { start: -1, end: 4 } }, RangeError, /restore\.keyGroups/],
    ['no key groups', { keyGroups: null }, TypeError, /restore\.keyGroups must be an inclusive range/],
    ['fractional key group', { keyGroups: { start: 0.5, end: 4 } }, TypeError, /restore\.keyGroups/],
    ['paths not an array', { paths: file }, TypeError, /restore\.paths must be an array/],
    ['a path not a string', { paths: [7] }, TypeError, /restore\.paths/],
    ['an empty path', { paths: [''] }, RangeError, /restore\.paths must not hold an empty path/],
  ];
  for (const [what, r, type, message] of cases) {
    t.throws(open(r), type, what);
    t.throws(open(r), { message }, what);
  }
  t.throws(() => new HeapKeyedStateBackend({ restore: { kind: 'lsm', segments: [] } }), /cannot restore "lsm": it needs .*heap-rescale/);
  t.throws(
    () => new LsmKeyedStateBackend({ dir: path.join(root, 'lsm'), restore: { kind: 'heap-rescale', keyGroups: { start: 0, end: 127 }, maxParallelism: 128, paths: [file] } }),
    /cannot restore a heap-rescale snapshot/,
  );
  t.end();
});

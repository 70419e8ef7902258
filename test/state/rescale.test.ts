/**
 * Model-based test of rescaling keyed LSM state by key groups (restore kind
 * 'lsm-rescale'): seeded random writes on value, list, map and TTL value state, with
 * deletes, over many keys spread across 128 key groups, into `pOld` backends that each
 * write only the keys of their own key-group range; each is snapshotted and its files
 * copied into checkpoint storage; then `pNew` backends restore from those files, each
 * keeping its own key groups. Checked: every key's state in its new owner equals the
 * reference; the raw entries of each new store are exactly the old stores' entries in
 * its range (TTL stamps byte for byte); no new store holds a key outside its range; the
 * checkpoint files are not changed; the new backends then write, compact, snapshot and
 * restore normally.
 * Replay one seed: SLUICE_SEED=<seed> npx tap dist/test/state/rescale.test.js
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import t, { type Test } from 'tap';
import { Encoder } from 'cbor-x';
import type { Clock, SnapshotFiles, StateKey, StateRestore, StateTtlConfig } from '../../src/state/api.js';
import { HeapKeyedStateBackend } from '../../src/state/heap-backend.js';
import { assignToKeyGroup, keyGroupRangeForSubtask, operatorIndexForKeyGroup, type KeyGroupRange } from '../../src/state/key-group.js';
import { LsmKeyedStateBackend } from '../../src/state/lsm-backend.js';
import { keyGroupOf } from '../../src/state/lsm/index.js';
import { testSeed } from '../helpers/random.js';
import { randomInt, seededRandom, tempDir, toHex } from './helpers.js';

const maxParallelism = 128;
const ttl: StateTtlConfig = { ttlMs: 200, updateType: 'OnCreateAndWrite' };
const lsmStore = { memtableSizeBytes: 4096, blockSizeBytes: 512, fsync: false, compactionStepBytes: 4096 };

class FakeClock implements Clock {
  constructor(public now: number) {}
  nowMs(): number {
    return this.now;
  }
}

const keys: StateKey[] = Array.from({ length: 500 }, (_, i) => (i % 3 === 0 ? i * 7 : i % 3 === 1 ? `user-${i}` : [i, 'x']));
const keyGroups = keys.map((k) => assignToKeyGroup(k, maxParallelism));
const mapKeys: (number | string)[] = [1, 2, 300, 'k', 'kk'];
const cbor = new Encoder({ useRecords: false });
const byCbor = (a: unknown, b: unknown) => Buffer.compare(cbor.encode(a), cbor.encode(b));
const inRange = (g: number, r: KeyGroupRange) => g >= r.start && g <= r.end;

/** Reference state: cell id -> value and refresh time; only 't|' cells have TTL. */
class Model {
  readonly cells = new Map<string, { v: unknown; at: number }>();
  get(id: string, now: number): unknown {
    const c = this.cells.get(id);
    if (c === undefined) return undefined;
    if (id.startsWith('t|') && now - c.at >= ttl.ttlMs) {
      this.cells.delete(id);
      return undefined;
    }
    return c.v;
  }
  set(id: string, v: unknown, now: number): void {
    this.cells.set(id, { v, at: now });
  }
  delete(id: string): void {
    this.cells.delete(id);
  }
}

function openStates(b: LsmKeyedStateBackend) {
  return {
    value: b.getValueState<{ n: number }>('op1', { kind: 'value', name: 'v' }),
    list: b.getListState<string>('op1', { kind: 'list', name: 'l' }),
    map: b.getMapState<number | string, number>('op2', { kind: 'map', name: 'm' }),
    ttlValue: b.getValueState<number>('op2', { kind: 'value', name: 't', ttl }),
  };
}
type States = ReturnType<typeof openStates>;

interface Subtask {
  backend: LsmKeyedStateBackend;
  states: States;
  range: KeyGroupRange;
  /** Indexes into `keys` of the keys this subtask owns. */
  owned: number[];
}

function openSubtask(dir: string, clock: Clock, range: KeyGroupRange, restore?: StateRestore): Subtask {
  const backend = new LsmKeyedStateBackend({ dir, clock, maxParallelism, store: lsmStore, restore });
  const owned = keys.map((_, k) => k).filter((k) => inRange(keyGroups[k]!, range));
  return { backend, states: openStates(backend), range, owned };
}

/** One random write (or delete) of a key `s` owns, to the backend and the model. */
function randomWrite(rand: () => number, s: Subtask, m: Model, now: number): void {
  const k = s.owned[randomInt(rand, 0, s.owned.length)]!;
  s.backend.setCurrentKey(keys[k]!, keyGroups[k]!);
  const n = randomInt(rand, -50, 50);
  const r = rand();
  const st = s.states;
  if (r < 0.2) (st.value.update({ n }), m.set(`v|${k}`, { n }, now));
  else if (r < 0.27) (st.value.clear(), m.delete(`v|${k}`));
  else if (r < 0.45) {
    const list = [...((m.get(`l|${k}`, now) as string[] | undefined) ?? []), `e${n}`];
    st.list.add(`e${n}`);
    m.set(`l|${k}`, list, now);
  } else if (r < 0.5) (st.list.clear(), m.delete(`l|${k}`));
  else if (r < 0.75) {
    const mk = mapKeys[randomInt(rand, 0, mapKeys.length)]!;
    if (rand() < 0.75) (st.map.put(mk, n), m.set(`m|${k}|${mk}`, n, now));
    else (st.map.remove(mk), m.delete(`m|${k}|${mk}`));
  } else if (r < 0.78) {
    st.map.clear();
    for (const mk of mapKeys) m.delete(`m|${k}|${mk}`);
  } else if (r < 0.95) (st.ttlValue.update(n), m.set(`t|${k}`, n, now));
  else (st.ttlValue.clear(), m.delete(`t|${k}`));
}

/** `count` steps: mostly writes on random subtasks, some clock advances and maintenance. */
function randomOps(rand: () => number, subtasks: Subtask[], m: Model, clock: FakeClock, count: number): void {
  for (let op = 0; op < count; op++) {
    const s = subtasks[randomInt(rand, 0, subtasks.length)]!;
    const r = rand();
    if (r < 0.82) randomWrite(rand, s, m, clock.now);
    else if (r < 0.9) clock.now += randomInt(rand, 0, 8);
    else s.backend.maintenanceStep();
  }
}

/** Every state of every key `s` owns equals the model's. */
function compareOwned(s: Subtask, m: Model, now: number): void {
  const check = (what: string, got: unknown, want: unknown) => {
    if (JSON.stringify(got) !== JSON.stringify(want)) throw new Error(`${what}: got ${JSON.stringify(got)}, want ${JSON.stringify(want)}`);
  };
  for (const k of s.owned) {
    s.backend.setCurrentKey(keys[k]!, keyGroups[k]!);
    check(`value of key ${k}`, s.states.value.value(), m.get(`v|${k}`, now));
    check(`list of key ${k}`, s.states.list.get(), m.get(`l|${k}`, now) ?? []);
    const want = mapKeys.filter((mk) => m.get(`m|${k}|${mk}`, now) !== undefined).sort(byCbor);
    const got = [...s.states.map.entries()].sort((x, y) => byCbor(x[0], y[0]));
    check(`map of key ${k}`, got, want.map((mk) => [mk, m.cells.get(`m|${k}|${mk}`)!.v]));
    check(`ttl value of key ${k}`, s.states.ttlValue.value(), m.get(`t|${k}`, now));
  }
}

/** Raw live entries of a store, hex key -> hex value. */
function rawEntries(b: LsmKeyedStateBackend): Map<string, string> {
  return new Map([...b.store.scan()].map(([k, v]) => [toHex(k), toHex(v)]));
}

/** Snapshot to completion, copy the files into `storageDir` (as the checkpoint does), release. */
function checkpoint(b: LsmKeyedStateBackend, chk: number, storageDir: string): { files: SnapshotFiles & { kind: 'lsm' }; paths: string[] } {
  const job = b.snapshot(chk);
  let files: SnapshotFiles | undefined;
  for (let guard = 0; (files = job.step()) === undefined; guard++) if (guard > 100_000) throw new Error(`snapshot ${chk} never completes`);
  if (files.kind !== 'lsm') throw new Error('expected LSM snapshot files');
  fs.mkdirSync(storageDir, { recursive: true });
  const paths = files.segments.map((seg, i) => {
    const to = path.join(storageDir, `chk-${chk}-seg-${i}`);
    fs.copyFileSync(seg.localPath, to);
    return to;
  });
  job.release();
  return { files, paths };
}

function fingerprint(dir: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const d of fs.readdirSync(dir, { recursive: true, withFileTypes: true })) {
    if (!d.isFile()) continue;
    const p = path.join(d.parentPath, d.name);
    out.set(p, crypto.createHash('sha1').update(fs.readFileSync(p)).digest('hex'));
  }
  return out;
}

interface RunStats {
  keysChecked: number;
  rawEntries: number;
  oldSegments: number;
}

function run(t: Test, seed: number, pOld: number, pNew: number): RunStats {
  const root = tempDir(t, 'rescale');
  const storage = path.join(root, 'storage');
  const rand = seededRandom(seed);
  const clock = new FakeClock(1_000_000);
  const model = new Model();
  const stats: RunStats = { keysChecked: 0, rawEntries: 0, oldSegments: 0 };

  // Old job: pOld subtasks, each writing only its own keys.
  const old = Array.from({ length: pOld }, (_, i) => openSubtask(path.join(root, `old-${i}`), clock, keyGroupRangeForSubtask(maxParallelism, pOld, i)));
  for (const [k, g] of keyGroups.entries()) {
    const owner = old.findIndex((s) => inRange(g, s.range));
    if (owner !== operatorIndexForKeyGroup(g, pOld, maxParallelism)) throw new Error(`key ${k}: range owner ${owner} differs from operatorIndexForKeyGroup`);
  }
  randomOps(rand, old, model, clock, 4000);
  const oldRaw = new Map<string, string>();
  const sources = old.map((s, i) => {
    const { files, paths } = checkpoint(s.backend, 1, path.join(storage, `old-${i}`));
    stats.oldSegments += files.segments.length;
    for (const [k, v] of rawEntries(s.backend)) oldRaw.set(k, v);
    return { range: s.range, segments: paths.map((p) => ({ path: p })) };
  });
  for (const s of old) void s.backend.close();
  const before = fingerprint(storage);

  // New job: pNew subtasks, each restoring its key groups from the old snapshots.
  const allSources = rand() < 0.5;
  const fresh = Array.from({ length: pNew }, (_, j) => {
    const range = keyGroupRangeForSubtask(maxParallelism, pNew, j);
    const from = allSources ? sources : sources.filter((x) => x.range.start <= range.end && range.start <= x.range.end);
    const restore: StateRestore = { kind: 'lsm-rescale', keyGroups: range, sources: from.map((x) => ({ segments: x.segments })) };
    return openSubtask(path.join(root, `new-${j}`), clock, range, restore);
  });
  const seen = new Set<string>();
  for (const s of fresh) {
    const raw = rawEntries(s.backend);
    for (const [k, v] of raw) {
      const g = keyGroupOf(Buffer.from(k, 'hex'));
      if (!inRange(g, s.range)) throw new Error(`new subtask [${s.range.start}, ${s.range.end}] holds key ${k} of key group ${g}`);
      if (oldRaw.get(k) !== v) throw new Error(`key ${k}: restored value ${v} differs from the old store's ${oldRaw.get(k)}`);
      seen.add(k);
    }
    // Old subtasks whose key groups lie wholly in the new range are taken over as they are
    // (their segments linked, not rewritten); the rest is clipped into one new segment.
    const wholeSegments = sources.filter((x) => x.segments.length > 0 && s.range.start <= x.range.start && x.range.end <= s.range.end).reduce((n, x) => n + x.segments.length, 0);
    const segs = s.backend.stats().segmentCount;
    if (segs > wholeSegments + 1) throw new Error(`a rescaled store should start with the ${wholeSegments} whole sources' segments and at most one more, has ${segs}`);
    if (pNew < pOld && segs < wholeSegments) throw new Error(`whole sources' ${wholeSegments} segments were not all taken over (${segs})`);
    stats.rawEntries += raw.size;
  }
  if (seen.size !== oldRaw.size) throw new Error(`new stores hold ${seen.size} entries, the old ones ${oldRaw.size}`);
  for (const s of fresh) {
    compareOwned(s, model, clock.now);
    stats.keysChecked += s.owned.length;
  }

  // The new backends work normally: writes, compaction, a snapshot without shared names
  // for the rescaled segment, and a plain restore of that snapshot.
  randomOps(rand, fresh, model, clock, 2000);
  for (const [j, s] of fresh.entries()) {
    for (let guard = 0; s.backend.maintenanceStep(); guard++) if (guard > 100_000) throw new Error('maintenance never settles');
    const { files, paths } = checkpoint(s.backend, 2, path.join(root, 'storage2', `new-${j}`));
    if (files.segments.some((x) => x.sharedName !== undefined)) throw new Error('a segment of a rescaled store reports a shared name');
    compareOwned(s, model, clock.now);
    const again = openSubtask(path.join(root, `again-${j}`), clock, s.range, {
      kind: 'lsm',
      segments: paths.map((p, i) => ({ path: p, sharedName: `s${i}` })),
    });
    compareOwned(again, model, clock.now);
    void again.backend.close();
    void s.backend.close();
  }
  const after = fingerprint(storage);
  if (JSON.stringify([...after]) !== JSON.stringify([...before])) throw new Error('checkpoint files of the old subtasks changed during the rescale');
  return stats;
}

const pairs: [number, number][] = [
  [2, 1],
  [2, 3],
  [3, 2],
  [1, 4],
  [4, 4],
];
const baseSeed = testSeed(7000);
for (const [pi, [pOld, pNew]] of pairs.entries()) {
  t.test(`rescaling ${pOld} -> ${pNew} subtasks keeps every key's state in its new owner`, (t) => {
    const seeds = process.env.SLUICE_SEED === undefined ? [baseSeed + pi * 10, baseSeed + pi * 10 + 1] : [baseSeed];
    for (const seed of seeds) {
      try {
        const s = run(t, seed, pOld, pNew);
        t.ok(s.keysChecked === keys.length && s.rawEntries > 500, `seed ${seed}: ${s.keysChecked} keys checked, ${s.rawEntries} entries from ${s.oldSegments} old segments`);
      } catch (e) {
        t.fail(`seed ${seed} (replay: SLUICE_SEED=${seed}): ${(e as Error).stack}`);
      }
    }
    t.end();
  });
}

t.test('rescaling rejects overlapping sources, bad ranges, missing files and heap backends', (t) => {
  const root = tempDir(t, 'rescale-errors');
  const clock = new FakeClock(1000);
  const b = new LsmKeyedStateBackend({ dir: path.join(root, 'old'), clock, maxParallelism, store: lsmStore });
  const st = openStates(b);
  for (let k = 0; k < 50; k++) (b.setCurrentKey(keys[k]!, keyGroups[k]!), st.value.update({ n: k }));
  const { paths } = checkpoint(b, 1, path.join(root, 'storage'));
  void b.close();
  const source = { segments: paths.map((p) => ({ path: p })) };
  const all = { start: 0, end: maxParallelism - 1 };
  const open = (name: string, restore: StateRestore) => new LsmKeyedStateBackend({ dir: path.join(root, name), clock, maxParallelism, restore });

  t.throws(() => open('twice', { kind: 'lsm-rescale', keyGroups: all, sources: [source, source] }), /key groups of sources 0 and 1 overlap/);
  t.throws(() => open('range', { kind: 'lsm-rescale', keyGroups: { start: 5, end: 128 }, sources: [source] }), RangeError);
  t.throws(() => open('range2', { kind: 'lsm-rescale', keyGroups: { start: 5, end: 4 }, sources: [source] }), RangeError);
  t.throws(() => open('shape', { kind: 'lsm-rescale', keyGroups: all, sources: [{ segments: [{ path: 7 as unknown as string }] }] }), TypeError);
  t.throws(() => open('missing', { kind: 'lsm-rescale', keyGroups: all, sources: [{ segments: [{ path: path.join(root, 'nope.seg') }] }] }), /nope\.seg is missing/);
  t.throws(() => new HeapKeyedStateBackend({ clock, scratchDir: path.join(root, 'heap'), restore: { kind: 'lsm-rescale', keyGroups: all, sources: [source] } }), TypeError);

  const empty = open('empty', { kind: 'lsm-rescale', keyGroups: { start: 0, end: 0 }, sources: [] });
  t.equal(empty.stats().segmentCount, 0, 'no sources: an empty store');
  void empty.close();
  const whole = open('whole', { kind: 'lsm-rescale', keyGroups: all, sources: [source] });
  const ws = openStates(whole);
  for (let k = 0; k < 50; k++) {
    whole.setCurrentKey(keys[k]!, keyGroups[k]!);
    if (ws.value.value()?.n !== k) t.fail(`key ${k} lost in a full-range rescale`);
  }
  void whole.close();
  t.end();
});

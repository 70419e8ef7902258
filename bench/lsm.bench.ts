/**
 * LSM store benchmark: sluicegate's LsmStore side by side with classic-level (LevelDB)
 * and lmdb, on the same keys and values in one run. A measurement, never a test.
 *
 * Workload: `keyCount` keys (16 bytes: "k" + 15 digits) written in a shuffled order with
 * 64-byte random values, then
 *   - point writes (all keys; LsmStore's inline flushes included, final flush separate),
 *   - hot reads, right after the writes: random keys among the last 5% written
 *     (LsmStore: the memtable),
 *   - cold reads: random keys over all keys after reopening (empty caches; the OS page
 *     cache stays warm: this measures the store's own read path, not the disk; LsmStore's
 *     block cache hits and misses are printed, at 1 M keys about half the reads miss),
 *   - full iteration in key order.
 * How each store is driven: LsmStore and lmdb synchronously (`get`, `getRange`);
 * classic-level with awaited `put`, `getSync` and its async iterator; lmdb writes in
 * `transactionSync` chunks of `lmdbWriteChunk` puts (its idiomatic fast path; one
 * transaction per put would measure fsync, not the store).
 *
 *   node dist/bench/lsm.bench.js       (SLUICEGATE_BENCH_LSM_KEYS=n, default 1,000,000)
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { pathToFileURL } from 'node:url';
import { ClassicLevel } from 'classic-level';
import { open as openLmdb } from 'lmdb';
import { LsmStore } from '../src/state/lsm/index.js';
import { xorshift32 } from './report.js';

const keyCountDefault = 1_000_000;
const valueSizeBytes = 64;
const readCount = 500_000;
const hotFraction = 0.05;
const lmdbWriteChunk = 10_000;

type Phase = 'write' | 'flush' | 'hot read' | 'cold read' | 'iterate';
const phases: Phase[] = ['write', 'hot read', 'flush', 'cold read', 'iterate'];

interface Workload {
  keys: Buffer[]; // in write order
  values: Buffer[];
  hotReads: Buffer[];
  coldReads: Buffer[];
}

function makeWorkload(n: number): Workload {
  const rand = xorshift32(12345);
  const order = Array.from({ length: n }, (_, i) => i);
  for (let i = n - 1; i > 0; i--) {
    const j = Math.floor(rand() * (i + 1));
    [order[i], order[j]] = [order[j]!, order[i]!];
  }
  const keys = order.map((i) => Buffer.from(`k${String(i).padStart(15, '0')}`));
  const values = keys.map(() => Buffer.from(Array.from({ length: valueSizeBytes }, () => Math.floor(rand() * 256))));
  const hotStart = Math.floor(n * (1 - hotFraction));
  const pick = (lo: number) => Array.from({ length: readCount }, () => keys[lo + Math.floor(rand() * (n - lo))]!);
  return { keys, values, hotReads: pick(hotStart), coldReads: pick(0) };
}

/** Runs `fn` and returns ops/s for `ops` operations. */
async function rate(ops: number, fn: () => unknown): Promise<number> {
  const start = performance.now();
  await fn();
  const seconds = (performance.now() - start) / 1000;
  return ops / seconds;
}

function check(found: number, expected: number, what: string): void {
  if (found !== expected) throw new Error(`${what}: ${found} of ${expected} found (benchmark bug)`);
}

async function benchLsm(w: Workload, dir: string): Promise<Map<Phase, number>> {
  const r = new Map<Phase, number>();
  let store = LsmStore.open(dir, { fsync: false });
  r.set('write', await rate(w.keys.length, () => w.keys.forEach((k, i) => store.put(k, w.values[i]!))));
  r.set('hot read', await rate(readCount, () => check(w.hotReads.filter((k) => store.get(k) !== undefined).length, readCount, 'lsm hot')));
  r.set('flush', await rate(w.keys.length, () => (store.freeze(), store.flushAll())));
  while (store.compactStep(64 * 1024 * 1024));
  const segments = store.liveSegments();
  console.log(`  LsmStore: ${JSON.stringify(store.stats())}`);
  store.close();
  store = LsmStore.open(dir, { segments });
  r.set('cold read', await rate(readCount, () => check(w.coldReads.filter((k) => store.get(k) !== undefined).length, readCount, 'lsm cold')));
  const { blockCacheHits, blockCacheMisses } = store.stats();
  console.log(`  LsmStore cold reads: block cache ${blockCacheHits} hits, ${blockCacheMisses} misses`);
  r.set('iterate', await rate(w.keys.length, () => {
    let n = 0;
    for (const _ of store.scan()) n++;
    check(n, w.keys.length, 'lsm iterate');
  }));
  store.close();
  return r;
}

async function benchLevel(w: Workload, dir: string): Promise<Map<Phase, number>> {
  const r = new Map<Phase, number>();
  const opts = { keyEncoding: 'view', valueEncoding: 'view' } as const;
  let db = new ClassicLevel<Uint8Array, Uint8Array>(dir, opts);
  await db.open();
  r.set('write', await rate(w.keys.length, async () => {
    for (let i = 0; i < w.keys.length; i++) await db.put(w.keys[i]!, w.values[i]!);
  }));
  r.set('hot read', await rate(readCount, () => check(w.hotReads.filter((k) => db.getSync(k) !== undefined).length, readCount, 'level hot')));
  r.set('flush', await rate(w.keys.length, () => db.compactRange(w.keys[0]!.subarray(0, 1), Buffer.from('l'))));
  await db.close();
  db = new ClassicLevel<Uint8Array, Uint8Array>(dir, opts);
  await db.open();
  r.set('cold read', await rate(readCount, () => check(w.coldReads.filter((k) => db.getSync(k) !== undefined).length, readCount, 'level cold')));
  r.set('iterate', await rate(w.keys.length, async () => {
    let n = 0;
    for await (const _ of db.iterator()) n++;
    check(n, w.keys.length, 'level iterate');
  }));
  await db.close();
  return r;
}

async function benchLmdb(w: Workload, dir: string): Promise<Map<Phase, number>> {
  const r = new Map<Phase, number>();
  const opts = { path: dir, keyEncoding: 'binary', encoding: 'binary' } as const;
  let db = openLmdb<Buffer, Buffer>(opts);
  r.set('write', await rate(w.keys.length, () => {
    for (let at = 0; at < w.keys.length; at += lmdbWriteChunk) {
      db.transactionSync(() => {
        for (let i = at; i < Math.min(at + lmdbWriteChunk, w.keys.length); i++) db.putSync(w.keys[i]!, w.values[i]!);
      });
    }
  }));
  r.set('hot read', await rate(readCount, () => check(w.hotReads.filter((k) => db.get(k) !== undefined).length, readCount, 'lmdb hot')));
  r.set('flush', await rate(w.keys.length, () => db.flushed));
  await db.close();
  db = openLmdb<Buffer, Buffer>(opts);
  r.set('cold read', await rate(readCount, () => check(w.coldReads.filter((k) => db.get(k) !== undefined).length, readCount, 'lmdb cold')));
  r.set('iterate', await rate(w.keys.length, () => {
    let n = 0;
    for (const _ of db.getRange()) n++;
    check(n, w.keys.length, 'lmdb iterate');
  }));
  await db.close();
  return r;
}

function fmt(opsPerSecond: number | undefined): string {
  if (opsPerSecond === undefined) return '-';
  return opsPerSecond >= 1e6 ? `${(opsPerSecond / 1e6).toFixed(2)} M/s` : `${(opsPerSecond / 1e3).toFixed(0)} k/s`;
}

function printTable(results: Record<string, Map<Phase, number>>): void {
  const names = Object.keys(results);
  const lsm = results['LsmStore']!;
  const header = ['phase', ...names, ...names.slice(1).map((n) => `LsmStore / ${n}`)];
  const rows = phases.map((p) => [
    p,
    ...names.map((n) => fmt(results[n]!.get(p))),
    ...names.slice(1).map((n) => `${((lsm.get(p) ?? NaN) / (results[n]!.get(p) ?? NaN)).toFixed(2)}x`),
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: string[]) => `| ${cells.map((c, i) => c.padEnd(widths[i]!)).join(' | ')} |`;
  console.log(line(header));
  console.log(`|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`);
  for (const r of rows) console.log(line(r));
}

/** Runs the benchmark and prints a table of ops/s per store and LsmStore's ratios. */
export async function main(): Promise<void> {
  const n = Number(process.env['SLUICEGATE_BENCH_LSM_KEYS'] ?? keyCountDefault);
  if (!Number.isSafeInteger(n) || n < 1000) throw new RangeError(`SLUICEGATE_BENCH_LSM_KEYS must be an integer >= 1000, got ${n}`);
  console.log(`LSM bench: ${n} keys of 16 bytes, ${valueSizeBytes}-byte values, ${readCount} reads per read phase; ${os.cpus()[0]?.model ?? '?'}, Node ${process.version}`);
  const w = makeWorkload(n);
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'sluicegate-lsm-bench-'));
  try {
    const results: Record<string, Map<Phase, number>> = {};
    results['LsmStore'] = await benchLsm(w, path.join(root, 'lsm'));
    results['classic-level'] = await benchLevel(w, path.join(root, 'level'));
    results['lmdb'] = await benchLmdb(w, path.join(root, 'lmdb'));
    printTable(results);
    console.log('flush: LsmStore freeze+flushAll; classic-level compactRange; lmdb awaiting `flushed` (ops/s over all keys)');
  } finally {
    fs.rmSync(root, { recursive: true, force: true });
  }
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main().catch((e: unknown) => {
    console.error(e);
    process.exitCode = 1;
  });
}

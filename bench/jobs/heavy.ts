/**
 * The CPU-heavy map's work, shared by the job (bench/jobs/cpu-map.ts), its plain-loop and
 * thread baselines, and the piscina worker (bench/jobs/heavy-piscina-worker.ts): one
 * module with no imports, so every variant runs the very same code and a worker that
 * loads it loads nothing else.
 */

/**
 * `iterations` rounds of murmur3's 32-bit finalizer over `x`, salted by the round index
 * (`first` to `first + iterations - 1`: n rounds resumed with `first` n make one hash):
 * pure integer CPU work, no allocation, result depends on every round (not foldable).
 */
export function heavy(x: number, iterations: number, first = 0): number {
  let h = x | 0;
  for (let i = first; i < first + iterations; i++) {
    h ^= h >>> 16;
    h = Math.imul(h, 0x85ebca6b);
    h ^= h >>> 13;
    h = Math.imul(h, 0xc2b2ae35);
    h ^= h >>> 16;
    h = (h + i) | 0;
  }
  return h;
}

/**
 * The results every variant hands back: those whose low 10 bits are zero, about 1 in 1024.
 * They prove that a variant hashed every record (the set depends on each result) while
 * costing almost nothing to deliver.
 */
export function isSampled(h: number): boolean {
  return (h & 1023) === 0;
}

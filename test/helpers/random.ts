/** Seeded pseudo-random numbers for model-based tests (mulberry32): uniform in [0, 1). */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** The seed of a test run: SLUICE_SEED if set (to replay a failure), else `fallback`. */
export function testSeed(fallback: number): number {
  const fromEnv = process.env.SLUICE_SEED;
  return fromEnv === undefined ? fallback : Number(fromEnv);
}

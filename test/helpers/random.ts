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

/**
 * `count` lines of text for line-reading tests: `i:` then up to 30 characters of 1 to 4
 * UTF-8 bytes (tabs and '|' too); every 7th line is empty. No line breaks.
 */
export function randomLines(random: () => number, count: number): string[] {
  const alphabet = ['a', 'Z', ' ', 'é', '€', '中', '😀', '\t', '|'];
  return Array.from({ length: count }, (_, i) => {
    if (i % 7 === 3) return '';
    let line = `${i}:`;
    for (let n = Math.floor(random() * 30); n > 0; n--) line += alphabet[Math.floor(random() * alphabet.length)];
    return line;
  });
}

/** The lines joined as a text: every third line ends with "\r\n" (Windows), the rest with "\n". */
export function mixedLineEnds(lines: readonly string[]): string {
  return lines.map((l, i) => l + (i % 3 === 0 ? '\r\n' : '\n')).join('');
}

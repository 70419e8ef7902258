/** Shared test helpers for state tests: seeded randomness and temp directories. */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

export { seededRandom } from '../helpers/random.js';

export function randomInt(rand: () => number, lo: number, hiExclusive: number): number {
  return lo + Math.floor(rand() * (hiExclusive - lo));
}

/** A fresh temp directory, removed by `t.teardown`. */
export function tempDir(t: { teardown(fn: () => void): void }, name: string): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), `sluicegate-${name}-`));
  t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }));
  return dir;
}

export const toHex = (b: Uint8Array): string => Buffer.from(b).toString('hex');
export const fromHex = (s: string): Uint8Array => Uint8Array.from(Buffer.from(s, 'hex'));

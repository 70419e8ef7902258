/**
 * Segment files in a store's directory: their names (`<seq>.seg`, `seq` zero-padded to six
 * digits and increasing per directory, a name used once) and the placing of restored
 * segment files under fresh names (hard linked, copied across file systems).
 */
import fs from 'node:fs';
import path from 'node:path';
import { segmentFileSuffix } from './constants.js';

/** A segment file's name; group 1 is its sequence number. */
const segmentNamePattern = /^(\d+)\.seg$/;

/** The name of segment number `seq`. */
export function segmentName(seq: number): string {
  return `${String(seq).padStart(6, '0')}${segmentFileSuffix}`;
}

/**
 * Links (or copies) `sourcePaths`, oldest first, into `dir` (created if missing) under
 * fresh segment names after every `<seq>.seg` already there; returns those names in the
 * same order. Throws an `Error` naming a missing source file.
 */
export function placeSegments(dir: string, sourcePaths: readonly string[]): string[] {
  fs.mkdirSync(dir, { recursive: true });
  let seq = nextFreeSeq(dir);
  return sourcePaths.map((source) => {
    const name = segmentName(seq++);
    linkOrCopy(source, path.join(dir, name));
    return name;
  });
}

/** Hard links `from` to `to`; copies when a link is impossible (other file system, no support). */
function linkOrCopy(from: string, to: string): void {
  try {
    fs.linkSync(from, to);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' && !fs.existsSync(from)) {
      throw new Error(`Cannot restore LSM state: segment file ${from} is missing (deleted, or not yet copied into place?)`, { cause: e });
    }
    if (code !== 'EXDEV' && code !== 'EPERM' && code !== 'ENOTSUP' && code !== 'EMLINK') throw e;
    fs.copyFileSync(from, to);
  }
}

/** The first segment sequence number not used by a `<seq>.seg` file in `dir`. */
export function nextFreeSeq(dir: string): number {
  let seq = 1;
  for (const file of fs.readdirSync(dir)) {
    const m = segmentNamePattern.exec(file);
    if (m !== null) seq = Math.max(seq, Number(m[1]) + 1);
  }
  return seq;
}

/**
 * Worker side of `verifySegmentsInParallel` (a piscina task): fully verifies one segment
 * file. Returns undefined when it is intact, the reason phrase when it is damaged
 * (`fails segment verification: ...`, as `checkStoredFile` words it), and `null` when
 * the file cannot be read at all (missing, EACCES): the caller's own check reports that.
 */
import { CorruptSegmentError, verifySegmentFile } from '../state/lsm/index.js';

export default function verifyOne(path: string): string | undefined | null {
  try {
    verifySegmentFile(path);
    return undefined;
  } catch (e) {
    if (e instanceof CorruptSegmentError) return `fails segment verification: ${e.reason}`;
    return null;
  }
}

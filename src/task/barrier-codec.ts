/**
 * BARRIER frame payload, 24 bytes: `f64 checkpoint id | f64 trigger timestamp (epoch ms) |
 * f64 flags`, platform byte order (both ends are threads of one process). Flags: bit 0
 * (`barrierFlagStop`) marks the barrier of a stop-with-savepoint (Flink's
 * `SavepointType.terminate`/`SYNC_SAVEPOINT`): after it, no record follows on any channel
 * and the subtask ends once that savepoint is complete. Documented in native-notes §1.
 */
import assert from 'node:assert/strict';

export const barrierPayloadBytes = 24;
/** The barrier of a stop-with-savepoint. */
export const barrierFlagStop = 1;

export interface Barrier {
  checkpointId: number;
  timestamp: number;
  /** A stop-with-savepoint barrier (flag bit 0). */
  stop: boolean;
}

export function encodeBarrier(checkpointId: number, timestamp: number, stop = false): Uint8Array {
  const payload = new Float64Array([checkpointId, timestamp, stop ? barrierFlagStop : 0]);
  return new Uint8Array(payload.buffer);
}

export function decodeBarrier(payload: Uint8Array): Barrier {
  assert(payload.byteLength === barrierPayloadBytes, `a BARRIER frame of ${payload.byteLength} bytes`);
  const copy = new Float64Array(payload.slice().buffer);
  return { checkpointId: copy[0]!, timestamp: copy[1]!, stop: (copy[2]! & barrierFlagStop) !== 0 };
}

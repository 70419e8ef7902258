/**
 * BARRIER frame payload, 16 bytes: `f64 checkpoint id | f64 trigger timestamp (epoch ms)`,
 * platform byte order (both ends are threads of one process). Documented in native-notes §1.
 */
import assert from 'node:assert/strict';

export const barrierPayloadBytes = 16;

export function encodeBarrier(checkpointId: number, timestamp: number): Uint8Array {
  const payload = new Float64Array([checkpointId, timestamp]);
  return new Uint8Array(payload.buffer);
}

export function decodeBarrier(payload: Uint8Array): { checkpointId: number; timestamp: number } {
  assert(payload.byteLength === barrierPayloadBytes, `a BARRIER frame of ${payload.byteLength} bytes`);
  const copy = new Float64Array(payload.slice().buffer);
  return { checkpointId: copy[0]!, timestamp: copy[1]! };
}

/**
 * Latency markers, Flink's `LatencyMarker`: a source subtask emits one every latency
 * tracking interval (`latencyTrackingIntervalMs`); it travels the same channels as records,
 * behind the records written before it, and every operator it reaches records
 * `now - markedTime` and forwards it at once, without processing (sinks only record).
 * Markers are not records (no record counter sees them) and are not checkpointed.
 *
 * LATENCY_MARKER frame payload, 16 bytes, little-endian:
 * `f64 markedTime (epoch ms, fractional) | u32 source node id | u32 source subtask index`.
 * Byte layout: native-notes.md §1.
 */

/** A marker in flight. Flink: `LatencyMarker(markedTime, operatorId, subtaskIndex)`. */
export class LatencyMarker {
  constructor(
    /** Processing time when the source emitted it, epoch ms (fractional: sub-ms resolution). */
    readonly markedTime: number,
    /** The job graph node id of the source operator that emitted it. */
    readonly sourceNode: number,
    /** The source subtask that emitted it, 0-based. */
    readonly subtaskIndex: number,
  ) {}
}

export const latencyMarkerPayloadBytes = 16;

/** Largest node id and subtask index a marker carries (u32). */
const u32Max = 0xffff_ffff;

/** The 16-byte payload of `marker`. @throws RangeError for a non-finite time or an id out of u32 range. */
export function encodeLatencyMarker(marker: LatencyMarker): Uint8Array {
  const { markedTime, sourceNode, subtaskIndex } = marker;
  if (!Number.isFinite(markedTime)) throw new RangeError(`A latency marker needs a finite markedTime, got ${markedTime}`);
  for (const [name, v] of [['sourceNode', sourceNode], ['subtaskIndex', subtaskIndex]] as const) {
    if (!Number.isInteger(v) || v < 0 || v > u32Max) throw new RangeError(`A latency marker's ${name} must be an integer from 0 to ${u32Max}, got ${v}`);
  }
  const out = new Uint8Array(latencyMarkerPayloadBytes);
  const view = new DataView(out.buffer);
  view.setFloat64(0, markedTime, true);
  view.setUint32(8, sourceNode, true);
  view.setUint32(12, subtaskIndex, true);
  return out;
}

/**
 * Decodes a LATENCY_MARKER payload (a view into ring memory is fine: nothing is kept).
 * @throws RangeError for a payload that is not 16 bytes or whose time is not finite.
 */
export function decodeLatencyMarker(view: Uint8Array): LatencyMarker {
  if (view.byteLength !== latencyMarkerPayloadBytes) {
    throw new RangeError(`A LATENCY_MARKER frame has ${view.byteLength} bytes, expected ${latencyMarkerPayloadBytes} (a corrupt or truncated frame)`);
  }
  const data = new DataView(view.buffer, view.byteOffset, view.byteLength);
  const markedTime = data.getFloat64(0, true);
  if (!Number.isFinite(markedTime)) throw new RangeError(`A LATENCY_MARKER frame has markedTime ${markedTime} (a corrupt frame)`);
  return new LatencyMarker(markedTime, data.getUint32(8, true), data.getUint32(12, true));
}

/**
 * Frame kinds and the frame header layout of a channel ring.
 *
 * A frame in the ring is `u32 length | u8 kind | 3 bytes zero | payload | zero padding`,
 * the whole frame rounded up to FRAME_ALIGN_BYTES (8). `length` is the payload length in
 * bytes (without header and padding), in platform byte order: both ends of a ring live in
 * the same process. Byte layout and the reasons for it: native-notes.md, section 1.
 */

/**
 * What a frame carries. A wire enum: values are never renumbered, new kinds get new
 * numbers. RECORDS is a cbor-x encoded batch; BARRIER carries checkpoint id, timestamp
 * and mode; WATERMARK an event-time watermark or a watermark status (idle, active);
 * END_OF_INPUT the last frame of a channel; LATENCY_MARKER a Flink-style latency marker;
 * TIMESTAMPED_RECORDS a batch whose records carry event timestamps. The channel layer does
 * not look inside payloads.
 */
export const FrameKind = {
  RECORDS: 1,
  BARRIER: 2,
  WATERMARK: 3,
  END_OF_INPUT: 4,
  LATENCY_MARKER: 5,
  TIMESTAMPED_RECORDS: 6,
} as const;
export type FrameKind = (typeof FrameKind)[keyof typeof FrameKind];

/** Smallest and largest valid kind value; kinds are dense in this range. */
export const FRAME_KIND_MIN = 1;
export const FRAME_KIND_MAX = 6;

/** Bytes before the payload: u32 length, u8 kind, 3 bytes zero. */
export const FRAME_HEADER_BYTES = 8;

/**
 * Every frame starts at a multiple of this many bytes (and so occupies a multiple of it).
 * Eight keeps the u32 length 4-aligned (one Int32Array element, no DataView) and keeps a
 * header from ever straddling the end of the ring, because the capacity is a multiple
 * of 8 too.
 */
export const FRAME_ALIGN_BYTES = 8;

/** True when `kind` is one of the FrameKind values. */
export function isFrameKind(kind: unknown): kind is FrameKind {
  return typeof kind === 'number' && Number.isInteger(kind) && kind >= FRAME_KIND_MIN && kind <= FRAME_KIND_MAX;
}

/** Ring bytes one frame occupies: header + payload, rounded up to FRAME_ALIGN_BYTES. */
export function frameBytes(payloadBytes: number): number {
  return (FRAME_HEADER_BYTES + payloadBytes + FRAME_ALIGN_BYTES - 1) & ~(FRAME_ALIGN_BYTES - 1);
}

/** The name of a kind for messages, e.g. `RECORDS(1)`; unknown values as `unknown(9)`. */
export function frameKindName(kind: number): string {
  for (const [name, value] of Object.entries(FrameKind)) {
    if (value === kind) return `${name}(${kind})`;
  }
  return `unknown(${kind})`;
}

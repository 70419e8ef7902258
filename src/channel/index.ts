/**
 * channel/: SPSC byte rings on SharedArrayBuffer carrying frames between subtasks, with
 * blocking backpressure and a doorbell per consumer. The folder's only public entry.
 * Design, memory layout and measurements: native-notes.md, sections 1 and 2.
 */
export { FrameKind, FRAME_HEADER_BYTES, FRAME_ALIGN_BYTES, frameBytes, frameKindName, isFrameKind } from './frame.js';
export { Doorbell, DOORBELL_BYTES } from './doorbell.js';
export { Ring, RING_HEADER_BYTES, RING_CAPACITY_MIN_BYTES, RING_CAPACITY_MAX_BYTES, type Frame } from './ring.js';
export type { WaitResult } from './wait.js';

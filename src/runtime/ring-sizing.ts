/**
 * The capacity of each channel's ring when the job does not set `ringSizeBytes`: a budget
 * per input gate (all channels into one consuming subtask) shared by its channels, so a
 * subtask fed by one or two producers gets deep rings and one fed by many keeps the total
 * bounded. Flink sizes its network buffers the same way in spirit: a fixed number of
 * exclusive buffers per channel plus floating buffers per gate
 * (`taskmanager.network.memory.buffers-per-channel` = 2, `floating-buffers-per-gate` = 8,
 * 32 KiB segments: 128 KiB per channel plus 256 KiB per gate by default).
 *
 * Why deeper rings for a small fan-in (native-notes §1, "Ring capacity"): with 64 KiB a
 * keyed shuffle of 100-byte records cuts its 512-record batches into frames of a quarter
 * ring and the consumer, faster than its producers, sleeps and is woken (a futex syscall)
 * at almost every frame; 256 KiB rings ran it 1.15-1.2x faster (2026-12-02, bench/shuffle).
 * Deeper rings hold more records in flight, which an aligned barrier waits behind under
 * backpressure (native-notes §6, "Ring size and barrier latency": with 1 MiB rings the word
 * count's checkpoints took 1.7-2.5 s). So a job that takes checkpoints (a checkpoint
 * directory) keeps 64 KiB rings, and the gate budget (512 KiB per consuming subtask) is for
 * jobs that send no barrier. Flink's cure for deep buffers, unaligned checkpoints or buffer
 * debloating, is not built.
 */
import type { ChannelSpec } from '../graph/index.js';

/** Bytes of ring per input gate, shared by its channels. */
export const gateRingBudgetBytes = 512 * 1024;
/** The smallest automatic ring, and every ring of a job that checkpoints: what every channel had before the gate budget. */
export const ringSizeMinBytes = 64 * 1024;
/** The largest automatic ring. */
export const ringSizeMaxBytes = 256 * 1024;

/**
 * The automatic capacity of a ring into a gate of `channelsIntoGate` channels (>= 1): the
 * gate budget over its channels, rounded down to a power of two, within [64 KiB, 256 KiB].
 * 1-2 channels: 256 KiB; 3-4: 128 KiB; 5 and more: 64 KiB.
 */
export function automaticRingSizeBytes(channelsIntoGate: number): number {
  if (!Number.isSafeInteger(channelsIntoGate) || channelsIntoGate < 1) throw new RangeError(`a gate has at least one channel, got ${channelsIntoGate}`);
  const share = gateRingBudgetBytes / channelsIntoGate;
  const pow2 = 2 ** Math.floor(Math.log2(share));
  return Math.min(ringSizeMaxBytes, Math.max(ringSizeMinBytes, pow2));
}

/**
 * Each channel's ring capacity (indexed by channel id): `fixedBytes` for every channel when
 * the job set one; else 64 KiB when the job `checkpoints` (barriers); else
 * automaticRingSizeBytes of the consuming subtask's gate (every channel into that subtask,
 * over all its input edges). `consumerOf(c)` names the consuming subtask of channel c, e.g.
 * `${vertex}/${subtask}`.
 */
export function ringSizesBytes(channels: readonly ChannelSpec[], consumerOf: (c: ChannelSpec) => string, fixedBytes: number | undefined, checkpoints: boolean): number[] {
  if (fixedBytes !== undefined) return channels.map(() => fixedBytes);
  if (checkpoints) return channels.map(() => ringSizeMinBytes);
  const fanIn = new Map<string, number>();
  for (const c of channels) {
    const gate = consumerOf(c);
    fanIn.set(gate, (fanIn.get(gate) ?? 0) + 1);
  }
  return channels.map((c) => automaticRingSizeBytes(fanIn.get(consumerOf(c))!));
}

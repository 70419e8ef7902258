/**
 * The input side of watermarks: combines the watermarks and statuses of a subtask's input
 * channels into the operator's input watermark, as pure transitions. Flink:
 * `StatusWatermarkValve`.
 *
 * - The output watermark is the minimum over the channels that are active, not ended and
 *   aligned, and it only advances.
 * - An idle channel does not hold the watermark back. It becomes active again on an
 *   ACTIVE status or on its next record; until its watermark catches up with the output
 *   watermark it is not aligned and is left out of the minimum (otherwise the output would
 *   have to go back).
 * - When every channel is idle (or ended) the subtask's output is idle; when one becomes
 *   active again, so does the output.
 * - An ended channel (END_OF_INPUT) is left out for good. Sources send the maximum
 *   watermark (+Infinity) before they end, so a bounded input fires every timer.
 *
 * Invariants: `output` never decreases; a status change is reported once per change.
 */
import assert from 'node:assert/strict';

/** What the operator must do after an input event. */
export interface ValveOutput {
  /** A new, higher input watermark. */
  watermark?: number;
  /** The input became idle (true) or active again (false). */
  idle?: boolean;
}

export class WatermarkValve {
  private readonly watermarks: Float64Array;
  private readonly active: boolean[];
  private readonly ended: boolean[];
  /** The combined input watermark so far. */
  output = -Infinity;
  /** The combined status: true when every live channel is idle. */
  outputIdle = false;

  constructor(readonly inputCount: number) {
    assert(Number.isInteger(inputCount) && inputCount >= 1);
    this.watermarks = new Float64Array(inputCount).fill(-Infinity);
    this.active = new Array<boolean>(inputCount).fill(true);
    this.ended = new Array<boolean>(inputCount).fill(false);
  }

  /** The watermark of channel `input`. */
  channelWatermark(input: number): number {
    return this.watermarks[input]!;
  }

  /** WATERMARK `value` arrived on `input`. */
  watermark(input: number, value: number): ValveOutput {
    if (this.ended[input] || !(value > this.watermarks[input]!)) return {};
    this.watermarks[input] = value;
    return this.activate(input);
  }

  /** A record arrived on `input`: an idle channel is active again. */
  record(input: number): ValveOutput {
    return this.active[input] ? {} : this.activate(input);
  }

  /** An IDLE (true) or ACTIVE (false) status arrived on `input`. */
  status(input: number, idle: boolean): ValveOutput {
    if (this.ended[input]) return {};
    if (!idle) return this.active[input] ? {} : this.activate(input);
    if (!this.active[input]) return {};
    this.active[input] = false;
    return this.recompute();
  }

  /** END_OF_INPUT on `input`. */
  end(input: number): ValveOutput {
    if (this.ended[input]) return {};
    this.ended[input] = true;
    return this.recompute();
  }

  private activate(input: number): ValveOutput {
    this.active[input] = true;
    return this.recompute();
  }

  private recompute(): ValveOutput {
    const out: ValveOutput = {};
    let min = Infinity;
    let anyLive = false;
    let anyActive = false;
    let anyAligned = false;
    for (let i = 0; i < this.inputCount; i++) {
      if (this.ended[i]) continue;
      anyLive = true;
      if (!this.active[i]) continue;
      anyActive = true;
      const w = this.watermarks[i]!;
      // A channel behind the output (it was idle) is not aligned yet: left out.
      if (w < this.output) continue;
      anyAligned = true;
      if (w < min) min = w;
    }
    const idle = anyLive && !anyActive;
    if (idle !== this.outputIdle) {
      this.outputIdle = idle;
      out.idle = idle;
    }
    if (anyAligned && min > this.output) {
      this.output = min;
      out.watermark = min;
    }
    return out;
  }
}

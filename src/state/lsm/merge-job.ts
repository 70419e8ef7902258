/**
 * Copies a sorted cursor into a `SegmentWriter` in bounded steps, so a flush or a
 * compaction never stalls record processing for long: each `step` consumes about
 * `budgetBytes` of input (key + value bytes, dropped entries included) and returns.
 * State between steps is the open cursor and writer. Idea: Differential Dataflow's
 * fueled merges (`spine_fueled.rs`): merging work is paid in installments.
 */
import assert from 'node:assert/strict';
import type { Cursor } from './cursor.js';
import type { SegmentWriter, WrittenSegment } from './segment-writer.js';

/** Per-entry cost added to the byte measure so empty values still use up budget. */
const entryCostBytes = 16;

export class MergeJob {
  private done = false;
  droppedCount = 0;

  /**
   * `bottommost`: no older data exists below the inputs, so tombstones (and entries the
   * filter rejects) are dropped instead of copied.
   */
  constructor(
    private readonly cursor: Cursor,
    private readonly writer: SegmentWriter,
    private readonly bottommost: boolean,
    private readonly filter: ((key: Uint8Array, value: Uint8Array) => boolean) | undefined,
  ) {}

  /** Does about `budgetBytes` of work; returns true when all input is written. */
  step(budgetBytes: number): boolean {
    assert.ok(!this.done, 'step() after the job finished');
    assert.ok(budgetBytes > 0);
    let spent = 0;
    const c = this.cursor;
    while (spent < budgetBytes && c.valid()) {
      const key = c.key();
      const value = c.value();
      spent += key.length + (value === null ? 0 : value.length) + entryCostBytes;
      if (this.bottommost && (value === null || (this.filter !== undefined && this.filter(key, value)))) {
        this.droppedCount++;
      } else {
        this.writer.add(key, value);
      }
      c.next();
    }
    this.done = !c.valid();
    return this.done;
  }

  /** REQUIRES: step() returned true. Closes the cursor and completes the file. */
  finish(): WrittenSegment | undefined {
    assert.ok(this.done, 'finish() before the input is consumed');
    this.cursor.close();
    return this.writer.finish();
  }

  abort(): void {
    this.cursor.close();
    this.writer.abort();
  }
}

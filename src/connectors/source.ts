/**
 * The source and sink contracts the task runs, after Flink's `SourceReader` and
 * `SinkWriter`, reduced to what a bounded, pull-based mailbox loop needs.
 */

/** Reads one subtask's share of a source. Single-threaded; never awaits. */
export interface SourceReader {
  /**
   * Emits at most `maxRecords` records through `emit`, synchronously, and stops early once
   * `stop()` returns true (checked after each record: the outputs are backed up).
   * @returns false once the subtask's share is exhausted (nothing more will be emitted).
   */
  emitBatch(emit: (record: unknown) => void, maxRecords: number, stop?: () => boolean): boolean;
  /** Where the record emitted last came from, e.g. `file a.txt byte 1024`, for errors. */
  position(): string;
  /**
   * Where the next record comes from, as plain data for a checkpoint (operator state).
   * A reader built with this value (its `restored` argument) emits exactly the records
   * that had not been emitted when it was taken.
   */
  snapshotPosition(): unknown;
  close(): void;
}

/** Contiguous near-equal ranges of [from, from+count): subtask i's `[start, end)`. */
export function splitRange(from: number, count: number, parallelism: number, index: number): [number, number] {
  const base = Math.floor(count / parallelism);
  const extra = count % parallelism;
  const start = from + index * base + Math.min(index, extra);
  return [start, start + base + (index < extra ? 1 : 0)];
}

/** Emits `fn(i)` for i in [start, end). Backs fromCollection, fromSequence and fromGenerator. */
export class IndexedSourceReader implements SourceReader {
  private next: number;

  /** `restored`: a `snapshotPosition()` value; the reader resumes at that index. */
  constructor(
    start: number,
    private readonly end: number,
    private readonly fn: (index: number) => unknown,
    private readonly label: string,
    restored?: unknown,
  ) {
    this.next = start;
    if (restored !== undefined) {
      const next = (restored as { next?: unknown }).next;
      if (typeof next !== 'number' || next < start || next > end) {
        throw new RangeError(`Cannot restore the ${label} source at ${JSON.stringify(restored)}: outside its range [${start}, ${end}] (was the parallelism changed?)`);
      }
      this.next = next;
    }
  }

  snapshotPosition(): unknown {
    return { next: this.next };
  }

  emitBatch(emit: (record: unknown) => void, maxRecords: number, stop?: () => boolean): boolean {
    const last = Math.min(this.end, this.next + maxRecords);
    while (this.next < last) {
      const index = this.next++;
      emit(this.fn(index));
      if (stop?.() === true) break;
    }
    return this.next < this.end;
  }

  position(): string {
    return `${this.label} index ${this.next - 1}`;
  }

  close(): void {}
}

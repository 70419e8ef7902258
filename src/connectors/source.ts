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
   * The work not yet done, as a list of splits (plain data) for a checkpoint's operator
   * state. A reader built from any subset of the splits of all subtasks reads exactly that
   * work, so a restore may spread them over a different parallelism (even split). Flink:
   * a source's split state.
   */
  snapshotSplits(): unknown[];
  close(): void;
}

/** Contiguous near-equal ranges of [from, from+count): subtask i's `[start, end)`. */
export function splitRange(from: number, count: number, parallelism: number, index: number): [number, number] {
  const base = Math.floor(count / parallelism);
  const extra = count % parallelism;
  const start = from + index * base + Math.min(index, extra);
  return [start, start + base + (index < extra ? 1 : 0)];
}

/** A range of indexes `[from, to)` still to emit: the split of an indexed source. */
export type IndexRange = readonly [number, number];

function checkRanges(ranges: unknown, label: string): IndexRange[] {
  const ok = Array.isArray(ranges) && ranges.every((r) => Array.isArray(r) && r.length === 2 && Number.isSafeInteger(r[0]) && Number.isSafeInteger(r[1]) && r[0] <= r[1]);
  if (!ok) throw new RangeError(`Cannot restore the ${label} source from ${JSON.stringify(ranges)?.slice(0, 80)}: expected [from, to] index ranges`);
  return (ranges as IndexRange[]).map((r) => [r[0], r[1]] as const);
}

/**
 * Emits `fn(i)` for every i of its ranges, in order. Backs fromCollection, fromSequence and
 * fromGenerator; its splits are the index ranges still to emit.
 */
export class IndexedSourceReader implements SourceReader {
  private readonly ranges: IndexRange[];
  private rangeIndex = 0;
  private next: number;

  /** `ranges`: planned (`[[start, end]]`) or restored from `snapshotSplits()`. */
  constructor(
    ranges: unknown,
    private readonly fn: (index: number) => unknown,
    private readonly label: string,
  ) {
    this.ranges = checkRanges(ranges, label).filter(([from, to]) => from < to);
    this.next = this.ranges[0]?.[0] ?? 0;
  }

  emitBatch(emit: (record: unknown) => void, maxRecords: number, stop?: () => boolean): boolean {
    let emitted = 0;
    while (this.rangeIndex < this.ranges.length) {
      const end = this.ranges[this.rangeIndex]![1];
      while (this.next < end) {
        if (emitted === maxRecords) return true;
        const index = this.next++;
        emit(this.fn(index));
        emitted++;
        if (stop?.() === true) return this.next < end || this.rangeIndex + 1 < this.ranges.length;
      }
      this.rangeIndex++;
      this.next = this.ranges[this.rangeIndex]?.[0] ?? this.next;
    }
    return false;
  }

  snapshotSplits(): unknown[] {
    const current = this.ranges[this.rangeIndex];
    if (current === undefined) return [];
    return [[this.next, current[1]], ...this.ranges.slice(this.rangeIndex + 1)].filter(([from, to]) => from! < to!);
  }

  position(): string {
    return `${this.label} index ${this.next - 1}`;
  }

  close(): void {}
}

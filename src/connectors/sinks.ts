/**
 * Sinks: collect (records back to the `runJob` caller), print (standard output) and text
 * files (one part file per subtask). Each buffers and writes in bulk, never per record.
 */

/** A file a two-phase-commit sink wrote and will publish by renaming it (see two-phase-text-sink.ts). */
export interface PendingFileRef {
  pending: string;
  final: string;
  checkpointId: number;
}

/** Writes one subtask's records. Single-threaded; `write` never awaits. */
export interface SinkWriter {
  write(record: unknown): void;
  /**
   * Synchronous phase of checkpoint n, at its barrier: returns what goes into operator
   * state (plain data), or undefined. Records written later belong to checkpoint n+1.
   */
  snapshot?(checkpointId: number): unknown;
  /** Checkpoint n is complete: publish what it covers. */
  notifyComplete?(checkpointId: number): void;
  /**
   * Called once at end of input; pushes out everything buffered. Returns files that the
   * job master publishes when the whole job has finished (two-phase-commit sinks).
   */
  finish(): PendingFileRef[] | void;
}

/** Renders a record as a line: strings as they are, other values as JSON (bigint as digits). */
export function formatRecord(record: unknown): string {
  if (typeof record === 'string') return record;
  if (typeof record === 'number' || typeof record === 'bigint' || typeof record === 'boolean') return String(record);
  return JSON.stringify(record, (_k, v) => (typeof v === 'bigint' ? v.toString() : v)) ?? String(record);
}

/** Records go to the job master in chunks, as structured clones. */
export const collectChunkRecords = 4096;

/**
 * Sends records to the job master, tagged with the last checkpoint barrier this sink saw
 * (its epoch). The master keeps them back until the checkpoint after that epoch completes
 * (or the job finishes) and drops them on a restart: exactly-once, as a two-phase commit
 * held in the master's memory.
 */
export class CollectSinkWriter implements SinkWriter {
  private buffer: unknown[] = [];
  private epoch = 0;
  constructor(
    private readonly name: string,
    private readonly post: (message: { type: 'collect'; name: string; records: unknown[]; epoch: number }) => void,
    restoredCheckpointId = 0,
  ) {
    this.epoch = restoredCheckpointId;
  }
  write(record: unknown): void {
    this.buffer.push(record);
    if (this.buffer.length >= collectChunkRecords) this.flush();
  }
  private flush(): void {
    if (this.buffer.length === 0) return;
    this.post({ type: 'collect', name: this.name, records: this.buffer, epoch: this.epoch });
    this.buffer = [];
  }
  snapshot(checkpointId: number): unknown {
    this.flush();
    this.epoch = checkpointId;
    return undefined;
  }
  finish(): void {
    this.flush();
  }
}

/** Bytes of text buffered before a write call. */
export const textSinkBufferBytes = 1 << 16;

/** Flink's print sink: `<subtask+1>> record` when parallel, the record alone otherwise. */
export class PrintSinkWriter implements SinkWriter {
  private chunks: string[] = [];
  private bytes = 0;
  private readonly prefix: string;
  constructor(subtaskIndex: number, parallelism: number, private readonly out: (text: string) => void) {
    this.prefix = parallelism > 1 ? `${subtaskIndex + 1}> ` : '';
  }
  write(record: unknown): void {
    const line = `${this.prefix}${formatRecord(record)}\n`;
    this.chunks.push(line);
    this.bytes += line.length;
    if (this.bytes >= textSinkBufferBytes) this.flush();
  }
  private flush(): void {
    if (this.chunks.length > 0) this.out(this.chunks.join(''));
    this.chunks = [];
    this.bytes = 0;
  }
  /**
   * At a barrier: prints what is buffered, so every record before it is out when the
   * checkpoint or savepoint is taken (a stopped job ends there without `finish`). No state.
   */
  snapshot(): undefined {
    this.flush();
    return undefined;
  }
  finish(): void {
    this.flush();
  }
}

/** Part file name of a sink subtask: `part-<subtask>-<n>`. */
export function partFileName(subtaskIndex: number, sequence: number): string {
  return `part-${subtaskIndex}-${sequence}`;
}

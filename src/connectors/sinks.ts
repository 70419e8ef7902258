/**
 * Built-in sink writers that need no committer: collect (records back to the `runJob`
 * caller) and print (standard output). Each buffers and writes in bulk, never per record.
 * The exactly-once file sink is in file-sink.ts.
 */

import { createBatchDecoder, createBatchEncoder } from '../task/batch-codec.js';
import type { SinkWriter } from './sink.js';

/** Renders a record as a line: strings as they are, other values as JSON (bigint as digits). */
export function formatRecord(record: unknown): string {
  if (typeof record === 'string') return record;
  if (typeof record === 'number' || typeof record === 'bigint' || typeof record === 'boolean') return String(record);
  return JSON.stringify(record, (_k, v) => (typeof v === 'bigint' ? v.toString() : v)) ?? String(record);
}

/** Records go to the job master in chunks, cbor-x encoded as on the wire. */
export const collectChunkRecords = 4096;

/**
 * Decodes a collect chunk in the job master. The chunk is cbor-x, not a structured clone,
 * so that records of registered classes keep their class (registered-types.ts) as on
 * every other path, and other class instances are refused in the worker.
 */
export function decodeCollectChunk(batch: Uint8Array): unknown[] {
  return (collectDecoder ??= createBatchDecoder()).decode(batch) as unknown[];
}
let collectDecoder: ReturnType<typeof createBatchDecoder> | undefined;

/**
 * Sends records to the job master, tagged with the last checkpoint barrier this sink saw
 * (its epoch). The master keeps them back until the checkpoint after that epoch completes
 * (or the job finishes) and drops them on a restart: exactly-once, as a two-phase commit
 * held in the master's memory.
 */
export class CollectSinkWriter implements SinkWriter<unknown> {
  private buffer: unknown[] = [];
  private epoch = 0;
  private readonly encoder = createBatchEncoder();
  constructor(
    private readonly name: string,
    private readonly post: (message: { type: 'collect'; name: string; batch: Uint8Array; epoch: number }) => void,
    restoredCheckpointId = 0,
  ) {
    this.epoch = restoredCheckpointId;
  }
  write(record: unknown): void {
    this.buffer.push(record);
    if (this.buffer.length >= collectChunkRecords) this.flush();
  }
  flush(): void {
    if (this.buffer.length === 0) return;
    this.post({ type: 'collect', name: this.name, batch: this.encoder.encode(this.buffer), epoch: this.epoch });
    this.buffer = [];
  }
  /** At barrier n (after flush): records written from now on belong to epoch n. No state. */
  snapshotState(checkpointId: number): unknown[] {
    this.flush();
    this.epoch = checkpointId;
    return [];
  }
  close(): void {}
}

/** Bytes of text buffered before a write call. */
export const textSinkBufferBytes = 1 << 16;

/**
 * Flink's print sink: `<subtask+1>> record` when parallel, the record alone otherwise.
 * Lines are buffered and printed in bulk: when the buffer is full, at every barrier, at
 * close, and `lingerMs` after the first line of a buffer, so a slow stream (lines typed
 * into a socket) shows its records without waiting for a checkpoint or 64 KiB.
 */
export class PrintSinkWriter implements SinkWriter<unknown> {
  private chunks: string[] = [];
  private bytes = 0;
  private readonly prefix: string;
  private linger: NodeJS.Timeout | undefined;
  /**
   * @param out writes text (e.g. `process.stdout.write`).
   * @param options.flushed resolves once everything `out` was given has left this thread:
   *   a worker's `process.stdout` hands text to the main thread asynchronously, and a
   *   thread terminated before that loses it (the last lines of a finished job went missing).
   * @param options.lingerMs longest time a buffered line waits, ms (the engine passes its
   *   buffer timeout); unset: lines wait for a full buffer, a barrier or close.
   */
  constructor(
    subtaskIndex: number,
    parallelism: number,
    private readonly out: (text: string) => void,
    private readonly options: { flushed?: () => Promise<void>; lingerMs?: number } = {},
  ) {
    this.prefix = parallelism > 1 ? `${subtaskIndex + 1}> ` : '';
  }
  write(record: unknown): void {
    const line = `${this.prefix}${formatRecord(record)}\n`;
    if (this.chunks.length === 0 && this.options.lingerMs !== undefined) {
      // Fires when the subtask's loop yields (it idles): a busy stream fills the buffer first.
      this.linger = setTimeout(() => this.flush(), this.options.lingerMs);
    }
    this.chunks.push(line);
    this.bytes += line.length;
    if (this.bytes >= textSinkBufferBytes) this.flush();
  }
  /**
   * Prints what is buffered; also at every barrier, so every record before it is out when
   * the checkpoint or savepoint is taken (a stopped job ends there without end of input).
   */
  flush(): void {
    if (this.linger !== undefined) clearTimeout(this.linger);
    this.linger = undefined;
    if (this.chunks.length > 0) this.out(this.chunks.join(''));
    this.chunks = [];
    this.bytes = 0;
  }
  /** Prints what is buffered and waits until it has been handed on (`flushed`). */
  close(): void | Promise<void> {
    this.flush();
    return this.options.flushed?.();
  }
}

/** Part file name of a sink subtask: `part-<subtask>-<n>`. */
export function partFileName(subtaskIndex: number, sequence: number): string {
  return `part-${subtaskIndex}-${sequence}`;
}

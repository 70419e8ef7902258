/**
 * Sinks: collect (records back to the `runJob` caller), print (standard output) and text
 * files (one part file per subtask). Each buffers and writes in bulk, never per record.
 */
import { closeSync, fsyncSync, mkdirSync, openSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { UsageError } from '../errors.js';

/** Writes one subtask's records. Single-threaded; `write` never awaits. */
export interface SinkWriter {
  write(record: unknown): void;
  /** Called once at end of input; pushes out everything buffered. */
  finish(): void;
}

/** Renders a record as a line: strings as they are, other values as JSON (bigint as digits). */
export function formatRecord(record: unknown): string {
  if (typeof record === 'string') return record;
  if (typeof record === 'number' || typeof record === 'bigint' || typeof record === 'boolean') return String(record);
  return JSON.stringify(record, (_k, v) => (typeof v === 'bigint' ? v.toString() : v)) ?? String(record);
}

/** Records go to the job master in chunks, as structured clones. */
export const collectChunkRecords = 4096;

export class CollectSinkWriter implements SinkWriter {
  private buffer: unknown[] = [];
  constructor(
    private readonly name: string,
    private readonly post: (message: { type: 'collect'; name: string; records: unknown[] }) => void,
  ) {}
  write(record: unknown): void {
    this.buffer.push(record);
    if (this.buffer.length >= collectChunkRecords) this.flush();
  }
  private flush(): void {
    if (this.buffer.length === 0) return;
    this.post({ type: 'collect', name: this.name, records: this.buffer });
    this.buffer = [];
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
  finish(): void {
    this.flush();
  }
}

/** Part file name of a sink subtask: `part-<subtask>-<n>`. */
export function partFileName(subtaskIndex: number, sequence: number): string {
  return `part-${subtaskIndex}-${sequence}`;
}

/**
 * Writes lines to `<dir>/part-<subtask>-0`, fsynced and closed at end of input.
 * @throws Error naming the file on any write failure (full disk, permissions).
 */
export class TextFileSinkWriter implements SinkWriter {
  private readonly path: string;
  private readonly fd: number;
  private chunks: string[] = [];
  private bytes = 0;

  constructor(dir: string, subtaskIndex: number) {
    try {
      mkdirSync(dir, { recursive: true });
    } catch (error) {
      throw new UsageError(`Output directory ${dir} cannot be created (${(error as NodeJS.ErrnoException).code}): check the path and permissions`);
    }
    this.path = join(dir, partFileName(subtaskIndex, 0));
    this.fd = openSync(this.path, 'w');
  }

  write(record: unknown): void {
    const line = `${formatRecord(record)}\n`;
    this.chunks.push(line);
    this.bytes += line.length;
    if (this.bytes >= textSinkBufferBytes) this.flush();
  }

  private flush(): void {
    if (this.chunks.length === 0) return;
    const text = this.chunks.join('');
    this.chunks = [];
    this.bytes = 0;
    try {
      writeSync(this.fd, text);
    } catch (error) {
      throw new Error(`Cannot write ${this.path}: ${(error as Error).message} (free disk space or choose another --output)`, { cause: error });
    }
  }

  finish(): void {
    this.flush();
    fsyncSync(this.fd);
    closeSync(this.fd);
  }
}

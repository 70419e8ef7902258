/**
 * The environment a job definition receives: sources and job-wide settings.
 * Flink: `StreamExecutionEnvironment`.
 */
import { SingleOutputStream } from './data-stream.js';
import { Plan } from './plan.js';
import type { SourceSpec } from './plan.js';
import { checkParallelism } from './validate.js';

export interface TextFileOptions {
  /** When the path is a directory, read only files whose names end so (e.g. '.txt'). */
  suffix?: string;
}

export class StreamExecutionEnvironment {
  /** @internal */
  readonly plan = new Plan();
  private parallelism: number;
  private maxParallelism: number | undefined;

  /** @internal Created by the runtime with the engine's default parallelism. */
  constructor(defaultParallelism: number) {
    this.parallelism = defaultParallelism;
  }

  /** Default parallelism of operators that do not set their own. */
  setParallelism(parallelism: number): this {
    checkParallelism(parallelism, 'setParallelism()');
    this.parallelism = parallelism;
    return this;
  }
  getParallelism(): number {
    return this.parallelism;
  }

  /** Default number of key groups (1..32768); Flink's default rule applies when unset. */
  setMaxParallelism(maxParallelism: number): this {
    checkParallelism(maxParallelism, 'setMaxParallelism()', 32768);
    this.maxParallelism = maxParallelism;
    return this;
  }
  getMaxParallelism(): number | undefined {
    return this.maxParallelism;
  }

  private source<T>(name: string, source: SourceSpec): SingleOutputStream<T> {
    return new SingleOutputStream<T>(this.plan, this.plan.add(name, { kind: 'source', source }, []));
  }

  /** The items, in order, from one subtask (non-parallel, as in Flink). Bounded. */
  fromCollection<T>(items: Iterable<T>): SingleOutputStream<T> {
    if (items === null || typeof (items as Iterable<T>)[Symbol.iterator] !== 'function') {
      throw new TypeError('fromCollection() expects an iterable');
    }
    return this.source<T>('Collection Source', { kind: 'collection', items: [...items] }).setParallelism(1);
  }

  /** The integers from..to inclusive, split into contiguous ranges across subtasks. Bounded. */
  fromSequence(from: number, to: number): SingleOutputStream<number> {
    if (!Number.isSafeInteger(from) || !Number.isSafeInteger(to) || to < from) {
      throw new RangeError(`fromSequence(from, to) expects safe integers with from <= to, got ${from}, ${to}`);
    }
    return this.source<number>('Sequence Source', { kind: 'sequence', from, to });
  }

  /**
   * One record per line (without the line break) of a file, or of every file of a
   * directory in name order. Files are cut into byte-range splits at line boundaries and
   * the splits are shared among subtasks. Bounded.
   */
  readTextFile(path: string, options: TextFileOptions = {}): SingleOutputStream<string> {
    if (typeof path !== 'string' || path === '') throw new TypeError('readTextFile() expects a file or directory path');
    return this.source<string>('Text File Source', { kind: 'textFile', path, suffix: options.suffix });
  }

  /**
   * `fn(i)` for i in 0..count-1, split into contiguous ranges across subtasks. Bounded.
   * Flink: `DataGeneratorSource`.
   */
  fromGenerator<T>(fn: (index: number) => T, count: number): SingleOutputStream<T> {
    if (typeof fn !== 'function') throw new TypeError('fromGenerator() expects a function (index) => record');
    if (!Number.isSafeInteger(count) || count < 0) {
      throw new RangeError(`fromGenerator() count must be a non-negative integer, got ${count}`);
    }
    return this.source<T>('Generator Source', { kind: 'generator', fn, count });
  }
}

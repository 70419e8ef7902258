// Job modules for the source/sink API tests: a user FLIP-27 source, a user Sink V2 sink
// with a committer, end-of-input final results, unbounded generators. args[0] names the
// scenario, args[1] holds JSON parameters; every scenario is deterministic given them.
import { mkdirSync, readdirSync, renameSync, statSync, unlinkSync, writeFileSync, appendFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { Boundedness, defineJob } from '../../src/index.js';
import type {
  Collector,
  Committer,
  InputStatus,
  KeyedContext,
  KeyedEndInputContext,
  KeyedProcessFunction,
  ReaderOutput,
  RuntimeContext,
  Sink,
  SinkWriter,
  Source,
  SourceReader,
  SourceReaderContext,
  SourceSplit,
  SplitEnumerator,
  SplitEnumeratorContext,
  ValueState,
  WriterInitContext,
} from '../../src/index.js';

// ---------------------------------------------------------------------------------------
// A user source: ids 0..total-1 in chunks that the enumerator "discovers" over time
// (callAsync), assigned on request; each split's position is its next id.

interface ChunkSplit extends SourceSplit {
  next: number;
  end: number;
}

interface ChunkEnumState {
  discovered: number;
  pending: ChunkSplit[];
}

class ChunkEnumerator implements SplitEnumerator<ChunkSplit, ChunkEnumState> {
  private readonly waiting = new Set<number>();
  constructor(
    private readonly ctx: SplitEnumeratorContext<ChunkSplit>,
    private readonly total: number,
    private readonly chunk: number,
    private state: ChunkEnumState,
  ) {}
  start(): void {
    // A new chunk every 2 ms until all are out (the discovery of, say, new partitions).
    this.ctx.callAsync(
      () => this.state.discovered < this.total,
      (more) => {
        if (more !== true) return this.flushWaiting();
        const next = this.state.discovered;
        const end = Math.min(this.total, next + this.chunk);
        this.state.pending.push({ splitId: `chunk-${next}`, next, end });
        this.state.discovered = end;
        this.flushWaiting();
      },
      0,
      2,
    );
  }
  private flushWaiting(): void {
    for (const reader of [...this.waiting]) {
      this.waiting.delete(reader);
      this.handleSplitRequest(reader);
    }
  }
  addReader(): void {}
  handleSplitRequest(subtaskIndex: number): void {
    const split = this.state.pending.shift();
    if (split !== undefined) return this.ctx.assignSplit(split, subtaskIndex);
    if (this.state.discovered >= this.total) return this.ctx.signalNoMoreSplits(subtaskIndex);
    this.waiting.add(subtaskIndex);
  }
  snapshotState(): ChunkEnumState {
    return { discovered: this.state.discovered, pending: this.state.pending.map((s) => ({ ...s })) };
  }
  close(): void {}
}

class ChunkReader implements SourceReader<{ id: number }, ChunkSplit> {
  private readonly splits: ChunkSplit[] = [];
  private noMore = false;
  private asked = false;
  private wake: (() => void) | undefined;
  constructor(private readonly ctx: SourceReaderContext) {}
  start(): void {}
  pollNext(output: ReaderOutput<{ id: number }>): InputStatus {
    const split = this.splits[0];
    if (split === undefined) {
      if (this.noMore) return 'end';
      if (!this.asked) {
        this.asked = true;
        this.ctx.sendSplitRequest();
      }
      return 'nothing';
    }
    for (let k = 0; k < 10 && split.next < split.end; k++) output.collect({ id: split.next++ });
    if (split.next >= split.end) this.splits.shift();
    return 'more';
  }
  isAvailable(): Promise<void> {
    return new Promise((resolve) => (this.wake = resolve));
  }
  private woken(): void {
    this.asked = false;
    this.wake?.();
    this.wake = undefined;
  }
  addSplits(splits: ChunkSplit[]): void {
    this.splits.push(...splits.map((s) => ({ ...s })));
    this.woken();
  }
  notifyNoMoreSplits(): void {
    this.noMore = true;
    this.woken();
  }
  snapshotState(): ChunkSplit[] {
    return this.splits.map((s) => ({ ...s }));
  }
  close(): void {}
}

export class ChunkSource implements Source<{ id: number }, ChunkSplit, ChunkEnumState> {
  readonly boundedness = Boundedness.BOUNDED;
  constructor(
    private readonly total: number,
    private readonly chunk: number,
  ) {}
  createEnumerator(ctx: SplitEnumeratorContext<ChunkSplit>): ChunkEnumerator {
    return new ChunkEnumerator(ctx, this.total, this.chunk, { discovered: 0, pending: [] });
  }
  restoreEnumerator(ctx: SplitEnumeratorContext<ChunkSplit>, state: ChunkEnumState): ChunkEnumerator {
    return new ChunkEnumerator(ctx, this.total, this.chunk, { discovered: state.discovered, pending: state.pending.map((s) => ({ ...s })) });
  }
  createReader(ctx: SourceReaderContext): ChunkReader {
    return new ChunkReader(ctx);
  }
}

// ---------------------------------------------------------------------------------------
// A user two-phase sink: records are staged in a file per epoch; a committable names the
// file; commit moves it into committed/ (idempotent: a file already there is done).

export class LedgerWriter implements SinkWriter<unknown> {
  private epoch = 0;
  private lines: string[] = [];
  private staged: string | undefined;
  private readonly token = randomBytes(4).toString('hex');
  constructor(
    private readonly dir: string,
    private readonly ctx: WriterInitContext,
  ) {
    mkdirSync(join(dir, 'staging'), { recursive: true });
    mkdirSync(join(dir, 'committed'), { recursive: true });
    // The job master committed the restored committables: what is left staged is a failed attempt's.
    for (const name of readdirSync(join(dir, 'staging'))) if (name.startsWith(`s${ctx.subtaskIndex}-`)) unlinkSync(join(dir, 'staging', name));
  }
  private file(): string {
    // The token keeps names apart across processes too (attempt numbers restart at 0 in a `--resume`d run).
    return join(this.dir, 'staging', `s${this.ctx.subtaskIndex}-a${this.ctx.attemptNumber}-${this.token}-e${this.epoch}`);
  }
  write(element: unknown): void {
    this.lines.push(JSON.stringify(element));
    if (this.lines.length >= 256) this.flush();
  }
  flush(): void {
    if (this.lines.length === 0) return;
    appendFileSync(this.file(), `${this.lines.join('\n')}\n`);
    this.staged = this.file();
    this.lines = [];
  }
  prepareCommit(): Array<{ file: string }> {
    this.flush();
    const staged = this.staged;
    this.staged = undefined;
    this.epoch++;
    return staged === undefined ? [] : [{ file: staged }];
  }
  close(): void {}
}

export class LedgerCommitter implements Committer<{ file: string }> {
  constructor(
    private readonly dir: string,
    /** Where it commits: undefined in the job master (restores). */
    private readonly subtaskIndex?: number,
  ) {}
  commit(committables: Array<{ file: string }>): void {
    // Fault injection: a marker file makes the next commit in the job master fail once.
    const marker = join(this.dir, 'fail-master-commit-once');
    if (this.subtaskIndex === undefined && statSync(marker, { throwIfNoEntry: false }) !== undefined) {
      unlinkSync(marker);
      throw new Error('the ledger is busy (injected)');
    }
    for (const { file } of committables) {
      const target = join(this.dir, 'committed', file.split('/').pop()!);
      if (statSync(target, { throwIfNoEntry: false }) !== undefined) continue; // committed before
      renameSync(file, target);
    }
    // A subtask's first commit leaves a mark: a checkpoint has completed.
    if (this.subtaskIndex !== undefined && committables.length > 0) writeFileSync(join(this.dir, 'a-checkpoint-completed'), '');
  }
}

export class LedgerSink implements Sink<unknown, { file: string }> {
  constructor(private readonly dir: string) {}
  createWriter(ctx: WriterInitContext): LedgerWriter {
    return new LedgerWriter(this.dir, ctx);
  }
  createCommitter(ctx: { subtaskIndex: number | undefined }): LedgerCommitter {
    return new LedgerCommitter(this.dir, ctx.subtaskIndex);
  }
}

// ---------------------------------------------------------------------------------------
// Final results at the end of input (BoundedOneInput.endInput).

class FinalCount implements KeyedProcessFunction<number, number, [number, number]> {
  private count!: ValueState<number>;
  open(ctx: RuntimeContext): void {
    this.count = ctx.getState<number>({ name: 'count', defaultValue: 0 });
  }
  processElement(_x: number, _ctx: KeyedContext<number>, _out: Collector<[number, number]>): void {
    this.count.update(this.count.value()! + 1);
  }
  endInput(out: Collector<[number, number]>, ctx: KeyedEndInputContext<number>): void {
    ctx.applyToAllKeys('count', (key) => out.collect([key, this.count.value()!]));
  }
}

export default defineJob((env, args) => {
  const scenario = args[0];
  const p = JSON.parse(args[1] ?? '{}') as Record<string, any>;
  switch (scenario) {
    case 'final-counts': {
      const counts = env
        .fromSequence(0, p.n - 1)
        .keyBy((x: number) => x % p.keys)
        .process(new FinalCount())
        .uid('final-count');
      if (p.output !== undefined) counts.writeAsText(p.output).uid('sink');
      else counts.collect();
      return;
    }
    case 'user-source-sink': {
      env
        .fromSource(new ChunkSource(p.total, p.chunk), undefined, 'Chunks')
        .uid('chunks')
        .map((r: { id: number }) => {
          // Slow enough that checkpoints and kills land in the middle.
          if (r.id % 50 === 0) Atomics.wait(pause, 0, 0, 1);
          return r;
        })
        .rebalance()
        .sinkTo(new LedgerSink(p.output), 'Ledger')
        .uid('ledger');
      return;
    }
    case 'flaky-commit': {
      // A map that fails once (a marker file) after a checkpoint completed (so the restore
      // has committables), then a restore whose commit in the job master fails once
      // (another marker): two restarts, output exactly once.
      env
        .fromSequence(0, p.n - 1)
        .uid('numbers')
        .map((x: number) => {
          const marker = join(p.output, 'fail-map-once');
          const checkpointed = statSync(join(p.output, 'a-checkpoint-completed'), { throwIfNoEntry: false }) !== undefined;
          if (checkpointed && statSync(marker, { throwIfNoEntry: false }) !== undefined && claim(marker)) {
            throw new Error(`injected failure at ${x}`);
          }
          if (x % 100 === 0) Atomics.wait(pause, 0, 0, 1);
          return { id: x };
        })
        .sinkTo(new LedgerSink(p.output), 'Ledger')
        .uid('ledger');
      return;
    }
    case 'function-sink': {
      // addSink: a rich function (open names a file per subtask) and a plain one.
      const numbers = env.fromSequence(0, p.n - 1).uid('numbers').map((x: number) => {
        const marker = join(p.output, 'fail-once');
        if (x === p.failAt && statSync(marker, { throwIfNoEntry: false }) !== undefined) {
          unlinkSync(marker);
          throw new Error(`injected failure at ${x}`);
        }
        return x;
      });
      let file = '';
      numbers.addSink({
        open(ctx: RuntimeContext) {
          file = join(p.output, `rich-${ctx.subtaskIndex}`);
        },
        invoke(x: number) {
          appendFileSync(file, `${x}\n`);
        },
      });
      numbers.addSink((x: number) => appendFileSync(join(p.output, 'plain'), `${x}\n`));
      return;
    }
    case 'unbounded-generator': {
      env
        .fromGenerator((i: number) => i, Infinity, p.rate === undefined ? {} : { recordsPerSecond: p.rate })
        .uid('gen')
        .writeAsText(p.output)
        .uid('sink');
      return;
    }
    default:
      throw new Error(`unknown scenario ${String(scenario)}`);
  }
});
const pause = new Int32Array(new SharedArrayBuffer(4));

/**
 * Takes a marker file (deletes it): true for the one caller that did, false when another
 * subtask (another thread) took it first.
 */
export function claim(marker: string): boolean {
  try {
    unlinkSync(marker);
    return true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return false;
    throw error;
  }
}

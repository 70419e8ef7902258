/**
 * The sink API, after Flink's Sink V2 (`org.apache.flink.api.connector.sink2`): a writer in
 * every sink subtask, and an optional committer that publishes what the writer prepared
 * once the checkpoint that covers it is complete. This is how an exactly-once sink to
 * another system is written (a two-phase commit):
 *
 * 1. `write(record)` for every record; the writer stages output it can still take back
 *    (an in-progress file, rows in a staging table, an open transaction).
 * 2. At each checkpoint barrier: `flush(false)`, then `prepareCommit()` returns the
 *    committables of what was written since the last barrier (plain data: a file name,
 *    a transaction id), and `snapshotState(checkpointId)` the writer's own state. Both go
 *    into the checkpoint.
 * 3. When that checkpoint is complete, `Committer.commit(committables)` in the same
 *    subtask publishes them (rename the file, move the rows, commit the transaction).
 * 4. On every restore the job master commits, in the main thread and before any subtask
 *    starts, all committables the restored checkpoint holds: those whose commit may not
 *    have happened before the failure. Commits must therefore be idempotent (committing
 *    twice is a no-op). Writers then start with a clean slate: anything staged but not in
 *    a completed checkpoint is a failed attempt's leftover, for them to discard.
 *
 * 5. When the newest completed checkpoint is damaged, a restore falls back to an older one,
 *    M. What was committed after M (committables prepared after M's barrier, published when
 *    a later checkpoint completed) would then be written again by the replay. Before any
 *    commit of the restore, the job master calls `Committer.rollback` with M and the
 *    writer states of every subtask at M: the committer takes back everything it published
 *    that was prepared after M. A two-phase sink whose committer has no `rollback` cannot
 *    take it back: the restore is refused (one line naming the checkpoints it would fall
 *    back past), unless the job runs with `allowDuplicatesOnFallback`
 *    (`--allow-duplicates-on-fallback`), which accepts duplicates. Writer-only sinks (no
 *    committer) are at-least-once anyway and are not asked.
 *
 * At the end of bounded input `flush(true)` runs; the final checkpoint (Flink's FLIP-147)
 * then commits the last committables, so a finished job has published everything. Without
 * periodic checkpoints the job master commits the final committables when every subtask
 * has finished.
 *
 * A sink object is built in every thread from the job module, so it holds configuration
 * only. Committables and writer states must be plain data (structured-cloneable and
 * CBOR-encodable).
 */

/** What a writer knows of its subtask. Flink: `WriterInitContext`. */
export interface WriterInitContext {
  readonly subtaskIndex: number;
  readonly parallelism: number;
  /** 0 for the first deployment of the job, then one more per restart. */
  readonly attemptNumber: number;
  /**
   * The checkpoint this subtask restored from, or undefined for a fresh start (no
   * checkpoint, no savepoint): a fresh writer may clear output of an earlier run.
   */
  readonly restoredCheckpointId: number | undefined;
}

/** Writes the records of one sink subtask. Single-threaded; never awaits. Flink: `SinkWriter`. */
export interface SinkWriter<IN> {
  write(element: IN): void;
  /** Pushes buffered records out: at every barrier (false) and at the end of input (true). */
  flush(endOfInput: boolean): void;
  /**
   * Two-phase sinks (Flink's `CommittingSinkWriter`): the committables of everything
   * written since the last call, for the committer once the checkpoint completes.
   */
  prepareCommit?(): unknown[];
  /** Stateful writers (Flink's `StatefulSinkWriter`): state to restore the writer from. */
  snapshotState?(checkpointId: number): unknown[];
  /**
   * Releases resources. After a cancel (and only then) it may also discard staged output
   * that no completed checkpoint covers.
   */
  close(): void | Promise<void>;
}

/**
 * What a committer takes back on a fallback restore (see item 5 of the file comment).
 * `writerStates` are those of every sink subtask at the restored checkpoint, whatever the
 * parallelism now (for a writer to record where it stood: a part counter, the last
 * transaction id); `restoredCheckpointId` undefined means the job starts over from the
 * beginning, so everything published is taken back.
 */
export interface RollbackRequest<WriterStateT = unknown> {
  readonly restoredCheckpointId: number | undefined;
  /** The completed checkpoints after it that the restore falls back past, ascending (damaged ones). */
  readonly checkpointIds: readonly number[];
  readonly writerStates: readonly WriterStateT[];
}

/** Publishes committables. Flink: `Committer`. */
export interface Committer<CommT> {
  /**
   * Publishes every committable given. Idempotent: a committable already published is a
   * no-op (it is given again after a restore). A throw fails the job; the restart then
   * commits the restored checkpoint's committables again.
   */
  commit(committables: CommT[]): void | Promise<void>;
  /**
   * Takes back every publication of committables prepared after
   * `request.restoredCheckpointId`, in the job master before the restore commits anything
   * and before any writer starts. Idempotent (a crash may make it run again; what is gone
   * stays gone). Optional: without it a fallback restore is refused unless duplicates are
   * accepted. Not a Flink API (Flink's sinks abort lingering transactions of later
   * checkpoints, as Kafka's writer does, but never take back committed ones).
   * @throws to fail the restore (the restart strategy applies).
   */
  rollback?(request: RollbackRequest<unknown>): void | Promise<void>;
  close?(): void | Promise<void>;
}

/** What a committer knows: where it runs. Flink: `CommitterInitContext`. */
export interface CommitterInitContext {
  /** The sink subtask it commits for, or undefined in the job master (restores, job end). */
  readonly subtaskIndex: number | undefined;
  readonly parallelism: number;
}

/** What `Sink.initializeGlobal` knows of the sink. */
export interface GlobalInitContext {
  readonly parallelism: number;
}

/**
 * A sink: factory of writers (workers) and of a committer (workers and the job master).
 * Flink: `Sink` with `SupportsCommitter` and `SupportsWriterState`.
 */
export interface Sink<IN, CommT = unknown, WriterStateT = unknown> {
  /**
   * Runs once in the main thread before any subtask is deployed (Flink's
   * `InitializeOnMaster.initializeGlobal`): checks what can be checked up front (an output
   * folder, a table), so that a configuration mistake ends the run at once. Throw a
   * UsageError (or any error marked `userError: true`) for a mistake: the job fails with
   * its one-line message (exit 2 in the CLI) and nothing is deployed; other throws fail
   * the run as well. It must not write output.
   */
  initializeGlobal?(context: GlobalInitContext): void | Promise<void>;
  createWriter(context: WriterInitContext): SinkWriter<IN>;
  /** With writer state restored from a checkpoint (Flink: `SupportsWriterState.restoreWriter`). */
  restoreWriter?(context: WriterInitContext, recoveredState: WriterStateT[]): SinkWriter<IN>;
  /** Two-phase sinks: the committer of `prepareCommit`'s committables. */
  createCommitter?(context: CommitterInitContext): Committer<CommT>;
}

/** True when `value` has the shape of a `Sink` (checked by `sinkTo`). */
export function isSink(value: unknown): value is Sink<unknown> {
  return value !== null && typeof value === 'object' && typeof (value as Sink<unknown>).createWriter === 'function';
}

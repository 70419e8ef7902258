/**
 * The records of a job's `collect(name)` sinks, gathered in the job master from the
 * subtasks' `collect` messages; the job's result returns them (`JobResult.collected`).
 *
 * Exactly once with checkpointing, as Flink's collect sink (`CollectSinkFunction`) gives
 * them: a record sent in epoch e (after checkpoint e's barrier, before e+1's) is held back
 * until checkpoint e+1 completes, or until the whole job has finished. A failed attempt's
 * held-back records go with it (`AttemptRecords` is per attempt, so a late message from
 * the failed attempt's threads never reaches the next one's). A fallback restore to
 * checkpoint n cuts every sink's records back to what was final when n completed
 * (collect's rollback). Without checkpointing every record is final at once.
 */

/** The collected records of the whole run. */
export class CollectedRecords {
  /** Final records by sink name, in arrival order. */
  readonly byName: Record<string, unknown[]> = {};
  /** Each sink's count of final records when checkpoint n completed, by n: one small entry per checkpoint. */
  private readonly countsAt = new Map<number, Record<string, number>>();

  /** The records of a new attempt. */
  forAttempt(): AttemptRecords {
    return new AttemptRecords(this);
  }

  /** Appends final records of sink `name`. */
  append(name: string, records: readonly unknown[]): void {
    const into = (this.byName[name] ??= []);
    for (const r of records) into.push(r);
  }

  /** Checkpoint n completed: remembers each sink's count, for a later fallback to n. */
  markCheckpoint(checkpointId: number): void {
    this.countsAt.set(checkpointId, Object.fromEntries(Object.entries(this.byName).map(([name, records]) => [name, records.length])));
  }

  /** A fallback restore to checkpoint n (undefined: to the beginning) takes back every record made final after n. */
  rollBackTo(checkpointId: number | undefined): void {
    const mark = checkpointId === undefined ? undefined : this.countsAt.get(checkpointId);
    for (const [name, records] of Object.entries(this.byName)) records.length = Math.min(records.length, mark?.[name] ?? 0);
  }
}

/** One attempt's collected records: those of epochs its checkpoints have not made final yet. */
export class AttemptRecords {
  private heldBack: Array<{ name: string; epoch: number; records: unknown[] }> = [];

  constructor(private readonly run: CollectedRecords) {}

  /**
   * Records of sink `name` sent in `epoch`. `checkpointed`: the attempt takes checkpoints,
   * so they wait for the next one; else they are final at once.
   */
  add(name: string, epoch: number, records: unknown[], checkpointed: boolean): void {
    if (checkpointed) this.heldBack.push({ name, epoch, records });
    else this.run.append(name, records);
  }

  /** Checkpoint n completed: the records of epochs before n are final. */
  checkpointCompleted(checkpointId: number): void {
    const keep: AttemptRecords['heldBack'] = [];
    for (const held of this.heldBack) {
      if (held.epoch < checkpointId) this.run.append(held.name, held.records);
      else keep.push(held);
    }
    this.heldBack = keep;
    this.run.markCheckpoint(checkpointId);
  }

  /** The whole job finished: everything held back is final. */
  finished(): void {
    for (const held of this.heldBack.splice(0)) this.run.append(held.name, held.records);
  }
}

/** Typed errors of checkpoint storage. Invariant violations use `assert` instead. */

/**
 * A checkpoint cannot be restored: its `_metadata` is missing, truncated, fails its
 * checksum or has a wrong magic or version, or a shared file it references is missing,
 * has another size than recorded, or fails segment verification.
 * `file` is the absolute path of the damaged file; the message names it relative to the
 * job directory, e.g.
 * `Cannot restore checkpoint 12: shared/v1-s0-ab12-000003.seg is 4096 bytes, expected 8192 (truncated)`.
 * Recovery: restore an older checkpoint (`latestRestorable` does so) or a savepoint.
 */
export class CorruptCheckpointError extends Error {
  override readonly name = 'CorruptCheckpointError';

  constructor(
    readonly checkpointId: number,
    readonly file: string,
    /** The file as the message names it, relative to the job directory. */
    readonly relativeFile: string,
    readonly reason: string,
  ) {
    super(`Cannot restore checkpoint ${checkpointId}: ${relativeFile} ${reason}`);
  }
}

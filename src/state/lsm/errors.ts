/** Typed errors of the LSM store. Invariant violations use `assert` instead. */

const hex = (n: number): string => `0x${(n >>> 0).toString(16).padStart(8, '0')}`;

/**
 * A segment file fails validation: bad magic, checksum, truncation or an impossible
 * field. Its data is never returned. Recovery: restore from a checkpoint.
 */
export class CorruptSegmentError extends Error {
  override readonly name = 'CorruptSegmentError';

  constructor(
    readonly file: string,
    readonly offset: number,
    readonly reason: string,
  ) {
    super(
      `segment ${file}: ${reason}; the file is damaged — restore from a checkpoint`,
    );
  }

  static crc(file: string, offset: number, what: string, stored: number, computed: number) {
    return new CorruptSegmentError(
      file,
      offset,
      `${what} at offset ${offset} fails CRC32 (stored ${hex(stored)}, computed ${hex(computed)})`,
    );
  }
}

/** The store was used after `close()`. */
export class StoreClosedError extends Error {
  override readonly name = 'StoreClosedError';
  constructor(dir: string) {
    super(`LSM store at ${dir} is closed; open a new one with LsmStore.open(dir)`);
  }
}

/**
 * Record batches on the wire: one RECORDS frame carries a cbor-x encoded array of records.
 * Decoding copies everything out of ring memory (`copyBuffers`), because a view into the
 * ring is overwritten once the frame is released. Measurements: native-notes.md, §2.
 */
import { Decoder, Encoder } from 'cbor-x';

export function createBatchEncoder(): Encoder {
  return new Encoder({ useRecords: false });
}

export function createBatchDecoder(): Decoder {
  return new Decoder({ useRecords: false, copyBuffers: true });
}

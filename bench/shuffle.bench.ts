/**
 * Keyed shuffle against the batch codec's own limit (issue 11's goal: the shuffle's
 * records/s at least 0.5 of what the codec alone can encode and decode).
 *
 * - Codec limit: one thread encodes a batch of 512 records (as the record writer does)
 *   and decodes it (as the input gate does), in a loop for about 1 s; records/s of the
 *   round trip. Measured for the flat encoding and for cbor-x.
 * - Keyed shuffle: bench/jobs/keyed-shuffle.ts through `runJob` (heap state, batches of
 *   512), parallelism 1 and 2, with the flat encoding and with SLUICEGATE_BATCH_CODEC=cbor-x,
 *   and at parallelism 2 without slot sharing (one thread per subtask) beside the default;
 *   records/s = records / wall time from the `runJob` call to its result (start-up
 *   included; the empty-job row says how much), and, as "active", records / the receiving
 *   subtasks' active span (their first record in to their last, Flink's numRecordsIn rate
 *   while the data flows): the shuffle's own throughput, without start-up and shutdown.
 * - Records: built one by one by the job's map (each a 100-character cons string, which the
 *   key selector's `substring` flattens: about 200 ns of the job's own CPU per record), or,
 *   in the "pre-built records" rows, picked from a table of the very 4,096 records the codec
 *   limit's loop encodes: the comparison with the codec limit on equal input.
 * - Rings: automatic (256 KiB here), and 64 KiB (every ring's size before issue 11's
 *   automatic sizing) side by side.
 * - Threads: each job starts its own (as `runJob` does), except the MiniCluster rows, whose
 *   jobs run on the threads of a MiniCluster of 2 slots kept from the runs before.
 * Each round runs every variant once in an order rotated from round to round; ratios are
 * taken within a round, then summarized as median [min-max].
 *
 *   node dist/bench/shuffle.bench.js        (SLUICEGATE_BENCH_REPS=n to change rounds)
 */
import { availableParallelism, cpus } from 'node:os';
import { performance } from 'node:perf_hooks';
import { pathToFileURL } from 'node:url';
import { MiniCluster, runJob } from '../src/index.js';
import { BatchDecoder, BatchEncoder } from '../src/task/batch-codec.js';
import { shuffleRecord } from './jobs/keyed-shuffle.js';
import { formatRate, formatSummary, loadAverage, printTable, repetitionsFromEnv, runRounds, timedJobRun, withBatchCodec } from './report.js';
import type { RoundVariant } from './report.js';

/** Records per shuffle run: about 1-2 s of work on the 2-core machine. */
const shuffleRecords = 2_000_000;
const batchRecords = 512;
const codecLoopMs = 1000;
/** Batches the codec limit's loop encodes again and again (and the pre-built variants' table holds). */
const codecBatches = 8;
const keys = 100_000;

const jobModule = new URL('./jobs/keyed-shuffle.js', import.meta.url);

/** Records per second of one thread encoding and decoding batches of `batchRecords`. */
function codecLimit(flat: boolean): number {
  const batches = Array.from({ length: codecBatches }, (_, b) => Array.from({ length: batchRecords }, (_, i) => shuffleRecord(b * batchRecords + i, keys)));
  const encoder = new BatchEncoder(flat);
  const decoder = new BatchDecoder();
  let records = 0;
  let sink = 0;
  const start = performance.now();
  while (performance.now() - start < codecLoopMs) {
    for (const batch of batches) {
      sink += decoder.decode(encoder.encode(batch)).length;
      records += batch.length;
    }
  }
  if (sink !== records) throw new Error('the codec lost records');
  return records / ((performance.now() - start) / 1000);
}

/** Records per second of one keyed shuffle run (or of the codec loop). */
type Sample = number;

/** Variants with `slotSharing: false` (one thread per subtask) beside the default (slot i shared by subtask i of every vertex). */
const noSlotSharing = ', no slot sharing';

/** How a variant runs the job: defaults are slot sharing, automatic rings, records built one by one. */
interface ShuffleSetup {
  slotSharing?: boolean;
  /** A fixed ring size; undefined: automatic (runtime/ring-sizing.ts: 256 KiB here, two channels into each keyed subtask; 64 KiB was every ring's size before). */
  ringSizeBytes?: number;
  /** Records from the job's table of the codec limit's 4,096 pre-built records (`--table`), instead of built one by one. */
  prebuilt?: boolean;
  /** On the bench's MiniCluster (threads kept across its runs) instead of threads of its own. */
  cluster?: boolean;
}

/** The MiniCluster of the `cluster` variants: 2 slots, closed when the rounds end. */
const cluster = new MiniCluster({ slots: 2 });

/** The variant name's suffix for `setup`. */
function setupLabel(setup: ShuffleSetup): string {
  return `${setup.slotSharing === false ? noSlotSharing : ''}${setup.ringSizeBytes === undefined ? '' : `, ${setup.ringSizeBytes >> 10} KiB rings`}${setup.prebuilt === true ? prebuiltLabel : ''}${setup.cluster === true ? ', MiniCluster' : ''}`;
}

const prebuiltLabel = ', pre-built records';

/** Runs the shuffle job; `timedJobRun` times it (its threads have exited when it returns). */
function runShuffle(parallelism: number, count: number, setup: ShuffleSetup) {
  const options = { parallelism, slotSharing: setup.slotSharing ?? true, stateBackend: 'hashmap', batchSize: batchRecords, ringSizeBytes: setup.ringSizeBytes } as const;
  const table = setup.prebuilt === true ? ['--table', String(codecBatches * batchRecords)] : [];
  const jobOptions = { ...options, args: ['--count', String(count), '--keys', String(keys), ...table] };
  return timedJobRun(() => (setup.cluster === true ? cluster.runJob(jobModule, jobOptions) : runJob(jobModule, jobOptions)));
}

function shuffle(parallelism: number, codec: 'flat' | 'cbor-x', count = shuffleRecords, setup: ShuffleSetup = {}): RoundVariant<Sample> {
  return {
    name: `shuffle p${parallelism}${codec === 'cbor-x' ? ', cbor-x' : ''}${setupLabel(setup)}${count === 1 ? ', empty' : ''}`,
    run: () =>
      withBatchCodec(codec, async () => {
        const { wallMs } = await runShuffle(parallelism, count, setup);
        return count / (wallMs / 1000);
      }),
  };
}

/** Records per second over the receiving (keyed) subtasks' active span: first record in to last. */
function activeShuffle(parallelism: number, setup: ShuffleSetup = {}): RoundVariant<Sample> {
  return {
    name: `shuffle p${parallelism}, active span${setupLabel(setup)}`,
    run: () =>
      withBatchCodec('flat', async () => {
        const { value: result } = await runShuffle(parallelism, shuffleRecords, setup);
        const receiving = Math.max(...result.subtasks.map((s) => s.vertexId));
        const subtasks = result.subtasks.filter((s) => s.vertexId === receiving);
        const received = subtasks.reduce((a, s) => a + s.recordsIn, 0);
        if (received !== shuffleRecords) throw new Error(`the keyed subtasks received ${received} of ${shuffleRecords} records`);
        const since = Math.min(...subtasks.map((s) => s.activeSince ?? Infinity));
        const until = Math.max(...subtasks.map((s) => s.activeUntil ?? -Infinity));
        return shuffleRecords / ((until - since) / 1000);
      }),
  };
}

export async function main(): Promise<void> {
  const repetitions = repetitionsFromEnv(3);
  console.log(`# Keyed shuffle against the codec (node ${process.version}, ${availableParallelism()} cores, ${cpus()[0]?.model ?? '?'}; load ${loadAverage()})`);
  const limitFlat: RoundVariant<Sample> = { name: 'codec limit, flat', run: async () => codecLimit(true) };
  const limitCbor: RoundVariant<Sample> = { name: 'codec limit, cbor-x', run: async () => codecLimit(false) };
  const variants = [
    limitFlat,
    limitCbor,
    shuffle(1, 'flat'),
    shuffle(2, 'flat'),
    shuffle(2, 'flat', shuffleRecords, { slotSharing: false }),
    shuffle(2, 'flat', shuffleRecords, { prebuilt: true }),
    activeShuffle(1),
    activeShuffle(2),
    activeShuffle(2, { slotSharing: false }),
    activeShuffle(1, { prebuilt: true }),
    activeShuffle(2, { prebuilt: true }),
    shuffle(2, 'flat', shuffleRecords, { ringSizeBytes: 64 << 10 }),
    activeShuffle(2, { ringSizeBytes: 64 << 10 }),
    shuffle(1, 'cbor-x'),
    shuffle(2, 'cbor-x'),
    shuffle(2, 'flat', 1),
    shuffle(2, 'flat', 1, { slotSharing: false }),
    shuffle(2, 'flat', shuffleRecords, { cluster: true }),
    activeShuffle(2, { cluster: true }),
    shuffle(2, 'flat', 1, { cluster: true }),
  ];
  const samples = await runRounds(variants, repetitions, [shuffle(2, 'flat', 200_000), shuffle(2, 'cbor-x', 200_000), shuffle(2, 'flat', 200_000, { cluster: true })]).finally(() => cluster.close());
  const ratios = (name: string, base: string): number[] => samples.get(name)!.map((v, r) => v / samples.get(base)![r]!);
  const rows = variants.map((v) => {
    const values = samples.get(v.name)!;
    const isEmpty = v.name.endsWith('empty');
    return [
      v.name,
      isEmpty ? `${formatSummary(values.map((rate) => 1000 / rate), (ms) => ms.toFixed(0))} ms` : formatSummary(values, formatRate),
      isEmpty ? '' : formatSummary(ratios(v.name, 'codec limit, flat'), (x) => x.toFixed(2)),
      isEmpty ? '' : formatSummary(ratios(v.name, 'codec limit, cbor-x'), (x) => x.toFixed(2)),
    ];
  });
  printTable(
    `Keyed shuffle of ${shuffleRecords.toLocaleString('en')} 100-byte records (${keys.toLocaleString('en')} keys), ${repetitions} rounds; the empty row is a 1-record job's wall time`,
    ['variant', 'records/s', '/ flat codec limit', '/ cbor-x codec limit'],
    rows,
  );
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main().catch((error: unknown) => {
    console.error(error);
    process.exitCode = 1;
  });
}

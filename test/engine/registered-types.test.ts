// Registered types (issue 13, item 3): a class instance sent through a channel used to
// arrive as a plain object (`instanceof` false). Now a class registered with
// env.registerType keeps its class across channels, in keyed state (both backends, through
// checkpoints) and in collect(); an unregistered one fails the job at once with one line
// naming the class and the fix; Date, Map, Set, bigint and typed arrays keep working.
import t from 'tap';
import { cborX } from '../../src/cbor-x.js';
import { registerType, registeredTypeTag, runJob, UsageError } from '../../src/index.js';
import { crc32 } from '../../src/state/lsm/crc32.js';
import { createBatchDecoder, createBatchEncoder } from '../../src/task/batch-codec.js';
import { tempDir } from '../helpers/checkpoints.js';
import { cli } from '../helpers/cli.js';
import { Celsius, Reading, readingOf, sensors, Unregistered } from '../jobs/registered-types.js';

const job = new URL('../jobs/registered-types.js', import.meta.url);
const jobPath = job.pathname;

class Pair {
  constructor(
    readonly left: unknown,
    readonly right: unknown,
  ) {}
}
class Point {
  constructor(
    readonly x: number,
    readonly y: number,
  ) {}
  norm(): number {
    return Math.hypot(this.x, this.y);
  }
}

t.test('the codec: registered classes round-trip nested anywhere; built-in types as before; the rest refused in one line', async (t) => {
  registerType(Pair);
  registerType(Point);
  registerType(Point); // again: nothing changes
  const encoder = createBatchEncoder();
  const decoder = createBatchDecoder();
  const batch = [
    new Point(3, 4),
    { nested: [new Pair(new Point(1, 1), new Map([['k', new Point(0, 2)]]))] },
    new Date(86_400_000),
    new Map<unknown, unknown>([[1n, new Set([1, 'a'])]]),
    new Uint8Array([1, 2, 3]),
    new Float64Array([-0, NaN]),
    12345678901234567890n,
    Object.assign(Object.create(null) as object, { bare: true }),
  ];
  const back = decoder.decode(encoder.encode(batch)) as typeof batch;
  const point = back[0] as Point;
  t.ok(point instanceof Point, 'a top-level record keeps its class');
  t.equal(point.norm(), 5, 'and its methods');
  const pair = (back[1] as { nested: Pair[] }).nested[0]!;
  t.ok(pair instanceof Pair && pair.left instanceof Point, 'nested in an object and an array');
  t.ok((pair.right as Map<string, Point>).get('k') instanceof Point, 'inside a Map');
  t.same(back.slice(2, 7), batch.slice(2, 7), 'Date, Map, Set, bigint, typed arrays as before');
  t.ok(back[2] instanceof Date && back[3] instanceof Map && back[4] instanceof Uint8Array && back[5] instanceof Float64Array);
  t.same({ ...(back[7] as object) }, { bare: true }, 'a prototype-less object is a plain object');

  // Standard CBOR shows what is on the wire: tag 21324 holding [name, fields].
  const { Decoder, Encoder } = cborX();
  const wire = new Decoder({ useRecords: false }).decode(new Encoder({ useRecords: false }).encode(new Point(1, 2))) as Point;
  t.ok(wire instanceof Point, "any encoder of the engine's cbor-x carries the class (state, metadata)");
  t.equal(registeredTypeTag, 21324);

  const refused = (value: unknown): string => {
    try {
      encoder.encode([value]);
    } catch (e) {
      t.type(e, UsageError);
      return (e as Error).message;
    }
    return 'not refused';
  };
  t.equal(
    refused(new Unregistered(1)),
    'A value of class Unregistered cannot be sent between operators or kept in state: its class would be lost. Call env.registerType(Unregistered) in defineJob, or use a plain object',
  );
  t.match(refused({ deep: [new (class Anonymous {})()] }), /^A value of class Anonymous cannot be sent/, 'also deep inside a record');
  t.equal(refused(Promise.resolve(1)), 'A Promise cannot be sent between operators or kept in state: turn it into a plain value first (user functions are synchronous)');
  t.match(refused(new WeakMap()), /^A WeakMap cannot be sent/);

  t.throws(() => registerType(Date as never), { message: 'registerType(Date): Date values are carried already; register only classes of your own' });
  t.throws(() => registerType(class Pair {}), { message: "registerType(Pair): the name 'Pair' belongs to another registered class; pass { name } to tell them apart" });
  registerType(class Pair {}, { name: 'OtherPair' });
  t.throws(() => registerType(class Listish extends Array {}), /it extends Array, whose contents are not plain fields; pass \{ serializer \}/);
  t.throws(() => registerType((() => 1) as never), /expects a class/);

  // A value of a class this thread never registered (a job that changed) is refused on reading.
  class Renamed {}
  registerType(Renamed, { name: 'Gone' });
  const bytes = encoder.encode([new Renamed()]);
  const stale = new Uint8Array(bytes);
  const at = Buffer.from(stale).indexOf('Gone');
  stale.set(Buffer.from('Lost'), at);
  // As a job that registered 'Lost' would write it: the batch's CRC-32 matches its bytes.
  new DataView(stale.buffer).setUint32(0, crc32(stale.subarray(4)), true);
  t.throws(() => decoder.decode(stale), { message: 'A value of class Lost was written by a job that registered it, but this job does not: call env.registerType(Lost) in defineJob' });
});

for (const stateBackend of ['lsm', 'hashmap'] as const) {
  t.test(`${stateBackend}: registered records keep their class through rebalanced channels, keyed state, checkpoints and collect()`, async (t) => {
    const n = 3000;
    const result = await runJob(job, {
      parallelism: 2,
      stateBackend,
      checkpointDir: tempDir(t, `registered-${stateBackend}`),
      checkpointIntervalMs: 50,
      args: ['registered', String(n)],
    }).result;
    t.ok(result.checkpoints.length >= 1 || result.restarts === 0, `${result.checkpoints.length} checkpoints`);
    // The operator throws if a record or its state lost its class; here the figures. The
    // rebalance mixes the order of a sensor's readings, so check what does not depend on it:
    // counts 1..k once each, the last running sum, and every reading's doubled value.
    const lines = (result.collected.totals as string[]).map((l) => l.split('\t'));
    for (let s = 0; s < sensors; s++) {
      const mine = Array.from({ length: n }, (_, i) => readingOf(i)).filter((r) => r.sensor === `s${s}`);
      const got = lines.filter((l) => l[0] === `s${s}`);
      t.same(got.map((l) => Number(l[1])).sort((a, b) => a - b), mine.map((_, i) => i + 1), `s${s}: counts 1..${mine.length} once each`);
      t.equal(Number(got.find((l) => Number(l[1]) === mine.length)?.[2]), mine.reduce((a, r) => a + r.value, 0), `s${s}: the last running sum is the total`);
      t.same(got.map((l) => Number(l[3])).sort((a, b) => a - b), mine.map((r) => r.doubled()).sort((a, b) => a - b), `s${s}: doubled() of every reading`);
    }
    const celsius = result.collected.celsius as Celsius[];
    t.equal(celsius.length, n);
    t.ok(celsius.every((c) => c instanceof Celsius), 'collect() hands back instances, through a serializer of the job\'s own');
    t.same(celsius.map((c) => c.degrees).sort((a, b) => a - b), Array.from({ length: n }, (_, i) => readingOf(i).value).sort((a, b) => a - b));
    t.ok(readingOf(1) instanceof Reading);
  });
}

for (const [scenario, where] of [
  ['unregistered-record', 'a record'],
  ['unregistered-state', 'a state value'],
] as const) {
  t.test(`${where} of an unregistered class fails the job at once with one line naming it, without restarts`, async (t) => {
    const handle = runJob(job, {
      parallelism: 2,
      checkpointDir: tempDir(t, scenario),
      checkpointIntervalMs: 100,
      restartStrategy: 'fixed-delay:attempts=1000,delay=50ms',
      args: [scenario, '500'],
    });
    const failed = await handle.result.then(
      () => undefined,
      (e: unknown) => e,
    );
    t.ok(failed instanceof Error, 'the job fails');
    const message = (failed as Error).message;
    t.equal(message.split('\n').length, 1, 'one line');
    t.match(message, 'A value of class Unregistered cannot be sent between operators or kept in state: its class would be lost. Call env.registerType(Unregistered) in defineJob');
    t.equal(handle.metrics().restarts ?? 0, 0, 'not restarted');
  });
}

t.test('through sluice run: an unregistered class in a record ends the run with exit 2 and one line, and a registered one runs', async (t) => {
  const refused = await cli(['run', '--no-progress', '-p', '2', jobPath, 'unregistered-record', '300']);
  t.equal(refused.code, 2, 'exit 2: a mistake no restart fixes');
  t.equal(
    refused.err.split('\n')[0],
    'sluice: A value of class Unregistered cannot be sent between operators or kept in state: its class would be lost. Call env.registerType(Unregistered) in defineJob, or use a plain object',
  );
  const ran = await cli(['run', '--no-progress', '-p', '2', jobPath, 'registered', '300']);
  t.equal(ran.code, 0, `a registered class runs (${ran.err.slice(0, 200)})`);
});

// The main thread's checks before deployment (src/runtime/preflight.ts, src/directories.ts)
// and the classifier of non-recoverable failures (findUserError in src/errors.ts). The
// same mistakes through `sluice run`, with permissions, are in test/e2e/config-mistakes.
import t from 'tap';
import { chmodSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { StreamExecutionEnvironment } from '../../src/api/index.js';
import type { Sink } from '../../src/connectors/index.js';
import { directoryProblem } from '../../src/directories.js';
import { UsageError, findUserError } from '../../src/errors.js';
import { buildJobGraph } from '../../src/graph/index.js';
import { resolveOptions } from '../../src/runtime/options.js';
import { checkEngineDirectories, initializeSinks } from '../../src/runtime/preflight.js';
import { tempDir } from '../helpers/checkpoints.js';

t.test('findUserError finds a UsageError or a marked error anywhere in the cause chain, and only there', async (t) => {
  const usage = new UsageError('bad path');
  t.equal(findUserError(usage), usage, 'the error itself');
  t.equal(findUserError(new Error('outer', { cause: new Error('middle', { cause: usage }) })), usage, 'two causes down');
  class Marked extends Error {
    readonly userError = true;
  }
  const marked = new Marked('no such table');
  t.equal(findUserError(new Error('wrapped', { cause: marked })), marked, 'a class of its own marked userError: true');
  t.equal(findUserError(new Error('plain', { cause: new Error('also plain') })), undefined, 'no mark: recoverable');
  t.equal(findUserError('a string'), undefined);
  t.equal(findUserError(null), undefined);
  const loop = new Error('loop') as Error & { cause?: unknown };
  loop.cause = loop;
  t.equal(findUserError(loop), undefined, 'a cause chain that loops ends');
});

t.test('directoryProblem: a writable directory or a creatable one passes; a file on the way is named', async (t) => {
  const dir = tempDir(t, 'preflight');
  const file = join(dir, 'a-file');
  writeFileSync(file, 'x');
  t.equal(directoryProblem(dir), undefined, 'an existing writable directory');
  t.equal(directoryProblem(join(dir, 'new', 'deeper')), undefined, 'missing, below a writable directory: it can be created');
  t.equal(directoryProblem(file), 'is a file, not a directory');
  t.equal(directoryProblem(join(file, 'out')), `cannot be created: ${file} is a file, not a directory`);
  t.equal(directoryProblem(join(file, 'a', 'b')), `cannot be created: ${file} is a file, not a directory`, 'the nearest existing ancestor is named');
  t.equal(directoryProblem('/dev/null'), 'is not a directory', 'a device is no directory either');
  t.equal(directoryProblem('relative-missing-folder'), undefined, 'relative to the working directory');
});

t.test('directoryProblem: permissions of the directory and of its parent', { skip: process.getuid?.() === 0 && 'root is not bound by permissions (test/e2e/config-mistakes runs these as nobody)' }, async (t) => {
  const dir = tempDir(t, 'preflight-perm');
  const locked = join(dir, 'locked');
  mkdirSync(locked);
  chmodSync(locked, 0o555);
  t.teardown(() => chmodSync(locked, 0o755));
  t.equal(directoryProblem(locked), 'is not writable (EACCES)');
  t.equal(directoryProblem(join(locked, 'out')), `cannot be created: ${locked} is not writable (EACCES)`);
});

t.test('checkEngineDirectories names the option to change', async (t) => {
  const dir = tempDir(t, 'preflight-engine');
  const file = join(dir, 'a-file');
  writeFileSync(file, 'x');
  t.throws(() => checkEngineDirectories(resolveOptions({ checkpointDir: file }, 'cli')), new UsageError(`Checkpoint directory ${file} is a file, not a directory: pass a writable directory with --checkpoint-dir`));
  t.throws(
    () => checkEngineDirectories(resolveOptions({ checkpointDir: dir, savepointDir: join(file, 'sp') }, 'cli')),
    new UsageError(`Savepoint directory ${join(file, 'sp')} cannot be created: ${file} is a file, not a directory: pass a writable directory with --savepoint-dir`),
  );
  t.throws(
    () => checkEngineDirectories(resolveOptions({ checkpointDir: file })),
    new UsageError(`Checkpoint directory ${file} is a file, not a directory: pass a writable directory with checkpointDir`),
    'runJob names its own option',
  );
  t.doesNotThrow(() => checkEngineDirectories(resolveOptions({ checkpointDir: join(dir, 'ck'), savepointDir: join(dir, 'sp') })));
  t.doesNotThrow(() => checkEngineDirectories(resolveOptions({})), 'nothing to check without checkpointing');
});

/** A job graph with a sequence into `sinks`, one sink each. */
function graphWith(...sinks: Sink<unknown>[]) {
  const env = new StreamExecutionEnvironment(2);
  const numbers = env.fromSequence(0, 9);
  sinks.forEach((sink, i) => numbers.sinkTo(sink, `Sink ${i}`).uid(`sink-${i}`));
  numbers.writeAsText(join(tempDir(t, 'preflight-out'), 'out'));
  return buildJobGraph(env.plan, { defaultParallelism: env.getParallelism(), maxParallelism: env.getMaxParallelism(), restoredMaxParallelism: undefined });
}

t.test('initializeSinks runs each sink\'s initializeGlobal once; a UsageError passes as it is, another throw names the sink', async (t) => {
  const calls: number[] = [];
  const writerless = { createWriter: () => ({ write() {}, flush() {}, close() {} }) };
  await initializeSinks(graphWith({ ...writerless, initializeGlobal: ({ parallelism }) => void calls.push(parallelism) }, writerless));
  t.same(calls, [2], 'called once, with the sink\'s parallelism; a sink without it is fine');
  const refused = new UsageError('Table "ledger" does not exist: create it first');
  await t.rejects(initializeSinks(graphWith({ ...writerless, initializeGlobal: () => Promise.reject(new Error('wrapped', { cause: refused })) })), refused);
  await t.rejects(initializeSinks(graphWith({ ...writerless, initializeGlobal: () => { throw new Error('connection refused'); } })), {
    message: 'Sink "Sink 0" (uid sink-0) failed in initializeGlobal: connection refused',
  });
  const file = join(tempDir(t, 'preflight-file'), 'a-file');
  writeFileSync(file, 'x');
  const env = new StreamExecutionEnvironment(1);
  env.fromSequence(0, 9).writeAsText(file);
  const graph = buildJobGraph(env.plan, { defaultParallelism: 1, maxParallelism: env.getMaxParallelism(), restoredMaxParallelism: undefined });
  await t.rejects(initializeSinks(graph), new UsageError(`Output directory ${file} is a file, not a directory: give the job a directory it can write into`), 'the file sink checks its folder');
});

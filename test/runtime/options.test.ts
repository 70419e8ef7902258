// Savepoint-related options of runJob, validated at the boundary (src/runtime/options.ts):
// what a checkpoint directory alone turns on, and the combinations that are refused.
import t from 'tap';
import { resolveOptions } from '../../src/runtime/options.js';

t.test('a checkpoint directory alone: savepoints without periodic checkpoints, and no endless restarts', async (t) => {
  const alone = resolveOptions({ checkpointDir: '/ck' });
  t.equal(alone.checkpointing?.dir, '/ck');
  t.equal(alone.checkpointing?.intervalMs, undefined, 'no periodic checkpoints');
  t.equal(alone.restartStrategy.kind, 'none', 'nothing to restore from, so a failure is not retried from scratch forever');
  const periodic = resolveOptions({ checkpointDir: '/ck', checkpointIntervalMs: 1000 });
  t.equal(periodic.checkpointing?.intervalMs, 1000);
  t.equal(periodic.restartStrategy.kind, 'fixed-delay', 'periodic checkpoints: restart from them');
  t.equal(resolveOptions({}).checkpointing, undefined, 'no directory, no checkpointing');
  t.equal(resolveOptions({ checkpointDir: '/ck', resume: true }).checkpointing?.intervalMs, 60_000, '--resume alone: the default interval');
});

t.test('refused combinations name the options and the fix', async (t) => {
  const cases: [Parameters<typeof resolveOptions>[0], RegExp][] = [
    [{ savepointDir: '/sp' }, /^savepointDir needs checkpointDir: .*--checkpoint-dir <dir>/],
    [{ checkpointDir: '/ck', resume: true, fromSavepoint: '/sp/x' }, /^give resume \(--resume: .*\) or fromSavepoint \(--from-savepoint <path>: .*\), not both$/],
    [{ allowNonRestoredState: true }, /^allowNonRestoredState only applies with fromSavepoint \(--from-savepoint <path>\)$/],
    [{ fromSavepoint: '' }, /^fromSavepoint must be a non-empty path, got ""$/],
    [{ checkpointDir: '/ck', savepointDir: 7 as unknown as string }, /^savepointDir must be a non-empty path, got 7$/],
  ];
  for (const [options, message] of cases) t.throws(() => resolveOptions(options), { name: 'UsageError', message }, JSON.stringify(options));
  t.ok(resolveOptions({ checkpointDir: '/ck', savepointDir: '/sp', fromSavepoint: '/sp/x', allowNonRestoredState: true }).allowNonRestoredState);
});

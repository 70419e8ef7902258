// Options of runJob, validated at the boundary (src/runtime/options.ts): what a checkpoint
// directory alone turns on, and the mistakes that are refused, named as runJob and as
// sluice run name the options (issue 13, item 12).
import t from 'tap';
import { resolveOptions } from '../../src/runtime/options.js';
import { thrown } from '../checkpoint/helpers.js';

/** `name: message` of what `fn` throws. */
const thrownBy = (fn: () => unknown): string => String(thrown(fn));

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

t.test('refused combinations name the options and the fix, as runJob names them', async (t) => {
  const cases: [Parameters<typeof resolveOptions>[0], string][] = [
    [{ savepointDir: '/sp' }, 'savepointDir needs checkpointDir: savepoints are taken through checkpoint storage (with or without checkpointIntervalMs)'],
    [{ checkpointDir: '/ck', resume: true, fromSavepoint: '/sp/x' }, 'give resume (continue the latest job in the checkpoint directory) or fromSavepoint (start a new job from a savepoint), not both'],
    [{ allowNonRestoredState: true }, 'allowNonRestoredState only applies with fromSavepoint'],
    [{ fromSavepoint: '' }, 'fromSavepoint must be a non-empty path, got ""'],
    [{ checkpointDir: '/ck', savepointDir: 7 as unknown as string }, 'savepointDir must be a non-empty path, got 7'],
    [{ checkpointIntervalMs: 100 }, 'checkpointIntervalMs needs checkpointDir: where checkpoints are written'],
    [{ resume: true }, 'resume needs checkpointDir: the checkpoint directory of the job to resume'],
    [{ ringSizeBytes: 5000 }, 'ringSizeBytes must be a power of two, got 5000 (try 4096)'],
    [{ checkpointDir: '/ck', checkpointTimeoutMs: 5 }, 'checkpointTimeoutMs must be an integer from 10 to 86400000, got 5'],
    [{ slotSharing: 'no' as unknown as boolean }, 'slotSharing must be true or false, got no'],
  ];
  for (const [options, message] of cases) t.equal(thrownBy(() => resolveOptions(options)), `UsageError: ${message}`, JSON.stringify(options));
  t.ok(resolveOptions({ checkpointDir: '/ck', savepointDir: '/sp', fromSavepoint: '/sp/x', allowNonRestoredState: true }).allowNonRestoredState);
  t.equal(resolveOptions({}).slotSharing, 'auto', 'by default slots are shared when the subtasks outnumber the cores');
  t.equal(resolveOptions({ slotSharing: true }).slotSharing, true);
  t.equal(resolveOptions({ slotSharing: false }).slotSharing, false);
});

t.test('for sluice run, the same messages name its flags', async (t) => {
  const cases: [Parameters<typeof resolveOptions>[0], string][] = [
    [{ savepointDir: '/sp' }, '--savepoint-dir needs --checkpoint-dir: savepoints are taken through checkpoint storage (with or without --checkpoint-interval)'],
    [{ checkpointDir: '/ck', resume: true, fromSavepoint: '/sp/x' }, 'give --resume (continue the latest job in the checkpoint directory) or --from-savepoint (start a new job from a savepoint), not both'],
    [{ allowNonRestoredState: true }, '--allow-non-restored-state only applies with --from-savepoint'],
    [{ checkpointIntervalMs: 100 }, '--checkpoint-interval needs --checkpoint-dir: where checkpoints are written'],
    [{ ringSizeBytes: 5000 }, '--ring-size must be a power of two, got 5000 (try 4096)'],
  ];
  for (const [options, message] of cases) t.equal(thrownBy(() => resolveOptions(options, 'cli')), `UsageError: ${message}`, JSON.stringify(options));
});

// Fault injection (`killWorkerEveryMs`, `killWorkerLimit`): a limit stops the kills after
// that many over the whole run, and the job then finishes with exactly-once output; the
// limit is refused without a kill period, or out of range.
import t from 'tap';
import { runJob } from '../../src/index.js';
import type { JobEvent } from '../../src/index.js';
import { main } from '../../src/cli/main.js';
import { tempDir } from '../helpers/checkpoints.js';
import { pacedCountsJob, pacedCountsProblems } from '../helpers/paced-counts.js';

t.test('killWorkerLimit: kills every 40 ms stop after 3, then the job finishes exactly once', async (t) => {
  const events: JobEvent[] = [];
  const out = tempDir(t, 'fi-out');
  // 2 s of paced records: without the limit the killer would fire dozens of times.
  const count = 40_000;
  const result = await runJob(pacedCountsJob, {
    parallelism: 2,
    checkpointDir: tempDir(t, 'fi-ck'),
    checkpointIntervalMs: 50,
    killWorkerEveryMs: 40,
    killWorkerLimit: 3,
    restartStrategy: 'fixed-delay:attempts=100,delay=10ms',
    onEvent: (e) => events.push(e),
    args: ['--count', String(count), '--keys', '8', '--output', out, '--rate', '20000'],
  }).result;
  const kills = events.filter((e) => e.type === 'worker-killed').length;
  t.equal(kills, 3, 'exactly 3 workers killed');
  t.equal(result.restarts, 3, 'one restart per kill');
  t.same(pacedCountsProblems(out, count, 8), [], 'every count exactly once');
});

t.test('killWorkerLimit without killWorkerEveryMs, or below 1, is refused naming the options', async (t) => {
  const alone = await runJob(pacedCountsJob, { killWorkerLimit: 2 }).result.catch((e: unknown) => e);
  t.match(alone, { name: 'UsageError', message: 'killWorkerLimit needs killWorkerEveryMs: it limits how many workers fault injection kills' });
  const zero = await runJob(pacedCountsJob, { killWorkerEveryMs: 100, killWorkerLimit: 0 }).result.catch((e: unknown) => e);
  t.match(zero, { name: 'UsageError', message: 'killWorkerLimit must be an integer from 1 to 1000000, got 0' });
  const err: string[] = [];
  t.equal(await main(['run', '--kill-worker-limit', '2', pacedCountsJob], { out: () => {}, err: (s) => err.push(s) }), 2, 'the CLI exits 2');
  t.match(err.join(''), '--kill-worker-limit needs --kill-worker-every', 'the flags are named');
});

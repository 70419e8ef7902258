// An async user function (a map, flatMap, filter or process that returns a Promise) fails
// the job at once with one line naming the operator, and is not restarted: before, an
// async map emitted {} for every record and the job ended with exit 0 (issue 13, item 1).
import t from 'tap';
import { UsageError, runJob } from '../../src/index.js';
import { tempDir } from '../state/helpers.js';

const job = new URL('../jobs/async-functions.js', import.meta.url);

const cases: Array<[string, string, string]> = [
  ['map', 'Double', 'map()'],
  ['flatMap', 'Split', 'flatMap()'],
  ['filter', 'Evens', 'filter()'],
  ['process', 'Async process', 'processElement()'],
  ['rejecting-map', 'Rejects', 'map()'],
];

for (const [scenario, operator, method] of cases) {
  t.test(`an async ${scenario} fails the job at once, naming "${operator}", without restarts`, async (t) => {
    const handle = runJob(job, {
      parallelism: 2,
      checkpointDir: tempDir(t, `async-${scenario}`),
      checkpointIntervalMs: 100,
      restartStrategy: 'fixed-delay:attempts=1000,delay=50ms',
      args: [scenario],
    });
    const failed = await handle.result.then(
      () => undefined,
      (e: unknown) => e,
    );
    t.type(failed, UsageError, 'a usage error, not a restartable failure');
    const message = (failed as Error).message;
    t.equal(message.split('\n').length, 1, 'one line');
    t.match(message, `${method} of "${operator}" returned a Promise`);
    t.match(message, /no async I\/O/);
    t.equal(handle.metrics().restarts ?? 0, 0, 'not restarted');
  });
}

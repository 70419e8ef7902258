// The README's example source ("Writing a source") is real code: it is the same text as
// test/jobs/readme-source.ts (checked here), and it reads every index once, also with
// checkpoints, at several parallelisms.
import t from 'tap';
import { readFileSync } from 'node:fs';
import { runJob } from '../../src/index.js';
import { tempDir } from '../helpers/checkpoints.js';

const job = new URL('../jobs/readme-source.js', import.meta.url);

t.test('the README shows the job module\'s source verbatim', async (t) => {
  const readme = readFileSync(new URL('../../../README.md', import.meta.url), 'utf8');
  const module = readFileSync(new URL('../../../test/jobs/readme-source.ts', import.meta.url), 'utf8');
  const start = module.indexOf('interface RangeSplit');
  const end = module.indexOf('export default defineJob');
  t.ok(start > 0 && end > start);
  t.ok(readme.includes(module.slice(start, end).trim()), 'README "Writing a source" holds RangeSource as tested');
});

t.test('RangeSource reads every index exactly once, with and without checkpoints', async (t) => {
  for (const [parallelism, checkpoints] of [[1, false], [3, false], [2, true]] as const) {
    const result = await runJob(job, {
      parallelism,
      args: ['1003'],
      ...(checkpoints ? { checkpointDir: tempDir(t, 'readme-ck'), checkpointIntervalMs: 20 } : {}),
    }).result;
    const got = (result.collected.collect as number[]).sort((a, b) => a - b);
    t.same(got, Array.from({ length: 1003 }, (_, i) => i), `parallelism ${parallelism}${checkpoints ? ', checkpoints' : ''}`);
  }
});

// Savepoints and rescaling end to end on the word count (issue 5): a run at parallelism 2
// stopped with a savepoint in the middle of its input, then resumed from that savepoint
// at parallelism 1, 2 and 3 (the last from a moved copy of the savepoint folder): across
// both runs every word's running counts are 1..n, each exactly once.
import t from 'tap';
import { cpSync, existsSync, readdirSync, renameSync } from 'node:fs';
import { join } from 'node:path';
import { runJob } from '../../src/index.js';
import { tempDir, waitFor } from '../helpers/checkpoints.js';
import { corpus, readWordCountOutput, referenceCounts, wordcountJobJs as wordcountJob, wrongWords } from '../helpers/wordcount.js';

const countedSoFar = (handle: ReturnType<typeof runJob>): number => handle.metrics().operators.find((o) => o.uid === 'count')?.recordsIn ?? 0;

t.test('stopped with a savepoint at parallelism 2, resumed at 1, 2 and 3: every running count exactly once', async (t) => {
  const reference = referenceCounts(corpus);
  const total = [...reference.values()].reduce((a, b) => a + b, 0);
  const ck = tempDir(t, 'sp-ck');
  const sp = tempDir(t, 'sp-target');
  const out = tempDir(t, 'sp-out');
  const first = runJob(wordcountJob, { parallelism: 2, checkpointDir: ck, savepointDir: sp, args: ['--input', corpus, '--output', out] });
  t.ok(await waitFor(() => countedSoFar(first) > 200_000, 120_000), 'the first run counted 200k words');
  const savepoint = await first.stop();
  const result = await first.result;
  t.equal(result.savepoint, savepoint, 'the result names the stop savepoint');
  t.ok(existsSync(join(savepoint, '_metadata')), 'the savepoint folder is complete');
  const firstLines = readWordCountOutput(out).lines;
  t.ok(firstLines > 0 && firstLines < total, `stopped in the middle (${firstLines} of ${total} lines), its output committed`);

  const moved = join(tempDir(t, 'sp-moved'), 'renamed-savepoint');
  for (const parallelism of [1, 2, 3]) {
    const resumedOut = tempDir(t, `sp-out-${parallelism}`);
    cpSync(out, resumedOut, { recursive: true });
    let from = savepoint;
    if (parallelism === 3) {
      cpSync(savepoint, moved, { recursive: true });
      from = moved;
    }
    const events: string[] = [];
    const resumed = runJob(wordcountJob, {
      parallelism,
      fromSavepoint: from,
      args: ['--input', corpus, '--output', resumedOut],
      onEvent: (e) => events.push(e.type === 'restored-savepoint' ? `savepoint ${e.checkpointId} rescaled ${e.rescaled.join(',')}` : e.type),
    });
    await resumed.result;
    const output = readWordCountOutput(resumedOut);
    t.same(wrongWords(output, reference, true).slice(0, 5), [], `parallelism ${parallelism}: every count 1..n exactly once across both runs`);
    t.equal(output.lines, total, `parallelism ${parallelism}: ${total} lines in all`);
    const restored = events.find((e) => e.startsWith('savepoint'));
    t.ok(restored !== undefined, `parallelism ${parallelism}: restored from the savepoint`);
    if (parallelism === 2) t.match(restored, /rescaled $/, 'same parallelism: nothing redistributed');
    else t.match(restored, /rescaled .*count/, `parallelism ${parallelism}: keyed state redistributed by key groups`);
  }
  t.ok(readdirSync(sp).some((n) => n.startsWith('savepoint-')), 'the engine never deletes a savepoint');
});

// Savepoints and rescaling end to end on the word count through the `sluice` command
// (issue 5): `sluice run -p 2` stopped with `sluice stop` in the middle of its input, then
// `sluice run --from-savepoint` at parallelism 1, 2 and 3 (the last from a moved copy of
// the savepoint folder): across both runs every word's running counts are 1..n, each
// exactly once. `sluice checkpoints` lists the savepoint.
import t from 'tap';
import { spawn, spawnSync } from 'node:child_process';
import { cpSync, existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { completedCheckpoints, tempDir, waitFor } from '../helpers/checkpoints.js';
import { multipliedCorpus, readWordCountOutput, referenceCounts, wordcountJobJs as wordcountJob, wrongWords } from '../helpers/wordcount.js';

const bin = new URL('../../src/cli/bin.js', import.meta.url).pathname;

t.test('sluice stop at parallelism 2, then --from-savepoint at 1, 2 and 3: every running count exactly once', async (t) => {
  // The first 120 of the 233 speeches (about half the words): four runs of the whole
  // corpus took 87 s of the suite; half still leaves the first run seconds of input after
  // its first checkpoint, so the stop lands in the middle.
  const corpus = multipliedCorpus(1, (fn) => t.teardown(fn), 120);
  const reference = referenceCounts(corpus);
  const total = [...reference.values()].reduce((a, b) => a + b, 0);
  const ck = tempDir(t, 'sp-ck');
  const sp = tempDir(t, 'sp-target');
  const out = tempDir(t, 'sp-out');
  const run = ['run', '--no-progress', wordcountJob, '--input', corpus];
  const child = spawn(process.execPath, [bin, 'run', '-p', '2', '--checkpoint-dir', ck, '--checkpoint-interval', '300', '--savepoint-dir', sp, ...run.slice(1), '--output', out], {
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
  t.ok(await waitFor(() => completedCheckpoints(ck).length > 0, 60_000), 'the first run is under way (a checkpoint completed)');
  const stop = spawnSync(process.execPath, [bin, 'stop', ck], { encoding: 'utf8', timeout: 120_000 });
  t.equal(stop.status, 0, `sluice stop exits 0 (${stop.stderr})`);
  const savepoint = stop.stdout.trim();
  t.ok(existsSync(join(savepoint, '_metadata')), `sluice stop printed the savepoint folder (${savepoint})`);
  t.equal(await exited, 0, 'the stopped run exits 0');
  t.match(stderr, `Stopped with savepoint ${savepoint}`);
  const firstLines = readWordCountOutput(out).lines;
  t.ok(firstLines > 0 && firstLines < total, `stopped in the middle (${firstLines} of ${total} lines), its output committed`);
  const listed = spawnSync(process.execPath, [bin, 'checkpoints', ck], { encoding: 'utf8' });
  t.match(listed.stdout, `Savepoint ${savepoint}`, 'sluice checkpoints lists the savepoint');

  const moved = join(tempDir(t, 'sp-moved'), 'renamed-savepoint');
  cpSync(savepoint, moved, { recursive: true });
  for (const parallelism of [1, 2, 3]) {
    const resumedOut = tempDir(t, `sp-out-${parallelism}`);
    cpSync(out, resumedOut, { recursive: true });
    const from = parallelism === 3 ? moved : savepoint;
    const resumed = spawnSync(process.execPath, [bin, 'run', '-p', String(parallelism), '--from-savepoint', from, ...run.slice(1), '--output', resumedOut], {
      encoding: 'utf8',
      timeout: 180_000,
    });
    t.equal(resumed.status, 0, `parallelism ${parallelism}: exits 0 (${resumed.stderr.slice(-300)})`);
    t.match(resumed.stderr, parallelism === 2 ? /restored from savepoint .*\n/ : /restored from savepoint .*(rescaled|redistributed)[^\n]*count/, `parallelism ${parallelism}: says what it restored`);
    const output = readWordCountOutput(resumedOut);
    t.same(wrongWords(output, reference, true).slice(0, 5), [], `parallelism ${parallelism}: every count 1..n exactly once across both runs`);
    t.equal(output.lines, total, `parallelism ${parallelism}: ${total} lines in all`);
  }
  t.ok(readdirSync(sp).some((n) => n.startsWith('savepoint-')), 'the engine never deletes a savepoint');
});

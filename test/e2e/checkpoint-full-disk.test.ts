// A full disk under the checkpoint folder, end to end (issue 13, item 8): the word count
// with its checkpoint folder on a small tmpfs that a filler file has filled. Its
// checkpoints fail with ENOSPC, in a subtask's asynchronous phase (a segment copied: it
// declines) or in the job master (the _metadata write): no restart, processing goes on. Once the filler is deleted, checkpoints
// complete, the job finishes with every count exactly once, and shared/ holds only what
// the retained checkpoint references (the failed ones' partial files are gone).
// Needs a tmpfs mount (root, as on this project's CI machines).
import t from 'tap';
import { execFileSync } from 'node:child_process';
import { mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { runJob } from '../../src/index.js';
import type { JobEvent } from '../../src/index.js';
import { CheckpointStorage } from '../../src/checkpoint/index.js';
import { tempDir } from '../helpers/checkpoints.js';
import { multipliedCorpus, readWordCountOutput, referenceCounts, wordcountJobJs as wordcountJob, wrongWords } from '../helpers/wordcount.js';

function mountTmpfs(dir: string, size: string): string | undefined {
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${size}`, 'tmpfs', dir], { stdio: 'pipe' });
    return undefined;
  } catch (e) {
    return ((e as { stderr?: Buffer }).stderr?.toString() ?? String(e)).trim();
  }
}

t.test('checkpoints on a full tmpfs are declined, not restarted; once space returns they complete and the output is exactly once', async (t) => {
  const mountPoint = tempDir(t, 'full-disk');
  const refused = mountTmpfs(mountPoint, '4m');
  if (refused !== undefined) {
    t.plan(0, `cannot mount a tmpfs here (${refused}); the file system seam test (test/task/checkpoint-decline) still covers the decline`);
    return;
  }
  t.teardown(() => execFileSync('umount', ['-l', mountPoint]));
  const filler = join(mountPoint, 'filler');
  writeFileSync(filler, Buffer.alloc(4 * 1024 * 1024 - 64 * 1024)); // all but 64 KiB
  const checkpointDir = join(mountPoint, 'ck');
  mkdirSync(checkpointDir);

  const input = multipliedCorpus(1, (fn) => t.teardown(fn), 60);
  const out = tempDir(t, 'full-disk-out');
  const events: JobEvent[] = [];
  let freed = false;
  const result = await runJob(wordcountJob, {
    parallelism: 2,
    checkpointDir,
    checkpointIntervalMs: 100,
    tolerableFailedCheckpoints: 100_000,
    restartStrategy: 'none',
    onEvent: (e) => {
      events.push(e);
      // Space returns after a few checkpoints failed for want of it.
      if (!freed && events.filter((x) => x.type === 'checkpoint-failed' && /ENOSPC/.test(x.reason)).length >= 3) {
        freed = true;
        rmSync(filler);
      }
    },
    args: ['--input', input, '--output', out],
  }).result;

  const failed = events.filter((e): e is Extract<JobEvent, { type: 'checkpoint-failed' }> => e.type === 'checkpoint-failed');
  const full = failed.filter((e) => /ENOSPC/.test(e.reason));
  t.ok(full.length >= 3, `${full.length} checkpoints failed on the full disk`);
  // ENOSPC strikes where the disk fills: a subtask copying a segment (it declines) or the
  // job master writing _metadata after every ack (the checkpoint fails there). Either
  // names its place and the error code, and neither restarts.
  const where = /^(declined by subtask \d+ of vertex \d+ in its asynchronous phase|its metadata could not be written by the job master) \(ENOSPC\): /;
  t.same(full.filter((e) => !where.test(e.reason)).map((e) => e.reason), [], 'each failure names the subtask or the job master, and ENOSPC');
  t.equal(result.restarts, 0, 'no restart: a failed asynchronous phase is not a task failure');
  t.ok(freed, 'space was given back');
  const completedAfter = events.filter((e) => e.type === 'checkpoint-completed').length;
  t.ok(completedAfter >= 1, `${completedAfter} checkpoints completed once space returned`);

  const reference = referenceCounts(input);
  const output = readWordCountOutput(out);
  t.same(wrongWords(output, reference, true).slice(0, 5), [], 'every count 1..n exactly once');
  t.equal(output.lines, [...reference.values()].reduce((a, b) => a + b, 0), 'one line per input word');

  const [jobId] = readdirSync(checkpointDir);
  const storage = CheckpointStorage.open(checkpointDir, jobId!);
  const { valid } = storage.list();
  const referenced = new Set<string>();
  for (const c of valid) {
    for (const s of storage.load(c.checkpointId).subtasks) {
      const k = s.keyedState;
      if (k !== undefined) for (const f of k.kind === 'lsm' ? k.segments : [k.file]) referenced.add(f.name);
    }
  }
  t.same(readdirSync(storage.sharedDir).filter((n) => !referenced.has(n)), [], 'shared/ holds no file of a failed checkpoint');
});

// The collect sinks' records in the job master: held back until the checkpoint after their
// epoch completes, dropped with a failed attempt, cut back by a fallback restore, all final
// when the job finishes; without checkpointing final at once.
import t from 'tap';
import { CollectedRecords } from '../../src/runtime/collected-records.js';

t.test('records wait for the checkpoint after their epoch, and all are final when the job finishes', async (t) => {
  const run = new CollectedRecords();
  const attempt = run.forAttempt();
  attempt.add('out', 0, ['a', 'b'], true);
  attempt.add('out', 1, ['c'], true);
  attempt.add('side', 1, [1], true);
  t.same(run.byName, {}, 'nothing is final before a checkpoint completes');
  attempt.checkpointCompleted(1);
  t.same(run.byName, { out: ['a', 'b'] }, 'checkpoint 1 makes epoch 0 final');
  attempt.add('out', 2, ['d'], true);
  attempt.checkpointCompleted(2);
  t.same(run.byName, { out: ['a', 'b', 'c'], side: [1] }, 'checkpoint 2 makes epoch 1 final, not epoch 2');
  attempt.finished();
  t.same(run.byName, { out: ['a', 'b', 'c', 'd'], side: [1] });
});

t.test('a failed attempt takes its held-back records with it; a fallback cuts back to an older checkpoint', async (t) => {
  const run = new CollectedRecords();
  const first = run.forAttempt();
  first.add('out', 0, ['a'], true);
  first.checkpointCompleted(1);
  first.add('out', 1, ['b'], true);
  first.checkpointCompleted(2);
  first.add('out', 2, ['lost'], true);
  // The attempt fails; the next one restores checkpoint 2 and sends epoch 2 again.
  const second = run.forAttempt();
  first.add('out', 2, ['late'], true); // a late message of the failed attempt's thread
  second.add('out', 2, ['c'], true);
  second.checkpointCompleted(3);
  t.same(run.byName, { out: ['a', 'b', 'c'] }, 'neither the failed attempt\'s held-back records nor its late ones are published');
  // Checkpoint 3 turns out damaged: the next attempt falls back to checkpoint 2.
  run.rollBackTo(2);
  t.same(run.byName, { out: ['a', 'b'] }, 'the records made final after checkpoint 2 are taken back');
  const third = run.forAttempt();
  third.add('out', 2, ['c'], true);
  third.finished();
  t.same(run.byName, { out: ['a', 'b', 'c'] });
  run.rollBackTo(undefined);
  t.same(run.byName, { out: [] }, 'a fallback to the beginning takes back everything');
});

t.test('without checkpointing every record is final at once', async (t) => {
  const run = new CollectedRecords();
  const attempt = run.forAttempt();
  attempt.add('out', 0, ['a'], false);
  t.same(run.byName, { out: ['a'] });
  const many = Array.from({ length: 200_000 }, (_, i) => i);
  attempt.add('out', 0, many, false);
  t.equal(run.byName.out!.length, 200_001, 'a large chunk is appended whole');
});

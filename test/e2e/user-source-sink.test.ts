// A user FLIP-27 source (an enumerator that discovers splits over time) and a user Sink V2
// sink with a committer, through checkpoints every 50 ms and a worker killed every 1.5 s:
// every record in the committed output exactly once. End to end without coverage (V8's
// coverage slows workers several-fold, and an attempt must reach a checkpoint before the
// next kill).
import t from 'tap';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { runJob } from '../../src/index.js';
import type { JobEvent } from '../../src/index.js';
import { tempDir } from '../helpers/checkpoints.js';

const streams = new URL('../jobs/streams.js', import.meta.url);

/** Every line of every committed file in `dir`. */
function lines(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir).flatMap((name) => readFileSync(join(dir, name), 'utf8').split('\n').filter((l) => l !== ''));
}

t.test('a user source (enumerator discovering splits over time) and a user two-phase sink: exactly once through killed workers', async (t) => {
  const output = tempDir(t, 'ledger');
  const total = 200_000;
  const events: JobEvent[] = [];
  const result = await runJob(streams, {
    parallelism: 2,
    args: ['user-source-sink', JSON.stringify({ total, chunk: 700, output })],
    checkpointDir: tempDir(t, 'ledger-ck'),
    checkpointIntervalMs: 50,
    killWorkerEveryMs: 1500,
    // A kill waits for a checkpoint of its attempt: a restart then has one to restore.
    killWorkerAfterCheckpoint: true,
    restartStrategy: 'fixed-delay:attempts=1000,delay=20ms',
    onEvent: (e) => events.push(e),
  }).result;
  t.ok(result.restarts >= 1, `${result.restarts} restarts`);
  t.ok(events.some((e) => e.type === 'restored'), 'restored from a checkpoint at least once');
  const ids = lines(join(output, 'committed')).map((l) => (JSON.parse(l) as { id: number }).id);
  const seen = new Map<number, number>();
  for (const id of ids) seen.set(id, (seen.get(id) ?? 0) + 1);
  const missing = Array.from({ length: total }, (_, i) => i).filter((i) => !seen.has(i));
  const twice = [...seen].filter(([, n]) => n > 1).map(([id]) => id);
  t.same(missing.slice(0, 10), [], 'nothing lost');
  t.same(twice.slice(0, 10), [], 'nothing twice');
  t.equal(ids.length, total);
  t.same(readdirSync(join(output, 'staging')), [], 'the final checkpoint committed everything: nothing left staged');
});


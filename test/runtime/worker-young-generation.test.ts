// Worker threads start with their full young generation (runtime/worker-young-generation.ts):
// `startWorkersWithFullYoungGeneration()` sets V8's minimum semi-space for isolates made
// afterwards, unless the process has a semi-space flag of its own; `sluice` does it at
// start. Each case runs in a child process (V8 flags are process-wide), whose worker thread
// reports the size of its heap's `new_space` (one semi-space).
import t from 'tap';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { workerSemiSpaceMb } from '../../src/index.js';
import { bin } from '../helpers/cli.js';

const index = new URL('../../src/index.js', import.meta.url).href;
const repoRoot = fileURLToPath(new URL('../../../', import.meta.url));
const mib = 2 ** 20;

/** In a child process (node `flags`, `env`): whether the call set the flag (or 'not called'), and a new worker's new_space size in bytes. */
function child(call: boolean, flags: string[] = [], env: Record<string, string> = {}): { set: boolean | 'not called'; newSpace: number } {
  const script = `
import { Worker } from 'node:worker_threads';
import { startWorkersWithFullYoungGeneration } from ${JSON.stringify(index)};
const set = ${call ? "startWorkersWithFullYoungGeneration()" : "'not called'"};
const w = new Worker("const v8 = await import('node:v8'); const { parentPort } = await import('node:worker_threads'); parentPort.postMessage(v8.getHeapSpaceStatistics().find((s) => s.space_name === 'new_space').space_size);", { eval: true });
w.once('message', (newSpace) => { console.log(JSON.stringify({ set, newSpace })); void w.terminate(); });
`;
  const out = execFileSync(process.execPath, [...flags, '--input-type=module', '-e', script], { encoding: 'utf8', env: { ...process.env, NODE_OPTIONS: '', ...env } });
  return JSON.parse(out) as { set: boolean | 'not called'; newSpace: number };
}

t.test('a worker made after the call starts with semi-spaces of workerSemiSpaceMb; one made without it does not', async (t) => {
  const before = child(false);
  t.ok(before.newSpace < workerSemiSpaceMb * mib, `without the call a worker starts small (${before.newSpace / mib} MiB)`);
  const after = child(true);
  t.equal(after.set, true);
  t.equal(after.newSpace, workerSemiSpaceMb * mib, `with it, ${workerSemiSpaceMb} MiB`);
});

t.test("the process's own semi-space flag rules, on the command line or in NODE_OPTIONS", async (t) => {
  const flagged = child(true, ['--max-semi-space-size=4']);
  t.equal(flagged.set, false, 'a --max-semi-space-size of its own: the flag is not set');
  t.ok(flagged.newSpace <= 4 * mib, `the worker keeps within the process's 4 MiB (${flagged.newSpace / mib} MiB)`);
  // NODE_OPTIONS allows --max-semi-space-size only.
  const viaEnv = child(true, [], { NODE_OPTIONS: '--max-semi-space-size=2' });
  t.equal(viaEnv.set, false, 'a --max-semi-space-size in NODE_OPTIONS: the flag is not set');
  t.ok(viaEnv.newSpace < workerSemiSpaceMb * mib, `the worker starts below ${workerSemiSpaceMb} MiB (${viaEnv.newSpace / mib} MiB)`);
  const min = child(true, ['--min-semi-space-size=1']);
  t.equal(min.set, false, 'a --min-semi-space-size of its own: the flag is not set');
  t.ok(min.newSpace < workerSemiSpaceMb * mib, `the worker starts below ${workerSemiSpaceMb} MiB (${min.newSpace / mib} MiB)`);
});

t.test("sluice run's subtasks start with the full young generation", async (t) => {
  const dir = mkdtempSync(join(repoRoot, 'dist', 'tmp-young-generation-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  writeFileSync(
    join(dir, 'job.ts'),
    `import { getHeapSpaceStatistics } from 'node:v8';
import { defineJob } from 'sluicegate';
export default defineJob((env) => {
  env.fromCollection([1, 2, 3]).map(() => String(getHeapSpaceStatistics().find((s) => s.space_name === 'new_space')!.space_size)).writeAsText(${JSON.stringify(join(dir, 'out'))});
});
`,
  );
  execFileSync(process.execPath, [bin, 'run', '--no-progress', join(dir, 'job.ts')], { encoding: 'utf8', env: { ...process.env, NODE_OPTIONS: '' } });
  const lines = readdirSync(join(dir, 'out')).flatMap((f) => readFileSync(join(dir, 'out', f), 'utf8').split('\n').filter(Boolean));
  t.equal(lines.length, 3);
  t.same([...new Set(lines)], [String(workerSemiSpaceMb * mib)], "every record saw its subtask's new_space at full size");
});

// cbor-x is loaded at its first use (src/cbor-x.ts, issue 11): a worker thread of a job
// whose records are numbers and strings (the flat batch encoding) and whose keyed state
// holds integer keys and sums (the cbor fast paths) never loads it, which saves each
// thread 20-26 ms of CPU at start-up; a job whose records are objects loads it in its
// workers at the first such batch. End to end: a TypeScript job (the worker bundle path,
// as `sluice run job.ts`) whose last operator reports, per record, whether its thread has
// loaded cbor-x (either build: both load the cbor-extract addon through require()).
import t from 'tap';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { runJob } from '../../src/index.js';

const repoRoot = fileURLToPath(new URL('../../../', import.meta.url));

/** A job at parallelism 2: `pipeline` (from `env`), then a map that tells per record whether its thread has loaded cbor-x. */
function jobSource(pipeline: string): string {
  return `import { createRequire } from 'node:module';
import { defineJob } from 'sluicegate';
const cache = createRequire(import.meta.url).cache;
const cborLoaded = (): boolean => Object.keys(cache).some((f) => f.includes('/node_modules/cbor-x/') || f.includes('/node_modules/cbor-extract/'));
export default defineJob((env) => {
  env.setParallelism(2);
  ${pipeline}.map(() => (cborLoaded() ? 'loaded' : 'not loaded')).collect('out');
});
`;
}

async function run(t: { teardown(fn: () => void): void }, source: string): Promise<string[]> {
  const dir = mkdtempSync(join(repoRoot, 'dist', 'tmp-lazy-cbor-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  writeFileSync(join(dir, 'job.ts'), source);
  const result = await runJob(pathToFileURL(join(dir, 'job.ts')).href).result;
  return result.collected['out'] as string[];
}

t.test('the workers of a job of numbers and strings with integer-keyed state, through keyed shuffles, do not load cbor-x', async (t) => {
  const out = await run(t, jobSource('env.fromCollection(Array.from({ length: 200 }, (_, i) => String(i))).map((s: string) => Number(s)).keyBy((n: number) => n % 2).sum()'));
  t.equal(out.length, 200);
  t.same([...new Set(out)], ['not loaded'], 'no worker that handled a record had loaded cbor-x');
});

t.test('the workers of a job whose records are objects load cbor-x (the check sees it)', async (t) => {
  const out = await run(t, jobSource('env.fromCollection(Array.from({ length: 200 }, (_, i) => ({ i }))).keyBy((o: { i: number }) => o.i % 2)'));
  t.equal(out.length, 200);
  t.same([...new Set(out)], ['loaded'], 'the keyed shuffle of objects went through cbor-x into the thread that reports');
});

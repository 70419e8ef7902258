// The job build cache for a TypeScript job module (graph/build-cache.ts, issue 11): a
// second compile of an unchanged job takes the remembered main-thread bundle and workers'
// twin without starting esbuild, and each change to what the build read (a bundled .ts
// file, its tsconfig.json's emit option, a nearer tsconfig.json, a config it extends, the
// engine's build, a bundle deleted from the job cache) builds again, which the job's
// records through runJob at parallelism 2 show. That no build ran is seen as the JavaScript
// job's test sees it: the record is pointed at stand-in copies, and a compile that
// returns them used the record.
import t from 'tap';
import { existsSync, readFileSync, rmSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { compileJobModule } from '../../src/graph/index.js';
import type { CompiledJob } from '../../src/graph/index.js';
import { recordFile } from '../../src/graph/build-cache.js';
import { jobCache } from '../../src/graph/job-bundle.js';
import { runJob } from '../../src/index.js';
import { jobProject, repoRoot, standInsForRecord } from '../helpers/job-project.js';

const workerBundle = join(repoRoot, 'dist', 'src', 'task', 'worker.bundle.js');

/** The compiled job's main-thread bundle and twin URLs; fails the test for anything else. */
function bundleAndTwin(compiled: CompiledJob): [string, string] {
  if (compiled.kind !== 'bundle' || !('taskFile' in compiled.worker)) throw new Error(`not a bundle with a twin: ${JSON.stringify(compiled)}`);
  return [compiled.importUrl, compiled.worker.importUrl];
}

const files = {
  'job.ts': `import { defineJob } from 'sluicegate';
import { n } from './lib/n.ts';
import { Fields } from './lib/fields.ts';
import { label } from 'alias';
export default defineJob((env) => {
  env.setParallelism(2);
  env.fromCollection([1, 2]).map((i: number) => [i * n, Object.keys(new Fields()).join(',') || 'none', label].join(' ')).collect('out');
});
`,
  'lib/n.ts': `export const n: number = 1;\n`,
  'lib/fields.ts': `export class Fields { declared!: number; }\n`,
  'labels/a.ts': `export const label = 'a';\n`,
  'labels/b.ts': `export const label = 'b';\n`,
  // `paths` from the config it extends (esbuild's resolver follows extends); the emit option is its own.
  'base.json': `{ "compilerOptions": { "paths": { "alias": ["./labels/a.ts"] } } }\n`,
  'tsconfig.json': `{\n  // emit: no defined class fields\n  "extends": "./base.json",\n  "compilerOptions": { "target": "ES2022", "useDefineForClassFields": false, },\n}\n`,
};

t.test('a TypeScript job is remembered while nothing it was built from changes, and built again after each change', async (t) => {
  const dir = jobProject(t, 'compile-job-cache', files);
  const job = join(dir, 'job.ts');
  const url = pathToFileURL(job).href;
  const records = async (): Promise<string[]> => [...((await runJob(url).result).collected['out'] as string[])].sort();
  const [main, twin] = bundleAndTwin(await compileJobModule(url));
  const cacheDir = jobCache();
  t.equal(dirname(fileURLToPath(main)), cacheDir, 'the bundle is in the job cache');
  t.ok(existsSync(recordFile(cacheDir, job)), 'the build is recorded');
  t.same(await records(), ['1 none a', '2 none a'], 'the first build runs');

  // Each step: the record is pointed at stand-ins, the change is made, and the next compile
  // must build again (not return the stand-ins) what the records then show.
  const rebuiltAfter = async (what: string, change: () => void): Promise<[string, string]> => {
    const stands = standInsForRecord(cacheDir, job, dir);
    t.same(bundleAndTwin(await compileJobModule(url)), stands, `before ${what}: the remembered bundle and twin, without a build`);
    change();
    const urls = bundleAndTwin(await compileJobModule(url));
    t.notOk(urls.some((u) => stands.includes(u)), `${what}: built again`);
    t.ok(urls.every((u) => existsSync(fileURLToPath(u))), `${what}: its files are in the job cache`);
    return urls;
  };

  await rebuiltAfter('an edited .ts file', () => writeFileSync(join(dir, 'lib', 'n.ts'), `export const n: number = 10;\n`));
  t.same(await records(), ['10 none a', '20 none a'], 'the edit runs');

  await rebuiltAfter('an edited emit option in tsconfig.json', () => writeFileSync(join(dir, 'tsconfig.json'), `{ "extends": "./base.json", "compilerOptions": { "target": "ES2022" } }\n`));
  t.same(await records(), ['10 declared a', '20 declared a'], 'class fields are defined now');

  await rebuiltAfter('a tsconfig.json nearer a bundled file', () => writeFileSync(join(dir, 'lib', 'tsconfig.json'), `{ "compilerOptions": { "useDefineForClassFields": false } }\n`));
  t.same(await records(), ['10 none a', '20 none a'], 'lib/fields.ts takes its emit from lib/tsconfig.json');

  await rebuiltAfter('an edited config that tsconfig.json extends', () => writeFileSync(join(dir, 'base.json'), `{ "compilerOptions": { "paths": { "alias": ["./labels/b.ts"] } } }\n`));
  t.same(await records(), ['10 none b', '20 none b'], 'the import resolves by the new paths');

  // As `npm run build` leaves it: a worker bundle of another time (newer than the engine's
  // entry, so running tests keep their twins). Restored at the end (another change).
  const before = statSync(workerBundle);
  t.teardown(() => utimesSync(workerBundle, before.atime, before.mtime));
  const [mainAgain, twinAgain] = await rebuiltAfter('a rebuilt engine', () => utimesSync(workerBundle, before.atime, new Date(before.mtimeMs + 1000)));
  t.same(await records(), ['10 none b', '20 none b'], 'and runs');

  for (const [name, file] of [["the main thread's bundle", mainAgain], ["the workers' twin", twinAgain]] as const) {
    await rebuiltAfter(`${name} deleted from the job cache`, () => rmSync(fileURLToPath(file)));
    t.same(await records(), ['10 none b', '20 none b'], 'and runs');
  }
  t.not(main, mainAgain, 'the edits made another bundle');
  t.not(twin, twinAgain, 'and another twin');
});

t.test('the fallback to tsx is remembered as well, and an edit that lifts it builds the bundle', async (t) => {
  const dir = jobProject(t, 'compile-job-cache', {
    'job.ts': `import { defineJob } from 'sluicegate';\nconst target = import.meta.resolve('./job.ts');\nexport default defineJob((env) => { env.fromCollection([/\\/job\\.ts/.test(target)]).collect('out'); });\n`,
  });
  const job = join(dir, 'job.ts');
  const url = pathToFileURL(job).href;
  t.match(await compileJobModule(url), { kind: 'tsx', reason: /job\.ts uses import\.meta\.resolve/ });
  // The record's outcome, planted: a compile that reports it read the record.
  const record = JSON.parse(readFileSync(recordFile(jobCache(), job), 'utf8')) as { outcome: { cannotBundle: string } };
  writeFileSync(recordFile(jobCache(), job), JSON.stringify({ ...record, outcome: { cannotBundle: 'planted' } }));
  t.match(await compileJobModule(url), { kind: 'tsx', reason: 'planted' }, 'remembered, without a build');
  t.same((await runJob(url).result).collected['out'], [true], 'and runs through tsx');

  writeFileSync(job, `import { defineJob } from 'sluicegate';\nexport default defineJob((env) => { env.fromCollection([import.meta.url.endsWith('/job.ts')]).collect('out'); });\n`);
  t.match(await compileJobModule(url), { kind: 'bundle' }, 'an edit that lifts the fallback is bundled');
  t.same((await runJob(url).result).collected['out'], [true], 'and runs');
});

t.test('a jsconfig.json nearer than the tsconfig.json does not hide the emit options from the record', async (t) => {
  // The emit options come from the nearest tsconfig.json (root), esbuild's paths from the
  // nearest tsconfig or jsconfig (src/jsconfig.json): the record keeps both.
  const dir = jobProject(t, 'compile-job-cache', {
    'src/job.ts': `import { defineJob } from 'sluicegate';
class Fields { declared!: number; }
export default defineJob((env) => { env.fromCollection([Object.keys(new Fields()).join(',') || 'none']).collect('out'); });
`,
    'src/jsconfig.json': `{}\n`,
    'tsconfig.json': `{ "compilerOptions": { "target": "ES2022", "useDefineForClassFields": false } }\n`,
  });
  const job = join(dir, 'src', 'job.ts');
  const url = pathToFileURL(job).href;
  const records = async (): Promise<unknown> => (await runJob(url).result).collected['out'];
  bundleAndTwin(await compileJobModule(url));
  t.same(await records(), ['none'], 'the root tsconfig.json gives the emit');
  const stands = standInsForRecord(jobCache(), job, dir);
  t.same(bundleAndTwin(await compileJobModule(url)), stands, 'remembered, without a build');
  writeFileSync(join(dir, 'tsconfig.json'), `{ "compilerOptions": { "target": "ES2022" } }\n`);
  t.notOk(bundleAndTwin(await compileJobModule(url)).some((u) => stands.includes(u)), 'an edited root tsconfig.json builds again');
  t.same(await records(), ['declared'], 'class fields are defined now');
});

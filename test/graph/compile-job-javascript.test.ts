// A JavaScript job module (graph/compile-job.ts, issue 11): the main thread imports it as
// it is; its workers load the engine's worker bundle as their task file and a twin, an
// esbuild bundle of the job's own ES module files importing the engine from that bundle.
// End to end through runJob at parallelism 2: helper modules of its own, JSON, a file
// found by import.meta.url, a package, a registered class whose name collides with
// another file's. Each case the twin cannot carry keeps today's workers, with its reason.
import t from 'tap';
import { readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { compileJobModule } from '../../src/graph/index.js';
import { runJob } from '../../src/index.js';
import { callerFilesSource, jobProject, repoRoot, standInsForRecord } from '../helpers/job-project.js';

const workerBundleUrl = pathToFileURL(join(repoRoot, 'dist', 'src', 'task', 'worker.bundle.js')).href;

const job = `
import { copyFileSync, readFileSync, writeFileSync } from 'node:fs';
import { decode, encode } from 'cbor-x';
import { defineJob } from 'sluicegate';
import { shout, Point as OtherPoint } from './lib/shout.js';
import { here } from './lib/where.mjs';
import settings from './settings.json' with { type: 'json' };

${callerFilesSource}
/** Which files ran this: 'twin' when a job-cache bundle and the engine's worker bundle are on the stack. */
function runBy() {
  const files = callerFiles();
  const twin = files.some((f) => /\\/sluicegate-[^/]+\\/jobs\\/job-[0-9a-f]+\\.mjs$/.test(f));
  const bundle = files.some((f) => f.endsWith('/dist/src/task/worker.bundle.js'));
  return twin && bundle ? 'twin' : files.some((f) => f.endsWith('/job.js')) ? 'own-file' : 'neither';
}

class Point { constructor(word) { this.word = word; } }
const words = readFileSync(new URL('./words.txt', import.meta.url), 'utf8').trim().split(' ');

export default defineJob((env) => {
  env.setParallelism(2);
  env.registerType(Point);
  const tagged = env
    .fromCollection(words)
    .map((w) => [shout(w), settings.suffix, String(decode(encode(w.length))), here.endsWith('/lib/where.mjs') ? 'own-url' : here, new OtherPoint().kind, runBy()].join(' '));
  tagged.collect('out');
  env.fromCollection(words).map((w) => new Point(w)).keyBy((p) => p.word).map((p) => p).collect('points');
});
`;

t.test('a JavaScript job gets a twin of its own ES modules, and its workers run it on the bundled engine', async (t) => {
  const dir = jobProject(t, 'compile-job-js', {
    'job.js': job,
    // Another class named Point: without kept names the bundle would rename one of them.
    'lib/shout.js': `export const shout = (s) => s.toUpperCase();\nexport class Point { kind = 'other'; }\n`,
    'lib/where.mjs': `export const here = import.meta.url;\n`,
    'settings.json': `{ "suffix": "!" }\n`,
    'words.txt': 'alpha beta\n',
  });
  const url = pathToFileURL(join(dir, 'job.js')).href;
  const compiled = await compileJobModule(url);
  if (compiled.kind !== 'javascript' || !('taskFile' in compiled.worker)) throw new Error(`no worker twin: ${JSON.stringify(compiled)}`);
  t.equal(compiled.importUrl, url, 'the main thread imports the job module itself');
  t.equal(compiled.worker.taskFile, workerBundleUrl, 'the task file is the worker bundle');
  const twin = readFileSync(fileURLToPath(compiled.worker.importUrl), 'utf8');
  t.match(twin, `from "${workerBundleUrl}"`, 'the twin imports the engine from the worker bundle');
  t.match(twin, /from "file:\/\/\/[^"]*node_modules\/cbor-x\/[^"]*"/, 'a package stays an import by absolute URL');
  t.match(twin, /toUpperCase/, 'the helper module is in the twin');
  t.notMatch(twin, /class StreamExecutionEnvironment/, 'no engine code in the twin');
  t.match(await compileJobModule(url), { worker: { importUrl: compiled.worker.importUrl } }, 'the same sources give the same content-addressed twin');

  const result = await runJob(url).result;
  t.same(
    [...(result.collected['out'] as string[])].sort(),
    ['ALPHA ! 5 own-url other twin', 'BETA ! 4 own-url other twin'],
    'helpers, JSON, a file next to the job, a package and the file-scoped import.meta.url, in workers running the twin on the bundled engine',
  );
  const points = result.collected['points'] as Array<{ word: string }>;
  t.same(points.map((p) => `${p.constructor.name} ${p.word}`).sort(), ['Point alpha', 'Point beta'], 'a registered class crosses a keyed shuffle and reaches the main thread by its own name');
});

t.test('what the twin cannot carry keeps the workers on the job module itself, with the reason', async (t) => {
  const dir = jobProject(t, 'compile-job-js', {
    'resolve.js': `import { defineJob } from 'sluicegate';\nconst target = import.meta.resolve('./resolve.js');\nexport default defineJob((env) => { env.fromCollection([target.endsWith('/resolve.js')]).collect('out'); });\n`,
    'computed.mjs': `const name = './x.js';\nexport const load = () => import(name);\nexport default 1;\n`,
    'deep.js': `import { defineJob } from '../src/api/job.js';
${callerFilesSource}
export default defineJob((env) => {
  env.fromCollection([1]).map(() => callerFiles().some((f) => f.endsWith('/dist/src/task/worker.bundle.js')) ? 'bundle' : callerFiles().some((f) => f.endsWith('/dist/src/task/stream-task.js')) ? 'modules' : 'neither').collect('out');
});
`,
    'dependent.js': `import { defineJob } from 'sluicegate';\nimport { three } from 'uses-sluicegate';\nexport default defineJob((env) => { env.fromCollection([three]).collect('out'); });\n`,
    'node_modules/uses-sluicegate/package.json': `{ "name": "uses-sluicegate", "type": "module", "main": "index.js", "peerDependencies": { "sluicegate": "*" } }\n`,
    'node_modules/uses-sluicegate/index.js': `export const three = 3;\n`,
    'helper-cjs.js': `import { defineJob } from 'sluicegate';\nimport four from './four.cjs';\nexport default defineJob((env) => { env.fromCollection([four]).collect('out'); });\n`,
    'four.cjs': `module.exports = 4;\n`,
    'job.cjs': `module.exports = 5;\n`,
    'plain/package.json': `{ "name": "plain" }\n`,
    'plain/job.js': `module.exports = 6;\n`,
  });
  const cases: Array<[string, RegExp, unknown[] | undefined]> = [
    ['resolve.js', /resolve\.js uses import\.meta\.resolve/, [true]],
    ['computed.mjs', /computed\.mjs has an import\(\) of a computed specifier/, undefined],
    ['deep.js', /imports .*dist\/src\/api\/job\.js, not the engine's public entry/, ['modules']],
    ['dependent.js', /uses-sluicegate\/index\.js, of a package that depends on sluicegate/, [3]],
    ['helper-cjs.js', /imports .*four\.cjs is CommonJS \(\.cjs\)/, [4]],
    ['job.cjs', /job\.cjs is CommonJS \(\.cjs\)/, undefined],
    ['plain/job.js', /plain\/job\.js is CommonJS \(.*plain\/package\.json has no "type": "module"\)/, undefined],
  ];
  for (const [file, reason, out] of cases) {
    const url = pathToFileURL(join(dir, file)).href;
    t.match(await compileJobModule(url), { kind: 'javascript', importUrl: url, worker: { none: reason } }, file);
    if (out !== undefined) t.same((await runJob(url).result).collected['out'], out, `${file} runs`);
  }
});

t.test('a JavaScript job esbuild cannot parse gets no twin, and fails with Node\'s own error', async (t) => {
  const dir = jobProject(t, 'compile-job-js', { 'job.js': `import { defineJob } from 'sluicegate';\nexport default defineJob((env) => {\n  env.fromCollection([1, 2).collect();\n});\n` });
  const url = pathToFileURL(join(dir, 'job.js')).href;
  t.match(await compileJobModule(url), { kind: 'javascript', worker: { none: /^esbuild cannot bundle it: .*job\.js:3:\d+: Expected "\]" but found "\)"$/ } });
  await t.rejects(runJob(url).result, { name: 'UsageError', message: /job\.js failed to load: Unexpected token '\)'$/, cause: SyntaxError }, 'the main thread\'s import reports it');
});

t.test('the twin of a job compiled by tsc maps back to its TypeScript sources (stack traces in workers name them)', async (t) => {
  const url = pathToFileURL(join(repoRoot, 'dist', 'examples', 'wordcount.js')).href;
  const compiled = await compileJobModule(url);
  if (compiled.kind !== 'javascript' || !('taskFile' in compiled.worker)) throw new Error(`no worker twin: ${JSON.stringify(compiled)}`);
  const twin = fileURLToPath(compiled.worker.importUrl);
  const map = JSON.parse(Buffer.from(/sourceMappingURL=data:application\/json;base64,(\S+)/.exec(readFileSync(twin, 'utf8'))![1]!, 'base64').toString()) as { sources: string[] };
  t.same(map.sources.map((s) => resolve(dirname(twin), s)), [join(repoRoot, 'examples', 'wordcount.ts')], 'through dist/examples/wordcount.js.map');
});

t.test('a twin is remembered while the files it was built from are unchanged, and built again after an edit', async (t) => {
  const dir = jobProject(t, 'compile-job-js', {
    'job.js': `import { defineJob } from 'sluicegate';\nimport { n } from './lib/n.js';\nexport default defineJob((env) => { env.fromCollection([n]).collect('out'); });\n`,
    'lib/n.js': `export const n = 1;\n`,
  });
  const url = pathToFileURL(join(dir, 'job.js')).href;
  const first = await compileJobModule(url);
  if (first.kind !== 'javascript' || !('importUrl' in first.worker)) throw new Error(`no worker twin: ${JSON.stringify(first)}`);
  // Point the record at another file: a run that uses the record, not a build, returns it.
  const [stand] = standInsForRecord(dirname(fileURLToPath(first.worker.importUrl)), join(dir, 'job.js'), dir);
  t.match(await compileJobModule(url), { worker: { importUrl: stand } }, 'the remembered twin, without a build');

  writeFileSync(join(dir, 'lib', 'n.js'), `export const n = 2;\n`);
  const edited = await compileJobModule(url);
  if (edited.kind !== 'javascript' || !('importUrl' in edited.worker)) throw new Error(`no worker twin: ${JSON.stringify(edited)}`);
  t.not(edited.worker.importUrl, stand, 'an edited helper is built again');
  t.match(readFileSync(fileURLToPath(edited.worker.importUrl), 'utf8'), /n = 2/);
  t.same((await runJob(url, { parallelism: 2 }).result).collected['out'], [2], 'and runs as edited');

  writeFileSync(join(dir, 'lib', 'package.json'), `{ "type": "commonjs" }\n`);
  t.match(await compileJobModule(url), { worker: { none: /lib\/n\.js is CommonJS \(.*lib\/package\.json has no "type": "module"\)/ } }, 'a package.json nearer a helper is noticed');
});

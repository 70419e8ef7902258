// A TypeScript job module compiled once by the main thread (graph/compile-job.ts, issue
// 11): the bundle holds the job's own TypeScript files and nothing else; packages and the
// engine stay imports (one engine per thread); each file keeps its own import.meta.url;
// the nearest tsconfig.json sets the emit; a module a bundle cannot carry falls back to
// tsx; a syntax error is one line naming file, line and column. End to end through runJob
// with workers: the job reads a file next to it, uses a helper module and JSON.
import t from 'tap';
import { readFileSync, statSync, utimesSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { compileJobModule } from '../../src/graph/index.js';
import { workerBundleProblem } from '../../src/graph/job-bundle.js';
import { UsageError, runJob } from '../../src/index.js';
import { jobProject, repoRoot } from '../helpers/job-project.js';

const project = (t: { teardown(fn: () => void): void }, files: Record<string, string>): string => jobProject(t, 'compile-job', files);

const job = `
import { readFileSync } from 'node:fs';
import { encode, decode } from 'cbor-x';
import { defineJob } from 'sluicegate';
import { shout } from './lib/shout.ts';
import settings from './settings.json' with { type: 'json' };
import { here } from './lib/where.ts';

class Fields { declared!: number; }
const words = readFileSync(new URL('./words.txt', import.meta.url), 'utf8').trim().split(' ');

export default defineJob((env) => {
  env.setParallelism(2);
  env
    .fromCollection(words)
    .map((w: string) => [shout(w), settings.suffix, String(decode(encode(w.length))), Object.keys(new Fields()).join(','), here.endsWith('/lib/where.ts') ? 'own-url' : here].join(' '))
    .collect('out');
});
`;

const files = {
  'job.ts': job,
  'lib/shout.ts': `export const shout = (s: string): string => s.toUpperCase();\n`,
  'lib/where.ts': `export const here: string = import.meta.url;\n`,
  'settings.json': `{ "suffix": "!" }\n`,
  'words.txt': 'alpha beta\n',
};

t.test('a TypeScript job is bundled without packages or the engine, and runs in workers as compiled', async (t) => {
  const dir = project(t, { ...files, 'tsconfig.json': '{ "compilerOptions": { "target": "ES2022", "useDefineForClassFields": false } }' });
  const url = pathToFileURL(join(dir, 'job.ts')).href;
  const compiled = await compileJobModule(url);
  t.equal(compiled.kind, 'bundle');
  const code = readFileSync(fileURLToPath(compiled.importUrl), 'utf8');
  t.match(code, `from "${pathToFileURL(join(repoRoot, 'dist', 'src', 'index.js')).href}"`, 'sluicegate is imported from its compiled entry (tsconfig paths map it to src/, mapped back to dist/)');
  t.match(code, /from "file:\/\/\/[^"]*node_modules\/cbor-x\/[^"]*"/, 'a package is imported by absolute URL');
  t.notMatch(code, /class StreamExecutionEnvironment/, 'no engine code in the bundle');
  t.match(code, /toUpperCase/, 'the helper module is in the bundle');
  t.equal((await compileJobModule(url)).importUrl, compiled.importUrl, 'the same source gives the same content-addressed file');
  const map = JSON.parse(Buffer.from(/sourceMappingURL=data:application\/json;base64,(\S+)/.exec(code)![1]!, 'base64').toString()) as { sources: string[] };
  t.same(
    map.sources.map((s) => resolve(dirname(fileURLToPath(compiled.importUrl)), s)).sort(),
    [join(dir, 'job.ts'), join(dir, 'lib', 'shout.ts'), join(dir, 'lib', 'where.ts'), join(dir, 'settings.json')].sort(),
    'the source map names the job\'s own files (stack traces point at them)',
  );

  const result = await runJob(url).result;
  t.same(
    [...(result.collected['out'] as string[])].sort(),
    ['ALPHA ! 5  own-url', 'BETA ! 4  own-url'],
    'helper, JSON, a file next to the job, a package, the file-scoped import.meta.url, and useDefineForClassFields false from the nearest tsconfig.json',
  );
});

t.test('workers of a job that imports only the public entry load the engine as one file, which the job imports too', async (t) => {
  const dir = project(t, {
    ...files,
    // The files of the stack frames of a user function, in a worker: the engine code that
    // calls it (raw call sites: a test runner's source maps would name src/**/*.ts either way).
    // A registered class through a keyed shuffle: the job's engine and the thread's codec are one.
    'job.ts': `import { defineJob, FileSink } from 'sluicegate';
class Point { constructor(public n: number) {} }
function callerFiles(): string[] {
  const prepare = Error.prepareStackTrace;
  Error.prepareStackTrace = (_error, sites) => sites.map((s) => s.getFileName() ?? '');
  try { return new Error().stack as unknown as string[]; } finally { Error.prepareStackTrace = prepare; }
}
export default defineJob((env) => {
  env.setParallelism(2);
  env.registerType(Point);
  env.fromCollection([1, 2, 3, 4]).map((n: number) => new Point(n)).keyBy((p: Point) => p.n % 2)
    .map((p: Point) => [p instanceof Point ? p.n : 'lost', typeof FileSink, callerFiles().some((f) => f.endsWith('/dist/src/task/worker.bundle.js'))].join(' ')).collect('out');
});
`,
  });
  const url = pathToFileURL(join(dir, 'job.ts')).href;
  const compiled = await compileJobModule(url);
  if (compiled.kind !== 'bundle' || !('taskFile' in compiled.worker)) throw new Error(`no worker twin: ${JSON.stringify(compiled)}`);
  const bundle = pathToFileURL(join(repoRoot, 'dist', 'src', 'task', 'worker.bundle.js')).href;
  t.equal(compiled.worker.taskFile, bundle, 'the task file is the worker bundle');
  t.match(readFileSync(fileURLToPath(compiled.worker.importUrl), 'utf8'), `from "${bundle}"`, 'the twin imports the engine from it');
  t.match(readFileSync(fileURLToPath(compiled.importUrl), 'utf8'), `from "${pathToFileURL(join(repoRoot, 'dist', 'src', 'index.js')).href}"`, 'the main thread keeps the public entry');
  const result = await runJob(url).result;
  t.same([...(result.collected['out'] as string[])].sort(), ['1 function true', '2 function true', '3 function true', '4 function true'], 'user functions run under the bundled engine in every worker, through a keyed shuffle');
});

t.test('a worker bundle older than the engine it was made from (tsc alone rebuilt dist/), or missing, is not used', async (t) => {
  // Copies: backdating dist/'s own bundle would take the twin from test files running meanwhile.
  const dir = project(t, { 'index.js': 'export {};\n', 'worker.bundle.js': 'export {};\n' });
  const [entry, bundle] = [join(dir, 'index.js'), join(dir, 'worker.bundle.js')];
  t.equal(workerBundleProblem(bundle, entry), undefined, 'as new as the entry: used');
  utimesSync(bundle, new Date(), new Date(statSync(entry).mtimeMs - 60_000));
  t.match(workerBundleProblem(bundle, entry), /worker\.bundle\.js is older than .*index\.js \(tsc alone rebuilt the engine: npm run build bundles it again\)$/);
  t.match(workerBundleProblem(join(dir, 'gone.js'), entry), /gone\.js is missing \(npm run build makes it\)$/);
});

t.test('a job that imports engine files past the public entry, its own JavaScript, or a package depending on sluicegate keeps the unbundled workers', async (t) => {
  const dir = project(t, {
    'deep.ts': `import { defineJob } from '../../src/api/job.ts';
function callerFiles(): string[] {
  const prepare = Error.prepareStackTrace;
  Error.prepareStackTrace = (_error, sites) => sites.map((s) => s.getFileName() ?? '');
  try { return new Error().stack as unknown as string[]; } finally { Error.prepareStackTrace = prepare; }
}
export default defineJob((env) => {
  env.fromCollection([1]).map(() => callerFiles().some((f) => f.endsWith('/dist/src/task/worker.bundle.js')) ? 'bundle' : callerFiles().some((f) => f.endsWith('/dist/src/task/stream-task.js')) ? 'modules' : 'neither').collect('out');
});
`,
    'own.ts': `import { defineJob } from 'sluicegate';
import { two } from './two.js';
export default defineJob((env) => { env.fromCollection([two]).collect('out'); });
`,
    'two.js': `export const two = 2;
`,
    'dependent.ts': `import { defineJob } from 'sluicegate';
import { three } from 'uses-sluicegate';
export default defineJob((env) => { env.fromCollection([three]).collect('out'); });
`,
    'node_modules/uses-sluicegate/package.json': `{ "name": "uses-sluicegate", "type": "module", "main": "index.js", "peerDependencies": { "sluicegate": "*" } }
`,
    'node_modules/uses-sluicegate/index.js': `export const three = 3;
`,
  });
  const cases: Array<[string, RegExp, unknown[]]> = [
    ['deep.ts', /imports .*dist\/src\/api\/job\.js, not the engine's public entry/, ['modules']],
    ['own.ts', /imports the JavaScript file .*two\.js/, [2]],
    ['dependent.ts', /uses-sluicegate\/index\.js, of a package that depends on sluicegate/, [3]],
  ];
  for (const [file, reason, out] of cases) {
    const url = pathToFileURL(join(dir, file)).href;
    t.match(await compileJobModule(url), { kind: 'bundle', worker: { none: reason } }, file);
    t.same((await runJob(url).result).collected['out'], out, `${file} runs`);
  }
});

t.test('without useDefineForClassFields: false, class fields are defined (the emit follows tsconfig)', async (t) => {
  const dir = project(t, { ...files, 'tsconfig.json': '{ "compilerOptions": { "target": "ES2022" } }' });
  const result = await runJob(join(dir, 'job.ts')).result;
  t.same([...(result.collected['out'] as string[])].sort(), ['ALPHA ! 5 declared own-url', 'BETA ! 4 declared own-url']);
});

t.test('what a bundle cannot carry loads through tsx, and still runs', async (t) => {
  const dir = project(t, {
    'job.ts': `import { defineJob } from 'sluicegate';
const target = import.meta.resolve('./job.ts');
export default defineJob((env) => { env.fromCollection([/\\/job\\.ts/.test(target)]).collect('out'); });
`,
    'computed.ts': `const name = './x.ts';\nexport const load = () => import(name);\n`,
  });
  const resolveUser = await compileJobModule(pathToFileURL(join(dir, 'job.ts')).href);
  t.match(resolveUser, { kind: 'tsx', reason: /job\.ts uses import\.meta\.resolve/ });
  t.match(await compileJobModule(pathToFileURL(join(dir, 'computed.ts')).href), { kind: 'tsx', reason: /computed\.ts has an import\(\) of a computed specifier/ });
  const result = await runJob(join(dir, 'job.ts')).result;
  t.same(result.collected['out'], [true]);
});

t.test('a syntax error fails the job in one line naming file, line and column', async (t) => {
  const dir = project(t, { 'job.ts': `import { defineJob } from 'sluicegate';\nexport default defineJob((env) => {\n  env.fromCollection([1, 2).collect();\n});\n` });
  const error = await runJob(join(dir, 'job.ts')).result.then(
    () => undefined,
    (e: unknown) => e,
  );
  t.ok(error instanceof UsageError, 'a UsageError: not restarted');
  t.match((error as Error).message, new RegExp(`^Job module ${join(dir, 'job.ts')} failed to compile: ${join(dir, 'job.ts')}:3:\\d+: Expected "\\]" but found "\\)"$`));
});

t.test('a JavaScript module is imported as it is by the main thread', async (t) => {
  const dir = project(t, { 'job.js': `export default 1;\n` });
  const url = pathToFileURL(join(dir, 'job.js')).href;
  t.match(await compileJobModule(url), { kind: 'javascript', importUrl: url });
});

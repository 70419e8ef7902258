// A TypeScript job module compiled once by the main thread (graph/compile-job.ts, issue
// 11): the bundle holds the job's own TypeScript files and nothing else; packages and the
// engine stay imports (one engine per thread); each file keeps its own import.meta.url;
// the nearest tsconfig.json sets the emit; a module a bundle cannot carry falls back to
// tsx; a syntax error is one line naming file, line and column. End to end through runJob
// with workers: the job reads a file next to it, uses a helper module and JSON.
import t from 'tap';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { compileJobModule } from '../../src/graph/index.js';
import { UsageError, runJob } from '../../src/index.js';

// Inside the repository (dist/), so that `sluicegate` and other packages resolve from node_modules.
const repoRoot = fileURLToPath(new URL('../../../', import.meta.url));

function project(t: { teardown(fn: () => void): void }, files: Record<string, string>): string {
  const dir = mkdtempSync(join(repoRoot, 'dist', 'tmp-compile-job-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  for (const [name, text] of Object.entries(files)) {
    mkdirSync(join(dir, name, '..'), { recursive: true });
    writeFileSync(join(dir, name), text);
  }
  return dir;
}

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

  const result = await runJob(url).result;
  t.same(
    [...(result.collected['out'] as string[])].sort(),
    ['ALPHA ! 5  own-url', 'BETA ! 4  own-url'],
    'helper, JSON, a file next to the job, a package, the file-scoped import.meta.url, and useDefineForClassFields false from the nearest tsconfig.json',
  );
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

t.test('a JavaScript module is imported as it is', async (t) => {
  const dir = project(t, { 'job.js': `export default 1;\n` });
  const url = pathToFileURL(join(dir, 'job.js')).href;
  t.same(await compileJobModule(url), { kind: 'javascript', importUrl: url });
});

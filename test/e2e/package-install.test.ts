// The package as a user installs it: `npm pack`, then a fresh project installs the tarball
// with no network and runs a TypeScript and a JavaScript job through `npx sluice run` and
// through `runJob` imported from 'sluicegate', and type-checks the TypeScript job against
// the installed declarations. Catches a `files` list without the worker module, a broken
// `bin`, `exports` or `types`, and a dependency missing from `dependencies`.
//
// Offline: `npm install <tarball>` in a project without a lock file resolves the tarball's
// dependency ranges from full registry documents (npm 11 reads full ones there), which
// `npm ci` never caches, so with `--offline` it fails with ENOTCACHED. The fresh project
// therefore gets a package-lock.json holding sluicegate's production dependencies as the
// repository's lock file pins them; npm then needs only the tarballs and abbreviated
// documents that `npm ci` put in the cache.
//
// Installing from git (`npm install git+file://...`) runs the `prepare` script, for which
// npm installs every dev dependency and compiles better-sqlite3 from source: 6 minutes on
// the CI machine, so it runs only with SLUICEGATE_TEST_GIT_INSTALL=1.
import t, { type Test } from 'tap';
import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { tempDir } from '../helpers/checkpoints.js';

const repo = fileURLToPath(new URL('../../../', import.meta.url));
const tsc = join(repo, 'node_modules', 'typescript', 'bin', 'tsc');

interface PackedFile {
  path: string;
}

/**
 * The environment of the commands: without what an enclosing `npm test` or `npm exec -c`
 * set for its own command (its project root, its `-c` command, its package's fields), which
 * would make a nested `npx` refuse its arguments; npm's configuration (cache, registry) stays.
 */
const commandEnv = {
  ...Object.fromEntries(Object.entries(process.env).filter(([name]) => !/^npm_(config_call|config_local_prefix|command|lifecycle_|package_)/.test(name))),
  NO_COLOR: '1',
};

interface Output {
  stdout: string;
  stderr: string;
}

/** Runs a command (killed when the test ends); on failure the error says what it printed. */
function sh(t: Test, cwd: string, command: string, args: string[]): Promise<Output> {
  return new Promise((resolve, reject) => {
    const child = execFile(command, args, { cwd, maxBuffer: 64 << 20, env: commandEnv }, (error, stdout, stderr) => {
      if (error === null) resolve({ stdout, stderr });
      else reject(new Error(`${command} ${args.join(' ')} failed in ${cwd}: ${error.message}\n${stdout}\n${stderr}`));
    });
    t.teardown(() => void child.kill('SIGKILL'));
  });
}

/** A package-lock.json for a project depending on `spec` (resolved to `resolved`): the repository's production dependencies. */
function seedLock(project: string, spec: string, resolved: string): void {
  const lock = JSON.parse(readFileSync(join(repo, 'package-lock.json'), 'utf8')) as { packages: Record<string, { dev?: boolean; devOptional?: boolean }> };
  const pkg = JSON.parse(readFileSync(join(repo, 'package.json'), 'utf8')) as Record<string, unknown>;
  const packages: Record<string, unknown> = {
    '': { name: 'fresh', version: '1.0.0', dependencies: { sluicegate: spec } },
    'node_modules/sluicegate': { version: pkg.version, resolved, license: pkg.license, dependencies: pkg.dependencies, bin: pkg.bin, engines: pkg.engines },
  };
  for (const [path, entry] of Object.entries(lock.packages)) {
    if (path === '' || path === 'node_modules/sluicegate' || entry.dev === true || entry.devOptional === true) continue;
    packages[path] = entry;
  }
  writeFileSync(join(project, 'package.json'), JSON.stringify({ name: 'fresh', version: '1.0.0', private: true, type: 'module', dependencies: { sluicegate: spec } }, null, 2));
  writeFileSync(join(project, 'package-lock.json'), JSON.stringify({ name: 'fresh', version: '1.0.0', lockfileVersion: 3, requires: true, packages }, null, 2));
}

const countJob = `import { defineJob } from 'sluicegate';
import type { Collector } from 'sluicegate';

interface WordCount { word: string; count: number }

export default defineJob((env, args) => {
  env
    .readTextFile(args[0]!)
    .flatMap<WordCount>((line: string, out: Collector<WordCount>) => {
      for (const word of line.split(/\\s+/)) if (word !== '') out.collect({ word, count: 1 });
    })
    .keyBy((w) => w.word)
    .reduce((a, b) => ({ word: a.word, count: a.count + b.count }))
    .map((w) => \`\${w.word}\\t\${w.count}\`)
    .writeAsText(args[1]!);
});
`;

const squaresJob = `import { defineJob } from 'sluicegate';

export default defineJob((env) => {
  env.fromSequence(1, 100).filter((x) => x % 2 === 0).map((x) => x * x).print();
});
`;

const runner = `import { runJob } from 'sluicegate';

const [job, ...args] = process.argv.slice(2);
const result = await runJob(job, { parallelism: 1, args }).result;
console.error(\`runJob: \${result.status} after \${result.restarts} restarts\`);
`;

const words = 'the quick brown fox jumps over the lazy dog\nthe dog sleeps\n\nfox and dog\n';

/** word -> its final count, from the running counts the count job wrote into `dir`. */
function finalCounts(dir: string): Map<string, number> {
  const counts = new Map<string, number>();
  for (const name of readdirSync(dir).filter((n) => n.startsWith('part-'))) {
    for (const line of readFileSync(join(dir, name), 'utf8').split('\n').filter((l) => l !== '')) {
      const [word, n] = line.split('\t');
      counts.set(word!, Math.max(counts.get(word!) ?? 0, Number(n)));
    }
  }
  return counts;
}

function expectedCounts(): Map<string, number> {
  const counts = new Map<string, number>();
  for (const word of words.split(/\s+/).filter((w) => w !== '')) counts.set(word, (counts.get(word) ?? 0) + 1);
  return counts;
}

/** The squares job's printed values, without the `<subtask>> ` prefix of a parallel print sink. */
function printedSquares(stdout: string): number[] {
  return stdout
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => Number(l.replace(/^\d+> /, '')))
    .sort((a, b) => a - b);
}
const squares = Array.from({ length: 50 }, (_, i) => (2 * (i + 1)) ** 2);

/** Runs both jobs from `project` through `npx sluice run` and through `runJob`; checks their output. */
async function runJobsFrom(t: Test, project: string): Promise<void> {
  writeFileSync(join(project, 'count.ts'), countJob);
  writeFileSync(join(project, 'squares.js'), squaresJob);
  writeFileSync(join(project, 'run.mjs'), runner);
  writeFileSync(join(project, 'words.txt'), words);
  writeFileSync(
    join(project, 'tsconfig.json'),
    JSON.stringify({ compilerOptions: { target: 'ES2022', module: 'NodeNext', moduleResolution: 'NodeNext', strict: true, noEmit: true, skipLibCheck: true, types: [] }, include: ['count.ts'] }),
  );
  // Side by side; every one ends before the test does (the project is deleted after it).
  const settled = await Promise.allSettled([
    sh(t, project, 'npx', ['--no', 'sluice', 'run', '-p', '2', '--no-progress', 'count.ts', 'words.txt', 'out-cli']),
    sh(t, project, 'npx', ['--no', 'sluice', 'run', '-p', '2', '--no-progress', 'squares.js']),
    sh(t, project, process.execPath, ['run.mjs', './count.ts', 'words.txt', 'out-api']),
    sh(t, project, process.execPath, ['run.mjs', './squares.js']),
    sh(t, project, process.execPath, [tsc, '-p', '.']),
  ]);
  const failures = settled.flatMap((s) => (s.status === 'rejected' ? [(s.reason as Error).message] : []));
  if (failures.length > 0) throw new Error(failures.join('\n'));
  const [cliCount, cliSquares, apiCount, apiSquares, typecheck] = settled.map((s) => (s as PromiseFulfilledResult<Output>).value) as [Output, Output, Output, Output, Output];
  t.match(cliCount.stderr, /^Job \S+ FINISHED/, 'npx sluice run count.ts finishes');
  t.same(finalCounts(join(project, 'out-cli')), expectedCounts(), 'npx sluice run count.ts: every word counted');
  t.same(printedSquares(cliSquares.stdout), squares, 'npx sluice run squares.js prints the 50 even squares');
  t.match(apiCount.stderr, /^runJob: FINISHED after 0 restarts/, 'runJob(count.ts) finishes');
  t.same(finalCounts(join(project, 'out-api')), expectedCounts(), 'runJob(count.ts): every word counted');
  t.same(printedSquares(apiSquares.stdout), squares, 'runJob(squares.js) prints the 50 even squares');
  t.equal(typecheck.stdout + typecheck.stderr, '', 'count.ts type-checks against the installed declarations');
}

t.test('npm pack, installed offline into a fresh project: .ts and .js jobs run through npx sluice and runJob', async (t) => {
  const dir = tempDir(t, 'pack');
  const started = performance.now();
  const packed = JSON.parse((await sh(t, repo, 'npm', ['pack', '--ignore-scripts', '--json', '--pack-destination', dir])).stdout) as Array<{ filename: string; files: PackedFile[] }>;
  const files = packed[0]!.files.map((f) => f.path);
  for (const needed of ['dist/src/index.js', 'dist/src/index.d.ts', 'dist/src/cli/bin.js', 'dist/src/task/worker.js', 'src/index.ts', 'README.md']) {
    t.ok(files.includes(needed), `the tarball holds ${needed}`);
  }
  t.same(
    files.filter((f) => /^(dist\/)?(test|bench|examples)\//.test(f) || f.startsWith('node_modules/') || f.startsWith('scripts/')),
    [],
    'no tests, benchmarks, examples or build scripts in the tarball',
  );
  const tarball = join(dir, packed[0]!.filename);
  const project = join(dir, 'fresh');
  mkdirSync(project);
  seedLock(project, `file:${tarball}`, `file:${tarball}`);
  const packedAt = performance.now();
  await sh(t, project, 'npm', ['install', '--offline', '--no-audit', '--no-fund', tarball]);
  t.ok(existsSync(join(project, 'node_modules', '.bin', 'sluice')), 'the sluice bin is linked');
  const installedAt = performance.now();
  await runJobsFrom(t, project);
  const seconds = (from: number, to: number): string => `${((to - from) / 1000).toFixed(1)} s`;
  t.comment(`npm pack ${seconds(started, packedAt)}, npm install --offline ${seconds(packedAt, installedAt)}, four jobs and tsc ${seconds(installedAt, performance.now())}`);
});

t.test('npm install git+file:// builds dist through prepare (SLUICEGATE_TEST_GIT_INSTALL=1)', {
  skip: process.env.SLUICEGATE_TEST_GIT_INSTALL !== '1' && 'takes minutes: every dev dependency is installed for prepare',
  timeout: 1_200_000,
}, async (t) => {
  const dir = tempDir(t, 'git-install');
  const clone = join(dir, 'repo');
  await sh(t, dir, 'git', ['clone', '--quiet', repo, clone]);
  const commit = (await sh(t, clone, 'git', ['rev-parse', 'HEAD'])).stdout.trim();
  const url = `git+file://${clone}`;
  const project = join(dir, 'fresh');
  mkdirSync(project);
  seedLock(project, url, `${url}#${commit}`);
  await sh(t, project, 'npm', ['install', '--offline', '--no-audit', '--no-fund', url]);
  t.ok(existsSync(join(project, 'node_modules', 'sluicegate', 'dist', 'src', 'index.js')), 'prepare built dist/');
  await runJobsFrom(t, project);
});

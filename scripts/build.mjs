#!/usr/bin/env node
// `npm run build`: compiles src/, test/, bench/ and examples/ into dist/ with tsc, after
// deleting dist/ (so nothing compiled from a deleted source survives).
//
// It builds at most once per set of inputs. `npm ci` runs the `prepare` script, and then
// `npm test`, `npm run wordcount` and `npm run bench` build again through their pre-scripts:
// each of those rebuilds would cost a full tsc run (about 16 s of CPU). So the build
// records a SHA-256 of its inputs in dist/.build-inputs (every .ts file tsconfig.json
// includes, tsconfig.json, package.json, package-lock.json and this script, by path and
// content) and skips when dist/ was built from exactly these inputs. `--force` builds anyway.
//
// The web dashboard (src/web/dashboard/, browser code with its own tsconfig.json) is
// type-checked by a second tsc (no output) and bundled by esbuild with uPlot and dagre into
// dist/src/web/dashboard/ (index.html, favicon.svg, app.js, app.css), which the web server serves at `/`:
// nothing is fetched from another host at run time.
//
// The engine is also bundled, after tsc, into dist/src/task/worker.bundle.js: the one file
// worker threads of TypeScript jobs load (scripts/bundle-worker.mjs; native-notes §7).
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { chmodSync, copyFileSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { bundleWorker } from './bundle-worker.mjs';

const root = fileURLToPath(new URL('..', import.meta.url));
const stampPath = join(root, 'dist', '.build-inputs');
const sourceDirs = ['src', 'test', 'bench', 'examples'];
const configFiles = ['tsconfig.json', 'src/web/dashboard/tsconfig.json', 'package.json', 'package-lock.json', 'scripts/build.mjs', 'scripts/bundle-worker.mjs'];
const dashboardDir = join(root, 'src', 'web', 'dashboard');
const dashboardOut = join(root, 'dist', 'src', 'web', 'dashboard');
/** Source files whose content is an input of the build. */
const sourceExtensions = ['.ts', '.html', '.css', '.svg'];

/** Every source file (sourceExtensions) under dir, recursively, sorted. */
function tsFiles(dir) {
  let entries;
  try {
    entries = readdirSync(dir, { withFileTypes: true });
  } catch (error) {
    if (error.code === 'ENOENT') return [];
    throw error;
  }
  return entries
    .flatMap((e) => (e.isDirectory() ? tsFiles(join(dir, e.name)) : sourceExtensions.some((x) => e.name.endsWith(x)) ? [join(dir, e.name)] : []))
    .sort();
}

function inputsHash() {
  const hash = createHash('sha256');
  const files = [...sourceDirs.flatMap((d) => tsFiles(join(root, d))), ...configFiles.map((f) => join(root, f))];
  for (const file of files) {
    let content;
    try {
      content = readFileSync(file);
    } catch (error) {
      if (error.code === 'ENOENT') continue; // e.g. no package-lock.json
      throw error;
    }
    hash.update(relative(root, file)).update('\0').update(String(content.length)).update('\0').update(content);
  }
  return hash.digest('hex');
}

const force = process.argv.includes('--force');
const wanted = inputsHash();
let built;
try {
  built = readFileSync(stampPath, 'utf8').trim();
} catch {
  built = undefined;
}
if (!force && built === wanted) {
  console.log('dist/ is up to date: built from these sources (npm run build -- --force rebuilds)');
  process.exit(0);
}

rmSync(join(root, 'dist'), { recursive: true, force: true });
const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
const run = spawnSync(process.execPath, [tsc, '-p', join(root, 'tsconfig.json')], { stdio: 'inherit' });
if (run.status !== 0) process.exit(run.status ?? 1);
chmodSync(join(root, 'dist', 'src', 'cli', 'bin.js'), 0o755);
// One file for worker threads of TypeScript jobs (scripts/bundle-worker.mjs; issue 11).
await bundleWorker(join(root, 'dist', 'src'));

const check = spawnSync(process.execPath, [tsc, '-p', join(dashboardDir, 'tsconfig.json')], { stdio: 'inherit' });
if (check.status !== 0) process.exit(check.status ?? 1);
const { build } = await import('esbuild');
await build({
  entryPoints: { app: join(dashboardDir, 'main.ts') },
  bundle: true,
  format: 'esm',
  target: 'es2020',
  minify: true,
  legalComments: 'linked',
  outdir: dashboardOut,
  logLevel: 'warning',
});
for (const file of ['index.html', 'favicon.svg']) copyFileSync(join(dashboardDir, file), join(dashboardOut, file));
writeFileSync(stampPath, `${wanted}\n`);

// The worker bundle (issue 11): dist/src/task/worker-bundle-entry.js (the task of
// task/worker.js and the engine's public API, compiled by tsc) bundled by esbuild into one
// file, dist/src/task/worker.bundle.js, which worker threads of TypeScript jobs load
// instead of ~200 ES modules (native-notes §7, "What a worker loads").
// - Packages (cbor-x, piscina, csv-*) stay imports: one instance with the job's own imports.
// - A dynamic `import()` stays one (of the same file, by a path relative to the bundle):
//   what the engine loads lazily (the web server, tsx, esbuild) stays lazy.
// - `import.meta.url` in a module is replaced by that module's own URL (relative to the
//   bundle's), so `new URL('./x.js', import.meta.url)` finds the same file as before.
// - The source map chains tsc's: stack traces name src/**/*.ts.
import { readFileSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';

/** Bundles the worker entry of the compiled `distSrc` (dist/src). */
export async function bundleWorker(distSrc) {
  const { build } = await import('esbuild');
  const outfile = join(distSrc, 'task', 'worker.bundle.js');
  const outdir = dirname(outfile);
  const relativeTo = (file) => {
    const r = relative(outdir, file).split(sep).join('/');
    return r.startsWith('.') ? r : `./${r}`;
  };
  await build({
    entryPoints: [join(distSrc, 'task', 'worker-bundle-entry.js')],
    outfile,
    bundle: true,
    format: 'esm',
    platform: 'node',
    target: 'node20',
    packages: 'external',
    sourcemap: 'linked',
    sourcesContent: false,
    logLevel: 'warning',
    plugins: [
      {
        name: 'sluicegate-worker-bundle',
        setup(b) {
          b.onResolve({ filter: /.*/ }, (args) => {
            if (args.kind !== 'dynamic-import') return undefined;
            if (!args.path.startsWith('.')) return { path: args.path, external: true };
            return { path: relativeTo(resolve(args.resolveDir, args.path)), external: true };
          });
          b.onLoad({ filter: /\.js$/ }, (args) => {
            if (!args.path.startsWith(distSrc + sep)) return undefined;
            const source = readFileSync(args.path, 'utf8');
            if (!source.includes('import.meta.url')) return undefined;
            const own = `new URL(${JSON.stringify(relativeTo(args.path))}, import.meta.url).href`;
            return { contents: source.replaceAll('import.meta.url', own), loader: 'js', resolveDir: dirname(args.path) };
          });
        },
      },
    ],
  });
  return outfile;
}

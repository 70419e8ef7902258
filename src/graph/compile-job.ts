/**
 * Compiles a TypeScript job module once, in the main thread, into one JavaScript file
 * that the main thread and every worker import with a plain `import()` (issue 11: a `.ts`
 * job took 1.1-2.2 s to its first record because each worker registered tsx's module
 * hooks, which on Node 20 run in a hooks thread of their own, and compiled every file of
 * the job again).
 *
 * The compiled file is an esbuild bundle of the job's TypeScript files only:
 * - every `.ts`/`.mts`/`.cts`/`.tsx` file the job imports (its own helpers, or a sibling
 *   project's sources) is compiled into the bundle, JSON files too;
 * - every JavaScript file (packages in node_modules, `sluicegate` itself, `.js` files of
 *   the project) stays an import, and so does this engine's own source (a job in this
 *   repository imports `../../src/index.js`, or maps `sluicegate` to it by tsconfig
 *   `paths`), through its compiled twin in dist/ (one engine per thread, not two), rewritten to the absolute file URL that Node's own
 *   resolution finds from the importing file (esbuild's resolver with Node's conditions),
 *   so a package is the one instance the rest of the process loads;
 * - each file is compiled with the emit options of its nearest tsconfig.json (as tsx and
 *   esbuild do; `paths` apply to resolution, as in tsx);
 * - `import.meta.url`, `import.meta.filename` and `import.meta.dirname` are replaced in
 *   each file by that file's own values, so `new URL('./data.txt', import.meta.url)` and
 *   `createRequire(import.meta.url)` see the job's folder, not the bundle's.
 * What a bundle cannot carry exactly falls back to tsx (`'tsx'`): `import.meta.resolve`,
 * and an `import()` whose specifier is not a string literal (its target is known only at
 * run time, relative to a file that no longer exists there).
 *
 * The bundle is written, content-addressed, to `<tmpdir>/sluicegate-<uid>/jobs/` (a cache,
 * as tsx keeps one): runs of the same job share the file; nothing is deleted.
 * Inline source maps point stack traces at the job's own files.
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { tmpdir, userInfo } from 'node:os';
import { dirname, join, resolve as resolvePath, sep } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { Message, Plugin } from 'esbuild';

/** How a job module is imported: its compiled bundle, as is (JavaScript), or through tsx. */
export type CompiledJob = { kind: 'bundle'; importUrl: string; compileMs: number } | { kind: 'javascript'; importUrl: string } | { kind: 'tsx'; importUrl: string; reason: string };

const typeScriptFile = /\.(c|m)?tsx?$/;

/**
 * The module to import for the job module at `url` (a file URL). A JavaScript module is
 * imported as is; a TypeScript one is compiled (see above).
 * @throws Error with esbuild's first message (file:line:column) for a module that does not parse
 */
export async function compileJobModule(url: string): Promise<CompiledJob> {
  const path = fileURLToPath(url);
  if (!typeScriptFile.test(path)) return { kind: 'javascript', importUrl: url };
  const started = performance.now();
  const { build } = await import('esbuild');
  let fallback: string | undefined;
  const result = await build({
    entryPoints: [path],
    bundle: true,
    write: false,
    format: 'esm',
    platform: 'node',
    target: 'node20',
    // Node's resolution: "exports" with the import/node/default conditions, else "main".
    mainFields: ['main'],
    sourcemap: 'inline',
    sourcesContent: false,
    logLevel: 'silent',
    plugins: [
      externalJavaScript(),
      fileScopedImportMeta((reason) => {
        fallback ??= reason;
      }),
    ],
  }).catch((error: unknown) => {
    const first = (error as { errors?: Array<{ text: string; location?: { file: string; line: number; column: number } | null }> }).errors?.[0];
    if (first === undefined) throw error;
    const where = first.location === undefined || first.location === null ? '' : `${resolvePath(first.location.file)}:${first.location.line}:${first.location.column}: `;
    throw new Error(`${where}${first.text}`, { cause: error });
  });
  if (fallback !== undefined) return { kind: 'tsx', importUrl: url, reason: fallback };
  const code = result.outputFiles[0]!.contents;
  const digest = createHash('sha256').update(code).digest('hex').slice(0, 24);
  const dir = join(tmpdir(), `sluicegate-${safeUserName()}`, 'jobs');
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const file = join(dir, `job-${digest}.mjs`);
  // Content-addressed: an existing file holds these very bytes. Written whole, then renamed,
  // so a concurrent run never imports half a file.
  const temporary = `${file}.${process.pid}.tmp`;
  writeFileSync(temporary, code);
  renameSync(temporary, file);
  return { kind: 'bundle', importUrl: pathToFileURL(file).href, compileMs: performance.now() - started };
}

function safeUserName(): string {
  try {
    return userInfo().username.replace(/[^A-Za-z0-9_.-]/g, '_');
  } catch {
    return String(process.getuid?.() ?? 'user');
  }
}

/** This engine's package root (`dist/src/graph/` is two folders below `dist/`). */
const engineRoot = fileURLToPath(new URL('../../../', import.meta.url));
const engineSources = join(engineRoot, 'src') + sep;

/**
 * For a source file of this engine (`<root>/src/x.ts`: a job inside this repository, or
 * one whose tsconfig `paths` maps `sluicegate` to the sources), the URL of its compiled
 * twin `<root>/dist/src/x.js`, so that the job and the runtime share one engine. Else undefined.
 */
function engineJavaScript(path: string): string | undefined {
  if (!path.startsWith(engineSources) || !typeScriptFile.test(path)) return undefined;
  const compiled = join(engineRoot, 'dist', 'src', path.slice(engineSources.length).replace(typeScriptFile, '.js'));
  return existsSync(compiled) ? pathToFileURL(compiled).href : undefined;
}

/** TypeScript (and JSON) goes into the bundle; every other resolved file stays an import by absolute URL. */
function externalJavaScript(): Plugin {
  return {
    name: 'sluicegate-external-javascript',
    setup(build) {
      build.onResolve({ filter: /.*/ }, async (args) => {
        if (args.kind === 'entry-point' || (args.pluginData as { inner?: boolean } | undefined)?.inner === true) return undefined;
        if (args.path.startsWith('node:')) return { path: args.path, external: true };
        const resolved = await build.resolve(args.path, { kind: args.kind, resolveDir: args.resolveDir, importer: args.importer, pluginData: { inner: true } });
        if (resolved.errors.length > 0) return { errors: resolved.errors };
        if (resolved.external || resolved.path === '') return { path: args.path, external: true }; // a Node built-in
        const engine = engineJavaScript(resolved.path);
        if (engine !== undefined) return { path: engine, external: true };
        if (typeScriptFile.test(resolved.path) || resolved.path.endsWith('.json')) return { path: resolved.path };
        return { path: pathToFileURL(resolved.path).href, external: true };
      });
    },
  };
}

/** The text of the tsconfig.json nearest to `dir` (that folder or one above it), if any. */
function nearestTsconfig(dir: string): string | undefined {
  for (let at = dir; ; at = dirname(at)) {
    try {
      return readFileSync(join(at, 'tsconfig.json'), 'utf8');
    } catch {
      // none here: look further up
    }
    if (dirname(at) === at) return undefined;
  }
}

/** Gives each TypeScript file its own `import.meta.url`; reports what a bundle cannot carry. */
function fileScopedImportMeta(cannotBundle: (reason: string) => void): Plugin {
  return {
    name: 'sluicegate-import-meta',
    setup(build) {
      build.onLoad({ filter: typeScriptFile }, async (args) => {
        const source = readFileSync(args.path, 'utf8');
        if (/\bimport\.meta\.resolve\b/.test(source)) cannotBundle(`${args.path} uses import.meta.resolve`);
        if (/\bimport\s*\(\s*(?!['"]|`[^`$]*`)/.test(source)) cannotBundle(`${args.path} has an import() of a computed specifier`);
        const { transform } = await import('esbuild');
        const fileUrl = pathToFileURL(args.path).href;
        const tsconfig = nearestTsconfig(dirname(args.path));
        const out = await transform(source, {
          loader: args.path.endsWith('x') ? 'tsx' : 'ts',
          // The emit options (useDefineForClassFields, decorators, jsx) of the file's own
          // tsconfig.json, as esbuild reads it when it builds (its `extends` is not followed).
          ...(tsconfig === undefined ? {} : { tsconfigRaw: tsconfig }),
          format: 'esm',
          target: 'node20',
          sourcemap: 'inline',
          sourcefile: args.path,
          define: {
            'import.meta.url': JSON.stringify(fileUrl),
            'import.meta.filename': JSON.stringify(args.path),
            'import.meta.dirname': JSON.stringify(dirname(args.path)),
          },
        }).catch((error: unknown) => {
          // Reported by the build with its location, as its own errors are.
          const errors = (error as { errors?: Message[] }).errors;
          if (errors === undefined) throw error;
          return { errors };
        });
        if ('errors' in out) return { errors: out.errors };
        return { contents: out.code, loader: 'js', resolveDir: dirname(args.path) };
      });
    },
  };
}

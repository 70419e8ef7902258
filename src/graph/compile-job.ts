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
 *
 * Worker threads load a twin of the bundle when they can (`worker`): the same code
 * importing the engine from its worker bundle (dist/src/task/worker.bundle.js, one file:
 * scripts/bundle-worker.mjs), which is then also the thread's task file, so the thread
 * holds one engine and loads one file for it instead of ~200 modules (issue 11). That needs
 * every import of the engine to reach it through its public entry (dist/src/index.js):
 * the twin is not made when the job imports a deeper engine file, a JavaScript file of its
 * own project, or a package that depends on the engine (any of them could import the
 * engine's modules directly: a second engine in the thread). Those workers load the
 * engine's modules as the main thread does.
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, realpathSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir, userInfo } from 'node:os';
import { dirname, join, resolve as resolvePath, sep } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { Message, Plugin } from 'esbuild';

/** How a job module is imported: its compiled bundle, as is (JavaScript), or through tsx. */
export type CompiledJob =
  | { kind: 'bundle'; importUrl: string; compileMs: number; worker: WorkerModule | { none: string } }
  | { kind: 'javascript'; importUrl: string }
  | { kind: 'tsx'; importUrl: string; reason: string };

/** What worker threads load for a bundle (see above): the engine's worker bundle as their task file, and the job's twin. */
export interface WorkerModule {
  /** File URL of dist/src/task/worker.bundle.js. */
  taskFile: string;
  /** File URL of the twin of the job's bundle that imports the engine from `taskFile`. */
  importUrl: string;
}

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
  const engine = new EngineImports();
  const result = await build({
    entryPoints: [path],
    bundle: true,
    write: false,
    // Where the bundle is written: the source map names the job's files relative to it.
    outdir: jobCache(),
    format: 'esm',
    platform: 'node',
    target: 'node20',
    // Node's resolution: "exports" with the import/node/default conditions, else "main".
    mainFields: ['main'],
    sourcemap: 'inline',
    sourcesContent: false,
    logLevel: 'silent',
    plugins: [
      externalJavaScript(engine),
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
  const code = result.outputFiles[0]!.text;
  const importUrl = writeBundle(code.replaceAll(engineEntryPlaceholder, pathToFileURL(engineEntry).href));
  let worker: WorkerModule | { none: string };
  if (engine.blocker !== undefined) worker = { none: engine.blocker };
  else if (!existsSync(workerBundle)) worker = { none: `${workerBundle} is missing (npm run build makes it)` };
  else if (statSync(workerBundle).mtimeMs < statSync(engineEntry).mtimeMs) worker = { none: `${workerBundle} is older than ${engineEntry} (tsc alone rebuilt the engine: npm run build bundles it again)` };
  else {
    const taskFile = pathToFileURL(workerBundle).href;
    worker = { taskFile, importUrl: writeBundle(code.replaceAll(engineEntryPlaceholder, taskFile)) };
  }
  return { kind: 'bundle', importUrl, compileMs: performance.now() - started, worker };
}

/** Writes a bundle to the job cache; returns its file URL. */
function writeBundle(code: string): string {
  const digest = createHash('sha256').update(code).digest('hex').slice(0, 24);
  const dir = jobCache();
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const file = join(dir, `job-${digest}.mjs`);
  // Content-addressed: an existing file holds these very bytes. Written whole, then renamed,
  // so a concurrent run never imports half a file.
  const temporary = `${file}.${process.pid}.tmp`;
  writeFileSync(temporary, code);
  renameSync(temporary, file);
  return pathToFileURL(file).href;
}

/** The folder of compiled jobs. */
function jobCache(): string {
  return join(tmpdir(), `sluicegate-${safeUserName()}`, 'jobs');
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
/** The engine's compiled files, by real path (as esbuild resolves them). */
const engineDist = join(realpathSync(engineRoot), 'dist', 'src') + sep;
/** The engine's public entry (what `sluicegate` resolves to). */
const engineEntry = join(engineDist, 'index.js');
/** The engine's worker bundle (scripts/bundle-worker.mjs). */
const workerBundle = join(engineDist, 'task', 'worker.bundle.js');
/** Stands for the engine's public entry in esbuild's output, until each bundle gets its URL. */
const engineEntryPlaceholder = 'sluicegate-engine:public-entry';

/**
 * For a source file of this engine (`<root>/src/x.ts`: a job inside this repository, or
 * one whose tsconfig `paths` maps `sluicegate` to the sources), the path of its compiled
 * twin `<root>/dist/src/x.js`, so that the job and the runtime share one engine. Else undefined.
 */
function engineJavaScript(path: string): string | undefined {
  if (!path.startsWith(engineSources) || !typeScriptFile.test(path)) return undefined;
  const compiled = join(engineRoot, 'dist', 'src', path.slice(engineSources.length).replace(typeScriptFile, '.js'));
  return existsSync(compiled) ? compiled : undefined;
}

/**
 * What the job's external imports allow (see the header): `blocker` says why its workers
 * cannot share the engine's worker bundle, undefined when they can.
 */
class EngineImports {
  blocker: string | undefined;
  private readonly dependsOnEngine = new Map<string, boolean>();

  /** Notes an external JavaScript import of `file` (a real path); returns the path to import it by. */
  external(file: string): string {
    if (file === engineEntry) return engineEntryPlaceholder;
    if (file.startsWith(engineDist)) this.blocker ??= `it imports ${file}, not the engine's public entry`;
    else if (!file.includes(`${sep}node_modules${sep}`)) this.blocker ??= `it imports the JavaScript file ${file}`;
    else if (this.packageDependsOnEngine(dirname(file))) this.blocker ??= `it imports ${file}, of a package that depends on sluicegate`;
    return pathToFileURL(file).href;
  }

  /** Whether the package holding `dir` lists sluicegate among its dependencies (of any kind). */
  private packageDependsOnEngine(dir: string): boolean {
    const known = this.dependsOnEngine.get(dir);
    if (known !== undefined) return known;
    let depends: boolean;
    try {
      const pkg = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as Record<string, unknown>;
      const lists = [pkg.dependencies, pkg.peerDependencies, pkg.optionalDependencies, pkg.devDependencies];
      // A package.json with a name is the package's root; one without (a "type" marker) is not.
      depends = lists.some((l) => l !== null && typeof l === 'object' && 'sluicegate' in l) || (pkg.name === undefined && dirname(dir) !== dir && this.packageDependsOnEngine(dirname(dir)));
    } catch {
      depends = dirname(dir) !== dir && this.packageDependsOnEngine(dirname(dir));
    }
    this.dependsOnEngine.set(dir, depends);
    return depends;
  }
}

/** TypeScript (and JSON) goes into the bundle; every other resolved file stays an import by absolute URL. */
function externalJavaScript(engine: EngineImports): Plugin {
  return {
    name: 'sluicegate-external-javascript',
    setup(build) {
      build.onResolve({ filter: /.*/ }, async (args) => {
        if (args.kind === 'entry-point' || (args.pluginData as { inner?: boolean } | undefined)?.inner === true) return undefined;
        if (args.path.startsWith('node:')) return { path: args.path, external: true };
        const resolved = await build.resolve(args.path, { kind: args.kind, resolveDir: args.resolveDir, importer: args.importer, pluginData: { inner: true } });
        if (resolved.errors.length > 0) return { errors: resolved.errors };
        if (resolved.external || resolved.path === '') return { path: args.path, external: true }; // a Node built-in
        const compiled = engineJavaScript(resolved.path);
        if (compiled !== undefined) return { path: engine.external(realpathSync(compiled)), external: true };
        if (typeScriptFile.test(resolved.path) || resolved.path.endsWith('.json')) return { path: resolved.path };
        return { path: engine.external(resolved.path), external: true };
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

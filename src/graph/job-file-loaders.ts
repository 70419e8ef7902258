/**
 * How the job bundles of graph/compile-job.ts treat each file a job imports: esbuild
 * plugins that decide which files go into a bundle and which stay imports by absolute
 * file URL, and that give each bundled file its own `import.meta.url`; and the engine's
 * own files, which a bundle reaches only through its public entry (one engine per thread).
 *
 * Two kinds of job (`JobLanguage`):
 * - `typescript`: the job's TypeScript (and JSON) files are bundled; every JavaScript file
 *   stays an import. A JavaScript file of the job's own project then blocks the workers'
 *   twin (it could import the engine's modules past the bundle).
 * - `javascript`: the job's own ESM JavaScript files (those outside node_modules and
 *   outside the engine) are bundled too; a CommonJS one blocks the twin (its `require`s
 *   are not followed into the bundle the way Node runs them).
 */
import { existsSync, readFileSync, realpathSync } from 'node:fs';
import { dirname, join, sep } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { Loader, Message, Plugin } from 'esbuild';
import { nearestConfig } from './tsconfig-files.js';

/** What a job module is written in: what its bundle holds (see above). */
export type JobLanguage = 'typescript' | 'javascript';

export const typeScriptFile = /\.(c|m)?tsx?$/;
const javaScriptFile = /\.(c|m)?jsx?$/;

/** This engine's package root (`dist/src/graph/` is two folders below `dist/`). */
const engineRoot = fileURLToPath(new URL('../../../', import.meta.url));
const engineSources = join(engineRoot, 'src') + sep;
/** The engine's compiled files, by real path (as esbuild resolves them). */
const engineDist = join(realpathSync(engineRoot), 'dist', 'src') + sep;
/** The engine's public entry (what `sluicegate` resolves to). */
export const engineEntry = join(engineDist, 'index.js');
/** The engine's worker bundle (scripts/bundle-worker.mjs). */
export const workerBundle = join(engineDist, 'task', 'worker.bundle.js');
/** Stands for the engine's public entry in esbuild's output, until each bundle gets its URL. */
export const engineEntryPlaceholder = 'sluicegate-engine:public-entry';

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
 * Whether Node runs the JavaScript file at `path` as CommonJS: `.cjs`, or `.js`/`.jsx` whose
 * nearest package.json has no `"type": "module"` (Node 20's rule; its syntax detection is
 * not relied on). Returns the reason, or undefined for an ES module.
 */
export function commonJsReason(path: string): string | undefined {
  if (path.endsWith('.cjs')) return `${path} is CommonJS (.cjs)`;
  if (path.endsWith('.mjs')) return undefined;
  for (let dir = dirname(path); ; dir = dirname(dir)) {
    let text: string | undefined;
    try {
      text = readFileSync(join(dir, 'package.json'), 'utf8');
    } catch {
      // none here: look further up
    }
    if (text !== undefined) {
      let type: unknown;
      try {
        type = (JSON.parse(text) as { type?: unknown }).type;
      } catch {
        return `${join(dir, 'package.json')}, the package.json nearest to ${path}, is not JSON`;
      }
      return type === 'module' ? undefined : `${path} is CommonJS (${join(dir, 'package.json')} has no "type": "module")`;
    }
    if (dirname(dir) === dir) return `${path} is CommonJS (no package.json with "type": "module" above it)`;
  }
}

/**
 * What the job's imports allow (see the header): `blocker` says why its workers cannot
 * share the engine's worker bundle, undefined when they can.
 */
export class EngineImports {
  blocker: string | undefined;
  /** Every file noted by `external`, in order (real paths). */
  readonly imported: string[] = [];
  private readonly dependsOnEngine = new Map<string, boolean>();

  /** Notes an external JavaScript import of `file` (a real path); returns the path to import it by. */
  external(file: string): string {
    this.imported.push(file);
    if (file === engineEntry) return engineEntryPlaceholder;
    if (file.startsWith(engineDist)) this.blocker ??= `it imports ${file}, not the engine's public entry`;
    else if (!isPackageFile(file)) this.blocker ??= `it imports the JavaScript file ${file}`;
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

function isPackageFile(file: string): boolean {
  return file.includes(`${sep}node_modules${sep}`);
}

/**
 * Which resolved files go into the bundle (see the header); every other one stays an
 * import by absolute URL, as Node's own resolution finds it from the importing file
 * (esbuild's resolver with Node's conditions), so a package is the one instance the rest
 * of the process loads.
 */
export function jobFiles(language: JobLanguage, engine: EngineImports): Plugin {
  return {
    name: 'sluicegate-job-files',
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
        if (language === 'javascript' && javaScriptFile.test(resolved.path) && !isPackageFile(resolved.path) && !resolved.path.startsWith(engineDist)) {
          const commonJs = commonJsReason(resolved.path);
          if (commonJs === undefined) return { path: resolved.path };
          engine.blocker ??= `it imports ${commonJs}`;
        }
        return { path: engine.external(resolved.path), external: true };
      });
    },
  };
}

/** The text of the tsconfig.json nearest to `dir` (that folder or one above it), if any. */
function nearestTsconfig(dir: string): string | undefined {
  const file = nearestConfig(dir, ['tsconfig.json']);
  return file === undefined ? undefined : readFileSync(file, 'utf8');
}

const loaders: Record<string, Loader> = { ts: 'ts', mts: 'ts', cts: 'ts', tsx: 'tsx', js: 'js', mjs: 'js', jsx: 'jsx' };

/**
 * Gives each bundled source file its own `import.meta.url`, `.filename` and `.dirname`, so
 * `new URL('./data.txt', import.meta.url)` and `createRequire(import.meta.url)` see the
 * job's folder, not the bundle's; TypeScript is compiled with the emit options of its
 * nearest tsconfig.json. Reports what a bundle cannot carry: `import.meta.resolve`, and an
 * `import()` of a computed specifier (its target is known only at run time, relative to a
 * file that no longer exists there).
 */
export function fileScopedImportMeta(cannotBundle: (reason: string) => void): Plugin {
  return {
    name: 'sluicegate-import-meta',
    setup(build) {
      build.onLoad({ filter: /\.(c|m)?[jt]sx?$/ }, async (args) => {
        const source = readFileSync(args.path, 'utf8');
        if (/\bimport\.meta\.resolve\b/.test(source)) cannotBundle(`${args.path} uses import.meta.resolve`);
        if (/\bimport\s*\(\s*(?!['"]|`[^`$]*`)/.test(source)) cannotBundle(`${args.path} has an import() of a computed specifier`);
        const typeScript = typeScriptFile.test(args.path);
        // JavaScript without import.meta is esbuild's to load: it follows the file's
        // sourceMappingURL (tsc's map), so stack traces name the sources the JavaScript came from.
        if (!typeScript && !/\bimport\.meta\b/.test(source)) return undefined;
        const { transform } = await import('esbuild');
        const fileUrl = pathToFileURL(args.path).href;
        // JavaScript runs as written: only TypeScript takes emit options from a tsconfig.json.
        const tsconfig = typeScript ? nearestTsconfig(dirname(args.path)) : undefined;
        const out = await transform(source, {
          loader: loaders[args.path.slice(args.path.lastIndexOf('.') + 1)] ?? 'js',
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

/**
 * Which tsconfig files the build of one job file reads (graph/build-cache.ts remembers
 * their content): the nearest `tsconfig.json` of the file's folder (that folder or one
 * above it), which gives a TypeScript file its emit options (graph/job-file-loaders.ts);
 * the nearest `tsconfig.json` or `jsconfig.json` (in each folder tsconfig.json first, as
 * esbuild's resolver looks for them), which with its `extends` gives the `paths`/`baseUrl`
 * by which esbuild resolves the file's imports; and every config those `extends`,
 * transitively. The two differ when a jsconfig.json is nearer than the tsconfig.json.
 *
 * `extends` is followed as TypeScript and esbuild follow it: a string or an array of
 * them; a relative or absolute path (with or without `.json`), else a package's file
 * looked up in the `node_modules` folders above the config (`<pkg>/<file>`, `.json`
 * added, or `<pkg>/tsconfig.json`). A package's `"tsconfig"` field or `"exports"` map is
 * not read: such an `extends` is not followed (its file is then not remembered).
 */
import { existsSync, readFileSync, statSync } from 'node:fs';
import { dirname, isAbsolute, join, resolve } from 'node:path';
import type { ParseError } from 'jsonc-parser';
import { lazyRequire } from '../lazy-require.js';

/** jsonc-parser, loaded at the first config read: every worker thread loads this module, few read a config (10 ms a thread; native-notes §7). */
const jsonc = lazyRequire<typeof import('jsonc-parser')>(import.meta.url, 'jsonc-parser');

/** Most configs one chain of `extends` is followed through (a cycle stops at the first repeat). */
const extendsDepthMax = 32;

/**
 * The path of the config file nearest to `dir` (an absolute folder): in each folder from
 * `dir` up, the first of `names` that exists. Undefined for none. The default names are
 * esbuild's resolver's; the emit options come from `['tsconfig.json']` alone.
 */
export function nearestConfig(dir: string, names: readonly string[] = ['tsconfig.json', 'jsconfig.json']): string | undefined {
  for (let at = dir; ; at = dirname(at)) {
    for (const name of names) {
      const candidate = join(at, name);
      if (existsSync(candidate)) return candidate;
    }
    if (dirname(at) === at) return undefined;
  }
}

/**
 * The configs `config` (an absolute path) extends, nearest first, each once: what its
 * emit options and paths may come from besides itself. Configs that cannot be read or
 * parsed end the chain there (esbuild reports them when it builds).
 */
export function extendedConfigs(config: string): string[] {
  const found: string[] = [];
  const pending = [config];
  while (pending.length > 0 && found.length < extendsDepthMax) {
    const at = pending.shift()!;
    let parsed: unknown;
    try {
      parsed = parseJsonc(readFileSync(at, 'utf8'));
    } catch {
      continue;
    }
    const raw = (parsed as { extends?: unknown } | null)?.extends;
    const specifiers = typeof raw === 'string' ? [raw] : Array.isArray(raw) ? raw.filter((s): s is string => typeof s === 'string') : [];
    for (const specifier of specifiers) {
      const target = resolveExtends(specifier, dirname(at));
      if (target !== undefined && target !== config && !found.includes(target)) {
        found.push(target);
        pending.push(target);
      }
    }
  }
  return found;
}

/** The file `extends: specifier` names, from a config in `dir`; undefined when none is found. */
function resolveExtends(specifier: string, dir: string): string | undefined {
  const isFile = (path: string): boolean => existsSync(path) && statSync(path).isFile();
  if (specifier.startsWith('.') || isAbsolute(specifier)) {
    const path = resolve(dir, specifier);
    return [path, `${path}.json`].find(isFile);
  }
  for (let at = dir; ; at = dirname(at)) {
    const path = join(at, 'node_modules', specifier);
    const file = [path, `${path}.json`, join(path, 'tsconfig.json')].find(isFile);
    if (file !== undefined) return file;
    if (dirname(at) === at) return undefined;
  }
}

/**
 * Parses JSON with comments (`//`, `/* *\/`) and trailing commas, as tsconfig files are
 * written (jsonc-parser, the parser of VS Code).
 * @throws SyntaxError naming the first error and its offset for text that is not such JSON
 */
export function parseJsonc(text: string): unknown {
  const errors: ParseError[] = [];
  const { parse, printParseErrorCode } = jsonc();
  const value: unknown = parse(text, errors, { allowTrailingComma: true, disallowComments: false });
  const first = errors[0];
  if (first !== undefined) throw new SyntaxError(`${printParseErrorCode(first.error)} at offset ${first.offset}`);
  return value;
}

/**
 * Which tsconfig files the build of one job file reads (graph/build-cache.ts remembers
 * their content): the nearest `tsconfig.json` or `jsconfig.json` of the file's folder (that
 * folder or one above it; in each folder tsconfig.json first, as esbuild's resolver looks
 * for them), and every config it `extends`, transitively. The nearest one gives a
 * TypeScript file its emit options (graph/job-file-loaders.ts) and, with its `extends`,
 * the `paths`/`baseUrl` by which esbuild resolves the file's imports.
 *
 * `extends` is followed as TypeScript and esbuild follow it: a string or an array of
 * them; a relative or absolute path (with or without `.json`), else a package's file
 * looked up in the `node_modules` folders above the config (`<pkg>/<file>`, `.json`
 * added, or `<pkg>/tsconfig.json`). A package's `"tsconfig"` field or `"exports"` map is
 * not read: such an `extends` is not followed (its file is then not remembered).
 */
import { existsSync, readFileSync, statSync } from 'node:fs';
import { dirname, isAbsolute, join, resolve } from 'node:path';

/** Most configs one chain of `extends` is followed through (a cycle stops at the first repeat). */
const extendsDepthMax = 32;

/** The path of the tsconfig.json or jsconfig.json nearest to `dir` (an absolute folder), or undefined for none. */
export function nearestConfig(dir: string): string | undefined {
  for (let at = dir; ; at = dirname(at)) {
    for (const name of ['tsconfig.json', 'jsconfig.json']) {
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
 * Parses JSON with comments (`//`, `/* *\/`) and trailing commas, as tsconfig files are written.
 * @throws SyntaxError for text that is not JSON once those are taken out
 */
export function parseJsonc(text: string): unknown {
  let out = '';
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (c === '"') {
      // A string, escapes and all, copied as it is.
      let end = i + 1;
      while (end < text.length && text[end] !== '"') end += text[end] === '\\' ? 2 : 1;
      out += text.slice(i, end + 1);
      i = end;
    } else if (c === '/' && text[i + 1] === '/') {
      while (i < text.length && text[i] !== '\n') i++;
      out += '\n';
    } else if (c === '/' && text[i + 1] === '*') {
      const end = text.indexOf('*/', i + 2);
      i = end === -1 ? text.length : end + 1;
      out += ' ';
    } else if (c === ',' && /^\s*[}\]]/.test(text.slice(i + 1).replace(/^(\s|\/\/[^\n]*|\/\*[\s\S]*?\*\/)*/, ''))) {
      // A trailing comma: dropped.
    } else {
      out += c;
    }
  }
  return JSON.parse(out);
}

/**
 * `sluice run --typecheck`: type-checks a TypeScript job module before the job is deployed.
 * tsx, which loads `.ts` job modules, only strips types, so without this a job with a type
 * error runs.
 *
 * The check is what `tsc --noEmit` would report for the job module and everything it
 * imports, with the compiler options of the nearest `tsconfig.json` above the module (its
 * `files` and `include` are ignored: the job module is the only root), or, without one,
 * strict defaults (`defaultCompilerOptions`). Options that only shape emitted files
 * (`rootDir`, `composite`, `incremental`, ...) are dropped, as nothing is emitted.
 * The compiler is the `typescript` package the job's project has (resolved from the
 * module's folder), else the one installed with sluicegate.
 *
 * Opt-in, not the default: a check parses the job's whole import graph, with the lib and
 * `@types/node` declarations that sluicegate's own types pull in (about 245 files, 3 MB).
 * Measured on the 2-core development machine, shared with other work (load 8 to 12): 1.8
 * to 7 s per check (loading the compiler included), against 2.8 to 7 s for the whole run
 * of a three-record job without it. Checking by default would make every start about
 * twice as slow to catch what an editor or `tsc --noEmit` in CI already catches.
 */
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, isAbsolute, relative } from 'node:path';
import { performance } from 'node:perf_hooks';
import type * as TS from 'typescript';
import { UsageError } from '../errors.js';

/** Compiler options without a tsconfig.json: strict, for Node 20 ES modules, no DOM. */
export const defaultCompilerOptions = {
  strict: true,
  target: 'ES2022',
  lib: ['ES2023'],
  module: 'NodeNext',
  moduleResolution: 'NodeNext',
  skipLibCheck: true,
  forceConsistentCasingInFileNames: true,
} as const;

/** Options that only matter for emitted files; they could only add errors to a check. */
const emitOnlyOptions = ['rootDir', 'outDir', 'outFile', 'composite', 'incremental', 'tsBuildInfoFile', 'declaration', 'declarationMap', 'emitDeclarationOnly', 'sourceMap'] as const;

export interface TypeCheckReport {
  /** One line per error, as tsc prints them: `file:line:col - error TS2322: message` (1-based; file relative to the working directory when inside it). */
  errors: string[];
  /** The tsconfig.json whose options were used, or undefined for `defaultCompilerOptions`. */
  configFile: string | undefined;
  /** Wall time of the check, ms (loading the compiler included). */
  durationMs: number;
}

/** The `typescript` module of the job's project, else sluicegate's own. @throws UsageError when neither exists. */
function loadTypeScript(jobPath: string): typeof TS {
  for (const from of [jobPath, import.meta.url]) {
    const require = createRequire(from);
    try {
      return require(require.resolve('typescript')) as typeof TS;
    } catch {
      // not installed there: try the next place
    }
  }
  throw new UsageError(`--typecheck needs the typescript package, found neither next to ${jobPath} nor next to sluicegate: npm install --save-dev typescript`);
}

/** tsc's location: `file:line:col` with the file relative to the working directory when inside it. */
function formatDiagnostic(ts: typeof TS, d: TS.Diagnostic): string {
  const message = `error TS${d.code}: ${ts.flattenDiagnosticMessageText(d.messageText, ' ').replace(/\s+/g, ' ').trim()}`;
  if (d.file === undefined || d.start === undefined) return message;
  const { line, character } = d.file.getLineAndCharacterOfPosition(d.start);
  const rel = relative(process.cwd(), d.file.fileName);
  const file = rel.startsWith('..') || isAbsolute(rel) ? d.file.fileName : rel;
  return `${file}:${line + 1}:${character + 1} - ${message}`;
}

/** Compiler options from the nearest tsconfig.json above `jobPath`, or the defaults; config errors go to `errors`. */
function compilerOptions(ts: typeof TS, jobPath: string, errors: TS.Diagnostic[]): { options: TS.CompilerOptions; configFile: string | undefined } {
  const configFile = ts.findConfigFile(dirname(jobPath), (f) => ts.sys.fileExists(f), 'tsconfig.json');
  let options: TS.CompilerOptions;
  if (configFile === undefined) {
    options = ts.convertCompilerOptionsFromJson(defaultCompilerOptions, dirname(jobPath)).options;
  } else {
    const host: TS.ParseConfigFileHost = { ...ts.sys, onUnRecoverableConfigFileDiagnostic: (d) => errors.push(d) };
    const parsed = ts.getParsedCommandLineOfConfigFile(configFile, {}, host);
    // TS18003 "No inputs were found": the config's own file list does not matter here.
    errors.push(...(parsed?.errors ?? []).filter((d) => d.code !== 18003));
    options = parsed?.options ?? {};
  }
  options = { ...options, noEmit: true };
  for (const name of emitOnlyOptions) delete options[name];
  return { options, configFile };
}

/**
 * Type-checks the TypeScript job module at `jobPath` (absolute) and what it imports.
 * @throws UsageError when `jobPath` is not a TypeScript file (.ts, .mts, .cts), or no
 *   `typescript` package can be found.
 */
export function typecheckJobModule(jobPath: string): TypeCheckReport {
  const started = performance.now();
  if (!/\.(c|m)?ts$/.test(jobPath) || /\.d\.(c|m)?ts$/.test(jobPath)) {
    throw new UsageError(`--typecheck checks TypeScript job modules (.ts, .mts, .cts); ${jobPath} is not one: run it without --typecheck`);
  }
  if (!existsSync(jobPath)) throw new UsageError(`Job module ${jobPath} does not exist: check the path`);
  const ts = loadTypeScript(jobPath);
  const configErrors: TS.Diagnostic[] = [];
  const { options, configFile } = compilerOptions(ts, jobPath, configErrors);
  const program = ts.createProgram({ rootNames: [jobPath], options });
  const diagnostics = [...configErrors, ...ts.getPreEmitDiagnostics(program)].filter((d) => d.category === ts.DiagnosticCategory.Error);
  return { errors: diagnostics.map((d) => formatDiagnostic(ts, d)), configFile, durationMs: performance.now() - started };
}

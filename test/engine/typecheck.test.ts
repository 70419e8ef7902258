// `sluice run --typecheck` (issue 13, item 10): tsx only strips types, so a TypeScript job
// with a type error ran. With --typecheck the job module is checked first, with the
// nearest tsconfig.json or strict defaults, and type errors end the run with exit 2 before
// anything is deployed, one line per error at file:line:col.
//
// The jobs live in a temporary project that has sluicegate in its node_modules (a link to
// this package), as a user's project would.
import t from 'tap';
import { existsSync, mkdirSync, readFileSync, readdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { tempDir } from '../helpers/checkpoints.js';
import { cli, spawnSluice } from '../helpers/cli.js';

const packageRoot = fileURLToPath(new URL('../../../', import.meta.url));

/** A project folder with sluicegate installed and the given files. */
function project(t: { teardown(fn: () => void): void }, name: string, files: Record<string, string>): string {
  const dir = tempDir(t, name);
  mkdirSync(join(dir, 'node_modules'));
  symlinkSync(packageRoot, join(dir, 'node_modules', 'sluicegate'), 'dir');
  for (const [file, text] of Object.entries(files)) writeFileSync(join(dir, file), text);
  return dir;
}

// Doubles 1..3 into text files under args[0]. `double` has an implicitly typed parameter:
// an error under strict options only.
const job = (extra: string): string => `import { defineJob } from 'sluicegate';

const double = (x) => x * 2;
export default defineJob((env, args) => {
${extra}  env.fromSequence(1, 3).map(double).writeAsText(args[0]!);
});
`;

// The run of a correct job starts first, in a child process as a user runs it (tsx does not
// load a .ts job inside tap's process, whose own TypeScript loader is registered), so that
// it goes on while the test process checks the bad job.
const tsconfig = { compilerOptions: { strict: false, target: 'ES2022', module: 'NodeNext', moduleResolution: 'NodeNext', skipLibCheck: true, rootDir: 'src', outDir: 'dist' } };
const loose = project(t, 'typecheck-loose', { 'tsconfig.json': JSON.stringify(tsconfig) });
mkdirSync(join(loose, 'jobs'));
writeFileSync(join(loose, 'jobs', 'good.ts'), job(''));
const goodRun = spawnSluice(t, ['run', '--typecheck', '-p', '1', '--no-progress', join(loose, 'jobs', 'good.ts'), join(loose, 'out')]);

t.test('--typecheck: a job with type errors fails with exit 2 before it runs, one line per error at file:line:col', async (t) => {
  const dir = project(t, 'typecheck-strict', { 'bad.ts': job(`  const limit: number = 'ten';\n`) });
  const bad = join(dir, 'bad.ts');
  const out = join(dir, 'out');
  const result = await cli(['run', '--typecheck', '-p', '1', '--no-progress', bad, out]);
  t.equal(result.code, 2);
  t.same(result.err.split('\n'), [
    `sluice: job module ${bad} has 2 type errors (--typecheck, strict defaults, no tsconfig.json found): fix them, or run without --typecheck`,
    `${bad}:3:17 - error TS7006: Parameter 'x' implicitly has an 'any' type.`,
    `${bad}:5:9 - error TS2322: Type 'string' is not assignable to type 'number'.`,
    '',
  ]);
  t.notOk(existsSync(out), 'the job did not run');
});

t.test('--typecheck uses the nearest tsconfig.json: a job correct under its options runs', async (t) => {
  t.equal(await goodRun.exit, 0, goodRun.err());
  const out = join(loose, 'out');
  const lines = readdirSync(out).flatMap((f) => readFileSync(join(out, f), 'utf8').split('\n').filter((l) => l !== ''));
  t.same(lines.sort(), ['2', '4', '6'], 'the job ran (rootDir, which the job is outside of, was ignored)');
});

t.test('--typecheck of a JavaScript job module is refused with one line', async (t) => {
  const dir = project(t, 'typecheck-js', { 'job.js': 'export default 1;\n' });
  const result = await cli(['run', '--typecheck', join(dir, 'job.js')]);
  t.equal(result.code, 2);
  t.equal(result.err, `sluice: --typecheck checks TypeScript job modules (.ts, .mts, .cts); ${join(dir, 'job.js')} is not one: run it without --typecheck\n`);
});

// Which tsconfig files a job file's build reads (graph/tsconfig-files.ts), as the job build
// cache records them: the nearest tsconfig.json or jsconfig.json, and the configs it
// extends (a path, with or without .json; a package's file; an array; a cycle ends), read
// as tsconfig files are written (comments, trailing commas).
import t from 'tap';
import { join } from 'node:path';
import { extendedConfigs, nearestConfig, parseJsonc } from '../../src/graph/tsconfig-files.js';
import { jobProject } from '../helpers/job-project.js';

t.test('tsconfig text with comments and trailing commas parses as TypeScript reads it', async (t) => {
  t.same(parseJsonc(`{\n  // a comment, "not a key": 1,\n  "a": "// not a comment", /* block, */ "b": [1, 2,],\n  "c": "a \\" quote,}",\n}\n`), { a: '// not a comment', b: [1, 2], c: 'a " quote,}' });
  t.throws(() => parseJsonc('{ "a": }'), SyntaxError, 'what is not JSON once comments and trailing commas are out');
});

t.test('the nearest config and every config it extends, each once', async (t) => {
  const dir = jobProject(t, 'tsconfig-files', {
    'project/tsconfig.json': `{ "extends": ["./base", "@scope/shared/strict.json"], /* trailing */ }\n`,
    'project/base.json': `{ "extends": "./tsconfig.json" }\n`, // a cycle back: ends there
    'project/node_modules/@scope/shared/strict.json': `{ "extends": "./tsconfig.json" }\n`,
    'project/node_modules/@scope/shared/tsconfig.json': `{ "compilerOptions": {} }\n`,
    'project/src/deep/job.ts': `export {};\n`,
    'js/jsconfig.json': `{}\n`,
    'js/job.ts': `export {};\n`,
    'mixed/tsconfig.json': `{}\n`,
    'mixed/src/jsconfig.json': `{}\n`,
    'broken/tsconfig.json': `{ "extends": `,
    'missing/tsconfig.json': `{ "extends": "./nowhere.json" }\n`,
  });
  const project = join(dir, 'project');
  t.equal(nearestConfig(join(project, 'src', 'deep')), join(project, 'tsconfig.json'), 'found in a folder above');
  t.equal(nearestConfig(join(dir, 'js')), join(dir, 'js', 'jsconfig.json'), 'a jsconfig.json counts, as esbuild reads it');
  t.equal(nearestConfig(join(dir, 'mixed', 'src'), ['tsconfig.json']), join(dir, 'mixed', 'tsconfig.json'), 'a nearer jsconfig.json is passed over when only tsconfig.json is asked for (emit options)');
  t.equal(nearestConfig(join(dir, 'mixed', 'src')), join(dir, 'mixed', 'src', 'jsconfig.json'), 'and found by default (the resolver)');
  t.same(extendedConfigs(join(project, 'tsconfig.json')), [
    join(project, 'base.json'),
    join(project, 'node_modules', '@scope', 'shared', 'strict.json'),
    join(project, 'node_modules', '@scope', 'shared', 'tsconfig.json'),
  ]);
  t.same(extendedConfigs(join(dir, 'broken', 'tsconfig.json')), [], 'a config that does not parse extends nothing');
  t.same(extendedConfigs(join(dir, 'missing', 'tsconfig.json')), [], 'an extends that names no file is not followed');
});

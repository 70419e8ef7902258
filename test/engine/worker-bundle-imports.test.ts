// Every worker thread of a TypeScript job loads the worker bundle (dist/src/task/worker.bundle.js,
// scripts/bundle-worker.mjs) before its first record, so a package the bundle imports
// statically is loaded by every thread of every job, needed or not: jsonc-parser cost each
// thread about 10 ms when it was (native-notes §7, "What a worker loads"). Packages go
// through lazyRequire (src/lazy-require.ts) or a dynamic import() instead; the bundle's
// static imports are Node's built-ins alone.
import t from 'tap';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const bundlePath = fileURLToPath(new URL('../../src/task/worker.bundle.js', import.meta.url));

/** The specifiers of the bundle's static `import ... from "x"` / `import "x"` statements (esbuild writes each at a line's start). */
function staticImports(source: string): string[] {
  const found: string[] = [];
  for (const m of source.matchAll(/^import\s+(?:[^'";]*?\s+from\s+)?["']([^"']+)["'];?$/gm)) found.push(m[1]!);
  return found;
}

t.test('the recogniser finds static imports of both forms and ignores dynamic ones', async (t) => {
  const sample = 'import { a } from "node:fs";\nimport b from "pkg";\nimport "side-effect";\nconst c = await import("lazy");\n';
  t.same(staticImports(sample), ['node:fs', 'pkg', 'side-effect']);
});

t.test('the worker bundle statically imports only node: built-ins, no package', async (t) => {
  const imports = staticImports(readFileSync(bundlePath, 'utf8'));
  t.ok(imports.some((s) => s === 'node:fs'), `the bundle's imports were read (${imports.length} found)`);
  t.same(
    imports.filter((s) => !s.startsWith('node:')),
    [],
    'a package imported statically by the worker bundle: load it through lazyRequire (src/lazy-require.ts) instead',
  );
});

/**
 * A package loaded at its first use rather than with the module that needs it (issue 11).
 * The engine's public entry, and so every worker thread of a job, loads every module of
 * the engine; a package only some jobs need (CSV formats) or only the main thread needs
 * (piscina, hdr-histogram-js) then cost each thread its load: 17-23 ms of CPU for
 * csv-parse with csv-stringify, 18-21 ms for piscina, 35-38 ms for hdr-histogram-js
 * (native-notes §7, "What a worker loads").
 *
 * `require()` is synchronous, so a lazy package can serve synchronous code. It loads the
 * package's CommonJS build, which is the same code as its ES module build for these
 * packages and a single instance per thread (every user of a package here goes through
 * one `lazyRequire`).
 */
import { createRequire } from 'node:module';

/**
 * A getter of the package `id` (its `require` export), resolved from the module at
 * `fromUrl` (pass `import.meta.url`) and loaded at the first call.
 * @throws Error (Node's MODULE_NOT_FOUND) at the first call when the package is missing
 */
export function lazyRequire<T>(fromUrl: string, id: string): () => T {
  let loaded: { value: T } | undefined;
  return () => (loaded ??= { value: createRequire(fromUrl)(id) as T }).value;
}

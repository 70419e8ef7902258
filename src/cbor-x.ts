/**
 * cbor-x, loaded at its first use in the thread (issue 11; native-notes §7, "What a worker
 * loads"). Loading it cost each worker thread 20-26 ms of CPU (its ES module build, with
 * the cbor-extract native addon), yet a job whose records are strings, numbers or flat
 * tuples (task/flat-batch-codec.ts) and whose keyed state holds short strings and
 * integers (state/cbor-fast.ts) never needs it before its first checkpoint.
 *
 * Every engine module reaches cbor-x through `cborX()`: one instance per thread (the
 * package's CommonJS build, as `lazyRequire` loads packages), so the registered-type
 * extension (api/registered-types.ts, installed through `onCborXLoad`) applies to every
 * encoder the engine makes. A job that imports cbor-x itself gets the ES module build, a
 * separate instance without that extension.
 *
 * Hot paths keep the encoder they made (a field or module variable set at first use),
 * never call `cborX()` per record.
 */
import type * as CborX from 'cbor-x';
import { lazyRequire } from './lazy-require.js';

export type CborXModule = typeof CborX;

const load = lazyRequire<CborXModule>(import.meta.url, 'cbor-x');
const hooks: Array<(cbor: CborXModule) => void> = [];
let loaded: CborXModule | undefined;

/**
 * The cbor-x module, required at the first call, after which every hook given to
 * `onCborXLoad` has run. @throws Error (MODULE_NOT_FOUND) when cbor-x is not installed
 */
export function cborX(): CborXModule {
  if (loaded !== undefined) return loaded;
  const cbor = load();
  for (const hook of hooks.splice(0)) hook(cbor);
  loaded = cbor;
  return cbor;
}

/** Whether cbor-x has been loaded in this thread (for tests and measurements). */
export function cborXLoaded(): boolean {
  return loaded !== undefined;
}

/**
 * Runs `hook` with cbor-x before anything in the thread uses it: when it loads, or at
 * once when it is loaded already. For set-up that must precede every encode (extensions).
 */
export function onCborXLoad(hook: (cbor: CborXModule) => void): void {
  if (loaded !== undefined) hook(loaded);
  else hooks.push(hook);
}

/** A new cbor-x `Encoder` (which decodes too) with `options`; loads cbor-x at the first call. */
export function newCborEncoder(options: CborX.Options): CborX.Encoder {
  return new (cborX().Encoder)(options);
}

/** A new cbor-x `Decoder` with `options`; loads cbor-x at the first call. */
export function newCborDecoder(options: CborX.Options): CborX.Decoder {
  return new (cborX().Decoder)(options);
}

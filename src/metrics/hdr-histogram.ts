/**
 * hdr-histogram-js, required at its first use (issue 11): loading it costs 35-38 ms of CPU
 * (its float formatters are built at load), and the job master, which holds the latency
 * histograms (latency.ts), is loaded with the engine's public entry, so in every worker
 * thread too, where no histogram is ever made; and the `sluice` CLI loads the Nexmark
 * bench's latency sink (benchmark/nexmark/latency.ts) for every command. Apart from latency.ts so that latency.ts
 * (whose types the browser dashboard imports) needs no Node.js types.
 */
import type * as Hdr from 'hdr-histogram-js';
import { lazyRequire } from '../lazy-require.js';

/** The hdr-histogram-js module, required at the first call (CommonJS: the same instance an `import` gets). */
export const hdrHistogram = lazyRequire<typeof Hdr>(import.meta.url, 'hdr-histogram-js');

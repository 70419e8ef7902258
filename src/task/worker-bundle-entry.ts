/**
 * Entry of the worker bundle (scripts/bundle-worker.mjs writes dist/src/task/worker.bundle.js):
 * the subtask task of task/worker.ts and the engine's public API (index.ts) in one file.
 * A worker thread of a TypeScript job whose bundle imports only the engine's public entry
 * loads this one file as its piscina task file, and the job's bundle imports the engine
 * from it too (graph/compile-job.ts), so the thread holds one engine: this bundle.
 * Loading one file instead of ~200 ES modules halves a worker's start (issue 11;
 * native-notes §7, "What a worker loads").
 */
export * from '../index.js';
export { default } from './worker.js';

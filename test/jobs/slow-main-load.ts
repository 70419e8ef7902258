// Job module of test/runtime/mini-cluster.test.ts whose loading is slow in the main thread:
// its top-level code waits 400 ms there (once per process: the main thread imports it once),
// not in worker threads. The job: the numbers 1..500, collected as 'numbers'.
import { isMainThread } from 'node:worker_threads';
import { defineJob } from '../../src/index.js';

if (isMainThread) await new Promise((resolve) => setTimeout(resolve, 400));

export default defineJob((env) => {
  env.fromSequence(1, 500).collect('numbers');
});

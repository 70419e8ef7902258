// Job module of test/runtime/subtask-pool.test.ts whose loading is slow in worker threads:
// its top-level code keeps the CPU busy for SLUICE_TEST_LOAD_MS ms (0 when unset) in every
// worker (not in the main thread), then writes the file `<SLUICE_TEST_LOADED_DIR>/<threadId>`
// to show that it finished loading (and `<SLUICE_TEST_LOADING_DIR>/<threadId>` before, to
// show that it started). The job: a sequence of 1000 numbers, collected.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { isMainThread, threadId } from 'node:worker_threads';
import { defineJob } from '../../src/index.js';

const loadMs = Number(process.env['SLUICE_TEST_LOAD_MS'] ?? 0);
const loadedDir = process.env['SLUICE_TEST_LOADED_DIR'];
const loadingDir = process.env['SLUICE_TEST_LOADING_DIR'];
if (!isMainThread) {
  if (loadingDir !== undefined) writeFileSync(join(loadingDir, String(threadId)), '');
  const until = Date.now() + loadMs;
  while (Date.now() < until) {
    // busy: a module that takes long to evaluate
  }
  if (loadedDir !== undefined) writeFileSync(join(loadedDir, String(threadId)), '');
}

export default defineJob((env) => {
  env.fromSequence(1, 1000).collect('numbers');
});

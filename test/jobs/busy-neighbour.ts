// Job module of test/runtime/slot-sharing.test.ts: two pipelines whose subtasks share slot 0
// at parallelism 1. An endless generator whose records a filter drops (its subtask never
// waits on a ring: it is always busy), and a small paced generator whose 10,000 records
// (0.5 s at 20,000/s: it waits for timers) a map named "Small map" passes to a collect
// sink. The small pipeline makes progress only if the busy subtask yields its thread.
import { defineJob } from '../../src/index.js';

export default defineJob((env) => {
  env
    .fromGenerator((i) => i, Infinity)
    .uid('endless')
    .filter(() => false)
    .addSink(() => {});
  env
    .fromGenerator((i) => i, 10_000, { recordsPerSecond: 20_000 })
    .uid('small')
    .map((x: number) => x)
    .name('Small map')
    .collect('small');
});

// Piscina task file of test/runtime/subtask-pool.test.ts: counts itself in as started
// (word 0 of `started`, notified), then sleeps `ms` and returns its thread id. A warm-up
// task returns 'warm' at once.
import { threadId } from 'node:worker_threads';

export default async function sleepTask(task: { started: Int32Array; ms: number } | { warmUp: true }): Promise<number | string> {
  if ('warmUp' in task) return 'warm';
  Atomics.add(task.started, 0, 1);
  Atomics.notify(task.started, 0);
  await new Promise((resolve) => setTimeout(resolve, task.ms));
  return threadId;
}

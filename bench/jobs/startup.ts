/**
 * Job of bench/startup.bench.ts: a keyed running count over an endless generator,
 * written as a user writes a job (TypeScript, importing `sluicegate`). Its sink tells the
 * bench when a worker thread delivers its first record: a message on the
 * BroadcastChannel `sluicegate-bench-startup` with the wall time (ms since the epoch, as
 * `performance.timeOrigin + performance.now()`, comparable across threads) and the
 * thread's id. One message per thread: a thread that is reused by the next attempt
 * (issue 11) sends none again, so the bench also counts a `record` message per sink
 * subtask and attempt (see `open`).
 */
import { BroadcastChannel, threadId } from 'node:worker_threads';
import { defineJob } from 'sluicegate';
import type { RichFunction, RuntimeContext } from 'sluicegate';

/** Sends one message at the first record of each opened sink subtask. */
class FirstRecordSink implements RichFunction {
  private channel: BroadcastChannel | undefined;
  private sent = false;
  open(_ctx: RuntimeContext): void {
    this.channel = new BroadcastChannel('sluicegate-bench-startup');
    this.sent = false;
  }
  invoke(_value: string): void {
    if (this.sent) return;
    this.sent = true;
    this.channel!.postMessage({ at: performance.timeOrigin + performance.now(), threadId });
  }
  close(): void {
    this.channel?.close();
  }
}

export default defineJob((env) => {
  env
    .fromGenerator((i) => i, Infinity, { recordsPerSecond: 20_000 })
    .name('Numbers')
    .keyBy((n) => n % 64)
    .sum()
    .uid('count')
    .map((n) => String(n))
    .name('Format')
    .addSink(new FirstRecordSink())
    .name('First record');
});

/**
 * What `ContinuousEventTimeTrigger` and `ContinuousProcessingTimeTrigger` share: the next
 * fire time in reducing state `"fire-time"` (merged by min, so a merged session fires at the
 * earliest of its parts' next times), aligned to multiples of the interval and capped at the
 * window's end. Flink: the two triggers' `stateDesc` and `registerNextFireTimestamp`.
 */
import { TriggerResult } from '../api.js';
import type { OnMergeContext, TriggerContext, Window } from '../api.js';
import type { ReducingStateDescriptor } from '../../../state/api.js';
import { checkMs } from '../checks.js';

export type TimerDomain = 'event' | 'processing';

export const fireTimeDesc: Omit<ReducingStateDescriptor<number>, 'kind'> = { name: 'fire-time', reduce: (a, b) => Math.min(a, b) };

/** Checks an interval (ms, integer > 0) for `where`. @throws RangeError */
export function checkInterval(where: string, intervalMs: number): number {
  checkMs(where, 'interval', intervalMs);
  return intervalMs;
}

function register(ctx: TriggerContext, domain: TimerDomain, time: number): void {
  if (domain === 'event') ctx.registerEventTimeTimer(time);
  else ctx.registerProcessingTimeTimer(time);
}

/**
 * Registers the first fire time after `time` when none is set: the interval boundary
 * `time - time % interval` plus one interval (Java's `%`: for negative times the boundary is
 * rounded toward zero, as in Flink), capped at `window.maxTimestamp()`.
 */
export function startFiring(time: number, intervalMs: number, window: Window, ctx: TriggerContext, domain: TimerDomain): void {
  const fireTime = ctx.getPartitionedState.getReducingState(fireTimeDesc);
  if (fireTime.get() === undefined) registerNext(time - (time % intervalMs), intervalMs, window, ctx, domain);
}

function registerNext(time: number, intervalMs: number, window: Window, ctx: TriggerContext, domain: TimerDomain): void {
  const next = Math.min(time + intervalMs, window.maxTimestamp());
  ctx.getPartitionedState.getReducingState(fireTimeDesc).add(next);
  register(ctx, domain, next);
}

/**
 * A timer at `time`: FIRE if `time` is the fire time, and register the next one unless
 * `time` is the window's end. Flink registers the end again there (the cap), which a timer
 * service whose clock is past it fires again at once, forever, unless the operator's
 * cleanup runs at that very time (processing-time windows only; FLINK-35069). Here the
 * fire time is forgotten instead, so the window's next element starts a new chain (the end
 * again, due at once) and no element goes unfired.
 */
export function onFireTimer(time: number, intervalMs: number, window: Window, ctx: TriggerContext, domain: TimerDomain): TriggerResult {
  const fireTime = ctx.getPartitionedState.getReducingState(fireTimeDesc);
  if (fireTime.get() !== time) return TriggerResult.CONTINUE;
  fireTime.clear();
  if (time < window.maxTimestamp()) registerNext(time, intervalMs, window, ctx, domain);
  return TriggerResult.FIRE;
}

/** Deletes the pending fire timer and the fire time. */
export function clearFiring(ctx: TriggerContext, domain: TimerDomain): void {
  const fireTime = ctx.getPartitionedState.getReducingState(fireTimeDesc);
  const time = fireTime.get();
  if (time === undefined) return;
  if (domain === 'event') ctx.deleteEventTimeTimer(time);
  else ctx.deleteProcessingTimeTimer(time);
  fireTime.clear();
}

/** Merges the fire times (min) into the merged window and registers its timer. */
export function mergeFiring(ctx: OnMergeContext, domain: TimerDomain): void {
  ctx.mergePartitionedState(fireTimeDesc);
  const next = ctx.getPartitionedState.getReducingState(fireTimeDesc).get();
  if (next !== undefined) register(ctx, domain, next);
}

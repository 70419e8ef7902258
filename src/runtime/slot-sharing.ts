/**
 * Slot sharing: which subtasks run together in one worker thread. Flink's
 * `SlotSharingGroup` with the default `LocalInputPreferredSlotSharingStrategy`: subtask i
 * of every vertex of a group goes to slot i of that group, so a job needs, per group, as
 * many slots as the group's highest parallelism, and a pipeline's subtask i (source,
 * keyed aggregate, sink) shares one thread. Here a slot is one worker thread whose event
 * loop runs all its subtasks concurrently: every wait of a subtask (ring space, ring data,
 * doorbell) is an `Atomics.waitAsync`, and a busy subtask yields every few milliseconds
 * (task/slot-yield.ts).
 *
 * Why (issue 11; native-notes §7, "Slot sharing"): each worker thread costs 80-100 ms of CPU
 * to start, and threads beyond the cores only compete for them. A word count at
 * parallelism 2 ran 4 threads; with slot sharing it runs 2.
 *
 * `slotSharing: false` (CLI `--no-slot-sharing`) gives every subtask its own slot, the
 * engine's layout before slot sharing; `true` (`--slot-sharing`) always shares; the
 * default shares only when the subtasks outnumber the cores (`sharesSlots`).
 */
import { availableParallelism } from 'node:os';
import type { JobGraph } from '../graph/index.js';
import type { SlotDeployment, SubtaskDeployment } from '../task/index.js';
import type { SubtaskPool } from './subtask-pool.js';

/**
 * Whether a deployment of `subtasks` shares slots: as set, or with `'auto'` when the
 * subtasks outnumber the machine's cores (`cores`, default `os.availableParallelism()`).
 * With no more subtasks than cores no thread competes for a core, and a pipeline's chains
 * (source, keyed aggregate) run on several cores at once: a word count at parallelism 1
 * took 1.82x a plain loop with a thread per subtask and 2.38x with one shared thread (quiet
 * 2-core machine, README "Slot sharing").
 */
export function sharesSlots(setting: boolean | 'auto', subtasks: number, cores = availableParallelism()): boolean {
  return setting === 'auto' ? subtasks > cores : setting;
}

/** One slot: its group, its index in the group, and the subtasks it holds (indices into the deployment list). */
export interface Slot {
  readonly group: string;
  readonly index: number;
  readonly subtasks: number[];
}

/**
 * The slots of a deployment: with `sharing`, one per (slot sharing group, subtask index),
 * holding subtask i of every vertex of the group (groups in order of their first vertex);
 * without, one per subtask. Every subtask is in exactly one slot.
 */
export function assignSlots(graph: JobGraph, subtasks: ReadonlyArray<Pick<SubtaskDeployment, 'vertex' | 'subtaskIndex'>>, sharing: boolean): Slot[] {
  if (!sharing) return subtasks.map((d, i) => ({ group: graph.vertices[d.vertex]!.slotSharingGroup, index: d.subtaskIndex, subtasks: [i] }));
  const byKey = new Map<string, Slot>();
  const slots: Slot[] = [];
  subtasks.forEach((d, i) => {
    const group = graph.vertices[d.vertex]!.slotSharingGroup;
    const key = `${group}\u0000${d.subtaskIndex}`;
    let slot = byKey.get(key);
    if (slot === undefined) {
      slot = { group, index: d.subtaskIndex, subtasks: [] };
      byKey.set(key, slot);
      slots.push(slot);
    }
    slot.subtasks.push(i);
  });
  return slots;
}

/**
 * Runs every slot on the pool, one piscina task each. Marks each deployment `sharesThread`
 * when its slot holds more than one subtask. Returns, per deployment (same order), the
 * promise of its slot's task: it rejects when the slot's thread dies, which fails every
 * subtask of the slot.
 */
export function runSlots(pool: SubtaskPool, slots: readonly Slot[], deployments: SubtaskDeployment[]): Array<Promise<unknown>> {
  const ran: Array<Promise<unknown>> = new Array(deployments.length);
  for (const slot of slots) {
    const subtasks = slot.subtasks.map((i) => deployments[i]!);
    for (const d of subtasks) d.sharesThread = subtasks.length > 1;
    const task: SlotDeployment = { slot: `${slot.group}/${slot.index}`, subtasks };
    const run = pool.run(task);
    // Every subtask's watcher handles the rejection; this one only keeps it from being unhandled.
    run.catch(() => undefined);
    for (const i of slot.subtasks) ran[i] = run;
  }
  return ran;
}

/** What the job master knows of a deployed subtask, for the helpers below. */
interface Placed {
  readonly slot: number;
  readonly ended: boolean;
  /** Set once its modules are loaded (`running`). */
  readonly threadId: number | undefined;
}

/** The threads that run a slot whose subtasks that have not ended are all loaded: only these may be terminated (subtask-pool.ts). */
export function loadedThreads(deployed: readonly Placed[]): Set<number> {
  const loading = new Set(deployed.filter((d) => !d.ended && d.threadId === undefined).map((d) => d.slot));
  const threads = new Set<number>();
  for (const d of deployed) if (!d.ended && d.threadId !== undefined && !loading.has(d.slot)) threads.add(d.threadId);
  return threads;
}

/**
 * How many of the `live` threads (the pool's, by id) still run a slot with a loaded
 * subtask (for SubtaskPool.warm). A thread that died is not live, even while its slot's
 * other subtasks have not been seen to end: their ports close one by one after the death,
 * and the first of them fails the attempt. Counted busy, the dead thread got no warm-up,
 * and its replacement began to load only when the next attempt deployed (native-notes §6,
 * "The first checkpoint after a restore").
 */
export function busyThreads(deployed: readonly Placed[], live: ReadonlySet<number>): number {
  return new Set(deployed.filter((d) => !d.ended && d.threadId !== undefined && live.has(d.threadId)).map((d) => d.threadId)).size;
}

/**
 * The young generation of worker threads: V8 starts an isolate's semi-spaces at 1 MiB
 * (`new_space` 2 MiB) and grows them towards their 16 MiB maximum only as objects survive,
 * so a subtask that allocates per record scavenged about 40 times in a word count of 1.8 M
 * words, where a young generation of its full size from the start scavenges 16-22 times
 * (native-notes §7, "Worker heaps"). A scavenge's cost follows what survives it, not the
 * semi-space's size, so fewer of them is less GC work in all.
 *
 * V8 reads `--min-semi-space-size` when it sets up an isolate's heap, and a worker's
 * `execArgv` may not name V8 flags, so the flag is set for the process with
 * `v8.setFlagsFromString`: isolates made afterwards (worker threads) start with it, the
 * main thread's heap, set up already, does not change. Pages are committed as they are
 * used: an idle worker's young generation stays small in memory.
 */
import v8 from 'node:v8';

/** V8's largest default semi-space on 64-bit, MiB: the size worker threads start with. */
export const workerSemiSpaceMb = 16;

/**
 * Makes worker threads created from now on start with semi-spaces of `workerSemiSpaceMb`,
 * unless the process was started with a semi-space flag of its own (`--min-semi-space-size`
 * or `--max-semi-space-size`, in `process.execArgv` or NODE_OPTIONS), which is left to
 * rule. `sluice` calls it at start; a program that runs jobs may call it before `runJob`.
 * Process-wide: worker threads of other libraries in the process start so too.
 * @returns whether the flag was set (false: the process's own flag rules)
 */
export function startWorkersWithFullYoungGeneration(): boolean {
  // NODE_OPTIONS may quote its options ("--max-semi-space-size=64"): searched as one string.
  const own = [...process.execArgv, process.env['NODE_OPTIONS'] ?? ''].some((a) => /(^|[\s"'])--(min|max)[-_]semi[-_]space[-_]size\b/.test(a));
  if (own) return false;
  v8.setFlagsFromString(`--min-semi-space-size=${workerSemiSpaceMb}`);
  return true;
}

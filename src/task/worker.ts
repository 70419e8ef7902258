/**
 * The piscina task that runs one slot in a worker thread, for the life of the attempt:
 * every subtask of the slot at once, interleaved on the thread's event loop (each waits
 * on its rings and doorbell asynchronously). Each subtask rebuilds the plan from the job module (functions cannot cross threads), checks it is
 * the plan the job master deployed, opens the state backend, and runs the StreamTask.
 *
 * Protocol on the control port: any number of `collect` messages, then exactly one final
 * message (`finished`, `failed` or `error`), then the port closes. The final message goes
 * on the same port as the collected records, so the job master has every record before it
 * learns the subtask ended. Errors are sent as plain data (custom fields do not survive
 * structured cloning), and also thrown so that piscina rejects the task.
 */
import { threadId } from 'node:worker_threads';
import { describeThrown, findUserError } from '../errors.js';
import { importJobModule, loadJob } from '../graph/index.js';
import type { KeyedStateBackend } from '../state/api.js';
import type { MasterMessage, SlotDeployment, SubtaskDeployment, SubtaskMessage, WarmUp } from './deployment.js';
import { TaskFailure } from './operators.js';
import { createStateBackend } from './state-backend.js';
import { SlotThread } from './slot-yield.js';
import { StreamTask } from './stream-task.js';

/** The subtask's last word; a non-recoverable error (findUserError) anywhere in the cause chain is sent as `userError`. */
function finalMessage(error: unknown): SubtaskMessage {
  if (error instanceof TaskFailure) return { type: 'failed', failure: error.failure };
  const userError = findUserError(error);
  const { name, message, stack } = describeThrown(userError ?? error);
  return { type: 'error', name, message, stack, userError: userError !== undefined };
}

/**
 * Loads the job module into this thread's module cache and returns (runtime/subtask-pool.ts
 * warms threads with it). A module loaded through tsx is not cached across imports: only
 * the engine is warmed then. Errors reach nobody: the subtask that lands here reports them.
 */
async function warmUp(w: WarmUp): Promise<{ warmed: string }> {
  if (w.importUrl !== w.moduleUrl || !/\.(c|m)?tsx?$/.test(new URL(w.moduleUrl).pathname)) {
    if (w.importUrl !== w.moduleUrl) process.setSourceMapsEnabled(true);
    await importJobModule(w.importUrl);
  }
  return { warmed: w.moduleUrl };
}

export default async function runTask(task: SlotDeployment | WarmUp): Promise<{ slot: string; subtasks: string[] } | { warmed: string }> {
  return 'warmUp' in task ? warmUp(task) : runSlot(task);
}

/**
 * Runs the slot's subtasks concurrently and returns once every one has ended. Each reports
 * its own end on its control port; a failed subtask does not end the others (the job
 * master cancels them), so the task itself never rejects: only the thread's death does,
 * which fails every subtask of the slot.
 */
async function runSlot(slot: SlotDeployment): Promise<{ slot: string; subtasks: string[] }> {
  const thread = new SlotThread();
  const ended = await Promise.allSettled(slot.subtasks.map((d) => runSubtask(d, thread)));
  return { slot: slot.slot, subtasks: ended.map((e) => (e.status === 'fulfilled' ? e.value.subtask : `failed: ${String(e.reason)}`)) };
}

async function runSubtask(d: SubtaskDeployment, slot: SlotThread): Promise<{ subtask: string }> {
  const post = (message: SubtaskMessage): void => d.port.postMessage(message);
  let task: StreamTask | undefined;
  // Mails that arrive while the job module loads wait here for the task.
  const early: MasterMessage[] = [];
  const onMessage = (message: MasterMessage): void => {
    if (task === undefined) early.push(message);
    else task.control(message);
  };
  d.port.on('message', onMessage);
  let backend: KeyedStateBackend | undefined;
  try {
    // The main thread loaded this module before deploying, so a failure here is not the
    // user's mistake (e.g. the thread was terminated while importing): a plain Error, which
    // the restart strategy may retry, unlike a UsageError.
    const { plan, graph, job } = await loadJob(d.moduleUrl, d.args, {
      defaultParallelism: d.defaultParallelism,
      maxParallelism: d.maxParallelism,
      restoredMaxParallelism: d.restoredMaxParallelism,
      parameters: d.jobParameters,
      info: d.jobInfo,
      importUrl: d.importUrl,
    }).catch((error: unknown) => {
      throw new Error(`A worker could not load the job module: ${(error as Error).message}`, { cause: error });
    });
    if (plan.fingerprint() !== d.planFingerprint) {
      throw new Error(
        `The job module ${d.moduleUrl} built a different plan in a worker than in the main thread: job definitions must be deterministic (no randomness, time or main-thread values in defineJob: use env.getJobParameters() and env.getJobInfo().seed / .startTime)`,
      );
    }
    const vertex = graph.vertices[d.vertex]!;
    backend = createStateBackend(d, graph.nodes[vertex.head]!.maxParallelism);
    task = new StreamTask(graph, d, backend, post, job, slot);
    for (const mail of early.splice(0)) task.control(mail);
    // The modules are loaded: from here a terminated thread is an ordinary subtask failure.
    post({ type: 'running', threadId });
    await task.run();
    post({ type: 'finished', committables: task.finalCommittables });
    return { subtask: `${vertex.name} (${d.subtaskIndex + 1}/${vertex.parallelism})` };
  } catch (error) {
    post(finalMessage(error));
    throw error;
  } finally {
    d.port.off('message', onMessage);
    d.port.close();
    await backend?.close();
  }
}

/**
 * `sluice list` and `sluice cancel` over the control sockets of running jobs (see
 * control-socket.ts): `info` asks a job for its listing, `cancel` makes it cancel and
 * answers CANCELLING; the client then waits for the socket to stop answering (the job has
 * ended CANCELED). Flink: `flink list`, `flink cancel <jobId>`.
 */
import fs from 'node:fs';
import path from 'node:path';
import net from 'node:net';
import { UsageError } from '../errors.js';
import { connectRunning, exchange } from './control-socket.js';
import type { JobListing } from './control-socket.js';

function checkDir(checkpointDir: string): string {
  const dir = path.resolve(checkpointDir);
  if (fs.statSync(dir, { throwIfNoEntry: false })?.isDirectory() !== true) {
    throw new UsageError(`Checkpoint directory ${dir} does not exist or is not a directory; pass the --checkpoint-dir of a running \`sluice run\``);
  }
  return dir;
}

/**
 * The running jobs under `checkpointDir` (those whose control socket answers), by job id.
 * @throws UsageError when `checkpointDir` is not a directory.
 */
export async function listRunningJobs(checkpointDir: string, timeoutMs = 10_000): Promise<JobListing[]> {
  const running = await connectRunning(checkDir(checkpointDir), undefined);
  const listings: JobListing[] = [];
  for (const { candidate, socket } of running) {
    const response = await exchange(socket, { command: 'info' }, candidate.jobId, timeoutMs).catch((e: Error) => ({ ok: false as const, error: e.message }));
    if (response.ok && 'info' in response) listings.push(response.info);
    else listings.push({ jobId: candidate.jobId, name: '', state: 'UNKNOWN', startTime: 0, parallelism: 0 });
  }
  return listings;
}

/** Whether a socket still answers at `socketPath`. */
function answers(socketPath: string): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect(socketPath);
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

/**
 * Cancels the running job under `checkpointDir` (`jobId` to choose among several) and
 * resolves with its id once its control socket no longer answers (the job has ended), or
 * rejects after `waitMs`. @throws UsageError when no job runs there, or several and no `jobId`.
 */
export async function cancelRunningJob(checkpointDir: string, jobId: string | undefined, waitMs = 60_000): Promise<{ jobId: string }> {
  const dir = checkDir(checkpointDir);
  const running = await connectRunning(dir, jobId);
  if (running.length === 0) throw new UsageError(`No running ${jobId === undefined ? 'job' : `job ${jobId}`} in ${dir}: no control socket answers (nothing to cancel)`);
  if (running.length > 1) {
    for (const r of running) r.socket.destroy();
    throw new UsageError(`Several jobs are running in ${dir}: ${running.map((r) => r.candidate.jobId).join(', ')}; pass --job <id> to choose one`);
  }
  const [{ candidate, socket }] = running as [(typeof running)[number]];
  const response = await exchange(socket, { command: 'cancel' }, candidate.jobId, 10_000);
  if (!response.ok) throw new Error(response.error);
  const deadline = Date.now() + waitMs;
  while (await answers(candidate.socketPath)) {
    if (Date.now() > deadline) throw new Error(`Job ${candidate.jobId} is still running ${waitMs} ms after the cancel`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  return { jobId: candidate.jobId };
}

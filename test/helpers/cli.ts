// Shared by the CLI tests: the built bin, the scenario job module, and main() with captured output.
import { spawn } from 'node:child_process';
import { main } from '../../src/cli/main.js';

/** The installed `sluice` entry (dist/src/cli/bin.js). */
export const bin = new URL('../../src/cli/bin.js', import.meta.url).pathname;
/** The job module of the engine test scenarios (test/jobs/scenarios.ts, built). */
export const scenarios = new URL('../jobs/scenarios.js', import.meta.url).pathname;

/** Runs `sluice <argv>` in this process; resolves with the exit code and what it wrote. */
export async function cli(argv: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const code = await main(argv, { out: (s) => (out += s), err: (s) => (err += s) });
  return { code, out, err };
}

/** A `sluice <argv>` child process: what it printed so far, and its exit code once it ends. */
export interface SluiceProcess {
  out(): string;
  err(): string;
  exit: Promise<number | null>;
  /** Sends `signal` (default SIGKILL: kill -9) to the process. */
  kill(signal?: NodeJS.Signals): void;
}

/** Spawns `node bin <argv>` (killed by `t.teardown` if still running). */
export function spawnSluice(t: { teardown(fn: () => void): void }, argv: string[]): SluiceProcess {
  const child = spawn(process.execPath, [bin, ...argv], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stdout.setEncoding('utf8').on('data', (d: string) => (out += d));
  child.stderr.setEncoding('utf8').on('data', (d: string) => (err += d));
  const exit = new Promise<number | null>((resolve) => child.on('close', resolve));
  t.teardown(() => child.kill('SIGKILL'));
  return { out: () => out, err: () => err, exit, kill: (signal = 'SIGKILL') => void child.kill(signal) };
}

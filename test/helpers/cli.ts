// Shared by the CLI tests: the built bin, the scenario job module, and main() with captured output.
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

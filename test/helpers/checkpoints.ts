// Shared by the checkpoint tests: temp folders, completed checkpoint ids, polling.
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** A fresh temp folder, removed by `t.teardown`. */
export function tempDir(t: { teardown(fn: () => void): void }, name: string): string {
  const dir = mkdtempSync(join(tmpdir(), `sluice-${name}-`));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** Ids of the completed checkpoints (chk-<n> with _metadata) of every job under `dir`. */
export function completedCheckpoints(dir: string): number[] {
  const ids: number[] = [];
  for (const job of existsSync(dir) ? readdirSync(dir) : []) {
    for (const name of readdirSync(join(dir, job))) {
      const m = /^chk-(\d+)$/.exec(name);
      if (m !== null && existsSync(join(dir, job, name, '_metadata'))) ids.push(Number(m[1]));
    }
  }
  return ids.sort((a, b) => a - b);
}

/** Polls `condition` every `everyMs` (default 50); false if it did not hold within `timeoutMs`. */
export async function waitFor(condition: () => boolean, timeoutMs: number, everyMs = 50): Promise<boolean> {
  const until = Date.now() + timeoutMs;
  while (Date.now() < until) {
    if (condition()) return true;
    await new Promise((resolve) => setTimeout(resolve, everyMs));
  }
  return false;
}

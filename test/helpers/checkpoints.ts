// Shared by the checkpoint tests: temp folders, completed checkpoint ids, polling.
import { closeSync, existsSync, mkdtempSync, openSync, readdirSync, readSync, rmSync, writeSync } from 'node:fs';
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

/** Flips every bit of the byte at `offset` of `file` (damage a checkpoint file in place). */
export function flipByte(file: string, offset: number): void {
  const fd = openSync(file, 'r+');
  try {
    const byte = Buffer.alloc(1);
    readSync(fd, byte, 0, 1, offset);
    byte[0] = byte[0]! ^ 0xff;
    writeSync(fd, byte, 0, 1, offset);
  } finally {
    closeSync(fd);
  }
}

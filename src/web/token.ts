/**
 * The bearer token of a job's REST actions: 32 random bytes as 64 hex digits in
 * `<checkpointDir>/<jobId>/web-token`, created with mode 0600 (only the job's owner may
 * read it, as its control socket), replaced on each run, removed when the server closes.
 */
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';

export const webTokenFileName = 'web-token';

/** Writes a new token into `jobDir` (mkdir -p) and returns it. @throws the file system's error. */
export function writeWebToken(jobDir: string): string {
  const token = randomBytes(32).toString('hex');
  fs.mkdirSync(jobDir, { recursive: true });
  const file = path.join(jobDir, webTokenFileName);
  const tmp = `${file}.tmp`;
  fs.rmSync(tmp, { force: true });
  fs.writeFileSync(tmp, `${token}\n`, { mode: 0o600, flag: 'wx' });
  fs.renameSync(tmp, file);
  return token;
}

/** Reads the token of the job folder `jobDir`; undefined when there is none. */
export function readWebToken(jobDir: string): string | undefined {
  try {
    return fs.readFileSync(path.join(jobDir, webTokenFileName), 'utf8').trim();
  } catch {
    return undefined;
  }
}

export function removeWebToken(jobDir: string): void {
  fs.rmSync(path.join(jobDir, webTokenFileName), { force: true });
}

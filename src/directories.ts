/**
 * The check of a folder a job will write into (an output directory, the checkpoint or
 * savepoint directory), made in the main thread before any subtask is deployed: a path
 * mistake then ends the run with one line and exit 2, instead of failing a subtask that
 * every restart fails again. The check creates nothing (the writers create what is
 * missing) and runs as the process's user, so it sees the permissions they will meet.
 */
import { accessSync, constants, statSync } from 'node:fs';
import type { Stats } from 'node:fs';
import { dirname, resolve } from 'node:path';

/** stat, or the errno code (ENOENT, EACCES, ...) it failed with. */
function statOrCode(path: string): Stats | string {
  try {
    return statSync(path);
  } catch (error) {
    return (error as NodeJS.ErrnoException).code ?? (error as Error).message;
  }
}

/** Undefined when this process may create and delete names in the folder `dir`, else the errno code. */
function notWritable(dir: string): string | undefined {
  try {
    accessSync(dir, constants.W_OK | constants.X_OK);
    return undefined;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code ?? (error as Error).message;
  }
}

const describeNonDirectory = (stats: Stats): string => (stats.isFile() ? 'is a file, not a directory' : 'is not a directory');

/**
 * What stops this process from writing files into the folder `dir`, as the end of a
 * sentence that starts with the path (`is a file, not a directory`, `is not writable
 * (EACCES)`, `cannot be created: /a/b is a file, not a directory`, ...), or undefined when
 * nothing does. A missing folder is fine when its nearest existing ancestor is a
 * writable folder (it can be created). Never creates anything.
 */
export function directoryProblem(dir: string): string | undefined {
  const absolute = resolve(dir);
  const stats = statOrCode(absolute);
  if (typeof stats !== 'string') {
    if (!stats.isDirectory()) return describeNonDirectory(stats);
    const code = notWritable(absolute);
    return code === undefined ? undefined : `is not writable (${code})`;
  }
  // ENOTDIR: a component of the path is a file; found below as the nearest existing ancestor.
  if (stats !== 'ENOENT' && stats !== 'ENOTDIR') return `cannot be read (${stats})`;
  for (let ancestor = dirname(absolute); ; ancestor = dirname(ancestor)) {
    const found = statOrCode(ancestor);
    if (found === 'ENOENT' || found === 'ENOTDIR') {
      if (dirname(ancestor) === ancestor) return undefined; // the root is missing: let the writer report it
      continue;
    }
    if (typeof found === 'string') return `cannot be created: ${ancestor} cannot be read (${found})`;
    if (!found.isDirectory()) return `cannot be created: ${ancestor} ${describeNonDirectory(found)}`;
    const code = notWritable(ancestor);
    return code === undefined ? undefined : `cannot be created: ${ancestor} is not writable (${code})`;
  }
}

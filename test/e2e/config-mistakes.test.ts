// Configuration mistakes and failures that no restart can fix, through `sluice run` as a
// user meets them: exit 2, one line on stderr naming the path or the mistake and what to
// do, and no restart, although the restart strategy would allow 1000 (a restart would
// print a `sluice: restarting` line, and 1000 of them take minutes).
//
// Permission cases need a user whom permissions bind. Run as root (as in CI containers),
// those runs are made as the user nobody (uid 65534); if nobody cannot run the built CLI
// from this checkout, they are skipped with the reason.
import t from 'tap';
import { spawn, spawnSync } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { bin } from '../helpers/cli.js';

const job = new URL('../jobs/config-mistakes.js', import.meta.url).pathname;
const engineArgs = ['run', '-p', '2', '--no-progress', '--restart-strategy', 'fixed-delay:attempts=1000,delay=10ms'];
/** A run that restarted even a few times would take far longer (each attempt deploys again). */
const quickMs = 30_000;
const nobody = 65534;
/**
 * `node <args>` as another user: through `env -u NODE_OPTIONS`, without the test runner's
 * hook, which writes into this checkout's .tap/ at exit (denied to nobody: a stack trace).
 * The runner puts NODE_OPTIONS back into any environment given to spawn, hence env(1).
 */
const asOtherUser = (args: string[]): [string, string[]] => ['env', ['-u', 'NODE_OPTIONS', process.execPath, ...args]];

/** Who runs `sluice` for the permission cases: this process's user, or nobody when that is root. */
function permissionRunner(): { uid?: number; skip: string | false } {
  if (process.getuid?.() !== 0) return { skip: false };
  const probe = spawnSync(...asOtherUser([bin, 'run', '--help']), { uid: nobody, gid: nobody, stdio: 'ignore' });
  return probe.status === 0 ? { uid: nobody, skip: false } : { skip: `running as root and the user nobody cannot run ${bin}` };
}
const runner = permissionRunner();

const root = mkdtempSync(join(tmpdir(), 'sluice-mistakes-'));
chmodSync(root, 0o755); // the user nobody must reach the folders below
t.teardown(() => {
  for (const dir of ['in-locked', 'out-locked']) chmodSync(join(root, dir), 0o755);
  rmSync(root, { recursive: true, force: true });
});
writeFileSync(join(root, 'words.txt'), 'a b c\n');
writeFileSync(join(root, 'a-file'), 'not a directory\n');
mkdirSync(join(root, 'in-locked'));
writeFileSync(join(root, 'in-locked', 'words.txt'), 'a b c\n');
chmodSync(join(root, 'in-locked'), 0o000);
mkdirSync(join(root, 'out-locked'));
chmodSync(join(root, 'out-locked'), 0o555);
mkdirSync(join(root, 'out'));
chmodSync(join(root, 'out'), 0o777); // outputs of the runs whose input is the mistake

interface Run {
  code: number | null;
  err: string;
  ms: number;
}

/** Starts `sluice <argv>` at once (the runs go on side by side); resolves when it has ended. */
function sluice(argv: string[], uid?: number): Promise<Run> {
  const started = performance.now();
  const [command, args] = uid === undefined ? [process.execPath, [bin, ...argv]] : asOtherUser([bin, ...argv]);
  const child = spawn(command, args, { cwd: root, stdio: ['ignore', 'ignore', 'pipe'], ...(uid === undefined ? {} : { uid, gid: uid }) });
  let err = '';
  child.stderr.setEncoding('utf8').on('data', (d: string) => (err += d));
  t.teardown(() => void child.kill('SIGKILL'));
  return new Promise((resolve) => child.on('close', (code) => resolve({ code, err, ms: performance.now() - started })));
}

const cases: Array<{ name: string; argv: string[]; line: string; permissions?: boolean }> = [
  {
    name: 'an output directory that is a file',
    argv: [...engineArgs, job, 'copy', join(root, 'words.txt'), join(root, 'a-file')],
    line: `sluice: Output directory ${join(root, 'a-file')} is a file, not a directory: give the job a directory it can write into`,
  },
  {
    name: 'an output directory below a file',
    argv: [...engineArgs, job, 'copy', join(root, 'words.txt'), join(root, 'a-file', 'out')],
    line: `sluice: Output directory ${join(root, 'a-file', 'out')} cannot be created: ${join(root, 'a-file')} is a file, not a directory: give the job a directory it can write into`,
  },
  {
    name: 'a checkpoint directory that is a file',
    argv: [...engineArgs, '--checkpoint-dir', join(root, 'a-file'), '--checkpoint-interval', '100', job, 'copy', join(root, 'words.txt'), join(root, 'out', 'ck')],
    line: `sluice: Checkpoint directory ${join(root, 'a-file')} is a file, not a directory: pass a writable directory with --checkpoint-dir`,
  },
  {
    name: '--resume with a checkpoint directory that is a file',
    argv: [...engineArgs, '--resume', '--checkpoint-dir', join(root, 'a-file'), job, 'copy', join(root, 'words.txt'), join(root, 'out', 'resume')],
    line: `sluice: Checkpoint directory ${join(root, 'a-file')} is a file, not a directory: pass a writable directory with --checkpoint-dir`,
  },
  {
    name: 'an output directory that is not writable',
    argv: [...engineArgs, job, 'copy', join(root, 'words.txt'), join(root, 'out-locked')],
    line: `sluice: Output directory ${join(root, 'out-locked')} is not writable (EACCES): give the job a directory it can write into`,
    permissions: true,
  },
  {
    name: 'an input directory that cannot be listed',
    argv: [...engineArgs, job, 'copy', join(root, 'in-locked'), join(root, 'out', '1')],
    line: `sluice: Input directory ${join(root, 'in-locked')} cannot be listed (EACCES): check its permissions`,
    permissions: true,
  },
  {
    name: 'a monitored input directory that cannot be listed',
    argv: [...engineArgs, job, 'copy', join(root, 'in-locked'), join(root, 'out', '2'), 'monitor'],
    line: `sluice: Monitored input ${join(root, 'in-locked')} cannot be listed (EACCES): check its permissions`,
    permissions: true,
  },
  {
    name: "a UsageError thrown in a user source reader's start()",
    argv: [...engineArgs, job, 'source-start'],
    line: 'sluice: Topic "orders" does not exist: create it or fix the source configuration',
  },
  {
    name: "a UsageError wrapped as the cause of the error a user sink's createWriter() throws",
    argv: [...engineArgs, job, 'sink-writer'],
    line: 'sluice: Table "ledger" does not exist: create it before running the job',
  },
  {
    name: 'an error of a user class marked userError, thrown by a map function',
    argv: [...engineArgs, job, 'map-marked'],
    line: 'sluice: Account 42 has no currency: fix the accounts table',
  },
];

// Every run starts now; each test awaits its own.
const runs = cases.map((c) => (c.permissions === true && runner.skip !== false ? undefined : sluice(c.argv, c.permissions === true ? runner.uid : undefined)));

cases.forEach((c, i) => {
  t.test(`${c.name}: exit 2, one line, no restart`, { skip: c.permissions === true ? runner.skip : false }, async (t) => {
    const run = await runs[i]!;
    t.equal(run.code, 2, 'exit code 2');
    t.equal(run.err, `${c.line}\n`, 'stderr is exactly one line (no restart, no stack trace)');
    t.ok(run.ms < quickMs, `ended after ${Math.round(run.ms)} ms`);
  });
});

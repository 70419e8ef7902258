// `sluice list` and `sluice cancel` against a real `sluice run --web-port` process, and the
// web options' bad input: a port in use, a --web-host that is not an address, web options
// without --web-port, `sluice cancel` with nothing running.
import t from 'tap';
import net from 'node:net';
import path from 'node:path';
import { listRunningJobs } from '../../src/runtime/index.js';
import { tempDir, waitFor } from '../helpers/checkpoints.js';
import { cli, spawnSluice } from '../helpers/cli.js';
import { request } from '../helpers/http.js';
import { pacedCountsJob } from '../helpers/paced-counts.js';

t.test('sluice list shows the running job with its dashboard URL; sluice cancel ends it CANCELED, exit 130', async (t) => {
  const ck = tempDir(t, 'list-ck');
  const job = spawnSluice(t, ['run', '--parallelism', '2', '--checkpoint-dir', ck, '--web-port', '0', pacedCountsJob, '--count', '100000000', '--keys', '4', '--output', tempDir(t, 'list-out'), '--rate', '2000']);
  let running: Awaited<ReturnType<typeof listRunningJobs>> = [];
  const found = await waitFor(() => {
    void listRunningJobs(ck).then((jobs) => (running = jobs), () => {});
    return running.length === 1 && running[0]!.state === 'RUNNING' && running[0]!.webUrl !== undefined;
  }, 60_000, 200);
  t.ok(found, `the job is listed as RUNNING with a URL (stderr: ${job.err().slice(0, 300)})`);
  const [listing] = running;
  t.match(listing, { name: 'paced-counts', state: 'RUNNING', parallelism: 2, webUrl: /^http:\/\/127\.0\.0\.1:\d+$/, startTime: Number });
  t.match(job.err(), new RegExp(`REST API and metrics at ${listing!.webUrl!.replace(/\./g, '\\.')}`), 'sluice run prints the URL');

  const table = await cli(['list', ck]);
  t.equal(table.code, 0);
  const lines = table.out.trimEnd().split('\n');
  t.match(lines[0], /^job id\s+name\s+state\s+start time\s+parallelism\s+dashboard$/);
  t.match(lines[1], new RegExp(`^${listing!.jobId}\\s+paced-counts\\s+RUNNING\\s+\\d{4}-\\d\\d-\\d\\dT\\S+\\s+2\\s+${listing!.webUrl!.replace(/\./g, '\\.')}$`));
  t.same(JSON.parse((await cli(['list', ck, '--json'])).out), [listing]);
  t.equal((await request(`${listing!.webUrl}/jobs/${listing!.jobId}`)).json.state, 'RUNNING', 'the listed URL serves the job');

  const cancel = await cli(['cancel', ck]);
  t.same(cancel, { code: 0, out: `Job ${listing!.jobId} cancelled (state CANCELED)\n`, err: '' });
  t.equal(await job.exit, 130, 'the job process exits 130');
  t.match(job.err(), /cancelled \(state CANCELED\)/);
  t.same(await cli(['list', ck]), { code: 0, out: `No running jobs in ${path.resolve(ck)}\n`, err: '' });
  const again = await cli(['cancel', ck]);
  t.equal(again.code, 2, 'nothing to cancel: exit 2');
  t.equal(again.err, `sluice: No running job in ${path.resolve(ck)}: no control socket answers (nothing to cancel)\n`);
});

t.test('bad web input: a port in use, a host that is not an address, web options without a port', async (t) => {
  const blocker = net.createServer();
  await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
  t.teardown(() => blocker.close());
  const port = (blocker.address() as net.AddressInfo).port;
  const args = [pacedCountsJob, '--count', '10', '--keys', '2', '--output', tempDir(t, 'bad-out')];
  const inUse = await cli(['run', '--web-port', String(port), ...args]);
  t.equal(inUse.code, 2);
  t.equal(inUse.err, `sluice: Web port ${port} is in use on 127.0.0.1: choose another --web-port (0 picks a free one)\n`);
  const badHost = await cli(['run', '--web-port', '0', '--web-host', 'not an address', ...args]);
  t.same(badHost, { code: 2, out: '', err: 'sluice: --web-host must be an IP address (e.g. 127.0.0.1, ::1, 0.0.0.0) or localhost, got "not an address"\n' });
  const noPort = await cli(['run', '--web-allow-actions', ...args]);
  t.same(noPort, { code: 2, out: '', err: 'sluice: --web-allow-actions needs --web-port: the port to serve the REST API on\n' });
  const badRefresh = await cli(['run', '--web-port', '0', '--web-refresh-interval', '500', ...args]);
  t.equal(badRefresh.code, 2);
  t.match(badRefresh.err, /--web-refresh-interval must be an integer from 1000 to 3600000, got "500"/);
  const refreshNoPort = await cli(['run', '--web-refresh-interval', '2000', ...args]);
  t.same(refreshNoPort, { code: 2, out: '', err: 'sluice: --web-refresh-interval needs --web-port: the port to serve the REST API on\n' });
  const badPort = await cli(['run', '--web-port', '70000', ...args]);
  t.equal(badPort.code, 2);
  t.match(badPort.err, /--web-port must be an integer from 0 to 65535, got "70000"/);
});

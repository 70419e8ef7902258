// Who the REST API answers and who may act: the Host guard (DNS rebinding), the Origin
// guard (cross-site POSTs), and permission (read-only by default; the token or
// --web-allow-actions to act). Unit cases on the guard functions, then a real job.
import t from 'tap';
import fs from 'node:fs';
import path from 'node:path';
import { runJob } from '../../src/index.js';
import { actionProblem, hostProblem, originProblem, servedHosts } from '../../src/web/guards.js';
import { tempDir, waitFor } from '../helpers/checkpoints.js';
import { request } from '../helpers/http.js';
import { pacedCountsJob } from '../helpers/paced-counts.js';

t.test('the guard functions: served hosts on the port, same-origin only, token compared exactly', async (t) => {
  const config = { hosts: servedHosts('127.0.0.1'), port: 8081, allowActions: false, token: 'abc123' };
  for (const host of ['127.0.0.1:8081', 'localhost:8081', 'LOCALHOST:8081', '[::1]:8081']) t.equal(hostProblem(config, host), undefined, `${host} served`);
  for (const host of ['evil.example:8081', '127.0.0.1:9999', '127.0.0.1', 'evil.example', '', '127.0.0.1:8081:1']) t.match(hostProblem(config, host), /Host|no Host/, `${host} refused`);
  t.match(hostProblem(config, undefined), /no Host header/);
  t.equal(hostProblem({ ...config, hosts: servedHosts('0.0.0.0') }, '0.0.0.0:8081'), undefined, 'the bound address is served');
  const lan = { eth0: [{ address: '192.168.1.20', netmask: '255.255.255.0', family: 'IPv4', mac: '00:00:00:00:00:00', internal: false, cidr: null }] } as never;
  t.equal(hostProblem({ ...config, hosts: servedHosts('0.0.0.0', lan) }, '192.168.1.20:8081'), undefined, 'bound to every interface: each interface address is served');
  t.match(hostProblem({ ...config, hosts: servedHosts('127.0.0.1', lan) }, '192.168.1.20:8081'), /not served/, 'bound to loopback: not the LAN address');
  t.equal(originProblem(config, undefined, undefined), undefined, 'no Origin (curl): passes to the permission check');
  t.equal(originProblem(config, 'http://localhost:8081', 'same-origin'), undefined);
  t.match(originProblem(config, 'http://evil.example', undefined), /another site/);
  t.match(originProblem(config, 'http://127.0.0.1:9999', undefined), /another site/);
  t.match(originProblem(config, 'null', undefined), /not a URL/);
  t.match(originProblem(config, undefined, 'cross-site'), /cross-site/);
  t.match(actionProblem(config, undefined), /need permission/);
  t.match(actionProblem(config, 'Bearer abc124'), /token is wrong/);
  t.match(actionProblem(config, 'Bearer abc12'), /token is wrong/);
  t.equal(actionProblem(config, 'Bearer abc123'), undefined);
  t.equal(actionProblem({ ...config, allowActions: true }, undefined), undefined);
  t.match(actionProblem({ ...config, token: undefined }, 'Bearer abc123'), /--web-allow-actions/);
});

t.test('against a running job: bad Host refused, cross-site POST refused, actions need the token', async (t) => {
  const ck = tempDir(t, 'guard-ck');
  const handle = runJob(pacedCountsJob, {
    parallelism: 1,
    checkpointDir: ck,
    webPort: 0,
    args: ['--count', '100000000', '--keys', '4', '--output', tempDir(t, 'guard-out'), '--rate', '2000'],
  });
  handle.result.catch(() => {});
  t.teardown(async () => {
    handle.cancel();
    await handle.result.catch(() => {});
  });
  t.ok(await waitFor(() => handle.webUrl() !== undefined, 30_000));
  const url = handle.webUrl()!;
  const port = new URL(url).port;
  const jobs = `${url}/jobs/${handle.jobId}`;
  // The server listens before the job module has loaded (INITIALIZING): wait until it runs.
  t.ok(await waitFor(() => handle.observed.state() === 'RUNNING', 60_000), 'the job runs');

  const rebound = await request(jobs, { headers: { host: `evil.example:${port}` } });
  t.equal(rebound.status, 403, 'a rebound name is refused');
  t.match(rebound.json.errors[0], /not served here/);
  t.equal((await request(jobs, { headers: { host: `localhost:${port}` } })).status, 200, 'localhost is served');

  const crossSite = await request(`${jobs}/cancel`, { method: 'POST', headers: { origin: 'http://evil.example' } });
  t.equal(crossSite.status, 403, 'a cross-site POST is refused');
  t.match(crossSite.json.errors[0], /another site/);
  const noToken = await request(`${jobs}/cancel`, { method: 'POST' });
  t.equal(noToken.status, 401, 'read-only by default');
  t.match(noToken.json.errors[0], /need permission/);
  const wrongToken = await request(`${jobs}/cancel`, { method: 'POST', headers: { authorization: 'Bearer 00' } });
  t.equal(wrongToken.status, 401);
  const token = fs.readFileSync(path.join(ck, handle.jobId, 'web-token'), 'utf8').trim();
  const crossWithToken = await request(`${jobs}/cancel`, { method: 'POST', headers: { authorization: `Bearer ${token}`, origin: 'http://evil.example' } });
  t.equal(crossWithToken.status, 403, 'the token does not let another site act');
  const badTarget = await request(`${jobs}/savepoints`, { method: 'POST', headers: { authorization: `Bearer ${token}` }, body: { 'target-directory': 'relative/dir' } });
  t.equal(badTarget.status, 400);
  t.match(badTarget.json.errors[0], /absolute folder path/);
  const notJson = await request(`${jobs}/savepoints`, { method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, body: undefined });
  t.equal(notJson.status, 400, 'an empty JSON body is a 400, not a crash');
  t.match(notJson.json, { errors: [String] });
  t.equal((await request(jobs)).json.state, 'RUNNING', 'nothing so far stopped the job');
  t.equal(handle.observed.state(), 'RUNNING');
  const allowed = await request(`${jobs}/cancel`, { method: 'POST', headers: { authorization: `Bearer ${token}`, origin: url } });
  t.equal(allowed.status, 202, 'same-origin with the token may cancel');
  await t.rejects(handle.result, { name: 'JobCancelledError' });
});

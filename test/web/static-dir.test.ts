// The web server's hook for the dashboard: with a static folder, `/` serves its
// index.html and other files by path, never a file outside it; without one, `/` is a JSON
// pointer to the API. Against a server over a stand-in job that is still loading. And the
// twin guard that keeps a running job's token file.
import t from 'tap';
import fs from 'node:fs';
import path from 'node:path';
import { JobHistory } from '../../src/metrics/index.js';
import type { ObservedJob } from '../../src/metrics/index.js';
import { startWebServer } from '../../src/web/index.js';
import { refuseTwin } from '../../src/runtime/observed-run.js';
import { CheckpointStatsTracker, ControlServer, controlSocketPath } from '../../src/runtime/index.js';
import { tempDir } from '../helpers/checkpoints.js';
import { request } from '../helpers/http.js';

function loadingJob(): ObservedJob {
  const history = new JobHistory(Date.now());
  const refuse = (): Promise<string> => Promise.reject(new Error('not running'));
  return { jobId: 'job-1', name: 'loading', history, jobDir: undefined, metrics: () => ({ elapsedMs: 0, operators: [], subtasks: [] }), checkpointStats: new CheckpointStatsTracker(), state: () => history.state(undefined), graph: () => undefined, slots: () => 0, savepoint: refuse, stop: refuse, cancel: () => {} };
}

t.test('a static folder is served at /, nothing outside it', async (t) => {
  const root = tempDir(t, 'static');
  fs.writeFileSync(path.join(root, 'index.html'), '<h1>dashboard</h1>');
  fs.mkdirSync(path.join(root, 'assets'));
  fs.writeFileSync(path.join(root, 'assets', 'app.js'), 'console.log(1)');
  fs.writeFileSync(path.join(path.dirname(root), `${path.basename(root)}-secret.txt`), 'secret');
  t.teardown(() => fs.rmSync(path.join(path.dirname(root), `${path.basename(root)}-secret.txt`), { force: true }));
  const server = await startWebServer(loadingJob(), { port: 0, staticDir: root });
  t.teardown(() => server.close());
  const index = await request(`${server.url}/`);
  t.equal(index.status, 200);
  t.match(index.headers['content-type'], /^text\/html/);
  t.equal(index.text, '<h1>dashboard</h1>');
  t.match((await request(`${server.url}/assets/app.js`)).headers['content-type'], /^text\/javascript/);
  for (const escape of [`/../${path.basename(root)}-secret.txt`, `/%2e%2e/${path.basename(root)}-secret.txt`, '/assets/../../etc/passwd']) {
    const answer = await request(server.url, { rawPath: escape });
    t.not(answer.text, 'secret', `${escape} does not leave the folder`);
    t.equal(answer.status, 404, `${escape}: 404`);
  }
  t.equal((await request(`${server.url}/jobs/job-1`)).json.state, 'INITIALIZING', 'the API still answers, the job loading');
  t.equal((await request(`${server.url}/jobs/job-1/plan`)).status, 503, 'no plan while loading');
});

t.test('without a static folder / points to the API; the server refuses actions on a token-less job unless allowed', async (t) => {
  const server = await startWebServer(loadingJob(), { port: 0 });
  t.teardown(() => server.close());
  t.same((await request(`${server.url}/`)).json, { dashboard: null, jobId: 'job-1', api: ['/overview', '/jobs', '/jobs/job-1', '/jobs/job-1/events', '/metrics'] });
  t.equal(server.token, undefined, 'no checkpoint folder: no token');
  const refused = await request(`${server.url}/jobs/job-1/cancel`, { method: 'POST' });
  t.equal(refused.status, 401);
  t.match(refused.json.errors[0], /--web-allow-actions/);
});

t.test('a second run of a job that runs elsewhere is refused before its web server touches the running one\'s token', async (t) => {
  const ck = tempDir(t, 'twin');
  const jobDir = path.join(ck, 'job-t');
  await refuseTwin(jobDir); // no folder yet: nothing runs
  const server = await ControlServer.listen(controlSocketPath(ck, 'job-t'), { savepoint: async () => '/x', stop: async () => '/x' });
  t.teardown(() => server.close());
  fs.writeFileSync(path.join(jobDir, 'web-token'), 'running-twin-token\n', { mode: 0o600 });
  await t.rejects(refuseTwin(jobDir), { name: 'UsageError', message: `Job job-t is already running in another process (its control socket in ${jobDir} answers); stop that process or use another checkpoint directory` });
  t.equal(fs.readFileSync(path.join(jobDir, 'web-token'), 'utf8'), 'running-twin-token\n', 'the token file is untouched');
  await server.close();
  await refuseTwin(jobDir); // its process ended: a stale socket file does not count
});

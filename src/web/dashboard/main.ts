/**
 * The dashboard of a running job (served at `/` by src/web/server.ts): reads Flink's REST
 * API and follows the server-sent events of GET /jobs/:id/events (one `job` event per
 * refresh interval of GET /config, the JSON of GET /jobs/:id; an `end` event when the job
 * ends), updating the job
 * graph, the throughput charts, the subtask table, the checkpoints and the exceptions.
 * Plain DOM, no framework; bundled by scripts/build.mjs with esbuild.
 */
import 'uplot/dist/uPlot.min.css';
import './style.css';
import { getJson } from './api.js';
import type { CheckpointDetails, Checkpoints, DashboardConfig, Exceptions, JobDetails, Plan, VertexDetails } from './api.js';
import { drawActions } from './actions.js';
import type { ActionsView } from './actions.js';
import { drawCharts } from './charts.js';
import type { ChartsView } from './charts.js';
import { byId, fill, h, num } from './dom.js';
import { drawGraph } from './graph.js';
import type { GraphView } from './graph.js';
import { showCheckpoints, showExceptions, showSubtasks } from './tables.js';

/** Runs `task` unless the previous run is still in flight (readings come every second; a slow answer skips one). */
function single(task: () => Promise<void>): () => void {
  let running = false;
  return () => {
    if (running) return;
    running = true;
    task()
      .catch((e: Error) => console.warn(`dashboard: ${e.message}`))
      .finally(() => (running = false));
  };
}

async function start(): Promise<void> {
  const jobs = await getJson<{ jobs: Array<{ id: string }> }>('/jobs');
  const jobId = jobs.jobs[0]!.id;
  const config = await getJson<DashboardConfig>('/config');
  const actions: ActionsView = drawActions(byId('actions'), jobId, config);
  let graph: GraphView | undefined;
  let charts: ChartsView | undefined;
  let selected: string | undefined;
  let restarts = -1;
  const vertexNames = new Map<string, string>();
  let latest: JobDetails | undefined;
  const select = byId('vertex-select') as HTMLSelectElement;
  const choose = (vertexId: string): void => {
    selected = vertexId;
    select.value = vertexId;
    refreshSubtasks();
  };
  select.addEventListener('change', () => choose(select.value));

  const loadPlan = single(async () => {
    if (graph !== undefined) return;
    const plan = await getJson<Plan>(`/jobs/${jobId}/plan`);
    graph = drawGraph(byId('graph'), plan.plan.nodes, choose);
    charts = drawCharts(byId('charts'), plan.plan.nodes);
    for (const n of plan.plan.nodes) vertexNames.set(n.id, n.operators.map((o) => o.name).join(' → '));
    fill(select, ...plan.plan.nodes.map((n) => h('option', { value: n.id }, n.operators.map((o) => o.name).join(' → '))));
    if (plan.plan.nodes[0] !== undefined) choose(plan.plan.nodes[0].id);
    if (latest !== undefined) show(latest);
  });
  const refreshSubtasks = single(async () => {
    if (selected === undefined) return;
    showSubtasks(byId('subtasks'), await getJson<VertexDetails>(`/jobs/${jobId}/vertices/${selected}`));
  });
  const refreshCheckpoints = single(async () => {
    const loadDetails = (id: number): Promise<CheckpointDetails> => getJson<CheckpointDetails>(`/jobs/${jobId}/checkpoints/details/${id}`);
    showCheckpoints(byId('checkpoint-counts'), byId('checkpoints'), byId('checkpoint-details'), await getJson<Checkpoints>(`/jobs/${jobId}/checkpoints`), loadDetails, vertexNames);
  });
  const refreshExceptions = single(async () => {
    showExceptions(byId('exceptions'), latest?.numRestarts ?? 0, await getJson<Exceptions>(`/jobs/${jobId}/exceptions`));
  });

  const show = (d: JobDetails): void => {
    latest = d;
    document.title = `${d.name} · ${d.state} · sluicegate`;
    byId('job-name').textContent = d.name;
    const state = byId('job-state');
    state.textContent = d.state;
    state.setAttribute('class', `state state-${d.state.toLowerCase()}`);
    fill(byId('job-facts'), `job ${d.jid} · up ${num(d.duration / 1000, 1)} s · attempt ${d.attempt ?? '–'} · restarts ${d.numRestarts}`);
    if (graph === undefined) return loadPlan();
    graph.update(d);
    charts?.update(d);
    refreshSubtasks();
    refreshCheckpoints();
    if (d.numRestarts !== restarts) {
      restarts = d.numRestarts;
      refreshExceptions();
    }
  };

  // One event per refresh interval (Flink's web.refresh-interval, default 3 s).
  const events = new EventSource(`/jobs/${jobId}/events?interval=${config['refresh-interval']}`);
  events.addEventListener('job', (e) => show(JSON.parse((e as MessageEvent<string>).data) as JobDetails));
  events.addEventListener('end', (e) => {
    events.close();
    const { state } = JSON.parse((e as MessageEvent<string>).data) as { state: string };
    const el = byId('job-state');
    el.textContent = state;
    el.setAttribute('class', `state state-${state.toLowerCase()}`);
    actions.ended(state); // the server closes after this event: nothing more to fetch
  });
  events.addEventListener('error', () => {
    if (events.readyState === EventSource.CLOSED) byId('job-state').textContent = 'DISCONNECTED';
  });
}

start().catch((e: Error) => {
  const state = document.getElementById('job-state');
  if (state !== null) state.textContent = `ERROR: ${e.message}`;
});

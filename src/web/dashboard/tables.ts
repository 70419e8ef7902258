/** The dashboard's tables: subtasks of a vertex, checkpoint history and details, restarts and exceptions. */
import type { CheckpointDetails, CheckpointEntry, Checkpoints, Exceptions, VertexDetails } from './api.js';
import { bytes, fill, h, num, showTables, table, time } from './dom.js';

/** Per-subtask figures of one vertex, then its chain's operators with their latency (GET /jobs/:id/vertices/:vid). */
export function showSubtasks(el: HTMLElement, v: VertexDetails): void {
  showTables(
    el,
    {
      head: ['subtask', 'status', 'records in', 'records out', 'in/s', 'out/s', 'busy ms/s', 'idle ms/s', 'backpressured ms/s', 'backpressure', 'watermark'],
      rows: v.subtasks.map((st) => [
        st.subtask,
        st.status,
        num(st.metrics['read-records']),
        num(st.metrics['write-records']),
        num(st.rates.numRecordsInPerSecond),
        num(st.rates.numRecordsOutPerSecond),
        num(st.rates.busyTimeMsPerSecond),
        num(st.rates.idleTimeMsPerSecond),
        num(st.rates.backPressuredTimeMsPerSecond),
        h('span', { class: `bp-${st.backpressureLevel}` }, st.backpressureLevel),
        st.currentInputWatermark === null ? '–' : num(st.currentInputWatermark),
      ]),
      attrs: { class: 'subtasks' },
    },
    {
      head: ['operator', 'records in', 'records out', 'in/s', 'out/s', 'latency p50', 'p95', 'p99', 'p99.9', 'max', 'markers'],
      rows: v.operators.map((op) => {
        const l = op.latency;
        const ms = (x: number | undefined): string => (x === undefined ? '–' : `${num(x, 2)} ms`);
        return [op.name, num(op.numRecordsIn), num(op.numRecordsOut), num(op.numRecordsInPerSecond), num(op.numRecordsOutPerSecond), ms(l?.p50), ms(l?.p95), ms(l?.p99), ms(l?.p999), ms(l?.max), l === null ? '–' : num(l.count)];
      }),
      attrs: { class: 'operators' },
    },
  );
}

/**
 * Checkpoint counts and history, newest first; clicking a row shows its details in
 * `details`, then each vertex's acknowledgements from `loadDetails` (GET
 * .../checkpoints/details/:id; the server keeps the latest ten). `names` maps vertex ids to names.
 */
export function showCheckpoints(countsEl: HTMLElement, historyEl: HTMLElement, details: HTMLElement, c: Checkpoints, loadDetails: (id: number) => Promise<CheckpointDetails>, names: ReadonlyMap<string, string>): void {
  const restored = c.latest.restored;
  fill(
    countsEl,
    h('p', {}, `completed ${c.counts.completed} · failed ${c.counts.failed} · in progress ${c.counts.in_progress}`, restored === null ? '' : ` · restored from ${restored.is_savepoint ? 'savepoint' : 'checkpoint'} ${restored.id} at ${time(restored.restore_timestamp)}`),
  );
  // Rebuilt only when an entry came, went or changed (a refresh between checkpoints changes nothing).
  const shown = c.history.slice(0, 30);
  const signature = shown.map((e) => `${e.id}:${e.status}:${e.num_acknowledged_subtasks ?? ''}`).join(' ');
  if (historyEl.dataset['signature'] === signature) return;
  historyEl.dataset['signature'] = signature;
  const rows = shown.map((e) => {
    const row = h(
      'tr',
      { class: `checkpoint ${e.status.toLowerCase()}`, 'data-checkpoint-id': e.id, tabindex: 0 },
      h('td', {}, e.id),
      h('td', {}, e.status),
      h('td', {}, e.status === 'IN_PROGRESS' ? 'in progress' : time(e.latest_ack_timestamp ?? e.failure_timestamp)),
      h('td', {}, e.end_to_end_duration === undefined ? '–' : `${num(e.end_to_end_duration)} ms`),
      h('td', {}, e.checkpointed_size === undefined ? '–' : bytes(e.checkpointed_size)),
      h('td', {}, e.state_size === undefined ? '–' : bytes(e.state_size)),
    );
    row.addEventListener('click', () => {
      showCheckpoint(details, e);
      loadDetails(e.id).then(
        (d) => showCheckpointTasks(details, e.id, d, names),
        (error: Error) => details.dataset['checkpointId'] === String(e.id) && details.append(h('p', { class: 'empty' }, `per-vertex details: ${error.message}`)),
      );
    });
    return row;
  });
  fill(historyEl, rows.length === 0 ? h('p', { class: 'empty' }, 'no checkpoint yet') : h('table', { class: 'checkpoints' }, h('thead', {}, h('tr', {}, ...['id', 'status', 'completed', 'duration', 'checkpointed size', 'full size'].map((x) => h('th', {}, x)))), h('tbody', {}, ...rows)));
}

function showCheckpoint(el: HTMLElement, e: CheckpointEntry): void {
  const pairs: Array<[string, string]> =
    e.status === 'FAILED'
      ? [['failed at', time(e.failure_timestamp)], ['reason', e.failure_message ?? '–']]
      : e.status === 'IN_PROGRESS'
      ? [['triggered', time(e.trigger_timestamp)], ['subtasks acknowledged', `${e.num_acknowledged_subtasks ?? 0} / ${e.num_subtasks ?? 0}`]]
      : [
          ['triggered', time(e.trigger_timestamp)],
          ['completed', time(e.latest_ack_timestamp)],
          ['end to end', `${num(e.end_to_end_duration)} ms`],
          ['sync', `${num(e.sync_duration)} ms`],
          ['async', `${num(e.async_duration)} ms`],
          ['alignment', `${num(e.alignment_duration)} ms`],
          ['checkpointed size', bytes(e.checkpointed_size ?? 0)],
          ['full size', bytes(e.state_size ?? 0)],
          ['subtasks acknowledged', `${e.num_acknowledged_subtasks ?? 0} / ${e.num_subtasks ?? 0}`],
        ];
  el.dataset['checkpointId'] = String(e.id);
  fill(el, h('h3', {}, `Checkpoint ${e.id}`), h('dl', {}, ...pairs.flatMap(([k, v]) => [h('dt', {}, k), h('dd', {}, v)])));
}

/** Appends checkpoint `id`'s per-vertex acknowledgements, unless another checkpoint was opened meanwhile. */
function showCheckpointTasks(el: HTMLElement, id: number, d: CheckpointDetails, names: ReadonlyMap<string, string>): void {
  if (el.dataset['checkpointId'] !== String(id)) return;
  el.append(
    table(
      ['vertex', 'acknowledged', 'latest ack', 'end to end', 'checkpointed size', 'full size'],
      Object.entries(d.tasks).map(([vertexId, task]) => [
        names.get(vertexId) ?? vertexId,
        `${task.num_acknowledged_subtasks} / ${task.num_subtasks}`,
        task.latest_ack_timestamp < 0 ? '–' : time(task.latest_ack_timestamp),
        task.end_to_end_duration < 0 ? '–' : `${num(task.end_to_end_duration)} ms`,
        bytes(task.checkpointed_size),
        bytes(task.state_size),
      ]),
      { class: 'checkpoint-tasks' },
    ),
  );
}

/** The failure of each attempt, newest first, and the number of restarts. */
export function showExceptions(el: HTMLElement, restarts: number, x: Exceptions): void {
  const entries = x.exceptionHistory.entries;
  fill(
    el,
    h('p', {}, `restarts: ${restarts}`),
    entries.length === 0
      ? h('p', { class: 'empty' }, 'no exception')
      : h('ol', { class: 'exceptions' }, ...entries.map((e) => h('li', {}, h('div', {}, `${time(e.timestamp)} · attempt ${e.attempt} · ${e.restarted ? 'restarted' : 'not restarted'}`), h('pre', {}, e.stacktrace)))),
  );
}

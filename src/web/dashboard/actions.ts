/**
 * The cancel and savepoint buttons, through the REST actions (POST /jobs/:id/cancel,
 * POST /jobs/:id/savepoints then GET /jobs/:id/savepoints/:requestId). The page is served
 * from the server's own origin, so the browser's Origin and Sec-Fetch-Site pass the guard.
 * With `--web-allow-actions` the buttons act at once; otherwise the user pastes the job's
 * token (the web-token file of its checkpoint folder), sent as `Authorization: Bearer`;
 * without a checkpoint folder and without the option, the buttons are disabled with a note.
 */
import { getJson, postJson } from './api.js';
import type { DashboardConfig } from './api.js';
import { fill, h } from './dom.js';

export interface ActionsView {
  /** Disables the buttons once the job has ended. */
  ended(state: string): void;
}

export function drawActions(el: HTMLElement, jobId: string, config: DashboardConfig): ActionsView {
  const cancel = h('button', { id: 'cancel-button', type: 'button' }, 'Cancel job');
  const savepoint = h('button', { id: 'savepoint-button', type: 'button' }, 'Trigger savepoint');
  const status = h('span', { id: 'action-status', role: 'status' });
  const target = h('input', { id: 'savepoint-dir', type: 'text', placeholder: "savepoint folder (absolute; empty: the job's savepointDir)", size: 28 });
  const token = h('input', { id: 'token-input', type: 'password', placeholder: 'token (web-token file)', autocomplete: 'off', size: 20 });
  let over = false;
  target.disabled = config.actions === 'none';
  const tokenValue = (): string | undefined => (config.actions === 'token' ? token.value.trim() : undefined);
  const refresh = (): void => {
    const can = !over && (config.actions === 'allowed' || (config.actions === 'token' && token.value.trim() !== ''));
    cancel.disabled = !can;
    savepoint.disabled = !can;
  };
  token.addEventListener('input', refresh);
  cancel.addEventListener('click', () => {
    status.textContent = 'cancelling…';
    postJson(`/jobs/${jobId}/cancel`, undefined, tokenValue()).then(
      () => (status.textContent = 'cancel requested'),
      (e: Error) => (status.textContent = `cancel refused: ${e.message}`),
    );
  });
  savepoint.addEventListener('click', () => {
    status.textContent = 'savepoint…';
    const dir = target.value.trim();
    postJson<{ 'request-id': string }>(`/jobs/${jobId}/savepoints`, dir === '' ? {} : { 'target-directory': dir }, tokenValue()).then(
      (r) => void pollSavepoint(jobId, r['request-id'], status),
      (e: Error) => (status.textContent = `savepoint refused: ${e.message}`),
    );
  });
  const note =
    config.actions === 'allowed'
      ? null
      : config.actions === 'token'
        ? h('span', { class: 'note' }, 'paste the token of ', h('code', {}, `<checkpoint-dir>/${jobId}/web-token`), ' to act')
        : h('span', { class: 'note', id: 'actions-note' }, 'read-only: start the job with --web-allow-actions (webAllowActions) or a checkpoint directory (its token) to cancel or savepoint here');
  fill(el, config.actions === 'token' ? token : null, target, savepoint, cancel, note, status);
  refresh();
  return {
    ended(state) {
      over = true;
      refresh();
      status.textContent = `job ${state}`;
    },
  };
}

/** Follows a savepoint request until it completes (about every 500 ms, at most 10 minutes). */
async function pollSavepoint(jobId: string, requestId: string, status: HTMLElement): Promise<void> {
  const deadline = Date.now() + 600_000;
  while (Date.now() < deadline) {
    type Answer = { status: { id: string }; operation?: { location?: string; 'failure-cause'?: { 'stack-trace': string } } };
    const r = await getJson<Answer>(`/jobs/${jobId}/savepoints/${requestId}`).catch((e: Error): Answer => ({ status: { id: 'ERROR' }, operation: { 'failure-cause': { 'stack-trace': e.message } } }));
    if (r.status.id !== 'IN_PROGRESS') {
      const failure = r.operation?.['failure-cause'];
      status.textContent = failure === undefined ? `savepoint at ${r.operation?.location ?? '?'}` : `savepoint failed: ${failure['stack-trace']}`;
      return;
    }
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
  status.textContent = 'savepoint still in progress after 10 minutes';
}

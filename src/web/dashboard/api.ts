/** The REST API's shapes the dashboard reads (see src/web/flink-json.ts) and the requests it makes. */
import type { LatencySummary } from '../../metrics/latency.js';

export interface VertexRates {
  numRecordsInPerSecond: number;
  numRecordsOutPerSecond: number;
  numBytesInPerSecond?: number;
  numBytesOutPerSecond?: number;
  busyTimeMsPerSecond: number;
  idleTimeMsPerSecond: number;
  backPressuredTimeMsPerSecond: number;
  backpressureLevel: 'ok' | 'low' | 'high';
}

export interface VertexInfo {
  id: string;
  name: string;
  parallelism: number;
  status: string;
  metrics: Record<string, number | boolean>;
  rates: VertexRates;
}

export interface JobDetails {
  jid: string;
  name: string;
  state: string;
  'start-time': number;
  duration: number;
  now: number;
  numRestarts: number;
  attempt: number | null;
  vertices: VertexInfo[];
}

export interface PlanNode {
  id: string;
  parallelism: number;
  description: string;
  operators: Array<{ uid: string; name: string }>;
  inputs?: Array<{ num: number; id: string; ship_strategy: string }>;
}

export interface Plan {
  plan: { jid: string; name: string; nodes: PlanNode[] };
}

export interface SubtaskInfo {
  subtask: number;
  status: string;
  metrics: Record<string, number>;
  rates: Partial<VertexRates>;
  backpressureLevel: string;
  currentInputWatermark: number | null;
}

/** An operator's latency-marker figures, ms (REST `operators[].latency`; null without latency tracking). */
export type OperatorLatency = LatencySummary;

export interface OperatorInfo {
  uid: string;
  name: string;
  numRecordsIn: number;
  numRecordsOut: number;
  numRecordsInPerSecond: number;
  numRecordsOutPerSecond: number;
  latency: OperatorLatency | null;
}

export interface VertexDetails {
  id: string;
  name: string;
  operators: OperatorInfo[];
  subtasks: SubtaskInfo[];
}

export interface CheckpointEntry {
  id: number;
  status: string;
  trigger_timestamp?: number;
  latest_ack_timestamp?: number;
  failure_timestamp?: number;
  failure_message?: string;
  checkpointed_size?: number;
  state_size?: number;
  end_to_end_duration?: number;
  sync_duration?: number;
  async_duration?: number;
  alignment_duration?: number;
  num_subtasks?: number;
  num_acknowledged_subtasks?: number;
}

/** One vertex's part of a checkpoint (Flink's `TaskCheckpointStatistics`). */
export interface TaskCheckpoint {
  id: number;
  status: string;
  latest_ack_timestamp: number;
  checkpointed_size: number;
  state_size: number;
  end_to_end_duration: number;
  num_subtasks: number;
  num_acknowledged_subtasks: number;
}

/** GET /jobs/:id/checkpoints/details/:checkpointId (Flink's `CheckpointStatistics` with `tasks` by vertex id). */
export interface CheckpointDetails extends CheckpointEntry {
  tasks: Record<string, TaskCheckpoint>;
}

export interface Checkpoints {
  counts: { restored: number; total: number; in_progress: number; completed: number; failed: number };
  latest: { restored: { id: number; restore_timestamp: number; is_savepoint: boolean; external_path: string | null } | null };
  history: CheckpointEntry[];
}

export interface Exceptions {
  exceptionHistory: { entries: Array<{ exceptionName: string; stacktrace: string; timestamp: number; attempt: number; restarted: boolean }> };
}

export interface DashboardConfig {
  features: { 'web-cancel': boolean };
  /** allowed: no token needed; token: the job's web-token; none: actions are off. */
  actions: 'allowed' | 'token' | 'none';
  'refresh-interval': number;
}

/** GET `path` as JSON. @throws Error with the server's first error line on a non-2xx status. */
export async function getJson<T>(path: string): Promise<T> {
  const res = await fetch(path, { headers: { accept: 'application/json' } });
  const body = (await res.json().catch(() => undefined)) as (T & { errors?: string[] }) | undefined;
  if (!res.ok) throw new Error(body?.errors?.[0] ?? `GET ${path}: HTTP ${res.status}`);
  return body as T;
}

/** POST `path` (same origin: the browser sends the Origin the guard expects); `token` as a bearer token. */
export async function postJson<T>(path: string, body: unknown, token: string | undefined): Promise<T> {
  const headers: Record<string, string> = { accept: 'application/json' };
  if (token !== undefined && token !== '') headers.authorization = `Bearer ${token}`;
  if (body !== undefined) headers['content-type'] = 'application/json';
  const res = await fetch(path, { method: 'POST', headers, body: body === undefined ? null : JSON.stringify(body) });
  const answer = (await res.json().catch(() => undefined)) as (T & { errors?: string[] }) | undefined;
  if (!res.ok) throw new Error(answer?.errors?.[0] ?? `POST ${path}: HTTP ${res.status}`);
  return answer as T;
}

export { LatencyRegistry, LatencyReporter, OperatorLatency, defaultLatencyTrackingIntervalMs, latencyPostIntervalMs, latencyPendingMax, summarizeHistogram, systemLatencyClock, withLatency } from './latency.js';
export type { LatencyClock, LatencyReport, LatencySummary } from './latency.js';

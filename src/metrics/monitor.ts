/**
 * Samples a running job's metrics at a fixed period (default 1 s) and keeps the latest
 * reading with its rates, for every reader at once: REST responses, the server-sent
 * events stream and Prometheus scrapes all see rates over the same one-second windows
 * instead of each reader's own (which a scrape every 100 ms would make noisy). The timer
 * is unref'd: it never keeps the process alive.
 */
import type { JobMetrics } from '../runtime/index.js';
import type { ObservedJob } from './observed-job.js';
import { RateSampler } from './rates.js';
import type { JobRates } from './rates.js';

export interface MonitorReading {
  metrics: JobMetrics;
  rates: JobRates;
}

/** Period of the samples, ms: Flink's `MeterView` rates are per second too. */
export const monitorIntervalMs = 1000;

export class JobMonitor {
  private readonly sampler = new RateSampler(0);
  private reading: MonitorReading;
  private timer: NodeJS.Timeout | undefined;
  private readonly listeners = new Set<(reading: MonitorReading) => void>();

  constructor(
    private readonly job: ObservedJob,
    private readonly intervalMs = monitorIntervalMs,
  ) {
    this.reading = this.read();
  }

  start(): void {
    if (this.timer !== undefined) return;
    this.timer = setInterval(() => this.tick(), this.intervalMs);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer !== undefined) clearInterval(this.timer);
    this.timer = undefined;
  }

  /** Takes a reading now (also what the timer does) and tells the listeners. */
  tick(): MonitorReading {
    this.reading = this.read();
    for (const listener of this.listeners) listener(this.reading);
    return this.reading;
  }

  latest(): MonitorReading {
    return this.reading;
  }

  /** Calls `listener` after every reading; returns a function that unsubscribes. */
  subscribe(listener: (reading: MonitorReading) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  private read(): MonitorReading {
    const metrics = this.job.metrics();
    return { metrics, rates: this.sampler.sample(metrics) };
  }
}

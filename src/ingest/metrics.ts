// Ingest metrics on the shared registry: alerts by source and outcome, latency, alert queue depth (read on scrape).
import { Counter, Gauge, Histogram } from 'prom-client';
import { registry } from '../metrics.js';

export const alertsIngested = new Counter({
  name: 'sheriff_alerts_ingested_total',
  help: 'Alerts received per source and outcome (accepted, duplicate, refused, unauthorized, unavailable)',
  labelNames: ['source', 'outcome'] as const,
  registers: [registry],
});

export const ingestDuration = new Histogram({
  name: 'sheriff_ingest_duration_seconds',
  help: 'Time to authenticate, normalise, store and queue one webhook POST',
  labelNames: ['source'] as const,
  buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
  registers: [registry],
});

let depthSource: (() => Promise<number>) | undefined;

/** The server that owns the alert queue says how to read its depth; the gauge asks only when scraped. */
export function setQueueDepthSource(fn: (() => Promise<number>) | undefined): void {
  depthSource = fn;
}

new Gauge({
  name: 'sheriff_alert_queue_depth',
  help: 'Alert jobs waiting, delayed or active in the alerts queue (-1 when Redis cannot be read)',
  registers: [registry],
  async collect() {
    if (!depthSource) return;
    try {
      this.set(await depthSource());
    } catch {
      this.set(-1);
    }
  },
});

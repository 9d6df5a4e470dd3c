// The Prometheus registry every module registers its metrics on (served at GET /metrics).
import { Registry, collectDefaultMetrics } from 'prom-client';

export const registry = new Registry();
collectDefaultMetrics({ register: registry, prefix: 'sheriff_' });

// Wires the ingest half into a running sheriff: route plugins, and the normaliser `sheriff replay --source` uses.
import { Queue } from 'bullmq';
import type { FastifyPluginAsync } from 'fastify';
import type { Redis } from 'ioredis';
import type { NormalisedAlert, SourceName } from '../contracts/alert.js';
import { defaultInternalCidrs } from '../contracts/net.js';
import type { Config } from '../config.js';
import type { Logger } from '../log.js';
import { QUEUES } from '../queue/names.js';
import { alertRoutes } from '../api/routes/alerts.js';
import { ingestRoutes } from '../api/routes/ingest.js';
import { opsRoutes } from '../api/routes/ops.js';
import { compileInternal } from './common.js';
import { defaultDeviceLabels } from './alertmanager.js';
import { normaliseItems } from './index.js';
import { AlertStore } from './store.js';

export interface IngestWiring {
  config: Config;
  /** A fail-fast connection: when Redis is away the webhook answers 503 instead of hanging. */
  redis: Redis;
  log: Logger;
  workersUp: () => boolean | Promise<boolean>;
}

export function ingestPlugins(w: IngestWiring): { plugins: FastifyPluginAsync[]; store: AlertStore; close: () => Promise<void> } {
  const queue = new Queue(QUEUES.alerts, { connection: w.redis, prefix: w.config.redisPrefix });
  queue.on('error', () => undefined); // the connection reports Redis trouble (src/redis.ts); the route answers 503
  const store = new AlertStore(w.redis, w.config.redisPrefix, { retentionMs: w.config.ingest.retention, dedupeWindowMs: w.config.ingest.dedupeWindow });
  return {
    store,
    plugins: [
      ingestRoutes({ config: w.config, redis: w.redis, queue, log: w.log, store }),
      alertRoutes({ config: w.config, store }),
      opsRoutes({ redis: w.redis, workersUp: w.workersUp }),
    ],
    close: () => queue.close(),
  };
}

/** For offline replay of detector payloads: the same normalisers with the default internal ranges. */
export function normaliseForReplay(source: SourceName, payload: unknown, internal: readonly string[] = defaultInternalCidrs): NormalisedAlert[] {
  const batch = normaliseItems(source, [payload], {
    receivedAt: new Date().toISOString(),
    internal: compileInternal(internal),
    deviceLabels: defaultDeviceLabels,
  });
  if (!batch.alerts.length && batch.refused.length) throw new Error(batch.refused.map((r) => r.reason).join('; '));
  return batch.alerts.map((a) => a.alert);
}

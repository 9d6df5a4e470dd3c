// Test helper: a sheriff HTTP app with the ingest, alerts and ops routes on a private Redis key prefix.
import { readFileSync } from 'node:fs';
import { once } from 'node:events';
import { Queue } from 'bullmq';
import type { FastifyInstance } from 'fastify';
import type { Redis } from 'ioredis';
import { buildServer } from '../../src/api/server.js';
import { alertRoutes } from '../../src/api/routes/alerts.js';
import { ingestRoutes } from '../../src/api/routes/ingest.js';
import { opsRoutes } from '../../src/api/routes/ops.js';
import { parseConfig, type Config } from '../../src/config.js';
import { AlertStore } from '../../src/ingest/store.js';
import { createLogger } from '../../src/log.js';
import { QUEUES } from '../../src/queue/names.js';
import { requestConnection } from '../../src/redis.js';
import { dropPrefix, REDIS_URL, testPrefix, testRedis } from '../helpers/redis.js';

export const SECRET = 'darktrace-secret-0123456789abcdef';
export const TOKEN = 'suricata-token-0123456789abcdef';
export const VIEWER = 'viewer-token-0123456789abcdef';
export const FIXTURES = '/work/shared/fixtures/alerts';
export const fixture = (name: string) => readFileSync(`${FIXTURES}/${name}`, 'utf8');

export const defaultSources = {
  darktrace: { secret: SECRET },
  suricata: { token: TOKEN },
  zeek: { allowUnauthenticated: true },
  falco: { allowUnauthenticated: true },
  alertmanager: { allowUnauthenticated: true },
  generic: { secret: SECRET, token: TOKEN },
};

export interface TestApp {
  app: FastifyInstance;
  config: Config;
  queue: Queue;
  redis: Redis;
  store: AlertStore;
  prefix: string;
  close(): Promise<void>;
}

export async function ingestApp(over: { sources?: unknown; ingest?: unknown; redisUrl?: string; workersUp?: () => boolean; nowS?: () => number } = {}): Promise<TestApp> {
  const prefix = testPrefix('ingest');
  const config = parseConfig({
    redisPrefix: prefix,
    sources: over.sources ?? defaultSources,
    auth: { tokens: [{ name: 'viewer', role: 'viewer', token: VIEWER }] },
    ...(over.ingest ? { ingest: over.ingest } : {}),
  });
  const log = createLogger({ level: 'silent' });
  const redis = requestConnection(over.redisUrl ?? REDIS_URL, log);
  if (redis.status !== 'ready') await once(redis, 'ready');
  const queue = new Queue(QUEUES.alerts, { connection: redis, prefix });
  const store = new AlertStore(redis, prefix, { retentionMs: config.ingest.retention, dedupeWindowMs: config.ingest.dedupeWindow });
  const app = await buildServer({
    log,
    bodyLimit: config.ingest.bodyLimit,
    plugins: [
      ingestRoutes({ config, redis, queue, log, store, ...(over.nowS ? { nowS: over.nowS } : {}) }),
      alertRoutes({ config, store }),
      opsRoutes({ redis, workersUp: over.workersUp ?? (() => true), pingTimeoutMs: 500 }),
    ],
  });
  return {
    app, config, queue, redis, store, prefix,
    async close() {
      await app.close().catch(() => undefined);
      // The queue shares the request connection; once Redis is gone, close() would wait for it forever.
      if (redis.status === 'ready') await queue.close().catch(() => undefined);
      redis.disconnect();
      const r = testRedis();
      try { await dropPrefix(r, prefix); } finally { r.disconnect(); }
    },
  };
}

/** Jobs in the alerts queue, whatever their state. */
export async function jobCount(queue: Queue): Promise<number> {
  const c = await queue.getJobCounts('waiting', 'active', 'delayed', 'prioritized', 'completed', 'failed');
  return Object.values(c).reduce((a, b) => a + b, 0);
}

// GET /metrics (Prometheus) and GET /readyz (Redis reachable and workers up; 503 with the reason otherwise).
import type { FastifyPluginAsync } from 'fastify';
import type { Redis } from 'ioredis';
import { registry } from '../../metrics.js';

export interface OpsDeps {
  redis: Redis;
  /** True when this deployment's workers run (an api-only process may answer from a shared heartbeat). */
  workersUp: () => boolean | Promise<boolean>;
  pingTimeoutMs?: number;
}

async function pingRedis(redis: Redis, timeoutMs: number): Promise<string | undefined> {
  let timer: NodeJS.Timeout | undefined;
  try {
    const timeout = new Promise<never>((_r, reject) => { timer = setTimeout(() => reject(new Error(`no answer within ${timeoutMs} ms`)), timeoutMs); });
    await Promise.race([redis.ping(), timeout]);
    return undefined;
  } catch (err) {
    return `Redis unreachable: ${(err as Error).message}`;
  } finally {
    clearTimeout(timer);
  }
}

async function withTimeout<T>(p: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([p, new Promise<never>((_r, reject) => { timer = setTimeout(() => reject(new Error('timeout')), ms); })]);
  } finally {
    clearTimeout(timer);
  }
}

export function opsRoutes(deps: OpsDeps): FastifyPluginAsync {
  const timeoutMs = deps.pingTimeoutMs ?? 1000;
  return async (app) => {
    app.get('/metrics', async (_req, reply) => reply.type(registry.contentType).send(await registry.metrics()));

    app.get('/readyz', async (_req, reply) => {
      const reasons: string[] = [];
      const redisProblem = await pingRedis(deps.redis, timeoutMs);
      if (redisProblem) reasons.push(redisProblem);
      // An api-only process asks Redis for the worker count, which waits for Redis: bound it like the ping.
      const up = redisProblem ? false : await withTimeout(Promise.resolve().then(deps.workersUp), timeoutMs).catch(() => false);
      if (!up) reasons.push('workers are not running');
      if (reasons.length) return reply.status(503).header('retry-after', '5').send({ ready: false, reasons });
      return { ready: true };
    });
  };
}

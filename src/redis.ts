// Redis connections: one place that knows the options BullMQ needs and how to report an unreachable server.
import { Redis, type RedisOptions } from 'ioredis';
import type { Logger } from './log.js';

/** For BullMQ workers: commands wait for reconnection instead of failing. */
export function workerConnection(url: string, log?: Logger): Redis {
  return connect(url, { maxRetriesPerRequest: null, enableReadyCheck: true }, log);
}

/** For request paths: a command fails fast when Redis is away, so the API can answer 503. */
export function requestConnection(url: string, log?: Logger): Redis {
  return connect(url, { maxRetriesPerRequest: 1, enableOfflineQueue: false, connectTimeout: 2000 }, log);
}

let lastComplaint = 0;

function connect(url: string, extra: RedisOptions, log?: Logger): Redis {
  const redis = new Redis(url, {
    lazyConnect: false,
    retryStrategy: (times) => Math.min(200 * 2 ** Math.min(times, 5), 5000),
    ...extra,
  });
  redis.on('error', (err: NodeJS.ErrnoException) => {
    const now = Date.now();
    if (now - lastComplaint < 10_000) return;
    lastComplaint = now;
    const where = url.replace(/\/\/[^@]*@/, '//***@');
    log?.warn({ code: err.code }, `Redis unreachable at ${where}: ${err.message} — start it (e.g. redis-server --daemonize yes) or set redis: in the config; retrying`);
  });
  return redis;
}

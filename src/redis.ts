// Redis connections: one place that knows the options BullMQ needs and how to report an unreachable server.
import { Redis, type RedisOptions } from 'ioredis';
import type { RedisSentinel } from './config.js';
import type { Logger } from './log.js';

/** Where Redis is: a URL, or a Sentinel group. */
export type RedisTarget = string | RedisSentinel;

/** For BullMQ workers: commands wait for reconnection instead of failing. */
export function workerConnection(url: RedisTarget, log?: Logger): Redis {
  return connect(url, { maxRetriesPerRequest: null, enableReadyCheck: true }, log);
}

/** For request paths: a command fails fast when Redis is away, so the API can answer 503. */
export function requestConnection(url: RedisTarget, log?: Logger): Redis {
  return connect(url, { maxRetriesPerRequest: 1, enableOfflineQueue: false, connectTimeout: 2000 }, log);
}

let lastComplaint = 0;

/** ioredis options for a target (Sentinel settings included); the URL, if any, is passed separately. */
export function redisOptions(target: RedisTarget, extra: RedisOptions = {}): RedisOptions {
  const base: RedisOptions = {
    lazyConnect: false,
    retryStrategy: (times) => Math.min(200 * 2 ** Math.min(times, 5), 5000),
    ...extra,
  };
  if (typeof target === 'string') return base;
  return {
    ...base,
    sentinels: target.sentinels.map((s) => ({ host: s.host, port: s.port })),
    name: target.name,
    db: target.db,
    ...(target.username ? { username: target.username } : {}),
    ...(target.password ? { password: target.password } : {}),
    ...(target.sentinelPassword ? { sentinelPassword: target.sentinelPassword } : {}),
    ...(target.tls ? { tls: {}, sentinelTLS: {}, enableTLSForSentinelMode: true } : {}),
    // Keep asking the sentinels while none answers, like a lost standalone server.
    sentinelRetryStrategy: (times: number) => Math.min(200 * 2 ** Math.min(times, 5), 5000),
  };
}

/** For log lines: the URL without credentials, or the Sentinel group and its sentinels. */
export function describeTarget(target: RedisTarget): string {
  if (typeof target === 'string') return target.replace(/\/\/[^@]*@/, '//***@');
  return `Sentinel group "${target.name}" via ${target.sentinels.map((s) => `${s.host}:${s.port}`).join(', ')}`;
}

function connect(target: RedisTarget, extra: RedisOptions, log?: Logger): Redis {
  const opts = redisOptions(target, extra);
  const redis = typeof target === 'string' ? new Redis(target, opts) : new Redis(opts);
  redis.on('error', (err: NodeJS.ErrnoException) => {
    const now = Date.now();
    if (now - lastComplaint < 10_000) return;
    lastComplaint = now;
    log?.warn({ code: err.code }, `Redis unreachable at ${describeTarget(target)}: ${err.message} — start it (e.g. redis-server --daemonize yes) or set redis: in the config; retrying`);
  });
  return redis;
}

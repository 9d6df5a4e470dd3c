// DecideState on Redis: one sorted set per counter (member = event id, score = time), updated atomically in Lua.
import type { Redis } from 'ioredis';
import { RedisScript } from '../redis-script.js';
import type { DecideState } from './types.js';

// ZADD NX keeps the first time an event was seen, so a redelivered alert does not count twice.
const HIT_SCRIPT = new RedisScript(`
redis.call('ZADD', KEYS[1], 'NX', ARGV[1], ARGV[3])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', ARGV[1] - ARGV[2])
local n = redis.call('ZCOUNT', KEYS[1], '(' .. (ARGV[1] - ARGV[2]), ARGV[1])
redis.call('PEXPIRE', KEYS[1], ARGV[2])
return n
`, 1);

export interface RedisDecideStateOptions {
  redis: Redis;
  /** Deployment key prefix, e.g. `{sheriff}`. */
  prefix: string;
  /** Supplied by the ledger: does the device have a live (enforcing/active) action? */
  deviceContained: (ip: string) => Promise<boolean>;
}

export class RedisDecideState implements DecideState {
  constructor(private readonly opts: RedisDecideStateOptions) {}

  async hit(key: string, windowMs: number, now: number, eventId: string): Promise<number> {
    const n = await HIT_SCRIPT.run(this.opts.redis, [`${this.opts.prefix}:decide:${key}`], [String(now), String(windowMs), eventId]);
    return Number(n);
  }

  async deviceContained(ip: string): Promise<boolean> {
    return this.opts.deviceContained(ip);
  }
}

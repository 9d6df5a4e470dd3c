// A Lua script sent by its SHA1 (EVALSHA) once Redis knows it: hot paths stop resending the source every call.
import { createHash } from 'node:crypto';
import type { Redis } from 'ioredis';

export class RedisScript {
  readonly sha: string;

  constructor(readonly lua: string, private readonly keys: number) {
    this.sha = createHash('sha1').update(lua).digest('hex');
  }

  /** EVALSHA, falling back to EVAL (which also caches the script) after a restart or SCRIPT FLUSH. */
  async run(redis: Redis, keys: string[], args: Array<string | number>): Promise<unknown> {
    if (keys.length !== this.keys) throw new Error(`script expects ${this.keys} keys, got ${keys.length}`);
    try {
      return await redis.evalsha(this.sha, this.keys, ...keys, ...args);
    } catch (err) {
      if (!(err instanceof Error) || !err.message.startsWith('NOSCRIPT')) throw err;
      return redis.eval(this.lua, this.keys, ...keys, ...args);
    }
  }
}

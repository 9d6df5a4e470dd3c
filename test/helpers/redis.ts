// Test helper: a Redis client on the machine's Redis with a key prefix of its own, deleted afterwards.
import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';

export const REDIS_URL = process.env.SHERIFF_TEST_REDIS ?? 'redis://127.0.0.1:6379';

export function testPrefix(label = 't'): string {
  return `{sheriff-test-${label}-${randomBytes(4).toString('hex')}}`;
}

export function testRedis(): Redis {
  return new Redis(REDIS_URL, { maxRetriesPerRequest: 1, lazyConnect: false });
}

/** The keys under the prefix, batch by batch (SCAN, never KEYS). */
export async function* scanPrefix(redis: Redis, prefix: string): AsyncGenerator<string[]> {
  let cursor = '0';
  do {
    const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 5000);
    cursor = next;
    if (keys.length) yield keys;
  } while (cursor !== '0');
}

/** Removes every key under the prefix (UNLINK frees large benchmark sets off the main thread). */
export async function dropPrefix(redis: Redis, prefix: string): Promise<void> {
  for await (const keys of scanPrefix(redis, prefix)) await redis.unlink(...keys);
}

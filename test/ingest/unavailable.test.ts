// Redis going away: ingest answers 503 + Retry-After (never 2xx), readyz says why; a private redis-server is used.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { PrivateRedis } from '../helpers/private-redis.js';
import { ingestApp, TOKEN, type TestApp } from './helpers.js';

describe('Redis unreachable', () => {
  let redis: PrivateRedis | undefined;
  let t: TestApp;
  before(async () => {
    redis = await PrivateRedis.start();
    t = await ingestApp({ redisUrl: redis.url, sources: { generic: { token: TOKEN } } });
  });
  after(async () => {
    await t?.close().catch(() => undefined);
    await redis?.kill();
  });

  const post = (id: string) => t.app.inject({
    method: 'POST', url: '/v1/alerts/generic', headers: { 'content-type': 'application/json', authorization: `Bearer ${TOKEN}` },
    payload: JSON.stringify({ id, name: 'Down / Test', score: 0.5, device: { ip: '10.60.0.1' } }),
  });

  it('accepts while Redis is up, then answers 503 with Retry-After once it is gone', async () => {
    assert.equal((await post('before')).statusCode, 202);
    assert.equal((await t.app.inject({ url: '/readyz' })).statusCode, 200);
    assert.ok(redis);
    await redis.kill();
    const r = await post('during');
    assert.equal(r.statusCode, 503, r.body);
    assert.equal(r.headers['retry-after'], '5');
    assert.equal(r.json().error.code, 'QUEUE_UNAVAILABLE');
    const ready = await t.app.inject({ url: '/readyz' });
    assert.equal(ready.statusCode, 503);
    assert.match(ready.json().reasons[0], /Redis unreachable/);
    const metrics = await t.app.inject({ url: '/metrics' });
    assert.equal(metrics.statusCode, 200);
  });
});

describe('readyz without workers', () => {
  it('answers 503 with the reason', async () => {
    const t = await ingestApp({ workersUp: () => false });
    try {
      const r = await t.app.inject({ url: '/readyz' });
      assert.equal(r.statusCode, 503);
      assert.deepEqual(r.json().reasons, ['workers are not running']);
    } finally { await t.close(); }
  });
});

// Redis going away: ingest answers 503 + Retry-After (never 2xx), readyz says why; a private redis-server is used.
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { createServer } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { Redis } from 'ioredis';
import { ingestApp, TOKEN, type TestApp } from './helpers.js';

async function freePort(): Promise<number> {
  const srv = createServer();
  srv.listen(0, '127.0.0.1');
  await once(srv, 'listening');
  const port = (srv.address() as { port: number }).port;
  srv.close();
  await once(srv, 'close');
  return port;
}

async function startRedis(port: number): Promise<ChildProcess> {
  const child = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], { stdio: 'ignore' });
  const probe = new Redis({ port, host: '127.0.0.1', lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
  for (let i = 0; i < 100; i++) {
    try { await probe.connect(); await probe.ping(); probe.disconnect(); return child; } catch { await new Promise((r) => setTimeout(r, 50)); }
  }
  child.kill('SIGKILL');
  throw new Error('private redis-server did not start');
}

describe('Redis unreachable', () => {
  let redis: ChildProcess | undefined;
  let t: TestApp;
  before(async () => {
    const port = await freePort();
    redis = await startRedis(port);
    t = await ingestApp({ redisUrl: `redis://127.0.0.1:${port}`, sources: { generic: { token: TOKEN } } });
  });
  after(async () => {
    await t?.close().catch(() => undefined);
    if (redis && redis.exitCode === null && redis.signalCode === null) { redis.kill('SIGKILL'); await once(redis, 'exit'); }
  });

  const post = (id: string) => t.app.inject({
    method: 'POST', url: '/v1/alerts/generic', headers: { 'content-type': 'application/json', authorization: `Bearer ${TOKEN}` },
    payload: JSON.stringify({ id, name: 'Down / Test', score: 0.5, device: { ip: '10.60.0.1' } }),
  });

  it('accepts while Redis is up, then answers 503 with Retry-After once it is gone', async () => {
    assert.equal((await post('before')).statusCode, 202);
    assert.equal((await t.app.inject({ url: '/readyz' })).statusCode, 200);
    const child = redis as ChildProcess;
    child.kill('SIGKILL');
    await once(child, 'exit');
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
